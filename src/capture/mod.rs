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

/// A frame copied out of libpcap's buffer so it can cross to the analysis thread.
#[derive(Debug, Clone)]
pub struct OwnedFrame {
    pub number: u64,
    pub ts: Ts,
    pub link: LinkType,
    pub data: Vec<u8>,
    pub wire_len: u32,
}

/// What a capture thread sends to the analysis thread.
#[derive(Debug)]
pub enum CaptureMsg {
    Frames(Vec<OwnedFrame>),
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

/// Send a batch without blocking; when the analysis is behind, count and drop it.
pub fn send_batch(
    tx: &crossbeam_channel::Sender<CaptureMsg>,
    batch: &mut Vec<OwnedFrame>,
    counters: &Arc<CaptureCounters>,
) {
    if batch.is_empty() {
        return;
    }
    let frames = std::mem::take(batch);
    let n = frames.len() as u64;
    if let Err(crossbeam_channel::TrySendError::Full(_)) = tx.try_send(CaptureMsg::Frames(frames)) {
        counters.dropped_by_us.fetch_add(n, Ordering::Relaxed);
    }
}
