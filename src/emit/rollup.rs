//! Rollups of a big run for one screen: failures by server, by cause × server, the clients
//! and user names with the most failures. Each table is bounded ([`MAX_KEYS`] keys) with the
//! Space-Saving algorithm (Metwally, Agrawal, El Abbadi, 2005): when a table is full, the
//! key with the smallest count makes room and the newcomer inherits that count as its
//! possible overcount (`error`). Below the bound, every count is exact.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::net::IpAddr;

use serde::Serialize;

use crate::diagnosis::Outcome;
use crate::record::ConnectionRecord;

/// Keys kept per rollup table (docs/limits.md).
pub const MAX_KEYS: usize = 1024;

/// A bounded counter of keys (Space-Saving).
#[derive(Debug, Clone)]
pub struct TopK<K: Hash + Eq + Clone> {
    cap: usize,
    /// Key -> (count, possible overcount).
    map: HashMap<K, (u64, u64)>,
    /// Whether a key was ever evicted: counts may then be approximate.
    pub overflowed: bool,
    /// The keys by count (ties: the greatest key first), kept once the table has overflowed:
    /// the key that makes room is then found at once, not by a scan of the table per
    /// newcomer (a run with fresh client addresses brings one with every failure).
    order: Option<BTreeSet<(u64, Reverse<K>)>>,
}

impl<K: Hash + Eq + Clone + Ord> TopK<K> {
    pub fn new(cap: usize) -> TopK<K> {
        TopK {
            cap: cap.max(1),
            map: HashMap::new(),
            overflowed: false,
            order: None,
        }
    }

    pub fn add(&mut self, k: K) {
        if let Some(c) = self.map.get_mut(&k) {
            match self.order.as_mut() {
                Some(order) => {
                    let at = (c.0, Reverse(k));
                    order.remove(&at);
                    c.0 += 1;
                    order.insert((c.0, at.1));
                }
                None => c.0 += 1,
            }
            return;
        }
        if self.map.len() < self.cap {
            self.map.insert(k, (1, 0));
            return;
        }
        self.overflowed = true;
        let map = &mut self.map;
        let order = self
            .order
            .get_or_insert_with(|| map.iter().map(|(k, c)| (c.0, Reverse(k.clone()))).collect());
        // The smallest count makes room (ties: the greatest key, so the result is stable).
        if let Some((min, Reverse(old))) = order.pop_first() {
            map.remove(&old);
            map.insert(k.clone(), (min + 1, min));
            order.insert((min + 1, Reverse(k)));
        }
    }

    /// The `n` keys with the highest counts, highest first (ties by key).
    pub fn top(&self, n: usize) -> Vec<(K, u64, u64)> {
        let mut v: Vec<(K, u64, u64)> = self.map.iter().map(|(k, c)| (k.clone(), c.0, c.1)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<K: Hash + Eq + Clone + Ord> Default for TopK<K> {
    fn default() -> Self {
        TopK::new(MAX_KEYS)
    }
}

/// One row of a rollup.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Row {
    /// The server, client or user name (and `cause` for cause × server).
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    pub failures: u64,
    /// How much `failures` may overcount (0 unless the table overflowed).
    #[serde(skip_serializing_if = "is_zero")]
    pub error: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The rollup tables of a run and the rows they give.
#[derive(Debug, Clone, Default)]
pub struct Rollups {
    servers: TopK<IpAddr>,
    cause_server: TopK<(&'static str, IpAddr)>,
    clients: TopK<IpAddr>,
    users: TopK<String>,
}

impl Rollups {
    /// Count a failed connection (others are not rolled up).
    pub fn add(&mut self, r: &ConnectionRecord) {
        if r.outcome != Outcome::Failed {
            return;
        }
        self.servers.add(r.server.ip);
        self.cause_server.add((r.cause(), r.server.ip));
        self.clients.add(r.client.ip);
        if let Some((u, _)) = r.user_name() {
            // Bounded like any wire string: a name is at most 256 characters here.
            self.users.add(u.chars().take(256).collect());
        }
    }

    /// Whether any table had more keys than it keeps (counts are then upper bounds).
    pub fn approximate(&self) -> bool {
        self.servers.overflowed || self.cause_server.overflowed || self.clients.overflowed || self.users.overflowed
    }

    fn rows<K: Hash + Eq + Clone + Ord>(t: &TopK<K>, n: usize, key: impl Fn(&K) -> Row) -> Vec<Row> {
        t.top(n)
            .into_iter()
            .map(|(k, failures, error)| Row {
                failures,
                error,
                ..key(&k)
            })
            .collect()
    }

    pub fn by_server(&self, n: usize) -> Vec<Row> {
        Self::rows(&self.servers, n, |ip| row(ip.to_string(), None))
    }

    pub fn by_cause_server(&self, n: usize) -> Vec<Row> {
        Self::rows(&self.cause_server, n, |(c, ip)| row(ip.to_string(), Some(*c)))
    }

    pub fn by_client(&self, n: usize) -> Vec<Row> {
        Self::rows(&self.clients, n, |ip| row(ip.to_string(), None))
    }

    pub fn by_user(&self, n: usize) -> Vec<Row> {
        Self::rows(&self.users, n, |u| row(u.clone(), None))
    }
}

fn row(key: String, cause: Option<&'static str>) -> Row {
    Row {
        key,
        cause,
        failures: 0,
        error: 0,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn exact_below_the_bound() {
        let mut t = TopK::new(4);
        for k in [1, 2, 2, 3, 3, 3] {
            t.add(k);
        }
        assert_eq!(t.top(2), vec![(3, 3, 0), (2, 2, 0)]);
        assert!(!t.overflowed);
    }

    #[test]
    fn a_heavy_key_survives_any_number_of_others_in_bounded_memory() {
        let mut t = TopK::new(16);
        for i in 0..100_000u32 {
            t.add(i + 1);
            if i % 10 == 0 {
                t.add(0);
            }
            assert!(t.len() <= 16);
        }
        let top = t.top(1);
        // The true count (10,000) is within [count - error, count].
        assert_eq!(top[0].0, 0);
        assert!(top[0].1 >= 10_000 && top[0].1 - top[0].2 <= 10_000, "{top:?}");
        assert!(t.overflowed);
    }

    /// The table keeps its keys in count order once full; the result must be what the
    /// algorithm gives by scanning for the least count each time.
    #[test]
    fn same_counts_as_evicting_by_a_scan() {
        let (cap, mut t) = (32, TopK::new(32));
        let mut reference: HashMap<u32, (u64, u64)> = HashMap::new();
        let mut x = 12345u64;
        for _ in 0..50_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // A skewed stream: small keys are frequent, most keys come once or twice.
            let k = ((x >> 33) % 400) as u32 % (1 + ((x >> 20) % 400) as u32);
            t.add(k);
            if let Some(c) = reference.get_mut(&k) {
                c.0 += 1;
            } else if reference.len() < cap {
                reference.insert(k, (1, 0));
            } else {
                let (old, min) = reference
                    .iter()
                    .min_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.0.cmp(a.0)))
                    .map(|(k, c)| (*k, c.0))
                    .unwrap();
                reference.remove(&old);
                reference.insert(k, (min + 1, min));
            }
        }
        assert!(t.overflowed);
        let mut want: Vec<(u32, u64, u64)> = reference.iter().map(|(k, c)| (*k, c.0, c.1)).collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(t.top(cap), want);
    }
}
