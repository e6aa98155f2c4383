//! RDP through a SOCKS proxy: the proxy, not the RDP server, answered first. A refusal, a
//! rejected login or a proxy that never replies ends the connection before any RDP byte;
//! a tunnel that opened is noted, because the TCP figures then describe only the
//! client-proxy leg.

use super::evidence::Evidence;
use super::{Findings, Phase, Severity};
use crate::conn::facts::ProxyFacts;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::socks;

/// Seconds of silence after the request that count as "no reply" when the capture, not
/// the client, ended (as for an unanswered X.224 request).
const NO_REPLY_SECS: f64 = 5.0;
/// A client that waited at least this long before closing was waiting for the proxy.
const CLIENT_WAITED_SECS: f64 = 2.0;

/// Returns whether the proxy explains the failure (the RDP rules then have nothing to judge).
pub fn socks(ev: &Evidence<'_>, f: &mut Findings) -> bool {
    let Some(p) = &ev.c.facts.proxy else { return false };
    let version = p.version();
    let target = p
        .request
        .as_ref()
        .map_or("(no request seen)".to_string(), |(_, r)| r.target.to_string());
    if let Some((at, m)) = p.method.filter(|(_, m)| *m == socks::METHOD_NONE_ACCEPTABLE) {
        let offered = p.greeting.as_ref().map_or(String::new(), |(_, ms)| {
            let names: Vec<&str> = ms.iter().map(|m| socks::method_name(*m)).collect();
            names.join(", ")
        });
        auth_failed(
            f,
            format!("the SOCKS5 proxy accepted none of the client's authentication methods ({offered})"),
            format!("method selection {m:#04x} (no acceptable method) in answer to the greeting"),
            frames(&[p.greeting.as_ref().map(|g| g.0), Some(at)]),
        );
        return true;
    }
    if let Some((at, status)) = p.auth_status.filter(|(_, s)| *s != 0) {
        let user = p.auth.as_ref().map_or(String::new(), |(_, u)| format!(" for user {u}"));
        auth_failed(
            f,
            format!("the SOCKS5 proxy rejected the client's user name and password{user}"),
            format!("username/password authentication status {status} (not 0: failure)"),
            frames(&[p.auth.as_ref().map(|a| a.0), Some(at)]),
        );
        return true;
    }
    if let Some((at, v, code)) = p.reply {
        if socks::granted(v, code) {
            tunnel(ev, p, &target, at, f);
            return false;
        }
        f.add(
            "proxy_refused",
            Severity::Error,
            Phase::Tcp,
            format!(
                "the SOCKS{v} proxy could not open the tunnel to {target}: {} ({code})",
                socks::reply_name(v, code)
            ),
            "the proxy answered the request with a failure; no RDP byte reached the server".into(),
            frames(&[p.request.as_ref().map(|r| r.0), Some(at)]),
            false,
            None,
        );
        return true;
    }
    unanswered(ev, p, version, &target, f)
}

fn auth_failed(f: &mut Findings, summary: String, detail: String, frames: Vec<u64>) {
    f.add(
        "proxy_auth_failed",
        Severity::Error,
        Phase::Tcp,
        summary,
        detail,
        frames,
        false,
        None,
    );
}

/// The tunnel opened: RDP follows, and the TCP figures are those of the leg to the proxy.
fn tunnel(ev: &Evidence<'_>, p: &ProxyFacts, target: &str, at: At, f: &mut Findings) {
    f.add(
        "via_proxy",
        Severity::Info,
        Phase::Tcp,
        format!("RDP tunnelled through a SOCKS{} proxy to {target}", p.version()),
        format!(
            "the proxy {}:{} granted the request; round trips, retransmissions and resets here are those between the client and the proxy",
            ev.c.server.ip, ev.c.server.port
        ),
        frames(&[p.request.as_ref().map(|r| r.0), Some(at)]),
        false,
        None,
    );
}

/// No reply to the greeting or the request: the proxy may still be trying to reach the
/// target. Judged like an unanswered X.224 request; a close by the proxy is a refusal.
fn unanswered(ev: &Evidence<'_>, p: &ProxyFacts, version: u8, target: &str, f: &mut Findings) -> bool {
    let asked = match (&p.request, &p.greeting, p.method, &p.auth, p.auth_status) {
        (Some((at, _)), ..) => (*at, format!("the request to connect to {target}")),
        (None, _, _, Some((at, _)), None) => (*at, "the client's authentication".to_string()),
        (None, Some((at, _)), None, ..) => (*at, "the client's greeting".to_string()),
        // The client had its answer and did not go on: its own closing rules judge it.
        _ => return false,
    };
    let (at, what) = asked;
    let close = ev.closes.iter().find(|c| c.at.frame > at.frame).copied();
    let (summary, end) = match close {
        Some(c) if c.side == Side::Server => {
            f.add(
                "proxy_refused",
                Severity::Error,
                Phase::Tcp,
                format!("the SOCKS{version} proxy closed the connection without answering {what}"),
                format!("a {} from the proxy and no SOCKS reply before it", c.what()),
                vec![at.frame, c.at.frame],
                false,
                None,
            );
            return true;
        }
        Some(c) if Evidence::secs(at, c.at) >= CLIENT_WAITED_SECS => (
            format!(
                "the SOCKS{version} proxy never answered {what}; the client gave up after {:.1} s",
                Evidence::secs(at, c.at)
            ),
            c.at,
        ),
        Some(_) => return false,
        None if Evidence::secs(at, ev.last()) >= NO_REPLY_SECS => (
            format!(
                "the SOCKS{version} proxy never answered {what}; the capture ended {:.1} s after it",
                Evidence::secs(at, ev.last())
            ),
            ev.last(),
        ),
        None => return false,
    };
    f.add(
        "proxy_no_reply",
        Severity::Error,
        Phase::Tcp,
        summary,
        "the proxy accepted TCP but sent no SOCKS reply: it is most likely still trying to reach the target (inferred)"
            .into(),
        vec![at.frame, end.frame],
        false,
        None,
    );
    true
}

fn frames(v: &[Option<At>]) -> Vec<u64> {
    v.iter().flatten().map(|a| a.frame).collect()
}
