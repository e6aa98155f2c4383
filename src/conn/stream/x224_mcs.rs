//! What the X.224 TPDUs and the cleartext MCS PDUs of one direction add to the facts:
//! the negotiation, the MCS connect exchange of standard RDP security, and the domain PDUs
//! that follow it up to the session.

use super::{Mode, StreamDecoder};
use crate::conn::ctx::Ctx;
use crate::conn::event::EventKind;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::cert;
use crate::proto::mcs::domain::{self as mcs_domain, DomainPdu};
use crate::proto::mcs::{self, ServerCertificate};
use crate::proto::x224::{self, Negotiation, Tpdu};

/// Once the session has started, parsing stops after this many cleartext PDUs.
const MAX_RDP_PDUS: u32 = 64;

impl StreamDecoder {
    pub(super) fn tpdu(&mut self, side: Side, at: At, payload: &[u8], ctx: &mut Ctx<'_>) {
        let tpdu = match x224::parse(payload) {
            Ok(t) => t,
            Err(_) => return ctx.anomaly(at, side, "X.224 TPDU does not parse"),
        };
        match (side, tpdu) {
            (Side::Client, Tpdu::ConnectionRequest(cr)) => {
                if ctx.facts.request.is_some() {
                    return ctx.anomaly(at, side, "second X.224 Connection Request");
                }
                if cr.li_mismatch {
                    ctx.facts
                        .anomaly(at, side, "X.224 length indicator disagrees with TPKT length");
                }
                let requested = cr.neg_req.map(|n| n.requested_protocols);
                ctx.event(
                    at,
                    side,
                    EventKind::X224Request {
                        cookie: cr.cookie.clone(),
                        requested,
                    },
                );
                ctx.facts.request = Some((at, cr));
            }
            (Side::Server, Tpdu::ConnectionConfirm(cc)) => {
                if ctx.facts.confirm.is_some() {
                    return ctx.anomaly(at, side, "second X.224 Connection Confirm");
                }
                let kind = match cc.negotiation {
                    Some(Negotiation::Failure { code }) => EventKind::NegotiationFailure { code },
                    Some(Negotiation::Response {
                        selected_protocol,
                        length,
                        ..
                    }) => {
                        if length != 8 {
                            ctx.facts.anomaly(at, side, "RDP_NEG_RSP length is not 8");
                        }
                        if selected_protocol.selects_tls() {
                            self.mode = Mode::Tls;
                        }
                        EventKind::X224Confirm {
                            selected: Some(selected_protocol),
                        }
                    }
                    None => EventKind::X224Confirm { selected: None },
                };
                ctx.event(at, side, kind);
                ctx.facts.confirm = Some((at, cc));
            }
            (_, Tpdu::DisconnectRequest) => {
                ctx.facts.disconnect.get_or_insert((at, side));
                ctx.event(at, side, EventKind::X224Disconnect);
            }
            (_, Tpdu::Data(d)) => self.mcs(side, at, d, ctx),
            (_, Tpdu::ConnectionRequest(_)) => ctx.anomaly(at, side, "X.224 Connection Request from the server"),
            (_, Tpdu::ConnectionConfirm(_)) => ctx.anomaly(at, side, "X.224 Connection Confirm from the client"),
            (_, Tpdu::Other(_)) => ctx.anomaly(at, side, "unexpected X.224 TPDU type"),
        }
    }

    /// Cleartext MCS: the Connect Initial/Response of standard RDP security, then the session.
    pub(super) fn mcs(&mut self, side: Side, at: At, d: &[u8], ctx: &mut Ctx<'_>) {
        let f = &mut *ctx.facts;
        if side == Side::Client && f.connect_initial.is_none() && f.connect_response.is_none() {
            match mcs::parse_connect_initial(d) {
                Ok(ci) => {
                    f.connect_initial = Some((at, ci));
                    ctx.event(at, side, EventKind::McsConnectInitial);
                }
                Err(_) => ctx.anomaly(at, side, "MCS Connect Initial does not parse"),
            }
            return;
        }
        // A server that refuses after the Connect Initial sends a Disconnect Provider
        // Ultimatum instead of a Connect Response (which is BER: 0x7f 0x66).
        if side == Side::Server && f.connect_response.is_none() && d.first() != Some(&0x7f) {
            return self.domain_pdu(side, at, d, ctx);
        }
        if side == Side::Server && f.connect_response.is_none() {
            match mcs::parse_connect_response(d) {
                Ok(cr) => {
                    let cert = cr.server_security.as_ref().and_then(|s| s.certificate.as_ref());
                    if let Some(ServerCertificate::X509Chain { leaf_der, .. }) = cert {
                        f.rdp_certificate = cert::summarize(leaf_der).ok();
                    }
                    ctx.event(at, side, EventKind::McsConnectResponse { result: cr.result });
                    ctx.facts.connect_response = Some((at, cr));
                }
                Err(_) => ctx.anomaly(at, side, "MCS Connect Response does not parse"),
            }
            return;
        }
        self.domain_pdu(side, at, d, ctx);
    }

    /// Standard RDP security after the MCS exchange: follow the connection sequence by the
    /// cleartext security-header flags until the server's first PDU after licensing
    /// (the Demand Active), which means the session was reached.
    pub(super) fn domain_pdu(&mut self, side: Side, at: At, d: &[u8], ctx: &mut Ctx<'_>) {
        let pdus = side.of_mut(&mut ctx.facts.rdp_pdus);
        *pdus = pdus.saturating_add(1);
        let kind = match mcs_domain::parse(d) {
            Ok(DomainPdu::DisconnectProviderUltimatum { reason }) => {
                ctx.facts.ultimatum.get_or_insert((at, side, reason));
                Some(EventKind::DisconnectUltimatum { reason })
            }
            Ok(DomainPdu::SendData {
                sec_flags: Some(flags), ..
            }) => {
                let f = &mut *ctx.facts;
                if side == Side::Server && flags & mcs_domain::SEC_LICENSE_PKT != 0 {
                    f.server_license.get_or_insert(at);
                    Some(EventKind::RdpStep { what: "licensing PDU" })
                } else if side == Side::Server && f.server_license.is_some() && f.session_start.is_none() {
                    f.session_start = Some(at);
                    Some(EventKind::RdpStep {
                        what: "first PDU after licensing (Demand Active): session starts",
                    })
                } else if side == Side::Client && flags & mcs_domain::SEC_EXCHANGE_PKT != 0 {
                    Some(EventKind::RdpStep {
                        what: "Security Exchange (client random)",
                    })
                } else if side == Side::Client && flags & mcs_domain::SEC_INFO_PKT != 0 {
                    Some(EventKind::RdpStep {
                        what: "Client Info (logon information)",
                    })
                } else {
                    None
                }
            }
            // Erect Domain, Attach User, Channel Join: named; data without a known security
            // header says nothing to an admin and is left out of the timeline.
            Ok(DomainPdu::Other(choice)) => match mcs_domain::domain_pdu_name(choice) {
                // One line per kind and side: a Channel Join per virtual channel is counted.
                Some(what) => {
                    let seen = ctx.timeline.events.iter_mut().find_map(|e| match &mut e.kind {
                        EventKind::McsStep { what: w, times } if e.side == side && *w == what => Some(times),
                        _ => None,
                    });
                    match seen {
                        Some(times) => {
                            *times = times.saturating_add(1);
                            None
                        }
                        None => Some(EventKind::McsStep { what, times: 1 }),
                    }
                }
                None => None,
            },
            _ => None,
        };
        if let Some(k) = kind {
            ctx.event(at, side, k);
        }
        if ctx.facts.session_start.is_some()
            && ctx.facts.rdp_pdus.iter().fold(0u32, |a, b| a.saturating_add(*b)) > MAX_RDP_PDUS
        {
            self.finish();
        }
    }
}
