//! Packets in and out through libpcap: capture files (`file`), live interfaces (`live`),
//! files replayed at their own pace (`replay`), and `extract`, which writes the packets of
//! the connections (4-tuple and frame range) it is given to new pcap files. A thin shell
//! around the `pcap` crate: it hands raw frames to a callback and knows nothing of RDP.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod copies;
pub mod extract;
pub mod file;
pub mod input;
pub mod keys;
pub mod netmon;
pub mod netmon_read;
pub mod pcapng;
pub mod pcapng_meta;
pub mod pcapng_walk;
pub mod ports;

/// The BPF filter for a set of server ports (`--port` adds to 3389). BPF's `vlan` keyword
/// shifts every later offset, so the untagged test comes first and each tag level nests
/// inside the previous one: this matches untagged, 802.1Q and QinQ frames alike.
/// VLAN tags exist only on Ethernet: libpcap refuses `vlan` for other link types.
pub fn filter_for_ports(ports: &[u16], link: crate::decode::LinkType) -> String {
    // Kerberos (88) too: a KDC's errors just before a connection explain an NLA failure;
    // and UDP 3391, an RD Gateway's UDP side channel.
    let base = ports
        .iter()
        .chain(std::iter::once(&88))
        .map(|p| format!("tcp port {p} or udp port {p}"))
        .chain(std::iter::once("udp port 3391".to_string()))
        .collect::<Vec<_>>()
        .join(" or ");
    if link == crate::decode::LinkType::Ethernet {
        format!("{base} or (vlan and ({base} or (vlan and ({base}))))")
    } else {
        base
    }
}

/// Which packets to look at: RDP server ports (the default filter is built for the
/// link type), or a BPF expression given by the user.
#[derive(Debug, Clone)]
pub enum Filter {
    Ports(Vec<u16>),
    Bpf(String),
}

impl Filter {
    pub fn expression(&self, link: crate::decode::LinkType) -> String {
        match self {
            Filter::Ports(p) => filter_for_ports(p, link),
            Filter::Bpf(e) => e.clone(),
        }
    }
}

pub mod live;
pub mod replay;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::decode::LinkType;
use crate::ts::Ts;

/// A frame copied out of libpcap's buffer and kept on its own (the live view's frame store).
#[derive(Debug, Clone)]
pub struct OwnedFrame {
    pub number: u64,
    pub ts: Ts,
    pub link: LinkType,
    pub data: Vec<u8>,
    pub wire_len: u32,
}

/// Frames copied out of libpcap's buffer into one buffer, to cross to the analysis thread.
/// A batch goes back to the capture thread once read ([`Pool`]): frames then cost no
/// allocation, and no memory is freed by another thread than the one that took it (glibc
/// keeps such memory in per-thread arenas, and a sensor's memory would creep up).
#[derive(Debug, Default)]
pub struct FrameBatch {
    data: Vec<u8>,
    frames: Vec<FrameAt>,
}

/// Where a frame is in its batch: 32 bytes (a flood of small frames is mostly these).
#[derive(Debug, Clone, Copy)]
struct FrameAt {
    number: u64,
    ts: Ts,
    /// Start and length in `data`: a batch is sent long before 4 GB.
    start: u32,
    len: u32,
    wire_len: u32,
    link: LinkType,
}

impl FrameBatch {
    pub fn push(&mut self, number: u64, ts: Ts, link: LinkType, data: &[u8], wire_len: u32) {
        let (Ok(start), Ok(len)) = (u32::try_from(self.data.len()), u32::try_from(data.len())) else {
            return;
        };
        self.data.extend_from_slice(data);
        self.frames.push(FrameAt {
            number,
            ts,
            start,
            len,
            wire_len,
            link,
        });
    }

    /// Whether it holds `frames` frames or `bytes` bytes.
    pub fn holds(&self, frames: usize, bytes: usize) -> bool {
        self.frames.len() >= frames || self.data.len() >= bytes
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Whether it should go now: [`BATCH`] frames or [`BATCH_BYTES`] bytes.
    pub fn is_full(&self) -> bool {
        self.holds(BATCH, BATCH_BYTES)
    }

    pub fn iter(&self) -> impl Iterator<Item = file::Frame<'_>> {
        self.frames.iter().filter_map(|f| {
            let start = f.start as usize;
            Some(file::Frame {
                number: f.number,
                ts: f.ts,
                link: f.link,
                data: self.data.get(start..start.checked_add(f.len as usize)?)?,
                wire_len: f.wire_len,
            })
        })
    }

    pub fn first_ts(&self) -> Option<Ts> {
        self.frames.first().map(|f| f.ts)
    }

    pub fn last_ts(&self) -> Option<Ts> {
        self.frames.last().map(|f| f.ts)
    }

    fn clear(&mut self) {
        self.data.clear();
        self.frames.clear();
        // A burst of jumbo frames (GRO) must not stay reserved in every pooled batch.
        if self.data.capacity() > 4 * BATCH_BYTES {
            self.data.shrink_to(BATCH_BYTES);
        }
    }
}

/// Empty batches going back from the analysis thread to the capture thread.
#[derive(Clone)]
pub struct Pool {
    tx: crossbeam_channel::Sender<FrameBatch>,
    rx: crossbeam_channel::Receiver<FrameBatch>,
}

impl Pool {
    /// Room for `n` batches: as many as can be in flight, so none is ever freed by the
    /// analysis thread.
    pub fn new(n: usize) -> Pool {
        let (tx, rx) = crossbeam_channel::bounded(n);
        Pool { tx, rx }
    }

    /// An empty batch: a returned one, or a new one.
    pub fn take(&self) -> FrameBatch {
        self.rx.try_recv().unwrap_or_else(|_| FrameBatch {
            data: Vec::with_capacity(BATCH_BYTES),
            frames: Vec::with_capacity(BATCH),
        })
    }

    /// Give a batch back once read.
    pub fn give(&self, mut b: FrameBatch) {
        b.clear();
        let _ = self.tx.try_send(b);
    }
}

/// What a capture thread sends to the analysis thread.
#[derive(Debug)]
pub enum CaptureMsg {
    Frames(FrameBatch),
    /// The source is exhausted (end of file) or failed; `None` means a clean end.
    End(Option<String>),
}

/// Counters a capture thread shares with whoever displays them.
#[derive(Debug, Default)]
pub struct CaptureCounters {
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    /// Frames the capture thread dropped because the analysis fell behind (channel full).
    pub dropped_by_us: AtomicU64,
    /// libpcap's kernel counters, read every second (live only).
    pub kernel_dropped: AtomicU64,
    pub if_dropped: AtomicU64,
    /// Flushes of `--write`'s pcap that failed (a full disk): the file is incomplete.
    pub write_errors: AtomicU64,
    /// Set to stop the capture thread.
    pub stop: AtomicBool,
}

impl CaptureCounters {
    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Frames per batch sent over the channel: large enough to amortise the channel, small
/// enough that a live view stays current.
pub const BATCH: usize = 128;
/// Bytes per batch at most (plus one frame): large frames go in smaller batches.
pub const BATCH_BYTES: usize = 256 * 1024;

/// Send a batch without blocking; when the analysis is behind, count and drop its frames
/// (the batch itself is kept for the next frames).
pub fn send_batch(
    tx: &crossbeam_channel::Sender<CaptureMsg>,
    batch: &mut FrameBatch,
    pool: &Pool,
    counters: &Arc<CaptureCounters>,
) {
    if batch.is_empty() {
        return;
    }
    let frames = std::mem::replace(batch, pool.take());
    let n = frames.len() as u64;
    if let Err(crossbeam_channel::TrySendError::Full(CaptureMsg::Frames(back))) =
        tx.try_send(CaptureMsg::Frames(frames))
    {
        counters.dropped_by_us.fetch_add(n, Ordering::Relaxed);
        pool.give(back);
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn batches_read_back_and_are_reused() {
        let pool = Pool::new(2);
        let mut b = pool.take();
        b.push(1, Ts(5), LinkType::Ethernet, b"abc", 60);
        b.push(2, Ts(6), LinkType::RawIp, b"de", 2);
        let got: Vec<(u64, i64, LinkType, Vec<u8>, u32)> = b
            .iter()
            .map(|f| (f.number, f.ts.0, f.link, f.data.to_vec(), f.wire_len))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 5, LinkType::Ethernet, b"abc".to_vec(), 60),
                (2, 6, LinkType::RawIp, b"de".to_vec(), 2)
            ]
        );
        assert_eq!((b.first_ts(), b.last_ts()), (Some(Ts(5)), Some(Ts(6))));
        // Given back, the same buffer serves the next batch, empty.
        let buffer = b.data.as_ptr();
        pool.give(b);
        let again = pool.take();
        assert!(again.is_empty() && again.data.as_ptr() == buffer);
    }
}
