//! RDP through a proxy (SOCKS or HTTP CONNECT): the proxy, not the RDP server, answered
//! first. A refusal, a rejected login or a proxy that never replies ends the connection
//! before any RDP byte; a tunnel that opened is noted, because the TCP figures then describe
//! only the client-proxy leg.

use super::evidence::Evidence;
use super::findings::{Findings, Severity};
use super::phase::Phase;
use crate::conn::facts::{HttpConnectFacts, ProxyFacts, SocksFacts};
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::{http_connect, socks};

/// Seconds of silence after the request that count as "no reply" when the capture, not
/// the client, ended (as for an unanswered X.224 request).
const NO_REPLY_SECS: f64 = 5.0;
/// A client that waited at least this long before closing was waiting for the proxy.
const CLIENT_WAITED_SECS: f64 = 2.0;

/// Returns whether the proxy explains the failure (the RDP rules then have nothing to judge).
pub fn judge(ev: &Evidence<'_>, f: &mut Findings) -> bool {
    match &ev.c.facts.proxy {
        None => false,
        Some(ProxyFacts::Socks(p)) => socks(ev, p, f),
        Some(ProxyFacts::Http(h)) => http(ev, h, f),
    }
}

fn socks(ev: &Evidence<'_>, p: &SocksFacts, f: &mut Findings) -> bool {
    let name = format!("SOCKS{}", p.version());
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
    let request = p.request.as_ref().map(|(at, _)| *at);
    if let Some((at, v, code)) = p.reply {
        if socks::granted(v, code) {
            tunnel(ev, &name, &target, String::new(), [request, Some(at)], f);
            return false;
        }
        refused(
            f,
            socks_case(v, code),
            format!(
                "the {name} proxy could not open the tunnel to {target}: {} ({code})",
                socks::reply_name(v, code)
            ),
            frames(&[request, Some(at)]),
        );
        return true;
    }
    // The last thing the client asked that the proxy left unanswered.
    let asked = match (request, &p.greeting, p.method, &p.auth, p.auth_status) {
        (Some(at), ..) => (at, format!("the request to connect to {target}")),
        (None, _, _, Some((at, _)), None) => (*at, "the client's authentication".to_string()),
        (None, Some((at, _)), None, ..) => (*at, "the client's greeting".to_string()),
        // The client had its answer and did not go on: its own closing rules judge it.
        _ => return false,
    };
    unanswered(ev, &name, asked, f)
}

fn http(ev: &Evidence<'_>, h: &HttpConnectFacts, f: &mut Findings) -> bool {
    let Some((req_at, req)) = &h.request else { return false };
    let target = req.authority.as_str();
    match &h.response {
        Some((at, r)) if r.granted() => {
            let after = match h.first_refusal {
                Some((a, s)) => format!(" after a first answer {s} (frame {})", a.frame),
                None => String::new(),
            };
            tunnel(ev, "HTTP", target, after, [Some(*req_at), Some(*at)], f);
            false
        }
        Some((at, r)) if r.status == 407 => {
            let challenge = r
                .challenge
                .as_ref()
                .map_or(String::new(), |c| format!(" (challenge: {c})"));
            let summary = match &req.auth_scheme {
                Some(s) => format!("the HTTP proxy rejected the client's {s} credentials for the CONNECT to {target}"),
                None => {
                    format!("the HTTP proxy requires authentication for the CONNECT to {target}; the client sent none")
                }
            };
            auth_failed(
                f,
                summary,
                format!(
                    "407 {}{challenge}; CONNECT requests on this connection: {}",
                    reason(r),
                    h.requests
                ),
                vec![req_at.frame, at.frame],
            );
            true
        }
        Some((at, r)) => {
            refused(
                f,
                http_case(r.status),
                format!(
                    "the HTTP proxy refused the CONNECT to {target}: {} {}",
                    r.status,
                    reason(r)
                ),
                vec![req_at.frame, at.frame],
            );
            true
        }
        None => unanswered(ev, "HTTP", (*req_at, format!("the CONNECT to {target}")), f),
    }
}

fn reason(r: &http_connect::Response) -> String {
    if r.reason.is_empty() {
        http_connect::status_name(r.status).to_string()
    } else {
        r.reason.clone()
    }
}

/// Which `proxy_refused` remedy fits a SOCKS reply (version, code): the catalogue's keys.
fn socks_case(version: u8, code: u8) -> &'static str {
    match (version, code) {
        (4, _) => "proxy_refused",
        (_, 2) => "proxy_refused:socks-forbidden",
        (_, 5) => "proxy_refused:target-refused",
        (_, 3 | 4 | 6) => "proxy_refused:unreachable",
        (_, 7 | 8) => "proxy_refused:unsupported",
        _ => "proxy_refused",
    }
}

/// Which `proxy_refused` remedy fits an HTTP proxy's status.
fn http_case(status: u16) -> &'static str {
    match status {
        403 | 405 => "proxy_refused:http-forbidden",
        500 | 502 | 503 => "proxy_refused:target-refused",
        504 => "proxy_refused:unreachable",
        _ => "proxy_refused",
    }
}

fn refused(f: &mut Findings, case: &str, summary: String, frames: Vec<u64>) {
    f.add_keyed(
        "proxy_refused",
        case,
        Severity::Error,
        Phase::Tcp,
        summary,
        "the proxy answered the request with a failure; no RDP byte reached the server".into(),
        frames,
        false,
        None,
    );
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
fn tunnel(ev: &Evidence<'_>, name: &str, target: &str, after: String, at: [Option<At>; 2], f: &mut Findings) {
    f.add(
        "via_proxy",
        Severity::Info,
        Phase::Tcp,
        format!(
            "RDP tunnelled through {} {name} proxy to {target}",
            if name == "HTTP" { "an" } else { "a" }
        ),
        format!(
            "the proxy {}:{} granted the request{after}; round trips, retransmissions and resets here are those between the client and the proxy",
            ev.c.server.ip, ev.c.server.port
        ),
        frames(&at),
        false,
        None,
    );
}

/// No answer to `asked` (when, what): the proxy may still be trying to reach the target.
/// Judged like an unanswered X.224 request; a close by the proxy is a refusal.
fn unanswered(ev: &Evidence<'_>, name: &str, (at, what): (At, String), f: &mut Findings) -> bool {
    let close = ev.closes.iter().find(|c| c.at.frame > at.frame).copied();
    let (summary, end) = match close {
        Some(c) if c.side == Side::Server => {
            f.add_keyed(
                "proxy_refused",
                "proxy_refused:closed",
                Severity::Error,
                Phase::Tcp,
                format!("the {name} proxy closed the connection without answering {what}"),
                format!("a {} from the proxy and no proxy reply before it", c.what()),
                vec![at.frame, c.at.frame],
                false,
                None,
            );
            return true;
        }
        Some(c) if Evidence::secs(at, c.at) >= CLIENT_WAITED_SECS => (
            format!(
                "the {name} proxy never answered {what}; the client gave up after {:.1} s",
                Evidence::secs(at, c.at)
            ),
            c.at,
        ),
        Some(_) => return false,
        None if Evidence::secs(at, ev.last()) >= NO_REPLY_SECS => (
            format!(
                "the {name} proxy never answered {what}; the capture ended {:.1} s after it",
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
        "the proxy accepted TCP but sent no reply: it is most likely still trying to reach the target (inferred)"
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
