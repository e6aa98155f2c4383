//! One RDP connection: TCP facts, the two stream decoders, what they found, and the
//! timeline. Fed one segment at a time by the analyzer; no I/O.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod ctx;
pub mod event;
pub mod facts;
pub mod gateway;
pub mod gateway_facts;
pub mod inner;
pub mod inside;
pub mod inside_facts;
pub mod stream;
pub mod tls_handshake;
pub mod tunnel;
pub mod udp;

use crate::config::Config;
use crate::decode::TcpHeader;
use crate::decrypt::Keys;
use crate::flow::reassembly::Chunk;
use crate::flow::table::LastSeen;
use crate::flow::tcp::{At, Segment, TcpTracker};
use crate::flow::{Endpoint, Side};
use crate::ts::Ts;
use ctx::Ctx;
use event::{EventKind, Timeline};
use facts::RdpFacts;
use gateway::GatewayStream;
use gateway_facts::LegacyChannel;
use inside::DecryptState;
use stream::StreamDecoder;

#[derive(Debug, Clone)]
pub struct Connection {
    pub id: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub first: At,
    pub last: At,
    pub tcp: TcpTracker,
    pub facts: RdpFacts,
    pub timeline: Timeline,
    decoders: [StreamDecoder; 2],
    /// Decryption with the session keys, once a key matched.
    decrypt: DecryptState,
    /// An HTTPS connection's decrypted content and the inner RDP connection it carries.
    gateway: GatewayStream,
    /// Set on an RDP connection carried by an RD Gateway tunnel: its leg and target.
    pub via_gateway: Option<ViaGateway>,
    /// The capture began after the connection did (no SYN seen).
    pub midstream: bool,
    /// Removed from the flow table to respect its bound, before the connection ended.
    pub evicted: bool,
    /// Still open when the capture ended.
    pub open_at_end: bool,
    /// Frames the connection has; what the evidence writer needs to pick its packets.
    pub frame_count: u64,
}

/// How an RDP connection carried by an RD Gateway tunnel is linked to its leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViaGateway {
    /// The id of the gateway leg (the HTTPS connection).
    pub leg: u64,
    /// The target the client named in CHANNEL_CREATE: its first name and port.
    pub target: Option<(String, u16)>,
    /// The leg's first CLOSE_CHANNEL (who sent it, its status): a gateway that closes the
    /// channel ends this connection, whatever the RDP server does.
    pub close: Option<(At, Side, u32)>,
}

/// Hand reassembled bytes (or a gap) of side `s` to that side's decoder.
#[allow(clippy::too_many_arguments)]
fn feed(
    decoders: &mut [StreamDecoder; 2],
    facts: &mut RdpFacts,
    timeline: &mut Timeline,
    decrypt: &mut DecryptState,
    gateway: &mut GatewayStream,
    cfg: &Config,
    keys: Option<&Keys>,
    at: At,
    s: Side,
    chunk: Chunk<'_>,
) {
    let mut ctx = Ctx {
        facts,
        timeline,
        cfg,
        keys,
        decrypt,
        gateway,
    };
    if let Some(d) = decoders.get_mut(s.index()) {
        d.feed(s, at, chunk, &mut ctx);
    }
}

impl LastSeen for Connection {
    fn last_seen(&self) -> Ts {
        self.last.ts
    }
}

impl Connection {
    pub fn new(id: u64, client: Endpoint, server: Endpoint, at: At, midstream: bool) -> Connection {
        Connection {
            id,
            client,
            server,
            first: at,
            last: at,
            tcp: TcpTracker::default(),
            facts: RdpFacts::default(),
            timeline: Timeline::default(),
            decoders: if midstream {
                [StreamDecoder::midstream(), StreamDecoder::midstream()]
            } else {
                Default::default()
            },
            decrypt: DecryptState::default(),
            gateway: GatewayStream::default(),
            via_gateway: None,
            midstream,
            evicted: false,
            open_at_end: false,
            frame_count: 0,
        }
    }

    pub fn side_of(&self, src: Endpoint) -> Side {
        crate::flow::side_of(self.client, src)
    }

    /// Whether this SYN starts a new connection on a 4-tuple we already track.
    pub fn is_new_attempt(&self, h: &TcpHeader) -> bool {
        h.syn && !h.ack_flag && self.tcp.client_isn().is_some_and(|isn| isn != h.seq)
    }

    /// One TCP segment. `keys`: the run's key logs (decryption needs them).
    #[allow(clippy::too_many_arguments)]
    pub fn on_tcp(
        &mut self,
        side: Side,
        at: At,
        h: &TcpHeader,
        payload: &[u8],
        missing: u32,
        cfg: &Config,
        keys: Option<&Keys>,
    ) {
        self.last = at;
        self.frame_count += 1;
        let max = cfg.max_events;
        if h.syn {
            let kind = if h.ack_flag {
                EventKind::SynAck { mss: h.mss }
            } else {
                EventKind::Syn { mss: h.mss }
            };
            self.timeline.push(max, at, side, kind);
        }
        let was_established = self.tcp.established.is_some();
        let Connection {
            tcp,
            facts,
            timeline,
            decoders,
            decrypt,
            gateway,
            ..
        } = self;
        let seg = Segment {
            header: *h,
            payload,
            missing,
        };
        tcp.on_segment(side, at, &seg, cfg.max_out_of_order, &mut |s, chunk| {
            feed(decoders, facts, timeline, decrypt, gateway, cfg, keys, at, s, chunk)
        });
        if self.decoders.get(side.index()).is_some_and(StreamDecoder::is_done) {
            if let Some(r) = self.tcp.reasm.get_mut(side.index()) {
                r.content_done();
            }
        }
        if !was_established && self.tcp.established.is_some() {
            self.timeline.push(max, at, side, EventKind::HandshakeAck);
        }
        if h.fin {
            self.timeline.push(max, at, side, EventKind::Fin);
        }
        if h.rst {
            self.timeline.push(max, at, side, EventKind::Rst);
        }
    }

    /// The connection will see no more packets: release what reassembly still holds.
    pub fn finish(&mut self, cfg: &Config, keys: Option<&Keys>) {
        let Connection {
            tcp,
            facts,
            timeline,
            decoders,
            decrypt,
            gateway,
            last,
            ..
        } = self;
        let at = *last;
        tcp.flush(&mut |s, chunk| feed(decoders, facts, timeline, decrypt, gateway, cfg, keys, at, s, chunk));
        // The keys are not needed any more: give their memory back.
        *decrypt = DecryptState::Unknown;
        for (d, side) in decoders.iter_mut().zip([Side::Client, Side::Server]) {
            if d.inside_pdu() {
                facts.anomaly(at, side, "stream ended inside a PDU: its length promised more bytes");
            }
            d.finish();
        }
        tcp.release();
        timeline.events.shrink_to_fit();
        facts.anomalies.shrink_to_fit();
        facts.tls.app_records.shrink_to_fit();
    }

    /// The RDP connection this (finished) gateway leg carried, as a connection of its own
    /// with id `id`: the real client and the gateway as its endpoints, the leg's TCP closes
    /// as its own (the tunnel ends with the leg), the target in `via_gateway`.
    pub fn take_inner(&mut self, id: u64) -> Option<Connection> {
        let mut inner = self.gateway.take_inner()?;
        inner.finish();
        let target = self
            .facts
            .https
            .as_ref()
            .and_then(|g| g.channel_create.as_ref())
            .map(|(_, names, port)| (names.first().cloned().unwrap_or_default(), *port));
        let close = self.facts.https.as_ref().and_then(|g| g.close);
        let mut tcp = TcpTracker::default();
        tcp.fins = self.tcp.fins.clone();
        tcp.rsts = self.tcp.rsts.clone();
        if let Some(g) = self.facts.https.as_mut() {
            if g.inner.len() < gateway_facts::MAX_INNER {
                g.inner.push(id);
            }
        }
        Some(Connection {
            id,
            client: self.client,
            server: self.server,
            first: inner.first,
            last: inner.last,
            tcp,
            facts: std::mem::take(&mut inner.facts),
            timeline: std::mem::take(&mut inner.timeline),
            decoders: Default::default(),
            decrypt: DecryptState::Unknown,
            gateway: GatewayStream::default(),
            via_gateway: Some(ViaGateway {
                leg: self.id,
                target,
                close,
            }),
            midstream: false,
            evicted: self.evicted,
            open_at_end: self.open_at_end,
            frame_count: inner.packets,
        })
    }

    /// The channel and RDG-Connection-Id of a legacy HTTP transport leg (MS-TSGU 2.2.3.2).
    pub fn legacy_channel(&self) -> Option<(LegacyChannel, &str)> {
        let g = self.facts.https.as_deref()?;
        Some((g.legacy?, g.connection_id.as_deref()?))
    }

    /// A legacy IN channel's client bytes read since the last call (see
    /// [`GatewayStream::take_legacy_in`]); empty for any other connection.
    pub fn take_legacy_in(&mut self) -> Vec<(At, Vec<u8>)> {
        self.gateway.take_legacy_in()
    }

    pub fn has_legacy_in(&self) -> bool {
        self.gateway.has_legacy_in()
    }

    /// The client's MS-TSGU bytes of a legacy IN channel, read by this connection: the OUT
    /// channel of the same RDG-Connection-Id, or the IN channel itself when it has none.
    pub fn legacy_client_bytes(&mut self, at: At, d: &[u8], cfg: &Config, keys: Option<&Keys>) {
        let mut g = std::mem::take(&mut self.gateway);
        let mut unused = GatewayStream::default();
        let mut ctx = Ctx {
            facts: &mut self.facts,
            timeline: &mut self.timeline,
            cfg,
            keys,
            decrypt: &mut self.decrypt,
            gateway: &mut unused,
        };
        g.legacy_client_bytes(at, d, &mut ctx);
        self.gateway = g;
    }

    /// A legacy OUT channel's tunnel steps, for its IN channel.
    pub fn tunnel_steps(&self) -> Option<gateway_facts::TunnelSteps> {
        self.facts
            .https
            .as_deref()
            .map(gateway_facts::GatewayFacts::tunnel_steps)
    }

    /// A legacy IN channel takes its OUT channel's tunnel steps.
    pub fn adopt_steps(&mut self, s: gateway_facts::TunnelSteps) {
        if let Some(g) = self.facts.https.as_deref_mut() {
            g.adopt_steps(s);
        }
    }

    pub fn legacy_partner(&self) -> Option<u64> {
        self.facts.https.as_deref().and_then(|g| g.legacy_partner)
    }

    /// The other channel of this legacy transport leg.
    pub fn set_legacy_partner(&mut self, id: u64) {
        if let Some(g) = self.facts.https.as_deref_mut() {
            g.legacy_partner = Some(id);
        }
    }

    /// Bytes held in this connection's buffers (reassembly and PDU assembly).
    pub fn buffered(&self) -> usize {
        self.gateway.buffered()
            + self.decoders.iter().map(StreamDecoder::buffered).sum::<usize>()
            + self.tcp.reasm.iter().map(|r| r.pending_bytes()).sum::<usize>()
    }
}
