//! The X.224 negotiation: refused protocols, a selection the client cannot use, a
//! legacy client against a server that needs TLS, and a server that never answers.

use super::catalog::ClientError;
use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::flow::Side;
use crate::proto::x224::{FailureCode, Negotiation, Protocols};

/// Seconds of silence after the request that count as "no response" when the capture,
/// not the client, ended.
const NO_RESPONSE_SECS: f64 = 5.0;
/// A client that waited at least this long before closing was waiting for the server.
const CLIENT_WAITED_SECS: f64 = 2.0;

pub fn negotiation(ev: &Evidence<'_>, f: &mut Findings) {
    let facts = &ev.c.facts;
    let Some((cr_at, cr)) = &facts.request else { return };
    let requested = cr.neg_req.map(|n| n.requested_protocols);
    let offered = requested.map_or("standard RDP security only (no RDP_NEG_REQ)".to_string(), |r| {
        r.names().join("|")
    });
    let Some((cc_at, cc)) = &facts.confirm else {
        no_response(ev, *cr_at, f);
        return;
    };
    match cc.negotiation {
        Some(Negotiation::Failure { code }) => {
            let meaning = match code {
                FailureCode::SSL_REQUIRED_BY_SERVER => {
                    "the server requires TLS or NLA, the client offered only standard RDP security".to_string()
                }
                FailureCode::SSL_NOT_ALLOWED_BY_SERVER => {
                    format!("the server allows only standard RDP security; the client offered {offered}")
                }
                FailureCode::SSL_CERT_NOT_ON_SERVER => "the server has no usable certificate for TLS".to_string(),
                FailureCode::INCONSISTENT_FLAGS => "the client's negotiation flags are inconsistent".to_string(),
                FailureCode::HYBRID_REQUIRED_BY_SERVER => {
                    format!("the server requires NLA (CredSSP); the client offered {offered}")
                }
                FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => {
                    "the server requires TLS with user authentication (RDSTLS)".to_string()
                }
                FailureCode(other) => format!("failure code {other}"),
            };
            let n = code.0;
            f.add_keyed(
                "negotiation_failure",
                &format!("negotiation_failure:{n}"),
                Severity::Error,
                Phase::X224,
                format!("negotiation refused: {} ({meaning})", code.name()),
                format!("the client requested {offered}; the server answered RDP_NEG_FAILURE {n}"),
                vec![cr_at.frame, cc_at.frame],
                false,
                Some(ClientError::ServerDenied),
            );
        }
        Some(Negotiation::Response { selected_protocol, .. }) => {
            let req = requested.unwrap_or(Protocols::RDP);
            // PROTOCOL_RDP (0) is not a bit: selecting it is acceptable only if the client asked for it.
            let not_requested = if selected_protocol == Protocols::RDP {
                req != Protocols::RDP
            } else {
                !req.contains(selected_protocol)
            };
            let client_quit = client_quits_after(ev, cc_at.frame);
            if let Some(q) = client_quit {
                let sel = selected_protocol.name();
                let (summary, inferred) = if not_requested {
                    (format!("the server selected {sel}, which the client did not request ({offered}); the client closed"), false)
                } else {
                    (
                        format!("the server selected {sel}; the client (offering {offered}) would not continue with it and closed"),
                        true,
                    )
                };
                f.add(
                    "security_layer_mismatch",
                    Severity::Error,
                    Phase::X224,
                    summary,
                    format!(
                        "the client ended the connection ({}) right after the Connection Confirm without starting {sel}{}",
                        q.what(),
                        if inferred { "; it most likely demands a stronger protocol than the one chosen (inferred)" } else { "" }
                    ),
                    vec![cr_at.frame, cc_at.frame, q.at.frame],
                    inferred,
                    None,
                );
            }
        }
        None => legacy(ev, *cr_at, *cc_at, requested, f),
    }
}

/// The client closes after `frame` without sending anything more.
fn client_quits_after(ev: &Evidence<'_>, frame: u64) -> Option<super::evidence::CloseEv> {
    let q = ev.first_close()?;
    let sent_more = ev.c.facts.tls.client_hello.is_some() || ev.c.facts.connect_initial.is_some();
    (q.side == Side::Client && q.at.frame > frame && !sent_more).then_some(q)
}

/// A legacy request (no RDP_NEG_REQ) answered without negotiation data, then the server
/// drops the client right after its MCS Connect Initial: a server that requires TLS/NLA.
fn legacy(
    ev: &Evidence<'_>,
    cr_at: crate::flow::tcp::At,
    cc_at: crate::flow::tcp::At,
    requested: Option<Protocols>,
    f: &mut Findings,
) {
    let facts = &ev.c.facts;
    if requested.is_some() || facts.connect_response.is_some() {
        return;
    }
    let Some((ci_at, _)) = &facts.connect_initial else {
        return;
    };
    let by_server = facts
        .ultimatum
        .filter(|(_, side, _)| *side == Side::Server)
        .map(|(at, _, _)| at)
        .or_else(|| ev.first_close().filter(|c| c.side == Side::Server).map(|c| c.at));
    if let Some(end) = by_server {
        f.add(
            "security_layer_mismatch",
            Severity::Error,
            Phase::Rdp,
            "a legacy client (standard RDP security, no RDP_NEG_REQ) was dropped by the server right after its MCS Connect Initial".into(),
            "the server answered without negotiation data and then disconnected before any Connect Response: it requires TLS or NLA (inferred; the server does not say why)".into(),
            vec![cr_at.frame, cc_at.frame, ci_at.frame, end.frame],
            true,
            Some(ClientError::ServerDenied),
        );
    }
}

fn no_response(ev: &Evidence<'_>, cr_at: crate::flow::tcp::At, f: &mut Findings) {
    if let Some(q) = ev.first_close() {
        // A client that leaves at once did not wait for an answer; the close rules tell that.
        if q.side == Side::Client && super::evidence::Evidence::secs(cr_at, q.at) >= CLIENT_WAITED_SECS {
            f.add(
                "server_no_response",
                Severity::Error,
                Phase::X224,
                format!(
                    "the server never answered the X.224 Connection Request; the client gave up after {:.1} s",
                    super::evidence::Evidence::secs(cr_at, q.at)
                ),
                "TCP was accepted but no Connection Confirm came back".into(),
                vec![cr_at.frame, q.at.frame],
                false,
                None,
            );
        }
        return;
    }
    let silent = super::evidence::Evidence::secs(cr_at, ev.last());
    if silent >= NO_RESPONSE_SECS {
        f.add(
            "server_no_response",
            Severity::Error,
            Phase::X224,
            format!("the server never answered the X.224 Connection Request; the capture ended {silent:.1} s after it"),
            "TCP was accepted but no Connection Confirm came back before the capture ended".into(),
            vec![cr_at.frame, ev.last().frame],
            false,
            None,
        );
    }
}
