//! The engine: frames in, finished connections out. Pure: it sees only
//! `(frame number, timestamp, link type, bytes)` and never reads a clock or a file,
//! so files, live capture and tests drive it the same way.
//!
//! Memory is bounded whatever the input: at most `max_flows` TCP flows (the least recently
//! active tenth is evicted when full), at most `max_buffered_bytes` held in reassembly and
//! PDU buffers over all connections (the oldest idle connections holding bytes are evicted
//! beyond), and a connection that has only sent SYNs is kept as a small half-open entry
//! until the server answers. When one server has more than `flood_half_open` such entries at
//! once, it is under a SYN flood: its unanswered attempts are summarised in
//! [`Stats::syn_floods`] instead of becoming one record each.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;

use crate::config::Config;
use crate::conn::gateway_facts::TunnelSteps;
use crate::conn::udp::UdpFlow;
use crate::conn::Connection;
use crate::decode::{self, LinkType, TcpHeader, Transport};
use crate::decrypt::Keys;
use crate::flow::table::FlowTable;
use crate::flow::tcp::At;
use crate::flow::{Endpoint, FlowKey};
use crate::ts::Ts;

mod entry;
mod flood;
pub mod kerberos;
mod legacy;
pub mod ready;
mod view;

use entry::{after, Acct, Flow};

pub use flood::SynFlood;
use flood::{is_bare_syn, Floods};

/// Counters over the whole input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub frames: u64,
    pub frames_analyzed: u64,
    pub undecodable: u64,
    /// TCP packets without payload or SYN for a flow we do not track (tails of old flows).
    pub orphan_tcp: u64,
    pub tcp_connections: u64,
    pub udp_flows: u64,
    /// Flows removed early because the flow table was full or buffered bytes hit their bound.
    pub evicted: u64,
    /// Of `evicted`: connections evicted to keep buffered bytes under `max_buffered_bytes`.
    pub evicted_for_memory: u64,
    pub snaplen_cut_frames: u64,
    pub timestamps_backwards: u64,
    /// Most TCP flows tracked at once, and most bytes buffered at once.
    pub peak_flows: u64,
    pub peak_buffered_bytes: u64,
    /// SYN floods: unanswered connection attempts summarised per server instead of reported
    /// one by one (their ids are not reused, so the id sequence has holes).
    pub syn_floods: Vec<SynFlood>,
    /// Frames of zero captured bytes in the file (counted by the reader; nothing to decode).
    pub empty_frames: u64,
    /// Network Monitor special records (capture filter, adapter list, ETW event, DNS cache):
    /// metadata, skipped (counted by the reader).
    pub metadata_records: u64,
    /// Frames of a media type rdpscope does not read (Token Ring, FDDI, WFP ...), skipped.
    pub unsupported_link_frames: u64,
    /// Packet Monitor (pktmon) copies: frames repeating a packet another networking
    /// component logged microseconds before; each packet is analyzed once.
    pub component_copies: u64,
    /// Interfaces (pktmon components) the file's packets came from, when it says (pcapng).
    pub capture_interfaces: u64,
    /// Frames pktmon marked dropped, and the first 16 of their numbers.
    pub pktmon_drops: u64,
    pub pktmon_drop_frames: Vec<u64>,
    /// Records handed out before an older connection they may have retried had ended, because
    /// more than `ready::MAX_WAITING` finished connections were waiting (their retry link may
    /// be missing).
    pub released_early: u64,
}

/// Why a flow leaves the table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retire {
    /// Closed or idle: it ended.
    Ended,
    /// Pushed out by a bound before it ended.
    Evicted,
    /// Still open when the input ended.
    CaptureEnd,
}

/// A connection or RDP-UDP flow that will see no more packets.
#[derive(Debug, Clone)]
pub enum Finished {
    Tcp(Box<Connection>),
    Udp(Box<UdpFlow>),
}

impl Finished {
    pub fn id(&self) -> u64 {
        match self {
            Finished::Tcp(c) => c.id,
            Finished::Udp(u) => u.id,
        }
    }

    /// Time of the first and the last packet.
    pub fn span(&self) -> (Ts, Ts) {
        match self {
            Finished::Tcp(c) => (c.first.ts, c.last.ts),
            Finished::Udp(u) => (u.first.ts, u.last.ts),
        }
    }
}

pub struct Analyzer {
    cfg: Config,
    tcp: FlowTable<Flow>,
    udp: FlowTable<UdpFlow>,
    next_id: u64,
    finished: Vec<Finished>,
    /// Finished but not yet handed out (see [`Analyzer::take_ready`]).
    pending: BTreeMap<u64, ready::Waiting>,
    /// Ids of the connections and flows still open, and the same by client address.
    open_ids: BTreeSet<u64>,
    by_client: HashMap<IpAddr, Vec<ready::OpenRef>, foldhash::fast::RandomState>,
    buffered: usize,
    floods: Floods,
    pub stats: Stats,
    last_ts: Ts,
    /// Capture time: the last packet's, or later when [`Analyzer::advance_to`] moved it.
    clock: Ts,
    next_sweep: Ts,
    /// TLS key logs: connections whose client random is in them are decrypted.
    keys: Keys,
    /// Kerberos errors on port 88, kept as evidence for the RDP connections that follow.
    kdc: kerberos::KdcWatch,
    /// Legacy RD Gateway transport: each open OUT channel (and its connection id) by its
    /// RDG-Connection-Id, where the IN channel of the same id hands the client's packets.
    legacy_out: HashMap<String, (FlowKey, u64)>,
    /// The tunnel steps of legacy OUT channels that ended before their IN channel, by
    /// RDG-Connection-Id: the IN channel is judged by them.
    legacy_steps: HashMap<String, TunnelSteps>,
}

/// Legacy OUT channels' steps kept for IN channels not yet ended; beyond this the oldest
/// are dropped (an IN channel that outlives its OUT channel by that many is judged alone).
const MAX_LEGACY_STEPS: usize = 1024;

const NS: i64 = 1_000_000_000;
/// Flows a sweep may visit per second of capture time before sweeps are spaced out.
const SWEEP_FLOWS_PER_SEC: usize = 2048;

impl Analyzer {
    /// `first_id` lets several inputs share one id sequence.
    pub fn new(cfg: Config, first_id: u64) -> Analyzer {
        Analyzer {
            tcp: FlowTable::new(cfg.max_flows),
            udp: FlowTable::new(cfg.max_udp_flows),
            cfg,
            next_id: first_id.max(1),
            finished: Vec::new(),
            pending: BTreeMap::new(),
            legacy_out: HashMap::new(),
            legacy_steps: HashMap::new(),
            open_ids: BTreeSet::new(),
            by_client: HashMap::default(),
            buffered: 0,
            floods: Floods::default(),
            stats: Stats::default(),
            last_ts: Ts(i64::MIN),
            clock: Ts(i64::MIN),
            next_sweep: Ts(i64::MIN),
            keys: Keys::default(),
            kdc: kerberos::KdcWatch::default(),
        }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The key logs to decrypt with; a live run adds to them as its key log file grows.
    pub fn keys_mut(&mut self) -> &mut Keys {
        &mut self.keys
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// TCP flows tracked now (half-open attempts included) and bytes they buffer.
    pub fn tracked(&self) -> (usize, usize) {
        (self.tcp.len(), self.buffered)
    }

    fn take_id(&mut self, client: IpAddr, key: FlowKey, udp: bool) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.opened(id, client, key, udp);
        id
    }

    /// Analyze one captured frame. `frame` is its 1-based position in the input.
    pub fn on_frame(&mut self, frame: u64, ts: Ts, link: LinkType, data: &[u8], wire_len: u32) {
        self.stats.frames += 1;
        if ts < self.last_ts {
            self.stats.timestamps_backwards += 1;
        } else {
            self.last_ts = ts;
            self.clock = self.clock.max(ts);
        }
        let pkt = match decode::decode(link, data, wire_len) {
            Ok(p) => p,
            Err(_) => {
                self.stats.undecodable += 1;
                return;
            }
        };
        if pkt.missing > 0 {
            self.stats.snaplen_cut_frames += 1;
        }
        let at = At { frame, ts };
        match pkt.transport {
            Transport::Tcp(h) => {
                let src = Endpoint {
                    ip: pkt.src,
                    port: h.src_port,
                };
                let dst = Endpoint {
                    ip: pkt.dst,
                    port: h.dst_port,
                };
                self.on_tcp(at, src, dst, &h, pkt.payload, pkt.missing);
            }
            Transport::Udp { src_port, dst_port } => {
                let src = Endpoint {
                    ip: pkt.src,
                    port: src_port,
                };
                let dst = Endpoint {
                    ip: pkt.dst,
                    port: dst_port,
                };
                self.on_udp(at, src, dst, pkt.payload);
            }
        }
        if ts >= self.next_sweep {
            self.sweep(ts);
            // A sweep visits every flow: with many flows, sweep less often (up to every 30 s
            // of capture time) so that the cost per packet stays flat.
            let every = (self.tcp.len() / SWEEP_FLOWS_PER_SEC).clamp(1, 30) as i64;
            self.next_sweep = Ts(ts.0.saturating_add(NS.saturating_mul(every)));
        }
    }

    fn on_tcp(&mut self, at: At, src: Endpoint, dst: Endpoint, h: &TcpHeader, payload: &[u8], missing: u32) {
        if !self.cfg.is_server_port(src.port) && !self.cfg.is_server_port(dst.port) {
            if src.port == kerberos::KERBEROS_PORT || dst.port == kerberos::KERBEROS_PORT {
                self.kdc.on_packet(at, src, dst, payload, true);
            }
            return;
        }
        self.stats.frames_analyzed += 1;
        let key = FlowKey::new(src, dst);
        match self.tcp.get_mut(&key) {
            Some(Flow::Full(c, acct)) => {
                if !c.is_new_attempt(h) {
                    let side = c.side_of(src);
                    c.on_tcp(side, at, h, payload, missing, &self.cfg, Some(&self.keys));
                    let legacy = c.legacy_channel().is_some();
                    let now = Acct::of(c, &self.cfg);
                    let before = std::mem::replace(acct, now);
                    self.account(before.buffered, now.buffered);
                    if legacy {
                        self.route_legacy(key);
                    }
                    return;
                }
                // Same 4-tuple, new initial sequence number: the old connection is over.
                if let Some(old) = self.tcp.remove(&key) {
                    self.retire(old, Retire::Ended);
                }
            }
            Some(Flow::HalfOpen(ho, due)) => {
                if src == ho.client && ho.takes(h, payload, missing) {
                    if let Some(s) = ho.syns.get_mut(ho.n) {
                        *s = (at, h.mss);
                        ho.n += 1;
                    }
                    *due = ho.due(&self.cfg);
                    self.floods.touch(&ho.server, at.ts);
                    return;
                }
                let new_attempt = h.syn && !h.ack_flag && h.seq != ho.isn;
                let Some(Flow::HalfOpen(ho, due)) = self.tcp.remove(&key) else {
                    return;
                };
                if new_attempt {
                    self.retire(Flow::HalfOpen(ho, due), Retire::Ended);
                } else {
                    self.half_open_gone(&ho);
                    // Answered (or anything else): it becomes a connection, as if it had
                    // been one from its first SYN.
                    let id = match ho.id {
                        Some(id) => id,
                        None => {
                            self.stats.tcp_connections += 1;
                            self.take_id(ho.client.ip, key, false)
                        }
                    };
                    let mut c = ho.into_connection(id, &self.cfg);
                    let side = c.side_of(src);
                    c.on_tcp(side, at, h, payload, missing, &self.cfg, Some(&self.keys));
                    self.insert_full(key, c);
                    return;
                }
            }
            None => {}
        }
        if !h.syn && payload.is_empty() && missing == 0 {
            self.stats.orphan_tcp += 1;
            return;
        }
        if is_bare_syn(h, payload, missing) {
            self.new_half_open(key, at, src, dst, h);
            return;
        }
        let (client, server) = if h.syn {
            if h.ack_flag {
                (dst, src)
            } else {
                (src, dst)
            }
        } else if self.cfg.is_server_port(dst.port) {
            (src, dst)
        } else {
            (dst, src)
        };
        let midstream = !h.syn || h.ack_flag;
        let id = self.take_id(client.ip, key, false);
        let mut c = Connection::new(id, client, server, at, midstream);
        self.stats.tcp_connections += 1;
        let side = c.side_of(src);
        c.on_tcp(side, at, h, payload, missing, &self.cfg, Some(&self.keys));
        self.insert_full(key, c);
    }

    /// Bytes held in reassembly and PDU buffers over all connections.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    fn insert_full(&mut self, key: FlowKey, c: Connection) {
        let a = Acct::of(&c, &self.cfg);
        self.account(0, a.buffered);
        self.make_room();
        let evicted = self.tcp.insert(key, Flow::Full(Box::new(c), a));
        self.retire_evicted(evicted);
        self.stats.peak_flows = self.stats.peak_flows.max(self.tcp.len() as u64);
        if self.buffered > self.cfg.max_buffered_bytes {
            self.evict_for_memory();
        }
    }

    /// The table is full and a flow comes in: attempts made during a SYN flood go first
    /// (oldest first; they are only counted anyway), so a flood does not push real
    /// connections out. Without any, the table evicts the least recently active tenth.
    fn make_room(&mut self) {
        if self.tcp.len() < self.tcp.capacity() || !self.floods.any_active() {
            return;
        }
        let n = (self.tcp.capacity() / 10).max(1);
        let victims = self
            .tcp
            .remove_oldest(n, |f| matches!(f, Flow::HalfOpen(h, _) if h.id.is_none()));
        self.retire_evicted(victims);
    }

    fn account(&mut self, before: usize, now: usize) {
        self.buffered = self.buffered.saturating_sub(before).saturating_add(now);
        self.stats.peak_buffered_bytes = self.stats.peak_buffered_bytes.max(self.buffered as u64);
        if now > before && self.buffered > self.cfg.max_buffered_bytes {
            self.evict_for_memory();
        }
    }

    /// Buffered bytes are over their bound: evict the least recently active connections
    /// holding bytes until three quarters of the bound are left.
    fn evict_for_memory(&mut self) {
        let target = self.cfg.max_buffered_bytes / 4 * 3;
        while self.buffered > target {
            let victims = self
                .tcp
                .remove_oldest(16, |f| matches!(f, Flow::Full(_, a) if a.buffered > 0));
            if victims.is_empty() {
                break;
            }
            self.stats.evicted_for_memory += victims.len() as u64;
            self.retire_evicted(victims);
        }
    }

    fn retire_evicted(&mut self, evicted: Vec<Flow>) {
        for f in evicted {
            self.retire(f, Retire::Evicted);
        }
    }

    /// A flow leaves the table: it is finished (or summarised in a flood).
    fn retire(&mut self, f: Flow, why: Retire) {
        let mut c = match f {
            Flow::Full(c, a) => {
                self.buffered = self.buffered.saturating_sub(a.buffered);
                c
            }
            Flow::HalfOpen(h, _) => {
                // Unanswered: into its flood's summary, or a connection of its own.
                let summarised = self.summarised(&h);
                let id = match h.id {
                    Some(id) if !summarised => id,
                    _ => return,
                };
                Box::new(h.into_connection(id, &self.cfg))
            }
        };
        match why {
            Retire::Ended => {}
            Retire::Evicted => {
                c.evicted = true;
                self.stats.evicted += 1;
            }
            Retire::CaptureEnd => c.open_at_end = !c.tcp.closed(),
        }
        c.finish(&self.cfg, Some(&self.keys));
        self.legacy_retired(&mut c);
        if !self.kdc.is_empty() {
            c.facts.inside.kerberos = self.kdc.for_client(c.client.ip, c.first.ts, c.last.ts);
        }
        self.closed(c.id, c.client.ip);
        // A gateway leg's tunnel carried an RDP connection: it is reported as one of its
        // own, right after its leg.
        let inner = c.take_inner(self.next_id);
        self.finished.push(Finished::Tcp(c));
        if let Some(mut i) = inner {
            self.next_id += 1;
            self.stats.tcp_connections += 1;
            if !self.kdc.is_empty() {
                i.facts.inside.kerberos = self.kdc.for_client(i.client.ip, i.first.ts, i.last.ts);
            }
            self.finished.push(Finished::Tcp(Box::new(i)));
        }
    }

    fn on_udp(&mut self, at: At, src: Endpoint, dst: Endpoint, payload: &[u8]) {
        if !self.cfg.is_udp_server_port(src.port) && !self.cfg.is_udp_server_port(dst.port) {
            if src.port == kerberos::KERBEROS_PORT || dst.port == kerberos::KERBEROS_PORT {
                self.kdc.on_packet(at, src, dst, payload, false);
            }
            return;
        }
        self.stats.frames_analyzed += 1;
        let key = FlowKey::new(src, dst);
        if let Some(f) = self.udp.get_mut(&key) {
            let side = f.side_of(src);
            f.on_datagram(side, at, payload, &self.cfg);
            return;
        }
        let (client, server) = if self.cfg.is_udp_server_port(dst.port) {
            (src, dst)
        } else {
            (dst, src)
        };
        let id = self.take_id(client.ip, key, true);
        let mut f = UdpFlow::new(id, client, server, at);
        self.stats.udp_flows += 1;
        let side = f.side_of(src);
        f.on_datagram(side, at, payload, &self.cfg);
        for mut old in self.udp.insert(key, f) {
            old.evicted = true;
            self.stats.evicted += 1;
            self.closed(old.id, old.client.ip);
            self.finished.push(Finished::Udp(Box::new(old)));
        }
    }

    /// Retire connections that closed a while ago or went idle (capture time).
    fn sweep(&mut self, now: Ts) {
        let idle = NS.saturating_mul(self.cfg.idle_timeout_secs as i64);
        #[cfg(debug_assertions)]
        for f in self.tcp.values() {
            // Every change to a flow updates its due time: a sweep relies on it.
            let fresh = match f {
                Flow::Full(c, _) => Acct::of(c, &self.cfg).due,
                Flow::HalfOpen(h, _) => h.due(&self.cfg),
            };
            debug_assert_eq!(f.due(), fresh);
        }
        let done_tcp = self.tcp.drain_where(|f| now > f.due());
        for f in done_tcp {
            self.retire(f, Retire::Ended);
        }
        let done_udp = self.udp.drain_where(|f| now.0.saturating_sub(f.last.ts.0) > idle);
        for f in done_udp {
            self.closed(f.id, f.client.ip);
            self.finished.push(Finished::Udp(Box::new(f)));
        }
        self.floods.expire(now);
    }

    /// Time passes with no packet (a quiet live link): connections that closed (past the
    /// close linger) or went idle by `now` are finished as if a packet at `now` had come.
    /// `now` earlier than the last packet changes nothing.
    pub fn advance_to(&mut self, now: Ts) {
        if now > self.last_ts {
            self.sweep(now);
            self.clock = self.clock.max(now);
        }
    }

    /// Every finished connection not yet handed out.
    fn take_finished(&mut self) -> Vec<Finished> {
        let mut out: Vec<Finished> = std::mem::take(&mut self.pending).into_values().map(|w| w.f).collect();
        out.append(&mut self.finished);
        out
    }

    /// End of input: everything still open is finished, all returned in id order.
    pub fn finish(mut self) -> (Vec<Finished>, Stats) {
        for f in self.tcp.drain_all() {
            self.retire(f, Retire::CaptureEnd);
        }
        for f in self.udp.drain_all() {
            self.closed(f.id, f.client.ip);
            self.finished.push(Finished::Udp(Box::new(f)));
        }
        for f in &mut self.stats.syn_floods {
            f.first_seen = f.first_ts.rfc3339();
            f.last_seen = f.last_ts.rfc3339();
        }
        let mut all = self.take_finished();
        all.sort_by_key(Finished::id);
        (all, self.stats)
    }
}
