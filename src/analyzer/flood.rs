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

/// What is known of one server's half-open attempts and floods: one entry, so that a
/// flood SYN costs one lookup here.
#[derive(Default)]
pub(super) struct Server {
    /// Half-open entries in the table.
    half_open: u32,
    /// Under a flood now: index into `Stats::syn_floods`, and the last new attempt.
    active: Option<(usize, Ts)>,
    /// Its latest flood.
    latest: Option<usize>,
    /// Keys of the unanswered attempts held while flooded, oldest first: the ones to
    /// summarise when more than [`FLOOD_HELD_PER_SERVER`] wait, found without scanning the
    /// table. A key whose entry has gone another way (answered, swept) is skipped when met.
    held: VecDeque<FlowKey>,
}

impl Server {
    /// Nothing left to remember: the entry can go.
    fn is_empty(&self) -> bool {
        self.half_open == 0 && self.active.is_none() && self.latest.is_none() && self.held.is_empty()
    }
}

#[derive(Default)]
pub(super) struct Floods {
    /// Servers with half-open attempts or a flood (at most [`MAX_FLOODS`] remembered once
    /// their attempts are gone).
    servers: FastMap<Endpoint, Server>,
    /// Distinct sources of each flood (index as `Stats::syn_floods`).
    sources: Vec<HashSet<IpAddr, foldhash::fast::RandomState>>,
    /// Servers under a flood now.
    active: usize,
}

impl Floods {
    /// Whether some server is under a flood now.
    pub(super) fn any_active(&self) -> bool {
        self.active > 0
    }

    /// A SYN retransmitted by a held attempt of `server`: its flood is still going on.
    pub(super) fn touch(&mut self, server: &Endpoint, ts: Ts) {
        if let Some((_, last)) = self.servers.get_mut(server).and_then(|s| s.active.as_mut()) {
            *last = ts;
        }
    }

    /// Floods with no new attempt for [`FLOOD_QUIET_SECS`] by `now` are over; servers with
    /// nothing left are forgotten.
    pub(super) fn expire(&mut self, now: Ts) {
        let quiet = 1_000_000_000i64.saturating_mul(FLOOD_QUIET_SECS);
        let mut active = 0;
        self.servers.retain(|_, s| {
            if s.active.is_some_and(|(_, last)| now.0.saturating_sub(last.0) > quiet) {
                s.active = None;
            }
            if s.active.is_some() {
                active += 1;
            } else {
                s.held = VecDeque::new();
            }
            !s.is_empty()
        });
        self.active = active;
    }
}

/// Count one unanswered attempt into `flood`.
fn count_in(flood: &mut SynFlood, sources: &mut HashSet<IpAddr, foldhash::fast::RandomState>, h: &HalfOpen) {
    flood.half_open += 1;
    flood.syns += h.n as u64;
    let (first, last) = (h.first(), h.last());
    flood.first_ts = flood.first_ts.min(first.ts);
    flood.last_ts = flood.last_ts.max(last.ts);
    flood.frames = [flood.frames[0].min(first.frame), flood.frames[1].max(last.frame)];
    if sources.len() < MAX_FLOOD_SOURCES {
        sources.insert(h.client.ip);
    }
    flood.sources = sources.len() as u64;
}

/// The flood bookkeeping of the engine: half-open entries per server, and their summaries.
impl Analyzer {
    pub(super) fn new_half_open(&mut self, key: FlowKey, at: At, client: Endpoint, server: Endpoint, h: &TcpHeader) {
        let threshold = self.cfg.flood_half_open.min(self.cfg.max_flows / 2).max(1) as u32;
        let s = self.floods.servers.entry(server).or_default();
        s.half_open += 1;
        let count = s.half_open;
        let mut flooded = match s.active.as_mut() {
            Some((_, last)) => {
                *last = at.ts;
                true
            }
            None => false,
        };
        // Enough held to catch the answers that come: beyond, the oldest quarter is summarised.
        let full = count > FLOOD_HELD_PER_SERVER;
        if flooded && !full {
            s.held.push_back(key);
        }
        if !flooded && count > threshold {
            flooded = self.start_flood(server, at.ts);
            if flooded {
                self.push_held(server, key);
            }
        } else if flooded && full {
            self.summarise_oldest_held(server, FLOOD_HELD_PER_SERVER as usize / 4);
            self.push_held(server, key);
        }
        let id = if flooded {
            None
        } else {
            self.stats.tcp_connections += 1;
            Some(self.take_id(client.ip, key, false))
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
        self.make_room();
        let evicted = self.tcp.insert(key, Flow::HalfOpen(Box::new(ho), ho.due(&self.cfg)));
        self.retire_evicted(evicted);
        self.stats.peak_flows = self.stats.peak_flows.max(self.tcp.len() as u64);
    }

    fn push_held(&mut self, server: Endpoint, key: FlowKey) {
        if let Some(s) = self.floods.servers.get_mut(&server) {
            s.held.push_back(key);
        }
    }

    /// Summarise the `n` oldest unanswered attempts held for flooded `server` (first SYN
    /// order), dropping keys whose entries went another way.
    fn summarise_oldest_held(&mut self, server: Endpoint, n: usize) {
        let Some(s) = self.floods.servers.get_mut(&server) else {
            return;
        };
        // Attempts without an id were made under the server's latest flood.
        let idx = s.latest.unwrap_or(usize::MAX);
        let (mut flood, mut sources) = (self.stats.syn_floods.get_mut(idx), self.floods.sources.get_mut(idx));
        let mut done = 0;
        while done < n {
            let Some(k) = s.held.pop_front() else { break };
            let gone = self.tcp.remove_if(
                k,
                |f| matches!(f, Flow::HalfOpen(h, _) if h.id.is_none() && h.server == server),
            );
            if let Some(Flow::HalfOpen(h, _)) = gone {
                done += 1;
                s.half_open = s.half_open.saturating_sub(1);
                if let (Some(f), Some(srcs)) = (flood.as_deref_mut(), sources.as_deref_mut()) {
                    count_in(f, srcs, &h);
                }
            }
        }
        // Keys of entries that left another way wait here until met: bounded all the same.
        while s.held.len() > 2 * FLOOD_HELD_PER_SERVER as usize {
            s.held.pop_front();
        }
    }

    /// `server` has more half-open attempts than any real client population makes: from now
    /// on its unanswered attempts are summarised, those already waiting included. False when
    /// no more floods can be remembered.
    pub(super) fn start_flood(&mut self, server: Endpoint, ts: Ts) -> bool {
        if self.stats.syn_floods.len() >= MAX_FLOODS {
            return false;
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
        let s = self.floods.servers.entry(server).or_default();
        s.active = Some((idx, ts));
        s.latest = Some(idx);
        self.floods.active += 1;
        let waiting = self
            .tcp
            .drain_where(|f| matches!(f, Flow::HalfOpen(h, _) if h.server == server));
        for f in waiting {
            if let Flow::HalfOpen(h, _) = f {
                self.summarised(&h);
            }
        }
        true
    }

    /// A half-open attempt leaves the table (answered, or to be summarised): the flood it
    /// goes into if unanswered, if any.
    pub(super) fn half_open_gone(&mut self, h: &HalfOpen) -> Option<usize> {
        let s = self.floods.servers.get_mut(&h.server)?;
        s.half_open = s.half_open.saturating_sub(1);
        let flood = match h.id {
            None => s.latest,
            Some(_) => s.active.map(|(i, _)| i),
        };
        if s.is_empty() {
            self.floods.servers.remove(&h.server);
        }
        flood
    }

    /// A half-open attempt leaves the table unanswered: into its flood's summary (true), or,
    /// made outside any flood, false: it is reported as a connection of its own.
    pub(super) fn summarised(&mut self, h: &HalfOpen) -> bool {
        match self.half_open_gone(h) {
            Some(idx) => {
                self.count_into(idx, h);
                true
            }
            None if h.id.is_none() => true,
            None => false,
        }
    }

    fn count_into(&mut self, idx: usize, h: &HalfOpen) {
        if let Some(id) = h.id {
            self.closed(id, h.client.ip);
            self.stats.tcp_connections = self.stats.tcp_connections.saturating_sub(1);
        }
        if let (Some(f), Some(srcs)) = (self.stats.syn_floods.get_mut(idx), self.floods.sources.get_mut(idx)) {
            count_in(f, srcs, h);
        }
    }
}
