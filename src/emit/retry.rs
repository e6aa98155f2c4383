//! Linking retries: a client that fails and tries again (same client address, same
//! server, seconds later) makes one story, e.g. "negotiation failed
//! (HYBRID_REQUIRED_BY_SERVER), client retried with TLS, succeeded".

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use crate::diagnosis::Outcome;
use crate::flow::Endpoint;
use crate::record::ConnectionRecord;
use crate::ts::Ts;

use crate::analyzer::ready::may_be_retried_by;
pub use crate::analyzer::ready::RETRY_WINDOW_SECS;

/// Bound on failed attempts remembered per (client address, server).
const MAX_CANDIDATES: usize = 64;
/// Candidates are forgotten once they ended this long before the latest start (beyond the
/// window itself, to allow for timestamps going backwards).
const FORGET_SECS: i64 = 300;

type LinkKey = (&'static str, IpAddr, Endpoint);

/// Sets `retry_of` one record at a time, as records go out: each record is linked to the
/// most recent earlier attempt that did not succeed, between the same client address and
/// server, that ended at most [`RETRY_WINDOW_SECS`] before it started (or a few seconds
/// after: its last packets can trail the new attempt; `analyzer::ready::may_be_retried_by`).
/// The analyzer hands a record out only after such attempts (`analyzer::ready`), so the
/// links do not depend on the order records go out in. Memory holds only the attempts that
/// could still be retried.
#[derive(Default)]
pub struct Linker {
    candidates: HashMap<LinkKey, Vec<(u64, Ts)>>,
    live: HashSet<u64>,
    latest_start: Ts,
    since_prune: u64,
}

impl Linker {
    pub fn link(&mut self, r: &mut ConnectionRecord, start: Ts, end: Ts) {
        let key = (r.transport, r.client.ip, r.server);
        let prev = self.candidates.get(&key).and_then(|c| {
            c.iter()
                .rev()
                .find(|(_, e)| may_be_retried_by(*e, start))
                .map(|(id, _)| *id)
        });
        r.retry_of = prev.filter(|p| *p != r.id);
        if r.outcome != Outcome::Success {
            let c = self.candidates.entry(key).or_default();
            if c.len() >= MAX_CANDIDATES {
                let old = c.remove(0);
                self.live.remove(&old.0);
            }
            c.push((r.id, end));
            self.live.insert(r.id);
        }
        self.latest_start = self.latest_start.max(start);
        self.since_prune += 1;
        if self.since_prune >= 4096 {
            self.prune();
        }
    }

    /// Whether a later record may still be linked to `id`.
    pub fn may_follow(&self, id: u64) -> bool {
        self.live.contains(&id)
    }

    fn prune(&mut self) {
        self.since_prune = 0;
        let horizon = self
            .latest_start
            .0
            .saturating_sub((RETRY_WINDOW_SECS + FORGET_SECS) * 1_000_000_000);
        let live = &mut self.live;
        self.candidates.retain(|_, c| {
            c.retain(|(id, e)| {
                let keep = e.0 >= horizon;
                if !keep {
                    live.remove(id);
                }
                keep
            });
            !c.is_empty()
        });
    }
}

/// Most runs of alike attempts kept per story: the first and last halves; the attempts
/// between are counted (docs/limits.md).
const MAX_RUNS: usize = 8;

/// Attempts in a row that went alike: ids `first`..`last`, `n` of them.
#[derive(Debug, Clone)]
struct Run {
    first: u64,
    last: u64,
    n: u64,
    step: String,
}

impl Run {
    fn text(&self) -> String {
        match self.n {
            1 => format!("#{} {}", self.first, self.step),
            n => format!("#{}…#{} {} ×{n}", self.first, self.last, self.step),
        }
    }
}

/// One chain: "client -> server", its runs, attempts left out of the middle, all attempts.
#[derive(Debug, Clone)]
struct Chain {
    head: String,
    runs: Vec<Run>,
    omitted: u64,
    attempts: u64,
}

impl Chain {
    fn push(&mut self, id: u64, step: String) {
        self.attempts += 1;
        if let Some(last) = self.runs.last_mut().filter(|r| r.step == step) {
            last.last = id;
            last.n += 1;
            return;
        }
        self.runs.push(Run {
            first: id,
            last: id,
            n: 1,
            step,
        });
        if self.runs.len() > MAX_RUNS {
            let gone = self.runs.remove(MAX_RUNS / 2);
            self.omitted += gone.n;
        }
    }

    /// One short line: runs of alike attempts told once ("#3…#12 failed (nla_failed) ×10").
    fn line(&self) -> String {
        let mut parts: Vec<String> = self.runs.iter().map(Run::text).collect();
        if self.omitted > 0 {
            parts.insert(MAX_RUNS / 2, format!("… {} more attempts …", self.omitted));
        }
        format!("{}: {}", self.head, parts.join(", client retried: "))
    }
}

/// Retry chains told as one short line each ("#1 failed (negotiation_failure …), client
/// retried: #2 succeeded with rdp"), built one record at a time, in id order, keeping only
/// chains that have a retry or may still get one.
#[derive(Default)]
pub struct Stories {
    /// Chains by the id of their first attempt.
    chains: BTreeMap<u64, Chain>,
    /// Last attempt of each chain that may still be extended -> first attempt.
    tails: HashMap<u64, u64>,
    since_prune: u64,
    /// Chains that can no longer grow, by (attempts, first id): at most [`MAX_STORIES`], the
    /// ones with the fewest attempts let go of first, so a sensor that runs for days keeps
    /// the longest stories in bounded memory.
    told: BTreeMap<(u64, u64), Chain>,
    /// Stories let go of beyond the bound.
    omitted: u64,
}

/// Retry stories kept for the summary (docs/limits.md).
pub const MAX_STORIES: usize = 1_000;

impl Stories {
    /// Add the next record. With a `linker`, chains that can no longer grow are let go of.
    pub fn add(&mut self, r: &ConnectionRecord, linker: Option<&Linker>) {
        match r.retry_of {
            None => {
                let mut c = Chain {
                    head: format!("{} -> {}", r.client.ip, r.server.ip),
                    runs: Vec::new(),
                    omitted: 0,
                    attempts: 0,
                };
                c.push(r.id, step(r));
                self.chains.insert(r.id, c);
                self.tails.insert(r.id, r.id);
            }
            Some(p) => {
                if let Some(root) = self.tails.remove(&p) {
                    if let Some(c) = self.chains.get_mut(&root) {
                        c.push(r.id, step(r));
                    }
                    self.tails.insert(r.id, root);
                }
            }
        }
        if let Some(l) = linker {
            if !l.may_follow(r.id) {
                self.end_tail(r.id);
            }
            self.since_prune += 1;
            if self.since_prune >= 4096 {
                self.since_prune = 0;
                let gone: Vec<u64> = self.tails.keys().copied().filter(|t| !l.may_follow(*t)).collect();
                for t in gone {
                    self.end_tail(t);
                }
            }
        }
    }

    fn end_tail(&mut self, tail: u64) {
        let Some(root) = self.tails.remove(&tail) else {
            return;
        };
        let Some(c) = self.chains.remove(&root) else {
            return;
        };
        if c.attempts < 2 {
            return;
        }
        self.told.insert((c.attempts, root), c);
        if self.told.len() > MAX_STORIES {
            // The fewest attempts go first; among those, the latest chain.
            let fewest = self.told.keys().next().map(|(a, _)| *a);
            let victim = fewest.and_then(|a| self.told.range((a, 0)..=(a, u64::MAX)).next_back().map(|(k, _)| *k));
            if let Some(k) = victim {
                self.told.remove(&k);
                self.omitted += 1;
            }
        }
    }

    /// The stories, those with the most attempts first (then in order of their first
    /// attempt), and how many were let go of beyond [`MAX_STORIES`].
    pub fn finish(self) -> (Vec<String>, u64) {
        let mut v: Vec<(u64, Chain)> = self
            .chains
            .into_iter()
            .filter(|(_, c)| c.attempts >= 2)
            .chain(self.told.into_iter().map(|((_, id), c)| (id, c)))
            .collect();
        v.sort_by_key(|(id, c)| (std::cmp::Reverse(c.attempts), *id));
        // Chains that could still grow were not bounded yet: the same rule applies now.
        let omitted = self.omitted + v.len().saturating_sub(MAX_STORIES) as u64;
        v.truncate(MAX_STORIES);
        (v.iter().map(|(_, c)| c.line()).collect(), omitted)
    }
}

fn step(r: &ConnectionRecord) -> String {
    let how = match (&r.negotiation.selected, &r.negotiation.requested) {
        (Some(s), _) => format!(" with {s}"),
        (None, None) if r.negotiation.request_frame.is_some() => " with standard RDP security".to_string(),
        _ => String::new(),
    };
    match r.outcome {
        Outcome::Success => format!("succeeded{how}"),
        Outcome::Incomplete => format!("outcome unknown{how}"),
        // The cause's code keeps the line short; the record has the whole finding.
        Outcome::Failed => match &r.negotiation.failure {
            Some(f) => format!("failed ({} {})", r.cause(), f.name),
            None => format!("failed ({})", r.cause()),
        },
    }
}
