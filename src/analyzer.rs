//! The engine: frames in, finished connections out. Pure: it sees only
//! `(frame number, timestamp, link type, bytes)` and never reads a clock or a file,
//! so files, live capture and tests drive it the same way.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::config::Config;
use crate::conn::udp::UdpFlow;
use crate::conn::Connection;
use crate::decode::{self, LinkType, TcpHeader, Transport};
use crate::flow::table::FlowTable;
use crate::flow::tcp::At;
use crate::flow::{Endpoint, FlowKey, Side};
use crate::ts::Ts;

/// Add what `c` holds after a packet to `total`; if that goes over the global bound, the
/// connection drops what it holds (its out-of-order data becomes a gap, partial PDUs are
/// forgotten and its decoders resynchronise).
fn bound_total(total: &mut usize, stats: &mut Stats, c: &mut Connection, side: Side, at: At, cfg: &Config) {
    *total = total.saturating_add(c.buffered());
    if *total > cfg.max_total_buffered {
        let held = c.buffered();
        c.shed(side, at, cfg);
        *total = total.saturating_sub(held.saturating_sub(c.buffered()));
        stats.buffers_shed += 1;
    }
}

/// Counters over the whole input.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub frames: u64,
    pub frames_analyzed: u64,
    pub undecodable: u64,
    /// TCP packets without payload or SYN for a flow we do not track (tails of old flows).
    pub orphan_tcp: u64,
    pub tcp_connections: u64,
    pub udp_flows: u64,
    /// Flows removed early because the flow table was full.
    pub evicted: u64,
    pub snaplen_cut_frames: u64,
    pub timestamps_backwards: u64,
    /// Times a connection dropped its buffers because all together held more than
    /// `max_total_buffered`.
    pub buffers_shed: u64,
    /// Frames of zero captured bytes in the file (counted by the reader; nothing to decode).
    pub empty_frames: u64,
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
    tcp: FlowTable<Connection>,
    udp: FlowTable<UdpFlow>,
    next_id: u64,
    finished: Vec<Finished>,
    pub stats: Stats,
    last_ts: Ts,
    next_sweep: Ts,
    /// Bytes held by all tracked TCP connections (`Connection::buffered`), kept up to date
    /// per packet and recounted at every sweep (between sweeps it may count flows already
    /// gone, which only makes the bound stricter).
    buffered: usize,
}

const NS: i64 = 1_000_000_000;

impl Analyzer {
    /// `first_id` lets several inputs share one id sequence.
    pub fn new(cfg: Config, first_id: u64) -> Analyzer {
        Analyzer {
            tcp: FlowTable::new(cfg.max_flows),
            udp: FlowTable::new(cfg.max_udp_flows),
            cfg,
            next_id: first_id.max(1),
            finished: Vec::new(),
            stats: Stats::default(),
            last_ts: Ts(i64::MIN),
            next_sweep: Ts(i64::MIN),
            buffered: 0,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Bytes all tracked TCP connections hold in their buffers.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Connections currently tracked (for live views).
    pub fn open_connections(&self) -> impl Iterator<Item = &Connection> {
        self.tcp.values()
    }

    pub fn open_udp_flows(&self) -> impl Iterator<Item = &UdpFlow> {
        self.udp.values()
    }

    /// Analyze one captured frame. `frame` is its 1-based position in the input.
    pub fn on_frame(&mut self, frame: u64, ts: Ts, link: LinkType, data: &[u8], wire_len: u32) {
        self.stats.frames += 1;
        if ts < self.last_ts {
            self.stats.timestamps_backwards += 1;
        } else {
            self.last_ts = ts;
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
            self.next_sweep = Ts(ts.0.saturating_add(NS));
        }
    }

    fn on_tcp(&mut self, at: At, src: Endpoint, dst: Endpoint, h: &TcpHeader, payload: &[u8], missing: u32) {
        if !self.cfg.is_server_port(src.port) && !self.cfg.is_server_port(dst.port) {
            return;
        }
        self.stats.frames_analyzed += 1;
        let key = FlowKey::new(src, dst);
        if let Some(c) = self.tcp.get_mut(&key) {
            if !c.is_new_attempt(h) {
                let side = c.side_of(src);
                let before = c.buffered();
                c.on_tcp(side, at, h, payload, missing, &self.cfg);
                self.buffered = self.buffered.saturating_sub(before);
                bound_total(&mut self.buffered, &mut self.stats, c, side, at, &self.cfg);
                return;
            }
            // Same 4-tuple, new initial sequence number: the old connection is over.
            if let Some(mut old) = self.tcp.remove(&key) {
                self.buffered = self.buffered.saturating_sub(old.buffered());
                old.finish(&self.cfg);
                self.finished.push(Finished::Tcp(Box::new(old)));
            }
        }
        if !h.syn && payload.is_empty() && missing == 0 {
            self.stats.orphan_tcp += 1;
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
        let mut c = Connection::new(self.next_id, client, server, at, midstream);
        self.next_id += 1;
        self.stats.tcp_connections += 1;
        let side = c.side_of(src);
        c.on_tcp(side, at, h, payload, missing, &self.cfg);
        bound_total(&mut self.buffered, &mut self.stats, &mut c, side, at, &self.cfg);
        let evicted = self.tcp.insert(key, c);
        self.retire_evicted_tcp(evicted);
    }

    fn on_udp(&mut self, at: At, src: Endpoint, dst: Endpoint, payload: &[u8]) {
        if !self.cfg.is_server_port(src.port) && !self.cfg.is_server_port(dst.port) {
            return;
        }
        self.stats.frames_analyzed += 1;
        let key = FlowKey::new(src, dst);
        if let Some(f) = self.udp.get_mut(&key) {
            let side = f.side_of(src);
            f.on_datagram(side, at, payload, &self.cfg);
            return;
        }
        let (client, server) = if self.cfg.is_server_port(dst.port) {
            (src, dst)
        } else {
            (dst, src)
        };
        let mut f = UdpFlow::new(self.next_id, client, server, at);
        self.next_id += 1;
        self.stats.udp_flows += 1;
        let side = f.side_of(src);
        f.on_datagram(side, at, payload, &self.cfg);
        for mut old in self.udp.insert(key, f) {
            old.evicted = true;
            self.stats.evicted += 1;
            self.finished.push(Finished::Udp(Box::new(old)));
        }
    }

    fn retire_evicted_tcp(&mut self, evicted: Vec<Connection>) {
        for mut old in evicted {
            self.buffered = self.buffered.saturating_sub(old.buffered());
            old.evicted = true;
            old.finish(&self.cfg);
            self.stats.evicted += 1;
            self.finished.push(Finished::Tcp(Box::new(old)));
        }
    }

    /// Retire connections that closed a while ago or went idle (capture time).
    fn sweep(&mut self, now: Ts) {
        let linger = NS.saturating_mul(self.cfg.close_linger_secs as i64);
        let idle = NS.saturating_mul(self.cfg.idle_timeout_secs as i64);
        let done_tcp = self.tcp.drain_where(|c| {
            let quiet = now.0.saturating_sub(c.last.ts.0);
            (c.tcp.closed() && quiet > linger) || quiet > idle
        });
        for mut c in done_tcp {
            c.finish(&self.cfg);
            self.finished.push(Finished::Tcp(Box::new(c)));
        }
        self.buffered = self.tcp.values().map(Connection::buffered).sum();
        let done_udp = self.udp.drain_where(|f| now.0.saturating_sub(f.last.ts.0) > idle);
        self.finished
            .extend(done_udp.into_iter().map(|f| Finished::Udp(Box::new(f))));
    }

    /// Connections that ended since the last call (live mode prints them as they end).
    pub fn take_finished(&mut self) -> Vec<Finished> {
        std::mem::take(&mut self.finished)
    }

    /// End of input: everything still open is finished, all returned in id order.
    pub fn finish(mut self) -> (Vec<Finished>, Stats) {
        for mut c in self.tcp.drain_all() {
            c.open_at_end = !c.tcp.closed();
            c.finish(&self.cfg);
            self.finished.push(Finished::Tcp(Box::new(c)));
        }
        self.finished
            .extend(self.udp.drain_all().into_iter().map(|f| Finished::Udp(Box::new(f))));
        self.finished.sort_by_key(Finished::id);
        (self.finished, self.stats)
    }
}
