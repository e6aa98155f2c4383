//! One direction of an RDP connection's byte stream, cut into PDUs: a proxy exchange if the
//! stream opens with one (conn::tunnel), TPKT/X.224 (and the cleartext MCS exchange of
//! standard RDP security) until the negotiation selects TLS, then TLS records. Buffers are bounded; a gap or garbage makes the decoder resynchronise
//! on the next plausible TPKT or TLS header instead of giving up on the connection.

use crate::conn::ctx::Ctx;
use crate::conn::event::EventKind;
use crate::conn::facts::{AlertSeen, AppRecord};
use crate::conn::tls_handshake;
use crate::conn::tunnel::{self, Tunnel, Unit};
use crate::flow::reassembly::Chunk;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::mcs::domain::{self as mcs_domain, DomainPdu};
use crate::proto::mcs::{self, ServerCertificate};
use crate::proto::tls::{self, RecordHeader};
use crate::proto::x224::{self, Negotiation, Tpdu};
use crate::proto::{cert, tpkt, ParseError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    /// TPKT expected; a TLS record switches to `Tls` (the client's ClientHello follows the CC).
    #[default]
    Tpkt,
    Tls,
    /// Nothing more to learn: bytes are only counted.
    Done,
}

/// Cleartext PDUs after the MCS exchange recorded as plain "RDP data" events.
const RDP_PDUS_TO_NOTE: u32 = 2;
/// Once the session has started, parsing stops after this many cleartext PDUs.
const MAX_RDP_PDUS: u32 = 64;

#[derive(Debug, Clone, Default)]
pub struct StreamDecoder {
    mode: Mode,
    buf: Vec<u8>,
    /// Bytes of the current record body still to skip (application data is counted, not kept).
    skip: usize,
    skipping: Option<RecordHeader>,
    resync: bool,
    /// Defragmentation buffer for TLS handshake messages split across records.
    hs: Vec<u8>,
    /// Gave up on the handshake buffer (a message larger than the bound).
    hs_overflow: bool,
    /// TLS records other than application data seen (handshake, alerts, CCS, ...).
    other_records: usize,
    tunnel: Tunnel,
}

impl StreamDecoder {
    /// A decoder for a stream whose start was not captured (it cannot tell a proxy
    /// exchange, SOCKS or HTTP CONNECT, from garbage there).
    pub fn midstream() -> StreamDecoder {
        StreamDecoder {
            tunnel: Tunnel::No,
            ..StreamDecoder::default()
        }
    }

    pub fn is_done(&self) -> bool {
        self.mode == Mode::Done
    }

    pub fn finish(&mut self) {
        self.mode = Mode::Done;
        self.buf = Vec::new();
        self.hs = Vec::new();
    }

    pub fn buffered(&self) -> usize {
        self.buf.len() + self.hs.len()
    }

    /// Whether the stream stopped inside a PDU, record or handshake message: bytes are held
    /// that a complete unit never followed (a length that promised more than came).
    pub fn inside_pdu(&self) -> bool {
        self.mode != Mode::Done && !self.resync && (!self.buf.is_empty() || !self.hs.is_empty())
    }

    pub fn feed(&mut self, side: Side, at: At, chunk: Chunk<'_>, ctx: &mut Ctx<'_>) {
        match chunk {
            Chunk::Gap(n) => self.gap(side, at, n, ctx),
            Chunk::Data(d) => self.data(side, at, d, ctx),
        }
    }

    fn gap(&mut self, side: Side, at: At, n: u32, ctx: &mut Ctx<'_>) {
        ctx.event(at, side, EventKind::Gap { bytes: n });
        self.tunnel = Tunnel::No;
        if self.mode == Mode::Done {
            return;
        }
        let n = n as usize;
        if self.skip >= n && self.buf.is_empty() {
            // The hole lies inside a record we were skipping anyway: still aligned.
            self.skip -= n;
            return;
        }
        self.skip = 0;
        self.skipping = None;
        self.buf.clear();
        self.hs.clear();
        self.resync = true;
    }

    fn data(&mut self, side: Side, at: At, mut d: &[u8], ctx: &mut Ctx<'_>) {
        if self.mode == Mode::Done {
            return;
        }
        if self.skip > 0 {
            let n = self.skip.min(d.len());
            self.skip -= n;
            d = d.get(n..).unwrap_or_default();
            if self.skip == 0 {
                if let Some(h) = self.skipping.take() {
                    self.record(side, at, h, &[], ctx);
                }
            }
        }
        if d.is_empty() {
            return;
        }
        if self.buf.is_empty() {
            let used = self.process(side, at, d, ctx);
            self.keep(side, at, d.get(used..).unwrap_or_default(), ctx);
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            if buf.len() + d.len() > ctx.cfg.max_stream_buffer {
                ctx.anomaly(at, side, "PDU larger than the stream buffer bound");
                buf.clear();
                self.resync = true;
            }
            buf.extend_from_slice(d);
            let used = self.process(side, at, &buf, ctx);
            buf.drain(..used.min(buf.len()));
            if self.mode != Mode::Done {
                self.buf = buf;
            }
        }
    }

    fn keep(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) {
        if rest.is_empty() || self.mode == Mode::Done {
            return;
        }
        if rest.len() > ctx.cfg.max_stream_buffer {
            ctx.anomaly(at, side, "PDU larger than the stream buffer bound");
            self.resync = true;
            return;
        }
        self.buf.extend_from_slice(rest);
    }

    /// Consume as many whole PDUs/records from `input` as possible; returns bytes used.
    fn process(&mut self, side: Side, at: At, input: &[u8], ctx: &mut Ctx<'_>) -> usize {
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            if self.mode == Mode::Done || self.skip > 0 {
                return input.len();
            }
            if self.resync {
                match (0..rest.len()).find(|&o| self.plausible(rest.get(o..).unwrap_or_default())) {
                    Some(o) => {
                        pos += o;
                        self.resync = false;
                        continue;
                    }
                    // Keep a possible partial header for the next segment.
                    None => return input.len().saturating_sub(4).max(pos),
                }
            }
            let step = match (self.mode, rest.first()) {
                _ if self.tunnel != Tunnel::No => self.tunnel_unit(side, at, rest, ctx),
                (Mode::Tpkt, Some(3)) => self.tpkt_unit(side, at, rest, ctx),
                _ => self.tls_unit(side, at, rest, ctx),
            };
            match step {
                Some(n) => pos += n,
                None => break,
            }
        }
        pos
    }

    fn plausible(&self, i: &[u8]) -> bool {
        tls::plausible_start(i) || (self.mode == Mode::Tpkt && tpkt::plausible_start(i))
    }

    /// One proxy message at the start of the stream (or the decision that there is none,
    /// taking no bytes); `None` when more bytes are needed.
    fn tunnel_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        match tunnel::unit(&mut self.tunnel, side, at, rest, ctx) {
            Unit::Took(n) => Some(n),
            Unit::TookAndSkip(n, skip) => {
                self.skip = skip;
                Some(n)
            }
            Unit::Rest => {
                self.finish();
                Some(rest.len())
            }
            Unit::NeedMore => None,
            Unit::Malformed(what) => {
                ctx.anomaly(at, side, what);
                self.resync = true;
                Some(1)
            }
        }
    }

    /// One TPKT PDU; `None` when more bytes are needed.
    fn tpkt_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        match tpkt::split(rest) {
            Ok((payload, n)) => {
                self.tpdu(side, at, payload, ctx);
                Some(n)
            }
            Err(ParseError::Incomplete) => {
                if tpkt::pdu_len(rest).is_ok_and(|l| l > ctx.cfg.max_stream_buffer) {
                    ctx.anomaly(at, side, "TPKT length beyond the stream buffer bound");
                    self.resync = true;
                    return Some(1);
                }
                None
            }
            Err(ParseError::Malformed(what)) => {
                ctx.anomaly(at, side, what);
                self.resync = true;
                Some(1)
            }
        }
    }

    /// One TLS record (or the start of one to skip); `None` when more bytes are needed.
    fn tls_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        let hdr = match tls::parse_record_header(rest) {
            Ok(h) => h,
            Err(ParseError::Incomplete) => return None,
            Err(ParseError::Malformed(what)) => {
                if self.mode == Mode::Tpkt && ctx.facts.connect_response.is_some() {
                    // Standard RDP security: fast-path PDUs from here on. From the server they
                    // mean the session runs.
                    if side == Side::Server && ctx.facts.session_start.is_none() {
                        ctx.facts.session_start = Some(at);
                        ctx.event(
                            at,
                            side,
                            EventKind::RdpStep {
                                what: "fast-path output: session running",
                            },
                        );
                    }
                    self.finish();
                    return Some(rest.len());
                }
                // A TLS-looking header (version 3.x) is named for what is wrong with it.
                let tls_like = self.mode == Mode::Tls || rest.get(1) == Some(&3);
                ctx.anomaly(at, side, if tls_like { what } else { "neither TPKT nor TLS" });
                self.resync = true;
                return Some(1);
            }
        };
        self.mode = Mode::Tls;
        let total = tls::RECORD_HEADER_LEN + usize::from(hdr.length);
        if let Some(body) = rest.get(tls::RECORD_HEADER_LEN..total) {
            self.record(side, at, hdr, body, ctx);
            return Some(total);
        }
        if hdr.content_type == tls::CT_APPLICATION_DATA || self.encrypted(side, ctx) {
            // Only its size matters: skip the body as it streams past instead of buffering it.
            self.skip = total - rest.len();
            self.skipping = Some(hdr);
            return Some(rest.len());
        }
        None
    }

    fn encrypted(&self, side: Side, ctx: &Ctx<'_>) -> bool {
        side.of(&ctx.facts.tls.change_cipher_spec).is_some() || (side == Side::Server && ctx.facts.tls.is_tls13())
    }

    fn record(&mut self, side: Side, at: At, h: RecordHeader, body: &[u8], ctx: &mut Ctx<'_>) {
        let encrypted = self.encrypted(side, ctx);
        let t = &mut ctx.facts.tls;
        if side == Side::Client && t.server_hello.is_some() && t.first_client_record_after_server_hello.is_none() {
            t.first_client_record_after_server_hello = Some(at);
        }
        if h.content_type != tls::CT_APPLICATION_DATA {
            self.other_records += 1;
            if self.other_records > ctx.cfg.max_handshake_records {
                ctx.anomaly(at, side, "more TLS handshake records than the bound: parsing stopped");
                self.finish();
                return;
            }
        }
        match h.content_type {
            tls::CT_CHANGE_CIPHER_SPEC => {
                let slot = side.of_mut(&mut ctx.facts.tls.change_cipher_spec);
                if slot.is_none() {
                    *slot = Some(at);
                    ctx.event(at, side, EventKind::ChangeCipherSpec);
                }
            }
            tls::CT_ALERT => {
                // A cleartext alert is exactly two bytes; anything else is protected.
                let alert = if encrypted { None } else { tls::parse_alert(body).ok() };
                let seen = AlertSeen {
                    at,
                    side,
                    encrypted: alert.is_none(),
                    level: alert.map(|a| a.level),
                    description: alert.map(|a| a.description),
                };
                if ctx.facts.tls.alerts.len() < 16 {
                    ctx.facts.tls.alerts.push(seen);
                }
                let kind = match alert {
                    Some(a) => EventKind::Alert {
                        level: a.level,
                        description: a.description,
                    },
                    None => EventKind::EncryptedAlert { len: h.length },
                };
                ctx.event(at, side, kind);
            }
            tls::CT_HANDSHAKE if encrypted => {
                let slot = side.of_mut(&mut ctx.facts.tls.encrypted_handshake);
                if slot.is_none() {
                    *slot = Some(at);
                    ctx.event(at, side, EventKind::EncryptedHandshake { len: h.length });
                }
            }
            tls::CT_HANDSHAKE => self.handshake_fragment(side, at, body, ctx),
            tls::CT_APPLICATION_DATA => {
                let t = &mut ctx.facts.tls;
                *side.of_mut(&mut t.app_bytes) += u64::from(h.length);
                let count = side.of_mut(&mut t.app_count);
                *count += 1;
                if *count <= ctx.cfg.max_app_records as u64 {
                    t.app_records.push(AppRecord {
                        at,
                        side,
                        len: h.length,
                    });
                    ctx.event(at, side, EventKind::AppData { len: h.length });
                } else {
                    // Enough to follow CredSSP and see the session start: stop parsing.
                    self.finish();
                }
            }
            _ => {}
        }
    }

    fn handshake_fragment(&mut self, side: Side, at: At, body: &[u8], ctx: &mut Ctx<'_>) {
        if self.hs_overflow {
            return;
        }
        self.hs.extend_from_slice(body);
        loop {
            let len = match tls::handshake_message_len(&self.hs) {
                Ok(l) => l,
                Err(_) => return,
            };
            if len > ctx.cfg.max_handshake_message {
                ctx.anomaly(at, side, "TLS handshake message larger than the bound");
                self.hs = Vec::new();
                self.hs_overflow = true;
                return;
            }
            if self.hs.len() < len {
                return;
            }
            let msg: Vec<u8> = self.hs.drain(..len).collect();
            match tls::parse_handshake(&msg) {
                Ok(m) => tls_handshake::record(side, at, m, ctx),
                Err(_) => ctx.anomaly(at, side, "TLS handshake message does not parse"),
            }
        }
    }

    fn tpdu(&mut self, side: Side, at: At, payload: &[u8], ctx: &mut Ctx<'_>) {
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
    fn mcs(&mut self, side: Side, at: At, d: &[u8], ctx: &mut Ctx<'_>) {
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
    fn domain_pdu(&mut self, side: Side, at: At, d: &[u8], ctx: &mut Ctx<'_>) {
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
            _ => None,
        };
        match kind {
            Some(k) => ctx.event(at, side, k),
            None if *side.of(&ctx.facts.rdp_pdus) <= RDP_PDUS_TO_NOTE => {
                ctx.event(at, side, EventKind::RdpData { len: d.len() })
            }
            None => {}
        }
        if ctx.facts.session_start.is_some()
            && ctx.facts.rdp_pdus.iter().fold(0u32, |a, b| a.saturating_add(*b)) > MAX_RDP_PDUS
        {
            self.finish();
        }
    }
}
