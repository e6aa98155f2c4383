//! The `proxy` object of a record: the SOCKS exchange that opened (or failed to open) a
//! tunnel before RDP. Names as the wire said them; the password is never kept.

use serde::Serialize;

use crate::conn::facts::ProxyFacts;
use crate::proto::socks::{self, Target};

#[derive(Debug, Clone, Serialize)]
pub struct ProxyRecord {
    /// `socks5`, `socks4` or `socks4a` (SOCKS4 with a host name).
    pub protocol: &'static str,
    /// The host the client asked the proxy for: an address, or a name the proxy resolves.
    pub target_host: Option<String>,
    pub target_port: Option<u16>,
    pub command: Option<&'static str>,
    /// SOCKS5 authentication methods the client offered, and the one the proxy chose.
    pub methods_offered: Vec<&'static str>,
    pub method: Option<&'static str>,
    /// User name of the SOCKS5 username/password login, or the SOCKS4 user id.
    pub user: Option<String>,
    /// Whether the username/password login succeeded (`None`: none happened).
    pub auth_ok: Option<bool>,
    pub reply: Option<&'static str>,
    pub reply_code: Option<u8>,
    /// The proxy opened the tunnel.
    pub granted: bool,
    pub request_frame: Option<u64>,
    pub reply_frame: Option<u64>,
}

impl ProxyRecord {
    pub fn new(p: &ProxyFacts) -> ProxyRecord {
        let req = p.request.as_ref().map(|(_, r)| r);
        let protocol = match req {
            Some(r) if r.version == 4 && matches!(r.target, Target::Name(..)) => "socks4a",
            _ if p.version() == 4 => "socks4",
            _ => "socks5",
        };
        let (target_host, target_port) = match req.map(|r| &r.target) {
            Some(Target::Ip(a, port)) => (Some(a.to_string()), Some(*port)),
            Some(Target::Name(n, port)) => (Some(n.clone()), Some(*port)),
            None => (None, None),
        };
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
            method: p.method.map(|(_, m)| socks::method_name(m)),
            user: p.auth.as_ref().map(|(_, u)| u.clone()).or(socks4_user),
            auth_ok: p.auth_status.map(|(_, s)| s == 0),
            reply: p.reply.map(|(_, v, c)| socks::reply_name(v, c)),
            reply_code: p.reply.map(|(_, _, c)| c),
            granted: p.granted(),
            request_frame: p.request.as_ref().map(|(at, _)| at.frame),
            reply_frame: p.reply.map(|(at, _, _)| at.frame),
        }
    }
}

impl ProxyRecord {
    /// One line for reports: `socks5 CONNECT host:port, no authentication: succeeded`.
    pub fn summary(&self) -> String {
        let mut s = String::from(self.protocol);
        if let (Some(c), Some(h), Some(p)) = (self.command, &self.target_host, self.target_port) {
            if h.contains(':') {
                s.push_str(&format!(" {c} [{h}]:{p}"));
            } else {
                s.push_str(&format!(" {c} {h}:{p}"));
            }
        }
        if let Some(m) = self.method {
            s.push_str(&format!(", {m}"));
        }
        if let Some(u) = &self.user {
            s.push_str(&format!(", user {u:?}"));
        }
        let refused_login =
            self.auth_ok == Some(false) || self.method == Some(socks::method_name(socks::METHOD_NONE_ACCEPTABLE));
        match (self.reply, self.command) {
            _ if refused_login => s.push_str(": login refused, no request sent"),
            (Some(r), _) => s.push_str(&format!(": {r}")),
            (None, Some(_)) => s.push_str(": no reply"),
            (None, None) => s.push_str(": no request seen"),
        }
        s
    }
}
