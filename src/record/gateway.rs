//! The `gateway` object of an HTTPS leg (an RD Gateway tunnel or a KDC proxy) and the
//! `via_gateway` object of the RDP connection a tunnel carried (docs/json.md). Names as the
//! wire said them; credentials and tokens are never kept.

use serde::Serialize;

use crate::conn::gateway_facts::{GatewayFacts, LegacyChannel, Role, Step, Transport};
use crate::conn::ViaGateway;
use crate::proto::{kerberos, tsgu};

#[derive(Debug, Clone, Serialize)]
pub struct GatewayRecord {
    /// `gateway`, `kdc_proxy` or `unknown` (no keys, or nothing recognised).
    pub role: &'static str,
    /// `websocket`, `http` (legacy two channels), `rpc` (RPC over HTTP), or `null`.
    pub transport: Option<&'static str>,
    pub http: Vec<HttpRecord>,
    pub auth: Option<AuthRecord>,
    pub tunnel: Option<StepRecord>,
    pub tunnel_auth: Option<StepRecord>,
    pub channel: Option<ChannelRecord>,
    /// Ids of the RDP connections this leg's tunnel carried.
    pub inner: Vec<u64>,
    pub kdc: Vec<KdcRecord>,
    /// The legacy transport's channel this leg is, and its other channel.
    pub legacy: Option<LegacyRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegacyRecord {
    /// `out` (RDG_OUT_DATA: the gateway's packets) or `in` (RDG_IN_DATA: the client's).
    pub channel: &'static str,
    /// The other channel's connection id (same RDG-Connection-Id), `null` if not seen.
    pub partner: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpRecord {
    pub frame: u64,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthRecord {
    pub scheme: String,
    pub mechanism: Option<&'static str>,
    pub user: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub status: u32,
    /// The status by its MS-TSGU name, or the HRESULT in hex.
    pub name: String,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetRecord {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChannelRecord {
    /// The target named in CHANNEL_CREATE (`null` if that packet was not seen).
    pub target: Option<TargetRecord>,
    pub status: Option<u32>,
    pub name: Option<String>,
    pub frame: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KdcRecord {
    pub frame: u64,
    /// `AS-REQ`, `KRB-ERROR`, ...
    pub message: &'static str,
    /// A KRB-ERROR's code by name (or number).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ViaGatewayRecord {
    /// The id of the gateway leg.
    pub id: u64,
    pub target: Option<TargetRecord>,
}

fn step(s: Option<Step>) -> Option<StepRecord> {
    s.map(|s| StepRecord {
        status: s.status,
        name: tsgu::status_text(s.status),
        frame: s.at.frame,
    })
}

impl GatewayRecord {
    pub fn new(g: &GatewayFacts) -> GatewayRecord {
        let target = g.channel_create.as_ref().map(|(_, names, port)| TargetRecord {
            host: names.first().cloned().unwrap_or_default(),
            port: *port,
        });
        let channel = (target.is_some() || g.channel.is_some()).then(|| ChannelRecord {
            target,
            status: g.channel.map(|s| s.status),
            name: g.channel.map(|s| tsgu::status_text(s.status)),
            frame: g.channel.map(|s| s.at.frame),
        });
        GatewayRecord {
            role: match g.role {
                Role::Gateway => "gateway",
                Role::KdcProxy => "kdc_proxy",
                Role::Unknown => "unknown",
            },
            transport: g.transport.map(|t| match t {
                Transport::WebSocket => "websocket",
                Transport::Http => "http",
                Transport::Rpc => "rpc",
            }),
            http: g
                .http
                .iter()
                .map(|x| HttpRecord {
                    frame: x.at.frame,
                    method: x.method.clone(),
                    path: x.path.clone(),
                    status: x.status.as_ref().map(|s| s.1),
                    reason: x.status.as_ref().map(|s| s.2.clone()),
                })
                .collect(),
            auth: g.auth.as_ref().map(|a| AuthRecord {
                scheme: a.scheme.clone(),
                mechanism: a.mechanism,
                user: a.user.clone(),
                domain: a.domain.clone(),
            }),
            tunnel: step(g.tunnel),
            tunnel_auth: step(g.tunnel_auth),
            channel,
            inner: g.inner.clone(),
            legacy: g.legacy.map(|c| LegacyRecord {
                channel: match c {
                    LegacyChannel::Out => "out",
                    LegacyChannel::In => "in",
                },
                partner: g.legacy_partner,
            }),
            kdc: g
                .kdc
                .iter()
                .map(|k| KdcRecord {
                    frame: k.at.frame,
                    message: k.message,
                    error: k
                        .error
                        .map(|e| kerberos::error_name(e).map_or_else(|| e.to_string(), str::to_string)),
                })
                .collect(),
        }
    }
}

impl ViaGatewayRecord {
    pub fn new(v: &ViaGateway) -> ViaGatewayRecord {
        ViaGatewayRecord {
            id: v.leg,
            target: v.target.as_ref().map(|(h, p)| TargetRecord {
                host: h.clone(),
                port: *p,
            }),
        }
    }
}

impl GatewayRecord {
    /// One line for the text report: role, transport, HTTP exchanges, login, tunnel steps,
    /// the channel's target and the inner connections.
    pub fn summary(&self) -> String {
        let mut s = vec![self.role.to_string()];
        if let Some(t) = self.transport {
            s.push(format!("transport {t}"));
        }
        for h in &self.http {
            let answer = match (h.status, &h.reason) {
                (Some(c), Some(r)) => format!(" -> {c} {r}"),
                _ => " -> no answer".into(),
            };
            s.push(format!("{} {}{answer} (#{})", h.method, h.path, h.frame));
        }
        if let Some(a) = &self.auth {
            let mut l = format!("auth {}", a.scheme);
            if let Some(m) = a.mechanism {
                l.push_str(&format!("/{m}"));
            }
            if let Some(u) = &a.user {
                l.push_str(&format!(" user {u}"));
            }
            if let Some(d) = &a.domain {
                l.push_str(&format!(" domain {d}"));
            }
            s.push(l);
        }
        for (what, st) in [("tunnel", &self.tunnel), ("tunnel auth", &self.tunnel_auth)] {
            if let Some(x) = st {
                s.push(format!("{what} {} (#{})", x.name, x.frame));
            }
        }
        if let Some(c) = &self.channel {
            let mut l = String::from("channel");
            if let Some(t) = &c.target {
                l.push_str(&format!(" to {}:{}", t.host, t.port));
            }
            if let (Some(n), Some(f)) = (&c.name, c.frame) {
                l.push_str(&format!(" {n} (#{f})"));
            }
            s.push(l);
        }
        if let Some(l) = &self.legacy {
            let other = if l.channel == "out" { "IN" } else { "OUT" };
            s.push(match l.partner {
                Some(p) => format!(
                    "legacy {} channel (its {other} channel: #{p})",
                    l.channel.to_uppercase()
                ),
                None => format!("legacy {} channel ({other} channel not seen)", l.channel.to_uppercase()),
            });
        }
        if !self.inner.is_empty() {
            let ids: Vec<String> = self.inner.iter().map(|i| format!("#{i}")).collect();
            s.push(format!("carries {}", ids.join(" ")));
        }
        if !self.kdc.is_empty() {
            let k: Vec<String> = self
                .kdc
                .iter()
                .map(|k| match &k.error {
                    Some(e) => format!("{} {e} (#{})", k.message, k.frame),
                    None => format!("{} (#{})", k.message, k.frame),
                })
                .collect();
            s.push(format!("kerberos {}", k.join(", ")));
        }
        s.join(", ")
    }
}

impl ViaGatewayRecord {
    pub fn summary(&self) -> String {
        match &self.target {
            Some(t) => format!("RD Gateway leg #{} to {}:{}", self.id, t.host, t.port),
            None => format!("RD Gateway leg #{}", self.id),
        }
    }
}
