//! A flow table with a hard bound on its size. When it is full, the least recently
//! active tenth of the flows is evicted at once, so a SYN flood costs one scan per
//! many insertions rather than one per packet. Ties in age are broken by insertion
//! order, so eviction is deterministic whatever the hash order.

use std::collections::HashMap;

use super::FlowKey;
use crate::ts::Ts;

/// Anything kept in the table must say when it last saw a packet.
pub trait LastSeen {
    fn last_seen(&self) -> Ts;
}

/// Flow keys are hashed with foldhash (seeded per process: no fixed collisions to aim at).
/// Flows the table has room for before it first grows.
const INITIAL_CAPACITY: usize = 4096;

type Map<V> = HashMap<FlowKey, (u64, V), foldhash::fast::RandomState>;

pub struct FlowTable<V> {
    map: Map<V>,
    max: usize,
    inserted: u64,
}

impl<V: LastSeen> FlowTable<V> {
    pub fn new(max: usize) -> Self {
        FlowTable {
            // Grows as flows come (a flood scatters entries over every bucket, so a table sized
            // for the bound up front would be resident in full); entries are small (boxed
            // values), so growing costs little.
            map: Map::with_capacity_and_hasher(max.min(INITIAL_CAPACITY), foldhash::fast::RandomState::default()),
            max: max.max(1),
            inserted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.max
    }

    pub fn get(&self, key: &FlowKey) -> Option<&V> {
        self.map.get(key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut V> {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    /// Remove the flow at `key` if `pick` says so (one lookup).
    pub fn remove_if(&mut self, key: FlowKey, pick: impl FnOnce(&V) -> bool) -> Option<V> {
        match self.map.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) if pick(&e.get().1) => Some(e.remove().1),
            _ => None,
        }
    }

    pub fn remove(&mut self, key: &FlowKey) -> Option<V> {
        self.map.remove(key).map(|(_, v)| v)
    }

    /// Insert a new flow; returns the flows evicted to make room (oldest first).
    pub fn insert(&mut self, key: FlowKey, value: V) -> Vec<V> {
        let mut evicted = Vec::new();
        if self.map.len() >= self.max && !self.map.contains_key(&key) {
            let n = (self.max / 10).max(1);
            evicted = self.remove_oldest(n, |_| true);
        }
        self.inserted += 1;
        self.map.insert(key, (self.inserted, value));
        evicted
    }

    /// Remove the `n` least recently active flows among those `pick` selects, oldest first.
    pub fn remove_oldest(&mut self, n: usize, mut pick: impl FnMut(&V) -> bool) -> Vec<V> {
        let mut ages: Vec<(Ts, u64, FlowKey)> = self
            .map
            .iter()
            .filter(|(_, (_, v))| pick(v))
            .map(|(k, (s, v))| (v.last_seen(), *s, *k))
            .collect();
        let n = n.min(ages.len());
        if n == 0 {
            return Vec::new();
        }
        if n < ages.len() {
            ages.select_nth_unstable_by_key(n - 1, |(t, s, _)| (*t, *s));
            ages.truncate(n);
        }
        ages.sort_unstable_by_key(|(t, s, _)| (*t, *s));
        ages.iter().filter_map(|(_, _, k)| self.remove(k)).collect()
    }

    /// Remove and return every flow for which `done` says so, in insertion order.
    pub fn drain_where(&mut self, mut done: impl FnMut(&V) -> bool) -> Vec<V> {
        let mut keys: Vec<(u64, FlowKey)> = self
            .map
            .iter()
            .filter(|(_, (_, v))| done(v))
            .map(|(k, (s, _))| (*s, *k))
            .collect();
        keys.sort_unstable_by_key(|(s, _)| *s);
        keys.iter().filter_map(|(_, k)| self.remove(k)).collect()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|(_, v)| v)
    }

    /// Every flow, in insertion order.
    pub fn drain_all(&mut self) -> Vec<V> {
        let mut all: Vec<(u64, V)> = self.map.drain().map(|(_, sv)| sv).collect();
        all.sort_unstable_by_key(|(s, _)| *s);
        all.into_iter().map(|(_, v)| v).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Endpoint;

    struct F(i64);
    impl LastSeen for F {
        fn last_seen(&self) -> Ts {
            Ts(self.0)
        }
    }

    fn key(p: u16) -> FlowKey {
        let ip = "10.0.0.1".parse().unwrap();
        FlowKey::new(Endpoint { ip, port: p }, Endpoint { ip, port: 3389 })
    }

    #[test]
    fn evicts_the_oldest_tenth_when_full() {
        let mut t = FlowTable::new(20);
        for i in 0..20 {
            assert!(t.insert(key(1000 + i), F(i64::from(i))).is_empty());
        }
        let ev = t.insert(key(5000), F(100));
        assert_eq!(ev.iter().map(|f| f.0).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(t.len(), 19);
        assert!(t.get_mut(&key(1000)).is_none() && t.get_mut(&key(1002)).is_some());
    }

    #[test]
    fn equal_ages_evict_in_insertion_order() {
        let mut t = FlowTable::new(10);
        for i in 0..10 {
            t.insert(key(2000 - i), F(7));
        }
        let ev = t.insert(key(1), F(8));
        assert_eq!(ev.len(), 1);
        assert!(t.get_mut(&key(2000)).is_none() && t.get_mut(&key(1999)).is_some());
    }
}
