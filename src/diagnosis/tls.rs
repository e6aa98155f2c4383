//! TLS findings: versions and ciphers the two sides do not share, other fatal alerts,
//! the server certificate judged at capture time, and a client that walks away right
//! after the handshake.

use super::catalog::ClientError;
use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::conn::facts::AlertSeen;
use crate::flow::Side;
use crate::proto::cert::Validity;
use crate::proto::tls::{alert_name, version_name};
use tls_parser::{TlsAlertDescription, TlsAlertSeverity, TlsVersion};

fn versions(v: &[TlsVersion]) -> String {
    v.iter().map(|v| version_name(*v)).collect::<Vec<_>>().join(", ")
}

/// Cleartext fatal alerts sent before anyone closed (an alert after the peer's FIN is
/// a reaction, not a cause).
fn causal_alerts<'a>(ev: &'a Evidence<'_>) -> impl Iterator<Item = &'a AlertSeen> {
    let first_close = ev.first_close().map(|c| c.at.frame);
    ev.c.facts.tls.alerts.iter().filter(move |a| {
        !a.encrypted && a.level == Some(TlsAlertSeverity::Fatal) && first_close.is_none_or(|f| a.at.frame <= f)
    })
}

pub fn handshake(ev: &Evidence<'_>, f: &mut Findings) {
    let t = &ev.c.facts.tls;
    let ch = t.client_hello.as_ref();
    let offered = ch.map(|(_, c)| c.offered_versions()).unwrap_or_default();
    let sh = t.server_hello.as_ref();
    let denied = |s: Side| {
        if s == Side::Server {
            Some(ClientError::ServerDenied)
        } else {
            None
        }
    };
    // The first causal alert explains the failure; later ones are consequences.
    if let Some(a) = causal_alerts(ev).next() {
        let desc = a.description.unwrap_or(TlsAlertDescription(0));
        let mut frames: Vec<u64> = ch.map(|(at, _)| at.frame).into_iter().collect();
        frames.extend(sh.map(|(at, _)| at.frame));
        frames.push(a.at.frame);
        if desc == TlsAlertDescription::ProtocolVersion {
            let summary = match (a.side, sh) {
                (Side::Server, _) => {
                    format!(
                        "TLS version mismatch: the server refused the client's versions ({})",
                        versions(&offered)
                    )
                }
                (Side::Client, Some((_, s))) => format!(
                    "TLS version mismatch: the client refused TLS {} chosen by the server (client offers {})",
                    version_name(s.version),
                    versions(&offered)
                ),
                (Side::Client, None) => "TLS version mismatch: the client refused the server's version".into(),
            };
            f.add(
                "tls_version_mismatch",
                Severity::Error,
                Phase::Tls,
                summary,
                match a.side {
                    Side::Server => format!(
                        "the server answered the ClientHello with a fatal protocol_version alert: it accepts none of the versions the client offers ({})",
                        versions(&offered)
                    ),
                    Side::Client => "the client answered the ServerHello with a fatal protocol_version alert: it does not accept the version the server chose".into(),
                },
                frames,
                false,
                denied(a.side),
            );
            return;
        }
        // The client aborted right after a ServerHello choosing TLS 1.1 or older: modern TLS
        // libraries refuse those at their default security level even when they list them.
        if let Some((sh_at, s)) = sh {
            // Nothing else came from the client between the ServerHello and its alert.
            let next_from_client = t
                .first_client_record_after_server_hello
                .is_none_or(|r| r.frame >= a.at.frame && r.frame > sh_at.frame);
            if a.side == Side::Client
                && s.version.0 <= TlsVersion::Tls11.0
                && offered.contains(&s.version)
                && next_from_client
            {
                f.add(
                    "tls_version_mismatch",
                    Severity::Error,
                    Phase::Tls,
                    format!(
                        "TLS version mismatch: the server chose TLS {}, and the client aborted at once (fatal {})",
                        version_name(s.version),
                        alert_name(desc)
                    ),
                    format!(
                        "the client lists {} but refused the old version the server picked: its TLS library's minimum is higher (inferred from the alert coming right after the ServerHello)",
                        versions(&offered)
                    ),
                    frames,
                    true,
                    None,
                );
                return;
            }
        }
        // The server chose a version the client never offered and the client aborted.
        if let Some((_, s)) = sh {
            if a.side == Side::Client && !offered.is_empty() && !offered.contains(&s.version) {
                f.add(
                    "tls_version_mismatch",
                    Severity::Error,
                    Phase::Tls,
                    format!(
                        "TLS version mismatch: the server chose TLS {}, which the client does not offer ({}); the client aborted",
                        version_name(s.version),
                        versions(&offered)
                    ),
                    format!(
                        "the ServerHello's version is not among the ClientHello's, and the client answered with a fatal {} alert",
                        alert_name(desc)
                    ),
                    frames,
                    false,
                    None,
                );
                return;
            }
        }
        if (desc == TlsAlertDescription::HandshakeFailure || desc == TlsAlertDescription::InsufficientSecurity)
            && sh.is_none()
        {
            let n = ch.map_or(0, |(_, c)| c.cipher_suites.len());
            f.add(
                "tls_cipher_mismatch",
                Severity::Error,
                Phase::Tls,
                format!(
                    "no shared TLS cipher suite: the {} sent {} before any ServerHello",
                    a.side.name(),
                    alert_name(desc)
                ),
                format!("the client offered {n} cipher suites; none was acceptable to the server"),
                frames,
                false,
                denied(a.side),
            );
            return;
        }
        f.add(
            "tls_alert",
            Severity::Error,
            Phase::Tls,
            format!(
                "the {} ended the TLS handshake with a fatal {} alert",
                a.side.name(),
                alert_name(desc)
            ),
            String::new(),
            frames,
            false,
            denied(a.side),
        );
    }
}

/// The client closes (encrypted alert, FIN or RST) right after the handshake, before any
/// application data of its own.
pub fn client_rejects(ev: &Evidence<'_>) -> Option<(u64, u64, &'static str)> {
    let done = ev.tls_done()?;
    let t = &ev.c.facts.tls;
    // TLS 1.3 hides an alert in an application_data record: one read with the keys is the
    // client's alert, not data it sent.
    let hidden_alerts = if t.is_tls13() {
        t.alerts
            .iter()
            .filter(|a| a.side == Side::Client && a.encrypted && a.description.is_some())
            .count() as u64
    } else {
        0
    };
    if ev.post_handshake[0] > hidden_alerts || t.app_count[0] > u64::from(t.is_tls13()) + hidden_alerts {
        return None;
    }
    let alert = t
        .alerts
        .iter()
        .find(|a| a.side == Side::Client && a.encrypted && a.at.frame >= done.frame);
    let close = ev
        .first_close()
        .filter(|c| c.side == Side::Client && c.at.frame >= done.frame);
    match (alert, close) {
        (Some(a), _) => Some((done.frame, a.at.frame, "an encrypted alert")),
        (None, Some(c)) => Some((done.frame, c.at.frame, if c.rst { "RST" } else { "FIN" })),
        _ => None,
    }
}

pub fn certificate(ev: &Evidence<'_>, f: &mut Findings) {
    let t = &ev.c.facts.tls;
    let rejected = client_rejects(ev);
    if let Some((at, cert)) = &t.certificate {
        let sev = |bad: Severity| if rejected.is_some() { bad } else { Severity::Warning };
        let mut frames = vec![at.frame];
        frames.extend(rejected.map(|(_, f, _)| f));
        match cert.validity_at(at.ts.datetime()) {
            Validity::Expired => f.add(
                "cert_expired",
                sev(Severity::Error),
                Phase::Tls,
                format!(
                    "the server's certificate had expired when it was sent (not after {})",
                    cert.not_after.date()
                ),
                format!(
                    "{}, valid {} to {}, judged at the packet's time {}",
                    cert.subject,
                    cert.not_before.date(),
                    cert.not_after.date(),
                    at.ts.rfc3339()
                ),
                frames.clone(),
                false,
                None,
            ),
            Validity::NotYetValid => f.add(
                "cert_not_yet_valid",
                sev(Severity::Error),
                Phase::Tls,
                format!(
                    "the server's certificate was not yet valid when it was sent (not before {})",
                    cert.not_before.date()
                ),
                format!("{}, judged at the packet's time {}", cert.subject, at.ts.rfc3339()),
                frames.clone(),
                false,
                None,
            ),
            Validity::Valid => {}
        }
        if cert.self_signed {
            f.add(
                "cert_self_signed",
                if rejected.is_some() {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                Phase::Tls,
                format!("the server's certificate is self-signed ({})", cert.subject),
                "normal for RDP servers; clients warn unless the certificate is trusted".into(),
                vec![at.frame],
                false,
                None,
            );
        }
        if let Some(sni) = t.client_hello.as_ref().and_then(|(_, c)| c.sni.as_deref()) {
            if !cert.names_host(sni) {
                f.add(
                    "cert_name_mismatch",
                    if rejected.is_some() {
                        Severity::Warning
                    } else {
                        Severity::Info
                    },
                    Phase::Tls,
                    format!("the client asked for {sni:?}, which the certificate does not name"),
                    format!("subject {}, subjectAltName [{}]", cert.subject, cert.san.join(", ")),
                    vec![at.frame],
                    false,
                    None,
                );
            }
        }
    }
    if let Some((done, end, how)) = rejected {
        let tls13 = t.is_tls13();
        f.add(
            "cert_rejected_by_client",
            Severity::Error,
            Phase::Tls,
            format!("the client ended the connection ({how}) right after the TLS handshake, before sending any data"),
            if tls13 {
                "TLS 1.3 hides the certificate; a client that leaves at this point has most likely rejected the server's identity (inferred)".into()
            } else {
                "the reason is not on the wire; a client that leaves at this point has most likely rejected the server's certificate (inferred)".into()
            },
            vec![done, end],
            true,
            None,
        );
    }
}
