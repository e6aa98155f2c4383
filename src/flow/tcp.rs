//! TCP-level facts of one connection: the three-way handshake and its RTT, closes and
//! resets, retransmissions, zero windows and RTT samples, plus the two reassemblers.

use super::reassembly::{seq_diff, Chunk, Reassembler};
use super::Side;
use crate::decode::TcpHeader;
use crate::ts::Ts;

/// A frame number and its time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct At {
    pub frame: u64,
    pub ts: Ts,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Close {
    pub side: Side,
    pub at: At,
}

/// One TCP segment as decoded: header, captured payload, and bytes the snaplen cut off.
#[derive(Copy, Clone, Debug)]
pub struct Segment<'a> {
    pub header: TcpHeader,
    pub payload: &'a [u8],
    pub missing: u32,
}

/// Bounds on what one connection keeps, whatever the traffic.
const MAX_CLOSES: usize = 8;
const MAX_RTT_SAMPLES: usize = 256;
const MAX_OUTSTANDING: usize = 64;

#[derive(Debug, Default, Clone)]
pub struct TcpTracker {
    /// First SYN from the client, and how many SYNs it sent.
    pub syn: Option<At>,
    /// The most recent SYN before the handshake completed (Wireshark measures iRTT from it).
    pub last_syn: Option<At>,
    pub syn_count: u32,
    pub synack: Option<At>,
    pub synack_count: u32,
    /// The client's ACK that completed the three-way handshake.
    pub established: Option<At>,
    isn: [Option<u32>; 2],
    pub mss: [Option<u16>; 2],
    pub fins: Vec<Close>,
    pub rsts: Vec<Close>,
    pub zero_windows: [u32; 2],
    pub payload_bytes: [u64; 2],
    pub packets: [u64; 2],
    /// Bytes the snaplen cut off, per side.
    pub snaplen_cut: [u64; 2],
    pub reasm: [Reassembler; 2],
    /// Round-trip samples in milliseconds: data sent by one side until the other ACKs it.
    pub rtt_samples: Vec<(At, f64)>,
    pub rtt_sample_count: u64,
    /// Unacknowledged data per sender: (end sequence, when sent, frame), oldest first.
    outstanding: [Vec<(u32, At)>; 2],
    /// Largest payload seen per side (for path-MTU reasoning).
    pub max_payload: [u32; 2],
    /// Retransmitted segments of at least `BIG_SEGMENT` bytes: who sent them, sequence,
    /// length and when (bounded). Path-MTU black holes show as these, never acknowledged.
    pub big_retransmissions: Vec<(Side, u32, u32, At)>,
    /// The highest acknowledgment number each side sent.
    pub highest_ack: [Option<u32>; 2],
    /// Frames of the first retransmissions (SYNs included) and zero windows per side, so
    /// the findings about them cite frames (bounded: [`MAX_CITED`]).
    pub retransmitted_frames: [Vec<u64>; 2],
    pub zero_window_frames: [Vec<u64>; 2],
}

/// Frames kept per side and kind of event to cite as evidence.
pub const MAX_CITED: usize = 8;

fn cite(frames: &mut [Vec<u64>; 2], side: Side, at: At) {
    if let Some(v) = frames.get_mut(side.index()) {
        if v.len() < MAX_CITED {
            v.push(at.frame);
        }
    }
}

/// Segments this large are "full-size" for path-MTU reasoning (typical MSS is 1200–1460).
pub const BIG_SEGMENT: u32 = 1000;
const MAX_BIG_RETRANSMISSIONS: usize = 32;

impl TcpTracker {
    pub fn client_isn(&self) -> Option<u32> {
        self.isn[0]
    }

    /// Whether the three-way handshake was seen from its first SYN.
    pub fn saw_syn(&self) -> bool {
        self.syn.is_some()
    }

    /// The median of the RTT samples kept (the upper one of an even count).
    pub fn median_rtt_ms(&self) -> Option<f64> {
        let mut v: Vec<f64> = self.rtt_samples.iter().map(|(_, r)| *r).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    }

    /// Wireshark's iRTT: the most recent SYN to the ACK that completes the handshake.
    pub fn handshake_rtt_ms(&self) -> Option<f64> {
        Some(self.established?.ts.ms_since(self.last_syn?.ts))
    }

    pub fn retransmissions(&self, side: Side) -> u32 {
        let syns = match side {
            Side::Client => self.syn_count.saturating_sub(1),
            Side::Server => self.synack_count.saturating_sub(1),
        };
        self.reasm.get(side.index()).map_or(0, |r| r.retransmissions) + syns
    }

    pub fn closed(&self) -> bool {
        !self.rsts.is_empty()
            || (self.fins.iter().any(|f| f.side == Side::Client) && self.fins.iter().any(|f| f.side == Side::Server))
    }

    /// Process one segment from `side`. Reassembled stream data (and gaps) are passed to
    /// `out` with the side they belong to; an ACK can reveal a gap in the other direction.
    pub fn on_segment(
        &mut self,
        side: Side,
        at: At,
        seg: &Segment<'_>,
        max_pending: usize,
        out: &mut dyn FnMut(Side, Chunk<'_>),
    ) {
        let Segment {
            header: h,
            payload,
            missing,
        } = *seg;
        let h = &h;
        let i = side.index();
        let o = side.other().index();
        if let Some(p) = self.packets.get_mut(i) {
            *p += 1;
        }
        if h.syn {
            self.on_syn(side, at, h);
        } else if h.ack_flag && side == Side::Client && self.established.is_none() && self.synack.is_some() {
            if let Some(sisn) = self.isn.get(o).copied().flatten() {
                if h.ack == sisn.wrapping_add(1) {
                    self.established = Some(at);
                }
            }
        }
        // Wireshark's rule: a zero window on anything but SYN/FIN/RST.
        if h.window == 0 && !h.syn && !h.fin && !h.rst {
            if let Some(z) = self.zero_windows.get_mut(i) {
                *z = z.saturating_add(1);
            }
            cite(&mut self.zero_window_frames, side, at);
        }
        if h.ack_flag {
            self.on_ack(side, at, h.ack, out);
        }
        let len = payload.len() as u32 + missing;
        if let Some(b) = self.payload_bytes.get_mut(i) {
            *b += u64::from(len);
        }
        if let Some(m) = self.max_payload.get_mut(i) {
            *m = (*m).max(len);
        }
        if let Some(c) = self.snaplen_cut.get_mut(i) {
            *c += u64::from(missing);
        }
        if len > 0 {
            // Karn: only first transmissions give RTT samples.
            let fresh = self
                .reasm
                .get(i)
                .and_then(|r| r.next_seq())
                .is_none_or(|n| seq_diff(h.seq, n) >= 0);
            if !fresh && len >= BIG_SEGMENT && self.big_retransmissions.len() < MAX_BIG_RETRANSMISSIONS {
                self.big_retransmissions.push((side, h.seq, len, at));
            }
            if fresh {
                if let Some(q) = self.outstanding.get_mut(i) {
                    if q.len() < MAX_OUTSTANDING {
                        q.push((h.seq.wrapping_add(len), at));
                    }
                }
            }
            if let Some(r) = self.reasm.get_mut(i) {
                let before = r.retransmissions;
                let data_seq = if h.syn { h.seq.wrapping_add(1) } else { h.seq };
                r.segment(data_seq, payload, max_pending, &mut |c| out(side, c));
                r.cut_tail(data_seq.wrapping_add(payload.len() as u32), missing, &mut |c| {
                    out(side, c)
                });
                if r.retransmissions > before {
                    cite(&mut self.retransmitted_frames, side, at);
                }
            }
        }
        if h.fin {
            push_bounded(&mut self.fins, Close { side, at });
        }
        if h.rst {
            push_bounded(&mut self.rsts, Close { side, at });
        }
    }

    fn on_syn(&mut self, side: Side, at: At, h: &TcpHeader) {
        let i = side.index();
        if let Some(m) = self.mss.get_mut(i) {
            *m = m.or(h.mss);
        }
        if let Some(isn) = self.isn.get_mut(i) {
            isn.get_or_insert(h.seq);
        }
        if let Some(r) = self.reasm.get_mut(i) {
            r.on_syn(h.seq);
        }
        if (h.ack_flag && self.synack_count > 0) || (!h.ack_flag && self.syn_count > 0) {
            cite(&mut self.retransmitted_frames, side, at);
        }
        if h.ack_flag {
            self.synack_count = self.synack_count.saturating_add(1);
            self.synack.get_or_insert(at);
        } else {
            self.syn_count = self.syn_count.saturating_add(1);
            self.syn.get_or_insert(at);
            if self.established.is_none() {
                self.last_syn = Some(at);
            }
        }
    }

    fn on_ack(&mut self, side: Side, at: At, ack: u32, out: &mut dyn FnMut(Side, Chunk<'_>)) {
        let peer = side.other();
        if let Some(h) = self.highest_ack.get_mut(side.index()) {
            if h.is_none_or(|prev| seq_diff(ack, prev) > 0) {
                *h = Some(ack);
            }
        }
        if let Some(q) = self.outstanding.get_mut(peer.index()) {
            let acked = q.iter().take_while(|(end, _)| seq_diff(ack, *end) >= 0).count();
            if let Some((_, sent)) = q.get(acked.wrapping_sub(1)) {
                self.rtt_sample_count += 1;
                if self.rtt_samples.len() < MAX_RTT_SAMPLES {
                    self.rtt_samples.push((at, at.ts.ms_since(sent.ts)));
                }
            }
            q.drain(..acked.min(q.len()));
        }
        if let Some(r) = self.reasm.get_mut(peer.index()) {
            // Only data acknowledged beyond what we hold is missing from the capture; a FIN
            // takes one sequence number, so allow for it.
            let fin_seen = self.fins.iter().any(|f| f.side == peer);
            let ack = if fin_seen { ack.wrapping_sub(1) } else { ack };
            r.on_peer_ack(ack, &mut |c| out(peer, c));
        }
    }

    /// The connection is over and flushed: give back what only tracking needed (the
    /// unacknowledged-data queues, the reassemblers' buffers) and trim the rest, so a
    /// finished connection waiting to be reported holds only its facts.
    pub fn release(&mut self) {
        self.outstanding = Default::default();
        for r in &mut self.reasm {
            r.release();
        }
        self.rtt_samples.shrink_to_fit();
        self.fins.shrink_to_fit();
        self.rsts.shrink_to_fit();
        self.big_retransmissions.shrink_to_fit();
    }

    /// End of the connection or capture: release whatever is still held back.
    pub fn flush(&mut self, out: &mut dyn FnMut(Side, Chunk<'_>)) {
        for side in [Side::Client, Side::Server] {
            if let Some(r) = self.reasm.get_mut(side.index()) {
                r.flush(&mut |c| out(side, c));
            }
        }
    }
}

fn push_bounded(v: &mut Vec<Close>, c: Close) {
    if v.len() < MAX_CLOSES {
        v.push(c);
    }
}
