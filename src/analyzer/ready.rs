//! When a finished connection may go out. Records are final when their connection is, but a
//! retry is linked to the attempt it repeats (and a redirected client's next connection to the
//! redirection) only if that older connection went out first. So a finished connection waits
//! while an older connection from the same client address that it may follow is still open,
//! and otherwise goes out in id order, or, when an older connection it does not depend on
//! stays open (a long session), after a bounded reorder window. Memory holds at most
//! [`MAX_WAITING`] finished connections whatever the input.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{Analyzer, Finished, Flow, NS};
use crate::flow::{Endpoint, FlowKey};
use crate::ts::Ts;

/// A retry starts at most this long after the attempt it repeats ended (emit::retry).
pub const RETRY_WINDOW_SECS: i64 = 30;
/// An attempt whose last packet came this long after the retry started still counts as
/// ended before it (the last ACK or RST of a failed attempt can trail the new SYN).
pub const RETRY_OVERLAP_SECS: i64 = 5;
/// Finished connections held back at most (beyond, the oldest goes out even if a connection
/// it may retry is still open; counted in `Stats::released_early`).
pub const MAX_WAITING: usize = 1024;
/// Capture seconds a finished connection waits for id order behind an older connection it
/// does not depend on, in files. Live views use 0: a record goes out when final.
pub const FILE_REORDER_SECS: i64 = 60;

/// An open connection or RDP-UDP flow, indexed by its client address.
#[derive(Clone, Copy)]
pub(super) struct OpenRef {
    pub(super) id: u64,
    pub(super) key: FlowKey,
    pub(super) udp: bool,
}

/// A finished connection waiting to go out.
pub(super) struct Waiting {
    pub(super) f: Finished,
    /// Capture time when it finished.
    at: Ts,
}

/// What a waiting connection may depend on.
struct Shape {
    id: u64,
    udp: bool,
    client: IpAddr,
    server: Endpoint,
    start: Ts,
}

fn shape(f: &Finished) -> Shape {
    match f {
        Finished::Tcp(c) => Shape {
            id: c.id,
            udp: false,
            client: c.client.ip,
            server: c.server,
            start: c.first.ts,
        },
        Finished::Udp(u) => Shape {
            id: u.id,
            udp: true,
            client: u.client.ip,
            server: u.server,
            start: u.first.ts,
        },
    }
}

/// Whether an attempt that ended at `end` can be the one a connection started at `start`
/// retried (the rule emit::retry links by).
pub fn may_be_retried_by(end: Ts, start: Ts) -> bool {
    let after = start.0.saturating_sub(end.0);
    (-RETRY_OVERLAP_SECS * NS..=RETRY_WINDOW_SECS * NS).contains(&after)
}

impl Analyzer {
    pub(super) fn opened(&mut self, id: u64, client: IpAddr, key: FlowKey, udp: bool) {
        self.open_ids.insert(id);
        self.by_client.entry(client).or_default().push(OpenRef { id, key, udp });
    }

    pub(super) fn closed(&mut self, id: u64, client: IpAddr) {
        self.open_ids.remove(&id);
        if let Some(v) = self.by_client.get_mut(&client) {
            v.retain(|o| o.id != id);
            if v.is_empty() {
                self.by_client.remove(&client);
            }
        }
    }

    /// Whether an older connection still open may turn out to be the attempt `s` retried or
    /// the redirection it follows, as far as can be known at capture time `now`.
    fn may_follow_open(&self, s: &Shape, now: Ts) -> bool {
        let Some(open) = self.by_client.get(&s.client) else {
            return false;
        };
        open.iter().filter(|o| o.id < s.id).any(|o| {
            let (server, last, redirected) = if o.udp {
                match self.udp.get(&o.key) {
                    Some(u) => (u.server, u.last.ts, false),
                    None => return false,
                }
            } else {
                match self.tcp.get(&o.key) {
                    Some(Flow::Full(c, _)) => (c.server, c.last.ts, c.facts.inside.session.redirect.is_some()),
                    Some(Flow::HalfOpen(h, _)) => (h.server, h.last().ts, false),
                    None => return false,
                }
            };
            if redirected {
                return true;
            }
            if o.udp != s.udp || server != s.server {
                return false;
            }
            // It may still end in the window: its last packet so far is, or a later one may be.
            let latest = Ts(s.start.0.saturating_add(RETRY_OVERLAP_SECS * NS));
            last <= latest && (may_be_retried_by(last, s.start) || now <= latest)
        })
    }

    /// Finished connections that may go out now, in id order within the batch: those older
    /// than every open connection; those that waited `reorder_secs` of capture time and may
    /// follow no open connection; and, beyond [`MAX_WAITING`], the oldest regardless.
    pub fn take_ready(&mut self, reorder_secs: i64) -> Vec<Finished> {
        let now = self.clock;
        for f in self.finished.drain(..) {
            self.pending.insert(f.id(), Waiting { f, at: now });
        }
        let oldest_open = self.open_ids.first().copied().unwrap_or(u64::MAX);
        let window = reorder_secs.saturating_mul(NS);
        let mut go: Vec<u64> = Vec::new();
        for (id, w) in &self.pending {
            let s = shape(&w.f);
            if *id < oldest_open || (now.0.saturating_sub(w.at.0) >= window && !self.may_follow_open(&s, now)) {
                go.push(*id);
            }
        }
        let mut ready = BTreeMap::new();
        for id in go {
            if let Some(w) = self.pending.remove(&id) {
                ready.insert(id, w.f);
            }
        }
        while self.pending.len() > MAX_WAITING {
            let Some((id, w)) = self.pending.pop_first() else {
                break;
            };
            if self.may_follow_open(&shape(&w.f), now) {
                self.stats.released_early += 1;
            }
            ready.insert(id, w.f);
        }
        ready.into_values().collect()
    }

    /// Connections and RDP-UDP flows open now (those summarised in a SYN flood aside).
    pub fn open_count(&self) -> usize {
        self.open_ids.len()
    }

    /// Finished connections not yet handed out.
    pub fn waiting(&self) -> usize {
        self.pending.len() + self.finished.len()
    }
}
