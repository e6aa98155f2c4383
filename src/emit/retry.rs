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

/// Retry chains told as one line each ("#1 failed: … , client retried: #2 succeeded"), built
/// one record at a time, as records go out, keeping only chains that have a retry or may still get one.
#[derive(Default)]
pub struct Stories {
    /// Chains by the id of their first attempt: "client -> server" and the steps.
    chains: BTreeMap<u64, (String, Vec<String>)>,
    /// Last attempt of each chain that may still be extended -> first attempt.
    tails: HashMap<u64, u64>,
    since_prune: u64,
}

impl Stories {
    /// Add the next record. With a `linker`, chains that can no longer grow are let go of.
    pub fn add(&mut self, r: &ConnectionRecord, linker: Option<&Linker>) {
        let line = format!("#{} {}", r.id, step(r));
        match r.retry_of {
            None => {
                let head = format!("{} -> {}", r.client.ip, r.server.ip);
                self.chains.insert(r.id, (head, vec![line]));
                self.tails.insert(r.id, r.id);
            }
            Some(p) => {
                if let Some(root) = self.tails.remove(&p) {
                    if let Some((_, steps)) = self.chains.get_mut(&root) {
                        steps.push(line);
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
        if let Some(root) = self.tails.remove(&tail) {
            if self.chains.get(&root).is_some_and(|(_, s)| s.len() < 2) {
                self.chains.remove(&root);
            }
        }
    }

    pub fn finish(self) -> Vec<String> {
        self.chains
            .into_values()
            .filter(|(_, steps)| steps.len() >= 2)
            .map(|(head, steps)| format!("{head}: {}", steps.join(", client retried: ")))
            .collect()
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
        Outcome::Failed => {
            let cause = r.findings.first().map_or("failed".to_string(), |f| f.summary.clone());
            format!("failed: {cause}")
        }
    }
}
