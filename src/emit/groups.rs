//! `--group-by server|client|cause`: connections counted per server address, client address
//! or cause, for a one-screen view of a big capture instead of one report per connection.
//! Bounded like the rollups (Space-Saving tables of [`rollup::MAX_KEYS`] keys).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use crate::diagnosis::Outcome;
use crate::record::ConnectionRecord;

use super::rollup::{TopK, MAX_KEYS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Server,
    Client,
    Cause,
}

/// One group as a view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub key: String,
    pub connections: u64,
    pub failed: u64,
    /// The commonest causes of its failures, most first (for `cause` groups: the servers).
    pub top: Vec<(String, u64)>,
}

#[derive(Debug, Clone)]
pub struct Groups {
    by: GroupBy,
    connections: TopK<String>,
    failed: TopK<String>,
    /// (group, cause or server) of failed connections.
    detail: TopK<(String, String)>,
}

impl Groups {
    pub fn new(by: GroupBy) -> Groups {
        Groups {
            by,
            connections: TopK::new(MAX_KEYS),
            failed: TopK::new(MAX_KEYS),
            detail: TopK::new(MAX_KEYS),
        }
    }

    pub fn add(&mut self, r: &ConnectionRecord) {
        let failed = r.outcome == Outcome::Failed;
        let key = match self.by {
            GroupBy::Server => r.server.ip.to_string(),
            GroupBy::Client => r.client.ip.to_string(),
            // Only failures have a cause; the others are grouped by their outcome.
            GroupBy::Cause if failed => r.cause().to_string(),
            GroupBy::Cause => format!("({})", outcome_word(r.outcome)),
        };
        self.connections.add(key.clone());
        if failed {
            self.failed.add(key.clone());
            let detail = match self.by {
                GroupBy::Cause => r.server.ip.to_string(),
                _ => r.cause().to_string(),
            };
            self.detail.add((key, detail));
        }
    }

    /// The `n` groups with the most connections, each with its 3 commonest details.
    pub fn top(&self, n: usize) -> Vec<Group> {
        let details = self.detail.top(MAX_KEYS);
        let failed_all = self.failed.top(MAX_KEYS);
        self.connections
            .top(n)
            .into_iter()
            .map(|(key, connections, _)| {
                let failed = failed_all.iter().find(|(k, _, _)| *k == key).map_or(0, |f| f.1);
                let top = details
                    .iter()
                    .filter(|((g, _), _, _)| *g == key)
                    .take(3)
                    .map(|((_, d), c, _)| (d.clone(), *c))
                    .collect();
                Group {
                    key,
                    connections,
                    failed,
                    top,
                }
            })
            .collect()
    }

    /// Whether a table kept fewer keys than it saw (counts are then upper bounds).
    pub fn approximate(&self) -> bool {
        self.connections.overflowed || self.failed.overflowed || self.detail.overflowed
    }

    pub fn by(&self) -> GroupBy {
        self.by
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "succeeded",
        Outcome::Failed => "failed",
        Outcome::Incomplete => "incomplete",
    }
}
