//! Packet Monitor (pktmon) copies: Windows logs a packet once per networking component it
//! crosses (NIC, filter drivers, vSwitch ports, TCP/IP), 4 to 10 times within microseconds.
//! Analyzing every copy would make phantom retransmissions, so each packet is analyzed once
//! (its first appearance) and the copies are counted.
//!
//! A frame is a copy of a recent one when
//! - both carry a packet id (pcapng epb_packetid, or pktmon's PktGroupId/PktNumber) and the
//!   ids are equal, within [`ID_WINDOW_NS`] (a component may have changed the bytes: a VLAN
//!   tag stripped, an encapsulation added), or
//! - it has no id and its bytes are identical to a frame at most [`COPY_WINDOW_NS`] older.
//!
//! A real retransmission is never a copy: with ids it has a new id; without, it comes an RTT
//! or a retransmission timeout (>= 200 ms) later, after the peer's duplicate ACKs, and IPv4
//! gives it a new IP ID. Pure: time comes from the frames.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};

use super::pcapng_meta::PacketMeta;
use crate::ts::Ts;

/// How far apart identical bytes count as copies of one packet: 1 ms. pktmon's copies of a
/// packet are microseconds apart; a TCP retransmission is at least a round trip later.
pub const COPY_WINDOW_NS: i64 = 1_000_000;
/// How long a packet id is remembered: 1 s.
pub const ID_WINDOW_NS: i64 = 1_000_000_000;
/// Recent packets remembered (bounded whatever the rate; the oldest go first).
pub const MAX_RECENT: usize = 4096;
/// First appearances in the window from which they are looked up by key rather than one by
/// one, and below which they are looked through again (apart, so as not to switch often).
const INDEX_FROM: usize = 32;
const INDEX_UNTIL: usize = 8;
/// Frame numbers of drop verdicts kept for the report.
pub const MAX_DROP_FRAMES: usize = 16;

/// What makes two frames one packet: the same packet id, or (without ids) the same bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Id(u64),
    Bytes { hash: u64, len: usize },
}

impl Key {
    fn window(self) -> i64 {
        match self {
            Key::Id(_) => ID_WINDOW_NS,
            Key::Bytes { .. } => COPY_WINDOW_NS,
        }
    }
}

/// The copies seen in one file.
#[derive(Default)]
pub struct Copies {
    /// First appearances, oldest first: what to forget when, and what to look through
    /// while the window holds a few frames.
    recent: VecDeque<(i64, Key)>,
    /// The same by key (the time of a key's latest first appearance), kept while the window
    /// holds many frames: a busy link has hundreds in a millisecond, and looking through them
    /// all for each frame would cost more than the rest of the reading.
    first: HashMap<Key, i64, foldhash::fast::RandomState>,
    indexed: bool,
    /// Frames taken for copies of an earlier frame (not analyzed).
    pub copies: u64,
    /// Frames with a pktmon drop verdict, and the first of their frame numbers.
    pub drops: u64,
    pub drop_frames: Vec<u64>,
    /// Distinct interfaces (pktmon components) packets came from, up to 64.
    pub interfaces: Vec<u32>,
}

impl Copies {
    pub fn new() -> Copies {
        Copies {
            recent: VecDeque::with_capacity(MAX_RECENT),
            first: HashMap::default(),
            ..Default::default()
        }
    }

    /// Forget the oldest first appearance (its key too, unless it appeared again since).
    fn forget_oldest(&mut self) {
        if let Some((ts, key)) = self.recent.pop_front() {
            if !self.indexed {
                return;
            }
            if let Entry::Occupied(e) = self.first.entry(key) {
                if *e.get() == ts {
                    e.remove();
                }
            }
        }
    }

    /// When `key` last appeared first, if within its window of `ts`.
    fn seen(&self, key: Key, ts: i64) -> bool {
        let within = |t: i64| ts.saturating_sub(t) <= key.window();
        if self.indexed {
            self.first.get(&key).is_some_and(|&t| within(t))
        } else {
            self.recent.iter().rev().any(|&(t, k)| k == key && within(t))
        }
    }

    fn remember(&mut self, key: Key, ts: i64) {
        if self.recent.len() >= MAX_RECENT {
            self.forget_oldest();
        }
        self.recent.push_back((ts, key));
        if self.indexed {
            self.first.insert(key, ts);
        } else if self.recent.len() > INDEX_FROM {
            self.first.extend(self.recent.iter().map(|&(t, k)| (k, t)));
            self.indexed = true;
        }
    }

    /// Whether frame `number` (time `ts`, metadata `meta` when the file has it) is a copy of
    /// a recent frame. Its first appearance is remembered; copies are counted.
    pub fn is_copy(&mut self, number: u64, ts: Ts, meta: Option<&PacketMeta>, data: &[u8]) -> bool {
        let meta = meta.copied().unwrap_or_default();
        if meta.dropped {
            self.drops += 1;
            if self.drop_frames.len() < MAX_DROP_FRAMES {
                self.drop_frames.push(number);
            }
        }
        if let Some(i) = meta.interface {
            if self.interfaces.len() < 64 && !self.interfaces.contains(&i) {
                self.interfaces.push(i);
            }
        }
        while self
            .recent
            .front()
            .is_some_and(|&(t, k)| ts.0.saturating_sub(t) > k.window())
        {
            self.forget_oldest();
        }
        if self.indexed && self.recent.len() < INDEX_UNTIL {
            self.first.clear();
            self.indexed = false;
        }
        let key = match meta.packet_id {
            Some(id) => Key::Id(id),
            None => {
                let mut h = foldhash::fast::FixedState::with_seed(0x5eed).build_hasher();
                h.write(data);
                Key::Bytes {
                    hash: h.finish(),
                    len: data.len(),
                }
            }
        };
        // The window runs from the first appearance.
        if self.seen(key, ts.0) {
            self.copies += 1;
            return true;
        }
        self.remember(key, ts.0);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u64) -> PacketMeta {
        PacketMeta {
            interface: Some(0),
            packet_id: Some(i),
            dropped: false,
        }
    }

    #[test]
    fn identical_bytes_within_the_window_are_copies() {
        let mut c = Copies::new();
        assert!(!c.is_copy(1, Ts(0), None, b"abc"));
        assert!(c.is_copy(2, Ts(3_000), None, b"abc"));
        assert!(c.is_copy(3, Ts(900_000), None, b"abc"));
        // The window runs from the first appearance: 1.1 ms later is a packet of its own.
        assert!(!c.is_copy(4, Ts(1_100_000), None, b"abc"));
        assert!(!c.is_copy(5, Ts(1_100_001), None, b"abd"));
        assert_eq!(c.copies, 2);
    }

    #[test]
    fn packet_ids_decide_when_present() {
        let mut c = Copies::new();
        assert!(!c.is_copy(1, Ts(0), Some(&id(7)), b"abc"));
        // Same id, changed bytes (a VLAN tag stripped): a copy.
        assert!(c.is_copy(2, Ts(5_000), Some(&id(7)), b"xabc"));
        // Identical bytes with a new id: a retransmission, not a copy.
        assert!(!c.is_copy(3, Ts(10_000), Some(&id(8)), b"abc"));
        let dropped = PacketMeta { dropped: true, ..id(8) };
        assert!(c.is_copy(4, Ts(12_000), Some(&dropped), b"abc"));
        assert_eq!((c.copies, c.drops, c.drop_frames.clone()), (2, 1, vec![4]));
    }

    #[test]
    fn busy_windows_find_the_same_copies() {
        let mut c = Copies::new();
        // 200 distinct frames within 1 ms: looked up by key from the 33rd on.
        for i in 0u64..200 {
            assert!(!c.is_copy(i, Ts(i as i64 * 4_000), None, &i.to_le_bytes()));
        }
        assert!(c.indexed);
        // Copies of the later half, still within the window of their first appearance.
        for i in 100u64..200 {
            assert!(c.is_copy(1000 + i, Ts(900_000), None, &i.to_le_bytes()), "{i}");
        }
        // The earliest ones are past their window: packets of their own.
        assert!(!c.is_copy(2000, Ts(1_100_000), None, &0u64.to_le_bytes()));
        // Quiet again: a few frames in the window, looked through one by one.
        assert!(!c.is_copy(3000, Ts(10_000_000), None, b"late"));
        assert!(!c.indexed);
        assert!(c.is_copy(3001, Ts(10_000_500), None, b"late"));
        assert_eq!(c.copies, 101);
    }

    #[test]
    fn memory_is_bounded() {
        let mut c = Copies::new();
        for i in 0..(MAX_RECENT as u64 * 3) {
            c.is_copy(i, Ts(0), Some(&id(i)), &i.to_le_bytes());
        }
        assert!(c.recent.len() <= MAX_RECENT && c.first.len() <= MAX_RECENT && c.indexed);
        assert_eq!(c.copies, 0);
    }
}
