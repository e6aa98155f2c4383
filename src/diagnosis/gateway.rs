//! RD Gateway verdicts: an HTTPS leg (client → gateway) is judged by its HTTP answers and
//! MS-TSGU statuses, each finding naming the hop that failed (client→gateway, gateway
//! login, gateway policy, gateway→server); a KDC proxy leg by whether it answered with
//! Kerberos; an inner RDP connection gets `via_gateway` and its own verdict.

use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::conn::gateway_facts::{GatewayFacts, Role, Step};
use crate::flow::Side;
use crate::proto::tsgu;

/// Findings of an HTTPS leg read with the keys; without them, a note that its content is
/// unread. Returns whether the tunnel (or the KDC proxy's answer) was seen working.
pub fn judge(ev: &Evidence<'_>, g: &GatewayFacts, f: &mut Findings) -> bool {
    let c = ev.c;
    if c.facts.inside.decryption.is_none() {
        f.add(
            "https_unread",
            Severity::Info,
            Phase::Tls,
            "HTTPS, not RDP: the client opened with a TLS ClientHello (an RD Gateway leg, a KDC proxy or a web request); no key log matched, so only TLS is judged".into(),
            String::new(),
            vec![c.first.frame],
            false,
            None,
        );
        return false;
    }
    match g.role {
        Role::KdcProxy => kdc_proxy(g, f),
        _ => tunnel(g, f),
    }
}

fn tunnel(g: &GatewayFacts, f: &mut Findings) -> bool {
    if let Some((at, status, reason)) = g.last_status().filter(|(_, s, _)| *s >= 400) {
        let (code, hop) = match status {
            401 => ("gateway_auth_failed", "gateway login"),
            403 => ("gateway_forbidden", "gateway login"),
            _ => ("gateway_http_error", "client→gateway"),
        };
        let auth = g.auth.as_ref().map_or(String::new(), |a| {
            format!(
                " (last credentials sent: {}{})",
                a.scheme,
                a.mechanism.map_or(String::new(), |m| format!("/{m}"))
            )
        });
        f.add(
            code,
            Severity::Error,
            Phase::Tls,
            format!("{hop}: the gateway answered HTTP {status} {reason}{auth} and no tunnel followed"),
            String::new(),
            vec![at.frame],
            false,
            None,
        );
        return false;
    }
    let steps: [(&str, Option<Step>); 5] = [
        ("HANDSHAKE_RESPONSE", g.handshake),
        ("TUNNEL_RESPONSE", g.tunnel),
        ("TUNNEL_AUTH_RESPONSE", g.tunnel_auth),
        ("CHANNEL_RESPONSE", g.channel),
        ("RPC fault", g.rpc_fault.map(|(at, _, status)| Step { at, status })),
    ];
    for (packet, step) in steps {
        let Some(s) = step.filter(|s| s.status != 0) else {
            continue;
        };
        let (code, hop) = refusal(s.status);
        let target = match (&g.channel_create, code) {
            (Some((_, names, port)), "gateway_target_unreachable") => {
                format!(" to {}:{port}", names.first().map_or("?", String::as_str))
            }
            _ => String::new(),
        };
        f.add(
            code,
            Severity::Error,
            Phase::Tls,
            format!("{hop}: {packet} {}{target}", tsgu::status_text(s.status)),
            String::new(),
            vec![s.at.frame],
            false,
            None,
        );
        return false;
    }
    if let Some((at, side, status)) = g.close.filter(|c| c.2 != 0) {
        let name = tsgu::status_text(status);
        if let Some(code) = close_code(status) {
            f.add(
                code,
                Severity::Error,
                Phase::Session,
                format!(
                    "gateway policy: the gateway closed the channel with {name} ({})",
                    side.name()
                ),
                String::new(),
                vec![at.frame],
                false,
                None,
            );
        }
    }
    g.channel.is_some_and(|s| s.status == 0)
}

/// The finding a CLOSE_CHANNEL status names (the gateway's session timer, a failed
/// reauthentication); `None` for another status.
fn close_code(status: u32) -> Option<&'static str> {
    match status & 0xFFFF {
        0x59F6 => Some("gateway_session_timeout"),
        0x59FA | 0x59FB | 0x59FC | 0x5A00 => Some("gateway_reauth_failed"),
        _ => None,
    }
}

/// An inner RDP connection whose channel the gateway closed with one of those statuses:
/// its end is the gateway's doing (the leg's close, a reset included, is the gateway's),
/// not the RDP server's.
pub fn closed_by_gateway(ev: &Evidence<'_>, f: &mut Findings) {
    let Some(v) = &ev.c.via_gateway else { return };
    let Some((at, _, status)) = v.close.filter(|c| c.1 == Side::Server && c.2 != 0) else {
        return;
    };
    let Some(code) = close_code(status) else { return };
    f.add(
        code,
        Severity::Error,
        Phase::Session,
        format!(
            "gateway policy: the gateway closed this connection's channel (CLOSE_CHANNEL {} on leg #{}): the RDP server did not end it",
            tsgu::status_text(status),
            v.leg
        ),
        String::new(),
        vec![at.frame],
        false,
        None,
    );
}

/// Which finding and hop a non-zero MS-TSGU status is (2.2.6).
fn refusal(status: u32) -> (&'static str, &'static str) {
    match status & 0xFFFF {
        0x59DD => ("gateway_target_unreachable", "gateway→server"),
        0x59E9 => ("gateway_capability_mismatch", "client→gateway"),
        0x59DA | 0x59DB | 0x59ED | 0x59F8 | 0x59F9 => ("gateway_policy_denied", "gateway policy"),
        _ => ("gateway_refused", "client→gateway"),
    }
}

fn kdc_proxy(g: &GatewayFacts, f: &mut Findings) -> bool {
    let answered = g.kdc.iter().any(|k| k.side == crate::flow::Side::Server);
    if g.kdc_not_answered > 0 || !answered {
        let first = g.kdc.first().map(|k| k.at.frame);
        let status = g.last_status().map_or(
            " (HTTP/2: the status is HPACK-compressed and not decoded)".to_string(),
            |(_, s, r)| format!(" (HTTP {s} {r})"),
        );
        f.add(
            "kdc_proxy_failed",
            Severity::Warning,
            Phase::Tls,
            format!(
                "the KDC proxy answered {} request(s) without a Kerberos message{status}: the client cannot use Kerberos through the gateway and falls back to NTLM",
                g.kdc_not_answered.max(1)
            ),
            String::new(),
            first.into_iter().chain(g.kdc_not_answered_at.map(|a| a.frame)).collect(),
            false,
            None,
        );
        return false;
    }
    true
}

/// The inner RDP connection of a gateway tunnel: which leg carried it, and to where.
pub fn via_gateway(ev: &Evidence<'_>, f: &mut Findings) {
    let Some(v) = &ev.c.via_gateway else { return };
    let target = v.target.as_ref().map_or(String::new(), |(h, p)| format!(" to {h}:{p}"));
    f.add(
        "via_gateway",
        Severity::Info,
        Phase::Tcp,
        format!(
            "carried by the RD Gateway tunnel of connection #{}{target}: the TCP figures are those of the client→gateway leg",
            v.leg
        ),
        String::new(),
        vec![ev.c.first.frame],
        false,
        None,
    );
}
