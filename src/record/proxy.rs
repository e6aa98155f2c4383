//! The `proxy` object of a record: the SOCKS or HTTP CONNECT exchange that opened (or failed
//! to open) a tunnel before RDP. Names as the wire said them; passwords and credentials are
//! never kept.

use serde::Serialize;

use crate::conn::facts::{HttpConnectFacts, ProxyFacts, SocksFacts};
use crate::proto::http_connect;
use crate::proto::socks::{self, Target};

#[derive(Debug, Clone, Serialize)]
pub struct ProxyRecord {
    /// `socks5`, `socks4`, `socks4a` (SOCKS4 with a host name) or `http` (HTTP CONNECT).
    pub protocol: &'static str,
    /// The host the client asked the proxy for: an address, or a name the proxy resolves.
    pub target_host: Option<String>,
    pub target_port: Option<u16>,
    pub command: Option<&'static str>,
    /// SOCKS5 authentication methods the client offered, and the one the proxy chose; for
    /// HTTP, the scheme of the client's `Proxy-Authorization` (credentials are not kept).
    pub methods_offered: Vec<&'static str>,
    pub method: Option<String>,
    /// User name of the SOCKS5 username/password login, or the SOCKS4 user id.
    pub user: Option<String>,
    /// Whether the login succeeded (`None`: none happened; HTTP: false on a final 407).
    pub auth_ok: Option<bool>,
    /// The proxy's answer: SOCKS reply name, or the HTTP status line's reason phrase.
    pub reply: Option<String>,
    /// SOCKS5 REP, SOCKS4 CD, or the HTTP status code.
    pub reply_code: Option<u16>,
    /// HTTP: CONNECT requests the client sent on this connection (a 407 makes it ask again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u32>,
    /// The proxy opened the tunnel.
    pub granted: bool,
    pub request_frame: Option<u64>,
    pub reply_frame: Option<u64>,
}

impl ProxyRecord {
    pub fn new(p: &ProxyFacts) -> ProxyRecord {
        match p {
            ProxyFacts::Socks(s) => from_socks(s),
            ProxyFacts::Http(h) => from_http(h),
        }
    }
}

fn target_fields(t: Option<&Target>) -> (Option<String>, Option<u16>) {
    match t {
        Some(Target::Ip(a, port)) => (Some(a.to_string()), Some(*port)),
        Some(Target::Name(n, port)) => (Some(n.clone()), Some(*port)),
        None => (None, None),
    }
}

fn from_socks(p: &SocksFacts) -> ProxyRecord {
    let req = p.request.as_ref().map(|(_, r)| r);
    let protocol = match req {
        Some(r) if r.version == 4 && matches!(r.target, Target::Name(..)) => "socks4a",
        _ if p.version() == 4 => "socks4",
        _ => "socks5",
    };
    let (target_host, target_port) = target_fields(req.map(|r| &r.target));
    let socks4_user = req.and_then(|r| r.user.clone()).filter(|u| !u.is_empty());
    ProxyRecord {
        protocol,
        target_host,
        target_port,
        command: req.map(|r| socks::command_name(r.command)),
        methods_offered: p
            .greeting
            .as_ref()
            .map(|(_, ms)| ms.iter().map(|m| socks::method_name(*m)).collect())
            .unwrap_or_default(),
        method: p.method.map(|(_, m)| socks::method_name(m).to_string()),
        user: p.auth.as_ref().map(|(_, u)| u.clone()).or(socks4_user),
        auth_ok: p.auth_status.map(|(_, s)| s == 0),
        reply: p.reply.map(|(_, v, c)| socks::reply_name(v, c).to_string()),
        reply_code: p.reply.map(|(_, _, c)| u16::from(c)),
        requests: None,
        granted: p.granted(),
        request_frame: p.request.as_ref().map(|(at, _)| at.frame),
        reply_frame: p.reply.map(|(at, _, _)| at.frame),
    }
}

fn from_http(h: &HttpConnectFacts) -> ProxyRecord {
    let req = h.request.as_ref().map(|(_, r)| r);
    let resp = h.response.as_ref().map(|(_, r)| r);
    let (mut target_host, target_port) = target_fields(req.and_then(|r| r.target.as_ref()));
    if target_host.is_none() {
        // An authority that does not parse is still what the client asked for.
        target_host = req.map(|r| r.authority.clone());
    }
    let challenged = h.first_refusal.is_some_and(|(_, s)| s == 407);
    ProxyRecord {
        protocol: "http",
        target_host,
        target_port,
        command: req.map(|_| "CONNECT"),
        methods_offered: Vec::new(),
        method: req.and_then(|r| r.auth_scheme.clone()),
        user: None,
        auth_ok: match resp.map(|r| r.status) {
            Some(407) => Some(false),
            Some(_) if challenged => Some(h.granted()),
            _ => None,
        },
        reply: resp.map(|r| {
            if r.reason.is_empty() {
                http_connect::status_name(r.status).to_string()
            } else {
                r.reason.clone()
            }
        }),
        reply_code: resp.map(|r| r.status),
        requests: Some(h.requests),
        granted: h.granted(),
        request_frame: h.request.as_ref().map(|(at, _)| at.frame),
        reply_frame: h.response.as_ref().map(|(at, _)| at.frame),
    }
}

impl ProxyRecord {
    /// One line for reports: `socks5 CONNECT host:port, no authentication: succeeded`,
    /// `http CONNECT host:port: 403 Forbidden`.
    pub fn summary(&self) -> String {
        let mut s = String::from(self.protocol);
        if let (Some(c), Some(h), Some(p)) = (self.command, &self.target_host, self.target_port) {
            if h.contains(':') {
                s.push_str(&format!(" {c} [{h}]:{p}"));
            } else {
                s.push_str(&format!(" {c} {h}:{p}"));
            }
        }
        if let Some(m) = &self.method {
            s.push_str(&format!(", {m}"));
        }
        if let Some(u) = &self.user {
            s.push_str(&format!(", user {u:?}"));
        }
        let http = self.protocol == "http";
        // SOCKS: a refused login ends the exchange before any request.
        let refused_login = !http
            && (self.auth_ok == Some(false)
                || self.method.as_deref() == Some(socks::method_name(socks::METHOD_NONE_ACCEPTABLE)));
        match (&self.reply, self.command) {
            _ if refused_login => s.push_str(": login refused, no request sent"),
            (Some(r), _) if http => s.push_str(&format!(": {} {r}", self.reply_code.unwrap_or_default())),
            (Some(r), _) => s.push_str(&format!(": {r}")),
            (None, Some(_)) => s.push_str(": no reply"),
            (None, None) => s.push_str(": no request seen"),
        }
        s
    }
}
