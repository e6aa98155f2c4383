//! The per-connection record: the JSON contract of docs/json.md, built from a finished
//! connection and its diagnosis. Fields may be added; none may be renamed or dropped.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod derived;
pub mod gateway;
mod inside;
mod proxy;
pub mod redact;
mod security;
mod ser;

use serde::Serialize;

pub use inside::{DecryptionRecord, KerberosRecord, NlaRecord, SessionRecord};
pub use proxy::ProxyRecord;
use security::{standard_security, tls_record};
pub use security::{AlertRecord, CertificateRecord, CipherRecord, StandardSecurityRecord, TlsRecord};

use crate::conn::event::EventKind;
use crate::conn::facts::RdpFacts;
use crate::conn::udp::UdpFlow;
use crate::conn::Connection;
use crate::diagnosis::{ClientErrorRecord, Diagnosis, Finding, Outcome, Phase};
use crate::flow::community_id::community_id;
use crate::flow::tcp::Close;
use crate::flow::{Endpoint, Side};
use crate::proto::x224::{self, Protocols, RequestFlags, ResponseFlags};
use crate::ts::Ts;

#[derive(Debug, Clone, Serialize)]
pub struct ConnectionRecord {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: u64,
    pub transport: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub client: Endpoint,
    pub server: Endpoint,
    /// Community ID v1 of the flow (seed 0): the same hash Zeek, Suricata and Arkime give it.
    pub community_id: String,
    pub first_seen: String,
    pub last_seen: String,
    /// The first packet's time, typed (`first_seen` is its text).
    #[serde(skip)]
    pub start: Ts,
    /// The ClientHello's random (public on the wire): how an evidence writer finds this
    /// connection's keys. Not part of the JSON.
    #[serde(skip)]
    pub client_random: Option<[u8; 32]>,
    pub duration_ms: f64,
    pub frames: [u64; 2],
    pub cookie: Option<String>,
    pub routing_token: Option<String>,
    /// RDP tunnelled through a SOCKS or HTTP CONNECT proxy: the exchange that opened (or
    /// failed to open) the tunnel (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyRecord>,
    /// An HTTPS connection (the client opened with a TLS ClientHello): an RD Gateway leg, a
    /// KDC proxy or something else, and what was read of it (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<gateway::GatewayRecord>,
    /// An RDP connection carried by an RD Gateway tunnel: its leg and target (absent
    /// otherwise; its `transport` is `rdg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_gateway: Option<gateway::ViaGatewayRecord>,
    pub negotiation: NegotiationRecord,
    pub tls: Option<TlsRecord>,
    pub standard_security: Option<StandardSecurityRecord>,
    /// Decryption with the session keys (`null` without keys for this connection).
    pub decryption: Option<DecryptionRecord>,
    /// CredSSP read inside TLS (`null` unless decrypted).
    pub nla: Option<NlaRecord>,
    /// The RDP connection sequence read inside TLS (`null` unless decrypted).
    pub session: Option<SessionRecord>,
    /// Kerberos errors (port 88) the client got from its KDC shortly before this connection.
    pub kerberos: Vec<KerberosRecord>,
    pub tcp: Option<TcpRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<UdpRecord>,
    pub phase_reached: Phase,
    pub outcome: Outcome,
    pub findings: Vec<Finding>,
    /// The error a Windows client most likely showed (from the cause), always inferred.
    pub client_error: Option<ClientErrorRecord>,
    /// The earlier attempt this connection retried (same client and server, shortly after).
    pub retry_of: Option<u64>,
    /// The connection whose Server Redirection sent the client here (read inside TLS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirected_from: Option<u64>,
    /// The capture began after the connection did.
    pub midstream: bool,
    /// Still open when the capture ended, or evicted from a full flow table.
    pub open_at_end: bool,
    pub evicted: bool,
    pub anomalies: Vec<AnomalyRecord>,
    pub timeline: Vec<TimelineEntry>,
    /// Events beyond the per-connection bound that are not in `timeline`.
    pub timeline_dropped: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NegotiationRecord {
    /// `None`: no RDP_NEG_REQ (a legacy client) or no request seen.
    #[serde(serialize_with = "ser::requested")]
    pub requested: Option<Protocols>,
    #[serde(serialize_with = "ser::request_flags")]
    pub request_flags: RequestFlags,
    #[serde(serialize_with = "ser::selected")]
    pub selected: Option<Protocols>,
    #[serde(serialize_with = "ser::response_flags")]
    pub response_flags: ResponseFlags,
    pub failure: Option<FailureRecord>,
    pub request_frame: Option<u64>,
    pub response_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureRecord {
    pub code: u32,
    pub name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct SideCount {
    pub client: u64,
    pub server: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CloseRecord {
    pub side: Side,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TcpRecord {
    pub handshake_rtt_ms: Option<f64>,
    pub retransmissions: SideCount,
    pub zero_windows: SideCount,
    pub fin: Vec<CloseRecord>,
    pub rst: Vec<CloseRecord>,
    pub gaps: u32,
    pub gap_bytes: u64,
    pub syn_count: u32,
    pub mss: MssRecord,
    pub median_rtt_ms: Option<f64>,
    pub rtt_samples: u64,
    pub payload_bytes: SideCount,
    pub snaplen_cut_bytes: u64,
    pub overlap_conflicts: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct MssRecord {
    pub client: Option<u16>,
    pub server: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UdpRecord {
    pub syns: u32,
    pub syn_ack_frame: Option<u64>,
    pub datagrams: SideCount,
    pub bytes: SideCount,
    pub correlation_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnomalyRecord {
    pub frame: u64,
    pub from: Side,
    pub what: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// Milliseconds since the connection's first packet.
    pub t_ms: f64,
    pub frame: u64,
    pub from: Side,
    /// Typed; written as its one-line description.
    #[serde(serialize_with = "ser::event")]
    pub event: EventKind,
}

fn ms(x: f64) -> f64 {
    // Three decimals (microseconds) keep golden files stable and readable.
    (x * 1000.0).round() / 1000.0
}

fn closes(v: &[Close]) -> Vec<CloseRecord> {
    v.iter()
        .map(|c| CloseRecord {
            side: c.side,
            frame: c.at.frame,
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn negotiation(f: &RdpFacts) -> NegotiationRecord {
    let mut n = NegotiationRecord::default();
    if let Some((at, cr)) = &f.request {
        n.request_frame = Some(at.frame);
        if let Some(req) = cr.neg_req {
            n.requested = Some(req.requested_protocols);
            n.request_flags = req.flags;
        }
        n.correlation_id = cr.correlation_id.map(|id| hex(&id));
    }
    if let Some((at, cc)) = &f.confirm {
        n.response_frame = Some(at.frame);
        match cc.negotiation {
            Some(x224::Negotiation::Response {
                flags,
                selected_protocol,
                ..
            }) => {
                n.selected = Some(selected_protocol);
                n.response_flags = flags;
            }
            Some(x224::Negotiation::Failure { code }) => {
                n.failure = Some(FailureRecord {
                    code: code.0,
                    name: code.name(),
                });
            }
            // A CC without negotiation data answers a legacy request: standard RDP security.
            None => {
                n.selected = f
                    .request
                    .as_ref()
                    .and_then(|(_, r)| r.neg_req)
                    .map_or(Some(Protocols::RDP), |_| None)
            }
        }
    }
    n
}

fn timeline(events: &[crate::conn::event::Event], start: Ts) -> Vec<TimelineEntry> {
    events.iter().map(|e| entry(e.clone(), start)).collect()
}

/// [`timeline`] of events that are no longer needed: moved, not copied.
pub fn timeline_of(events: Vec<crate::conn::event::Event>, start: Ts) -> Vec<TimelineEntry> {
    events.into_iter().map(|e| entry(e, start)).collect()
}

fn entry(e: crate::conn::event::Event, start: Ts) -> TimelineEntry {
    TimelineEntry {
        t_ms: ms(e.at.ts.ms_since(start)),
        frame: e.at.frame,
        from: e.side,
        event: e.kind,
    }
}

impl ConnectionRecord {
    /// The code of the connection's cause (its first error finding), or "unexplained".
    pub fn cause(&self) -> &'static str {
        self.findings
            .iter()
            .find(|f| f.severity == crate::diagnosis::Severity::Error)
            .map_or("unexplained", |f| f.code)
    }

    /// How far the connection got, in words for reports: the phase, named more exactly where
    /// the phase alone would mislead: a proxy exchange happens inside TCP (`socks5 proxy`,
    /// `http proxy` when a proxy finding is the cause), and an RDP-UDP flow has no TCP
    /// (`udp handshake` when it never got past it).
    pub fn phase_label(&self) -> String {
        if self.transport == "udp" && self.phase_reached == crate::diagnosis::Phase::Tcp {
            return "udp handshake".into();
        }
        if let Some(p) = &self.proxy {
            if self.phase_reached == crate::diagnosis::Phase::Tcp && self.cause().starts_with("proxy_") {
                return format!("{} proxy", p.protocol);
            }
        }
        self.phase_reached.name().into()
    }

    /// The record of a TCP connection and its diagnosis: a projection, nothing decided here.
    pub fn from_tcp(c: &Connection, d: Diagnosis) -> ConnectionRecord {
        let f = &c.facts;
        let t = &c.tcp;
        let cr = f.request.as_ref().map(|(_, r)| r);
        ConnectionRecord {
            kind: "connection",
            id: c.id,
            transport: if c.via_gateway.is_some() { "rdg" } else { "tcp" },
            file: None,
            client: c.client,
            server: c.server,
            community_id: community_id(0, c.client, c.server, crate::flow::community_id::TCP),
            first_seen: c.first.ts.rfc3339(),
            start: c.first.ts,
            client_random: f.tls.client_hello.as_ref().map(|(_, ch)| ch.random),
            last_seen: c.last.ts.rfc3339(),
            duration_ms: ms(c.last.ts.ms_since(c.first.ts)),
            frames: [c.first.frame, c.last.frame],
            cookie: cr.and_then(|r| r.cookie.clone()),
            routing_token: cr.and_then(|r| r.routing_token.clone()),
            proxy: f.proxy.as_ref().map(ProxyRecord::new),
            gateway: f.https.as_deref().map(gateway::GatewayRecord::new),
            via_gateway: c.via_gateway.as_ref().map(gateway::ViaGatewayRecord::new),
            negotiation: negotiation(f),
            tls: tls_record(f),
            standard_security: standard_security(f),
            decryption: inside::decryption(&f.inside),
            nla: inside::nla(&f.inside),
            session: inside::session(&f.inside, f.ultimatum.map(|(at, _, r)| (at.frame, r))),
            kerberos: inside::kerberos(&f.inside),
            tcp: Some(TcpRecord {
                handshake_rtt_ms: t.handshake_rtt_ms().map(ms),
                retransmissions: SideCount {
                    client: u64::from(t.retransmissions(Side::Client)),
                    server: u64::from(t.retransmissions(Side::Server)),
                },
                zero_windows: SideCount {
                    client: u64::from(t.zero_windows[0]),
                    server: u64::from(t.zero_windows[1]),
                },
                fin: closes(&t.fins),
                rst: closes(&t.rsts),
                gaps: t.reasm.iter().map(|r| r.gaps).sum(),
                gap_bytes: t.reasm.iter().map(|r| r.gap_bytes).sum(),
                syn_count: t.syn_count,
                mss: MssRecord {
                    client: t.mss[0],
                    server: t.mss[1],
                },
                median_rtt_ms: t.median_rtt_ms().map(ms),
                rtt_samples: t.rtt_sample_count,
                payload_bytes: SideCount {
                    client: t.payload_bytes[0],
                    server: t.payload_bytes[1],
                },
                snaplen_cut_bytes: t.snaplen_cut.iter().sum(),
                overlap_conflicts: t.reasm.iter().map(|r| r.overlap_conflicts).sum(),
            }),
            udp: None,
            phase_reached: d.phase_reached,
            outcome: d.outcome,
            findings: d.findings,
            client_error: d.client_error,
            retry_of: None,
            redirected_from: None,
            midstream: c.midstream,
            open_at_end: c.open_at_end,
            evicted: c.evicted,
            anomalies: f
                .anomalies
                .iter()
                .map(|(at, s, w)| AnomalyRecord {
                    frame: at.frame,
                    from: *s,
                    what: w,
                })
                .collect(),
            timeline: timeline(&c.timeline.events, c.first.ts),
            timeline_dropped: c.timeline.dropped,
        }
    }

    /// The record of an RDP-UDP flow and its diagnosis.
    pub fn from_udp(u: &UdpFlow, d: Diagnosis) -> ConnectionRecord {
        ConnectionRecord {
            kind: "connection",
            id: u.id,
            transport: "udp",
            file: None,
            client: u.client,
            server: u.server,
            community_id: community_id(0, u.client, u.server, crate::flow::community_id::UDP),
            first_seen: u.first.ts.rfc3339(),
            start: u.first.ts,
            client_random: None,
            last_seen: u.last.ts.rfc3339(),
            duration_ms: ms(u.last.ts.ms_since(u.first.ts)),
            frames: [u.first.frame, u.last.frame],
            cookie: None,
            routing_token: None,
            proxy: None,
            gateway: None,
            via_gateway: None,
            negotiation: NegotiationRecord::default(),
            tls: None,
            standard_security: None,
            decryption: None,
            nla: None,
            session: None,
            kerberos: Vec::new(),
            tcp: None,
            udp: Some(UdpRecord {
                syns: u.syns,
                syn_ack_frame: u.synack.map(|a| a.frame),
                datagrams: SideCount {
                    client: u.datagrams[0],
                    server: u.datagrams[1],
                },
                bytes: SideCount {
                    client: u.bytes[0],
                    server: u.bytes[1],
                },
                correlation_id: u
                    .first_syn
                    .as_ref()
                    .and_then(|(_, s)| s.correlation_id)
                    .map(|id| hex(&id)),
            }),
            phase_reached: d.phase_reached,
            outcome: d.outcome,
            findings: d.findings,
            client_error: None,
            retry_of: None,
            redirected_from: None,
            midstream: u.midstream,
            open_at_end: false,
            evicted: u.evicted,
            anomalies: Vec::new(),
            timeline: timeline(&u.timeline.events, u.first.ts),
            timeline_dropped: u.timeline.dropped,
        }
    }
}
