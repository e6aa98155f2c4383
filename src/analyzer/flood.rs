//! SYN floods and half-open attempts: a connection that has only sent SYNs is kept as a
//! small entry until the server answers, and when one server has more such entries than a
//! flood threshold, its unanswered attempts are summarised instead of reported one by one.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;

use serde::Serialize;

use super::{Analyzer, Flow};
use crate::config::Config;
use crate::conn::Connection;
use crate::decode::TcpHeader;
use crate::flow::tcp::At;
use crate::flow::{Endpoint, FlowKey, Side};
use crate::ts::Ts;

/// A SYN flood against one server: half-open connections (SYNs only, never answered).
#[derive(Debug, Clone, Serialize)]
pub struct SynFlood {
    pub server: Endpoint,
    /// Half-open connections summarised here (not reported one by one).
    pub half_open: u64,
    pub syns: u64,
    /// Distinct source addresses (counting stops at `sources_counted_up_to`).
    pub sources: u64,
    pub sources_counted_up_to: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub frames: [u64; 2],
    #[serde(skip)]
    pub(super) first_ts: Ts,
    #[serde(skip)]
    pub(super) last_ts: Ts,
}

impl SynFlood {
    /// One line for reports.
    pub fn describe(&self) -> String {
        format!(
            "SYN flood: {} half-open connections ({} SYNs, never answered) from {}{} sources to {}:{}, {} to {} (frames {}-{}); summarised here, not reported one by one",
            self.half_open,
            self.syns,
            if self.sources >= self.sources_counted_up_to { "at least " } else { "" },
            self.sources,
            self.server.ip,
            self.server.port,
            self.first_seen,
            self.last_seen,
            self.frames[0],
            self.frames[1]
        )
    }
}

/// Distinct sources counted per flood before the count stops.
pub(super) const MAX_FLOOD_SOURCES: usize = 100_000;
/// Floods remembered (one per attacked server and episode).
pub(super) const MAX_FLOODS: usize = 256;
/// A flood is over when its server has seen no new half-open attempt for this long.
pub(super) const FLOOD_QUIET_SECS: i64 = 60;
/// Unanswered attempts held per server under a SYN flood: an answer normally comes within a
/// second, so a few thousand cover it; beyond, the oldest quarter is summarised at once, so a
/// flood costs the same memory whatever its rate (an answer to one of those starts a
/// connection without its SYN).
pub(super) const FLOOD_HELD_PER_SERVER: u32 = 4096;
/// SYNs of one attempt kept in a half-open entry; more make it a full connection.
pub(super) const HALF_OPEN_SYNS: usize = 4;

/// A connection attempt that has so far only sent SYNs (same ISN, no payload): what a full
/// [`Connection`] would have learnt from them, in a few dozen bytes. Replayed into a
/// connection as soon as anything else arrives, so results are the same as if it had been
/// one all along.
#[derive(Debug, Clone, Copy)]
pub(super) struct HalfOpen {
    /// `None` while its server is under a SYN flood: it gets an id when answered.
    pub(super) id: Option<u64>,
    pub(super) client: Endpoint,
    pub(super) server: Endpoint,
    pub(super) isn: u32,
    pub(super) window: u16,
    pub(super) syns: [(At, Option<u16>); HALF_OPEN_SYNS],
    pub(super) n: usize,
}

impl HalfOpen {
    pub(super) fn first(&self) -> At {
        self.syns[0].0
    }

    pub(super) fn last(&self) -> At {
        self.syns.get(self.n.saturating_sub(1)).map_or(self.syns[0].0, |s| s.0)
    }

    /// When it is retired if no packet comes: an attempt made during a flood is summarised
    /// whenever it goes, so it need not be held for the whole idle timeout.
    pub(super) fn due(&self, cfg: &Config) -> Ts {
        let idle = cfg.idle_timeout_secs as i64;
        let wait = if self.id.is_none() {
            FLOOD_QUIET_SECS.min(idle)
        } else {
            idle
        };
        super::after(self.last().ts, wait)
    }

    /// Whether `h` (from the client) is one more copy of the same SYN.
    pub(super) fn takes(&self, h: &TcpHeader, payload: &[u8], missing: u32) -> bool {
        is_bare_syn(h, payload, missing) && h.seq == self.isn && self.n < HALF_OPEN_SYNS
    }

    pub(super) fn into_connection(self, id: u64, cfg: &Config) -> Connection {
        let mut c = Connection::new(id, self.client, self.server, self.first(), false);
        for (at, mss) in self.syns.iter().take(self.n) {
            let h = TcpHeader {
                src_port: self.client.port,
                dst_port: self.server.port,
                seq: self.isn,
                ack: 0,
                syn: true,
                ack_flag: false,
                fin: false,
                rst: false,
                window: self.window,
                mss: *mss,
            };
            c.on_tcp(Side::Client, *at, &h, &[], 0, cfg, None);
        }
        c
    }
}

pub(super) fn is_bare_syn(h: &TcpHeader, payload: &[u8], missing: u32) -> bool {
    h.syn && !h.ack_flag && !h.fin && !h.rst && payload.is_empty() && missing == 0
}

/// SYN-flood bookkeeping.
pub(super) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Default)]
pub(super) struct Floods {
    /// Half-open entries in the table per server.
    pub(super) half_open: FastMap<Endpoint, u32>,
    /// Servers under a flood now: index into `Stats::syn_floods`, last new attempt.
    pub(super) active: FastMap<Endpoint, (usize, Ts)>,
    /// The latest flood of each server that had one.
    pub(super) latest: FastMap<Endpoint, usize>,
    pub(super) sources: Vec<HashSet<IpAddr, foldhash::fast::RandomState>>,
    /// Keys of the unanswered attempts held per flooded server, oldest first: the ones to
    /// summarise when more than [`FLOOD_HELD_PER_SERVER`] wait, found without scanning the
    /// table. A key whose entry has gone another way (answered, swept) is skipped when met.
    pub(super) held: FastMap<Endpoint, VecDeque<FlowKey>>,
}

/// The flood bookkeeping of the engine: half-open entries per server, and their summaries.
impl Analyzer {
    pub(super) fn new_half_open(&mut self, key: FlowKey, at: At, client: Endpoint, server: Endpoint, h: &TcpHeader) {
        let count = {
            let n = self.floods.half_open.entry(server).or_insert(0);
            *n += 1;
            *n
        };
        let threshold = self.cfg.flood_half_open.min(self.cfg.max_flows / 2).max(1) as u32;
        if count > threshold && !self.floods.active.contains_key(&server) {
            self.start_flood(server, at.ts);
        }
        let id = match self.floods.active.get_mut(&server) {
            Some((_, last)) => {
                *last = at.ts;
                None
            }
            None => {
                self.stats.tcp_connections += 1;
                Some(self.take_id(client.ip, key, false))
            }
        };
        let ho = HalfOpen {
            id,
            client,
            server,
            isn: h.seq,
            window: h.window,
            syns: [(at, h.mss); HALF_OPEN_SYNS],
            n: 1,
        };
        if id.is_none() {
            if count > FLOOD_HELD_PER_SERVER {
                // Enough held to catch the answers that come: summarise the oldest quarter now.
                self.summarise_oldest_held(server, FLOOD_HELD_PER_SERVER as usize / 4);
            }
            self.floods.held.entry(server).or_default().push_back(key);
        }
        self.make_room();
        let evicted = self.tcp.insert(key, Flow::HalfOpen(Box::new(ho), ho.due(&self.cfg)));
        self.retire_evicted(evicted);
        self.stats.peak_flows = self.stats.peak_flows.max(self.tcp.len() as u64);
    }

    /// Summarise the `n` oldest unanswered attempts held for flooded `server` (first SYN
    /// order), dropping keys whose entries went another way.
    fn summarise_oldest_held(&mut self, server: Endpoint, n: usize) {
        let Some(keys) = self.floods.held.get_mut(&server) else {
            return;
        };
        let mut victims = Vec::with_capacity(n);
        while victims.len() < n {
            let Some(k) = keys.pop_front() else { break };
            victims.extend(self.tcp.remove_if(
                k,
                |f| matches!(f, Flow::HalfOpen(h, _) if h.id.is_none() && h.server == server),
            ));
        }
        // Keys of entries that left another way wait here until met: bounded all the same.
        while keys.len() > 2 * FLOOD_HELD_PER_SERVER as usize {
            keys.pop_front();
        }
        self.retire_evicted(victims);
    }

    /// `server` has more half-open attempts than any real client population makes: from now
    /// on its unanswered attempts are summarised, those already waiting included.
    pub(super) fn start_flood(&mut self, server: Endpoint, ts: Ts) {
        if self.stats.syn_floods.len() >= MAX_FLOODS {
            return;
        }
        let idx = self.stats.syn_floods.len();
        self.stats.syn_floods.push(SynFlood {
            server,
            half_open: 0,
            syns: 0,
            sources: 0,
            sources_counted_up_to: MAX_FLOOD_SOURCES as u64,
            first_seen: String::new(),
            last_seen: String::new(),
            frames: [u64::MAX, 0],
            first_ts: Ts(i64::MAX),
            last_ts: Ts(i64::MIN),
        });
        self.floods.sources.push(HashSet::default());
        self.floods.active.insert(server, (idx, ts));
        self.floods.latest.insert(server, idx);
        let waiting = self
            .tcp
            .drain_where(|f| matches!(f, Flow::HalfOpen(h, _) if h.server == server));
        for f in waiting {
            if let Flow::HalfOpen(h, _) = f {
                self.half_open_gone(server);
                self.summarise(*h);
            }
        }
    }

    pub(super) fn half_open_gone(&mut self, server: Endpoint) {
        if let Some(n) = self.floods.half_open.get_mut(&server) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.floods.half_open.remove(&server);
            }
        }
    }

    /// Whether a half-open attempt that ends now goes into a flood summary.
    pub(super) fn flood_of(&self, h: &HalfOpen) -> Option<usize> {
        if h.id.is_none() {
            return self.floods.latest.get(&h.server).copied();
        }
        self.floods.active.get(&h.server).map(|(i, _)| *i)
    }

    pub(super) fn summarise(&mut self, h: HalfOpen) {
        if let Some(id) = h.id {
            self.closed(id, h.client.ip);
            self.stats.tcp_connections = self.stats.tcp_connections.saturating_sub(1);
        }
        let idx = self.flood_of(&h).or_else(|| self.floods.latest.get(&h.server).copied());
        let (Some(f), Some(srcs)) = (
            idx.and_then(|i| self.stats.syn_floods.get_mut(i)),
            idx.and_then(|i| self.floods.sources.get_mut(i)),
        ) else {
            return;
        };
        f.half_open += 1;
        f.syns += h.n as u64;
        let (first, last) = (h.first(), h.last());
        f.first_ts = f.first_ts.min(first.ts);
        f.last_ts = f.last_ts.max(last.ts);
        f.frames = [f.frames[0].min(first.frame), f.frames[1].max(last.frame)];
        if srcs.len() < MAX_FLOOD_SOURCES {
            srcs.insert(h.client.ip);
        }
        f.sources = srcs.len() as u64;
    }
}
