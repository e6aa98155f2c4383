//! A flow table with a hard bound on its size. When it is full, the least recently
//! active tenth of the flows is evicted at once, so a SYN flood costs one scan per
//! many insertions rather than one per packet.

use std::collections::HashMap;

use super::FlowKey;
use crate::ts::Ts;

/// Anything kept in the table must say when it last saw a packet.
pub trait LastSeen {
    fn last_seen(&self) -> Ts;
}

pub struct FlowTable<V> {
    map: HashMap<FlowKey, V>,
    max: usize,
}

impl<V: LastSeen> FlowTable<V> {
    pub fn new(max: usize) -> Self {
        FlowTable {
            map: HashMap::with_capacity(max.min(1 << 16)),
            max: max.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    pub fn remove(&mut self, key: &FlowKey) -> Option<V> {
        self.map.remove(key)
    }

    /// Insert a new flow; returns the flows evicted to make room (oldest first).
    pub fn insert(&mut self, key: FlowKey, value: V) -> Vec<V> {
        let mut evicted = Vec::new();
        if self.map.len() >= self.max && !self.map.contains_key(&key) {
            let mut ages: Vec<(Ts, FlowKey)> = self.map.iter().map(|(k, v)| (v.last_seen(), *k)).collect();
            let n = (self.max / 10).max(1).min(ages.len());
            ages.select_nth_unstable_by_key(n.saturating_sub(1), |(t, _)| *t);
            ages.truncate(n);
            ages.sort_by_key(|(t, _)| *t);
            evicted.extend(ages.iter().filter_map(|(_, k)| self.map.remove(k)));
        }
        self.map.insert(key, value);
        evicted
    }

    /// Remove and return every flow for which `done` says so.
    pub fn drain_where(&mut self, mut done: impl FnMut(&V) -> bool) -> Vec<V> {
        let keys: Vec<FlowKey> = self.map.iter().filter(|(_, v)| done(v)).map(|(k, _)| *k).collect();
        keys.iter().filter_map(|k| self.map.remove(k)).collect()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values()
    }

    pub fn drain_all(&mut self) -> Vec<V> {
        self.map.drain().map(|(_, v)| v).collect()
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
}
