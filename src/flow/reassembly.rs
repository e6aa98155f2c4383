//! One direction of a TCP stream put back in order. Sequence numbers wrap, so all
//! comparisons go through `seq_diff`. Out-of-order data is held in a bounded buffer;
//! when the bound is hit, or the peer acknowledges bytes the capture never showed,
//! the missing range becomes a gap that the consumer sees as [`Chunk::Gap`].

/// What the reassembler hands to its consumer, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    /// This many bytes of the stream were never captured.
    Gap(u32),
}

/// Signed distance from `b` to `a` in sequence space.
pub fn seq_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

#[derive(Debug, Default, Clone)]
pub struct Reassembler {
    /// Next byte expected; `None` until the first SYN or data segment.
    next: Option<u32>,
    /// Out-of-order segments, sorted by sequence number.
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    pub retransmissions: u32,
    pub gaps: u32,
    pub gap_bytes: u64,
    /// Overlapping data whose bytes differ from what was already delivered (first copy wins).
    pub overlap_conflicts: u32,
    /// Segments dropped because the out-of-order buffer was full and could not take them.
    pub dropped_segments: u32,
    /// The last few delivered bytes to compare retransmitted data against.
    recent: Recent,
    /// The stream's content no longer matters (its decoder is done): stop keeping the tail
    /// for conflict checks; sequence tracking and counters go on.
    content_done: bool,
}

/// A ring of the last [`RECENT`] bytes of the stream: delivering a segment copies it once
/// (at most `RECENT` bytes of it), nothing is shifted.
#[derive(Debug, Default, Clone)]
struct Recent {
    /// Allocated on first use, then always `RECENT` long.
    ring: Vec<u8>,
    /// Where the next byte goes.
    pos: usize,
    /// Valid bytes (up to `RECENT`).
    len: usize,
}

impl Recent {
    fn clear(&mut self) {
        self.len = 0;
    }

    fn push(&mut self, data: &[u8]) {
        if self.ring.len() != RECENT {
            self.ring = vec![0; RECENT];
            self.pos = 0;
        }
        let tail = data.get(data.len().saturating_sub(RECENT)..).unwrap_or_default();
        let first = tail.len().min(RECENT - self.pos);
        let (a, b) = tail.split_at(first);
        if let Some(dst) = self.ring.get_mut(self.pos..self.pos + a.len()) {
            dst.copy_from_slice(a);
        }
        if let Some(dst) = self.ring.get_mut(..b.len()) {
            dst.copy_from_slice(b);
        }
        self.pos = (self.pos + tail.len()) % RECENT;
        self.len = (self.len + tail.len()).min(RECENT);
    }

    /// Whether the `n` bytes starting `back` bytes before the end equal `new`
    /// (`None` if they are not all held).
    fn matches(&self, back: usize, new: &[u8]) -> Option<bool> {
        if back > self.len || new.len() > back {
            return None;
        }
        let start = (self.pos + RECENT - back) % RECENT;
        let first = new.len().min(RECENT - start);
        let (a, b) = new.split_at(first);
        Some(self.ring.get(start..start + a.len()) == Some(a) && self.ring.get(..b.len()) == Some(b))
    }
}

/// Most out-of-order segments held at once, whatever their size: tiny segments must not
/// make the per-segment overhead the real memory cost (or make insertion quadratic).
pub const MAX_PENDING_SEGMENTS: usize = 1024;

/// How many recently delivered bytes are kept to detect conflicting retransmissions.
const RECENT: usize = 2048;

impl Reassembler {
    /// The SYN fixes the initial sequence number; data starts one after it.
    pub fn on_syn(&mut self, isn: u32) {
        if self.next.is_none() {
            self.next = Some(isn.wrapping_add(1));
        }
    }

    pub fn next_seq(&self) -> Option<u32> {
        self.next
    }

    /// No more segments will come (after [`Reassembler::flush`]): free the buffers.
    pub fn release(&mut self) {
        self.pending = Vec::new();
        self.pending_bytes = 0;
        self.recent = Recent::default();
    }

    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    pub fn pending_segments(&self) -> usize {
        self.pending.len()
    }

    /// Feed one segment's payload. `max_pending` bounds the out-of-order buffer.
    pub fn segment(&mut self, seq: u32, data: &[u8], max_pending: usize, out: &mut dyn FnMut(Chunk<'_>)) {
        if data.is_empty() {
            return;
        }
        let next = *self.next.get_or_insert(seq);
        let rel = seq_diff(seq, next);
        if rel <= 0 {
            let overlap = rel.unsigned_abs() as usize;
            if overlap > 0 {
                self.retransmissions = self.retransmissions.saturating_add(1);
                self.check_conflict(data, overlap);
            }
            let Some(fresh) = data.get(overlap..).filter(|f| !f.is_empty()) else {
                return;
            };
            self.deliver(fresh, out);
            self.drain_pending(out);
            return;
        }
        // Future data: keep it unless it duplicates something held already.
        if let Some((_, held)) = self.pending.iter().find(|(s, d)| *s == seq && d.len() >= data.len()) {
            self.retransmissions = self.retransmissions.saturating_add(1);
            if held.get(..data.len()) != Some(data) {
                self.overlap_conflicts = self.overlap_conflicts.saturating_add(1);
            }
            return;
        }
        if self.pending_bytes + data.len() > max_pending || self.pending.len() >= MAX_PENDING_SEGMENTS {
            // No room: give up on the hole and move on to the earliest data we have.
            let lowest = self
                .pending
                .first()
                .map(|(s, _)| *s)
                .filter(|s| seq_diff(*s, seq) < 0)
                .unwrap_or(seq);
            self.skip_to(lowest, out);
            self.drain_pending(out);
            if self.next == Some(seq) {
                self.deliver(data, out);
                self.drain_pending(out);
            } else if self.pending_bytes + data.len() <= max_pending && self.pending.len() < MAX_PENDING_SEGMENTS {
                self.insert_pending(seq, data);
            } else {
                self.dropped_segments = self.dropped_segments.saturating_add(1);
            }
            return;
        }
        self.insert_pending(seq, data);
    }

    /// The peer acknowledged up to `ack`: anything below it that we have not seen was
    /// on the wire but not in the capture.
    pub fn on_peer_ack(&mut self, ack: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        let Some(next) = self.next else { return };
        if seq_diff(ack, next) <= 0 {
            return;
        }
        let target = match self.pending.first() {
            Some((s, _)) if seq_diff(*s, ack) < 0 => *s,
            _ => ack,
        };
        self.skip_to(target, out);
        self.drain_pending(out);
    }

    /// End of capture or connection: whatever is still held goes out after a gap.
    pub fn flush(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some((s, _)) = self.pending.first() {
            let s = *s;
            self.skip_to(s, out);
            self.drain_pending(out);
        }
    }

    /// A snaplen-cut segment ended at `end_captured` with `missing` bytes not captured:
    /// if that is where the stream stands, those bytes are a gap.
    pub fn cut_tail(&mut self, end_captured: u32, missing: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        if missing > 0 && self.next == Some(end_captured) {
            self.skip_to(end_captured.wrapping_add(missing), out);
            self.drain_pending(out);
        }
    }

    fn insert_pending(&mut self, seq: u32, data: &[u8]) {
        let Some(next) = self.next else { return };
        let pos = self
            .pending
            .partition_point(|(s, _)| seq_diff(*s, next) < seq_diff(seq, next));
        self.pending.insert(pos, (seq, data.to_vec()));
        self.pending_bytes += data.len();
    }

    fn skip_to(&mut self, target: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        let Some(next) = self.next else { return };
        let missing = seq_diff(target, next);
        if missing > 0 {
            self.gaps = self.gaps.saturating_add(1);
            self.gap_bytes += u64::from(missing.unsigned_abs());
            self.recent.clear();
            out(Chunk::Gap(missing.unsigned_abs()));
            self.next = Some(target);
        }
    }

    /// The decoder of this direction has decided: from now on only sequence numbers and
    /// counters are kept (no copy of delivered bytes, no conflict checks).
    pub fn content_done(&mut self) {
        if !self.content_done {
            self.content_done = true;
            self.recent = Recent::default();
        }
    }

    fn deliver(&mut self, data: &[u8], out: &mut dyn FnMut(Chunk<'_>)) {
        if let Some(next) = self.next.as_mut() {
            *next = next.wrapping_add(data.len() as u32);
        }
        // Keep the tail of the stream for conflict checks while the content matters.
        if !self.content_done {
            self.recent.push(data);
        }
        out(Chunk::Data(data));
    }

    fn drain_pending(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(next) = self.next {
            let Some((s, _)) = self.pending.first() else {
                break;
            };
            let rel = seq_diff(*s, next);
            if rel > 0 {
                break;
            }
            let (_, data) = self.pending.remove(0);
            self.pending_bytes -= data.len();
            let overlap = rel.unsigned_abs() as usize;
            if overlap > 0 {
                self.check_conflict(&data, overlap);
            }
            if let Some(fresh) = data.get(overlap..).filter(|f| !f.is_empty()) {
                self.deliver(fresh, out);
            }
        }
    }

    /// `data` starts `overlap` bytes before the next expected byte; compare that
    /// part with what we delivered.
    fn check_conflict(&mut self, data: &[u8], overlap: usize) {
        if self.content_done {
            return;
        }
        let n = overlap.min(data.len());
        let new = data.get(..n).unwrap_or_default();
        if self.recent.matches(overlap, new) == Some(false) {
            self.overlap_conflicts = self.overlap_conflicts.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(r: &mut Reassembler, segs: &[(u32, &[u8])], max: usize) -> (Vec<u8>, Vec<u32>) {
        let mut data = Vec::new();
        let mut gaps = Vec::new();
        for (s, d) in segs {
            r.segment(*s, d, max, &mut |c| match c {
                Chunk::Data(d) => data.extend_from_slice(d),
                Chunk::Gap(n) => gaps.push(n),
            });
        }
        (data, gaps)
    }

    #[test]
    fn in_order_out_of_order_and_retransmission() {
        let mut r = Reassembler::default();
        r.on_syn(99);
        let (data, gaps) = run(
            &mut r,
            &[
                (100, b"abc"),
                (106, b"ghi"),
                (103, b"def"),
                (103, b"def"),
                (101, b"bcde"),
            ],
            1 << 20,
        );
        assert_eq!(data, b"abcdefghi");
        assert!(gaps.is_empty());
        assert_eq!(r.retransmissions, 2);
        assert_eq!(r.overlap_conflicts, 0);
    }

    #[test]
    fn wraps_around_sequence_space() {
        let mut r = Reassembler::default();
        r.on_syn(u32::MAX - 1);
        let (data, _) = run(&mut r, &[(u32::MAX, b"ab"), (1, b"cd")], 1 << 20);
        assert_eq!(data, b"abcd");
    }

    #[test]
    fn bounded_buffer_turns_hole_into_gap() {
        let mut r = Reassembler::default();
        r.on_syn(0);
        let (data, gaps) = run(&mut r, &[(1, b"a"), (10, b"xxxx"), (14, b"yyyy")], 6);
        assert_eq!(gaps, vec![8]);
        assert_eq!(data, b"axxxxyyyy");
        assert_eq!(r.gap_bytes, 8);
        assert!(r.pending_bytes() == 0);
    }

    #[test]
    fn peer_ack_reveals_missing_bytes() {
        let mut r = Reassembler::default();
        r.on_syn(0);
        let mut gaps = Vec::new();
        r.segment(1, b"ab", 100, &mut |_| {});
        r.on_peer_ack(20, &mut |c| {
            if let Chunk::Gap(n) = c {
                gaps.push(n)
            }
        });
        assert_eq!(gaps, vec![17]);
        assert_eq!(r.next_seq(), Some(20));
    }

    #[test]
    fn conflicting_copy_of_held_data_is_counted_first_copy_wins() {
        let mut r = Reassembler::default();
        r.on_syn(0);
        let (data, _) = run(&mut r, &[(5, b"efgh"), (5, b"EFGH"), (1, b"abcd")], 100);
        assert_eq!(data, b"abcdefgh");
        assert_eq!(r.overlap_conflicts, 1);
        assert_eq!(r.retransmissions, 1);
    }

    #[test]
    fn conflicting_overlap_is_counted_first_copy_wins() {
        let mut r = Reassembler::default();
        r.on_syn(0);
        let (data, _) = run(&mut r, &[(1, b"abcd"), (3, b"ZZef")], 100);
        assert_eq!(data, b"abcdef");
        assert_eq!(r.overlap_conflicts, 1);
    }
}
