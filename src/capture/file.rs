//! Capture files: pcap and pcapng read with libpcap, Network Monitor `.cap` files with our
//! own reader (`capture::netmon_read`). The BPF filter is compiled once and run per packet
//! here rather than installed in libpcap, so that frame numbers count every packet in the
//! file, as Wireshark numbers them.

use std::path::Path;

use pcap::{Capture, Linktype, Precision};

use super::Filter;
use crate::decode::LinkType;
use crate::ts::Ts;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {reason}")]
    Open { path: String, reason: String },
    #[error("{path}: unsupported link type {name} ({dlt}); rdpscope reads Ethernet, 802.11 (no radiotap), Linux cooked (SLL/SLL2), BSD loopback and raw IP")]
    LinkType { path: String, dlt: i32, name: String },
    #[error("{path}: bad capture filter {filter:?}: {reason}")]
    Filter {
        path: String,
        filter: String,
        reason: String,
    },
}

/// How reading went, beyond the packets themselves.
#[derive(Debug, Clone, Default)]
pub struct ReadSummary {
    pub frames: u64,
    pub frames_matched: u64,
    /// Bytes of packet records read (headers included), for progress.
    pub bytes: u64,
    /// Why reading stopped before the end of the file (a truncated or corrupt file).
    pub stopped_early: Option<String>,
    /// Records with no captured bytes (caplen 0).
    pub empty_frames: u64,
    pub link_type: Option<LinkType>,
    /// The file's format: "pcap", "pcapng", "netmon1", "netmon2".
    pub format: Option<&'static str>,
    /// Network Monitor special records (capture filter, adapter list, ETW event, DNS
    /// cache, ...): metadata, not packets, skipped.
    pub metadata_records: u64,
    /// Frames of a media type rdpscope does not read (Token Ring, FDDI, WFP, ...), skipped.
    pub unsupported_frames: u64,
    /// Packet Monitor copies (`capture::copies`): frames not analyzed because they repeat a
    /// packet seen at another component microseconds before.
    pub copies: u64,
    /// Frames with a pktmon drop verdict, and the first of their numbers.
    pub drops: u64,
    pub drop_frames: Vec<u64>,
    /// Interfaces (pktmon components) packets came from, when the file says (pcapng EPBs).
    pub interfaces: usize,
}

/// Whether copies of a packet (pktmon) are handed out once or every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copies {
    /// Analysis: each packet once, copies counted.
    Once,
    /// Evidence files: every frame, unchanged.
    Every,
}

/// Capture file formats, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// pcap, pcapng, or anything else: libpcap decides (and names what it cannot read).
    Libpcap,
    /// Microsoft Network Monitor 1.x or 2.x.
    Netmon,
}

/// The first four bytes of a regular file. Only a regular file is looked at: reading a
/// FIFO's first bytes would take them from libpcap.
fn magic(path: &Path) -> Option<[u8; 4]> {
    use std::io::Read;
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut m = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut m)).ok()?;
    Some(m)
}

/// The format of the file at `path` from its magic number; anything not recognised (and a
/// FIFO or an unreadable file) is left to libpcap, which says why it cannot read it.
pub fn detect_format(path: &Path) -> Format {
    if magic(path).is_some_and(|m| super::netmon::detect(&m)) {
        Format::Netmon
    } else {
        Format::Libpcap
    }
}

/// The name of a format libpcap reads, by its magic (a FIFO counts as "pcap").
fn libpcap_format(path: &Path) -> &'static str {
    if magic(path) == Some([0x0A, 0x0D, 0x0D, 0x0A]) {
        "pcapng"
    } else {
        "pcap"
    }
}

/// One frame as read from the file.
pub struct Frame<'a> {
    pub number: u64,
    pub ts: Ts,
    pub link: LinkType,
    pub data: &'a [u8],
    pub wire_len: u32,
}

/// A capture opened by libpcap, whatever its bytes are wrapped in (see `input`): a file by
/// its name, or standard input, a FIFO or a decompressed stream through a pipe. The
/// returned guard reports why the feeding stopped early, if it did.
pub fn open(path: &Path) -> Result<(Capture<pcap::Offline>, Feed), String> {
    let prepared = super::input::prepare(path)?;
    let cap = Capture::from_file_with_precision(&prepared.path, Precision::Nano)
        .map_err(|e| format!("cannot open: {}", open_reason(&e)))?;
    // libpcap holds its own descriptor now; ours would keep a feeding thread from ending.
    drop(prepared.keep);
    Ok((cap, Feed(prepared.feed_error)))
}

/// Why the thread feeding libpcap stopped before the end of its input (a corrupt gzip stream).
pub struct Feed(Option<std::sync::Arc<std::sync::Mutex<Option<String>>>>);

impl Feed {
    pub fn error(&self) -> Option<String> {
        self.0.as_ref().and_then(|e| e.lock().ok().and_then(|g| g.clone()))
    }
}

/// Read `path`, call `on_frame` for every frame that passes `filter`. `on_progress` gets
/// the bytes read so far every few thousand frames.
pub fn read(
    path: &Path,
    filter: &Filter,
    on_frame: &mut dyn FnMut(&Frame<'_>),
    on_progress: &mut dyn FnMut(u64),
) -> Result<ReadSummary, FileError> {
    read_with(path, filter, Copies::Once, on_frame, on_progress)
}

/// [`read`], with the copies of a packet handed out once or every time.
pub fn read_with(
    path: &Path,
    filter: &Filter,
    which: Copies,
    on_frame: &mut dyn FnMut(&Frame<'_>),
    on_progress: &mut dyn FnMut(u64),
) -> Result<ReadSummary, FileError> {
    let shown = path.display().to_string();
    let mut copies = super::copies::Copies::new();
    if detect_format(path) == Format::Netmon {
        let mut once = |f: &Frame<'_>| {
            if which == Copies::Every || !copies.is_copy(f.number, f.ts, None, f.data) {
                on_frame(f);
            }
        };
        let mut s = super::netmon_read::read(path, &shown, filter, &mut once, on_progress)?;
        s.add_copies(copies);
        return Ok(s);
    }
    let (mut cap, feed) = open(path).map_err(|reason| FileError::Open {
        path: shown.clone(),
        reason,
    })?;
    let dlt = cap.get_datalink();
    let link = LinkType::from_dlt(dlt.0).ok_or_else(|| FileError::LinkType {
        path: shown.clone(),
        dlt: dlt.0,
        name: Linktype(dlt.0).get_name().unwrap_or_else(|_| "unknown".into()),
    })?;
    let expr = filter.expression(link);
    let program = cap.compile(&expr, true).map_err(|e| FileError::Filter {
        path: shown.clone(),
        filter: expr.clone(),
        reason: e.to_string(),
    })?;
    // The default filter on Ethernet is answered in Rust where it can be (`ports`).
    let native = match filter {
        super::Filter::Ports(p) if link == LinkType::Ethernet => Some(super::ports::PortCheck::new(p)),
        _ => None,
    };
    let format = libpcap_format(path);
    let mut s = ReadSummary {
        link_type: Some(link),
        format: Some(format),
        ..Default::default()
    };
    // pcapng: interface, packet id and drop verdict of each packet, read in step with libpcap.
    let mut walker = (format == "pcapng")
        .then(|| std::fs::File::open(path).ok().map(super::pcapng_walk::Walker::new))
        .flatten();
    loop {
        match cap.next_packet() {
            Ok(p) => {
                let meta = walker.as_mut().and_then(|w| w.next_packet());
                s.frames += 1;
                s.bytes += 16 + u64::from(p.header.caplen);
                if p.data.is_empty() {
                    s.empty_frames += 1;
                }
                if s.frames.is_multiple_of(4096) {
                    on_progress(s.bytes);
                }
                let pass = native.as_ref().and_then(|n| n.decide(p.data));
                if !pass.unwrap_or_else(|| program.filter(p.data)) {
                    continue;
                }
                let ts = Ts::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
                if which == Copies::Once && copies.is_copy(s.frames, ts, meta.as_ref(), p.data) {
                    continue;
                }
                s.frames_matched += 1;
                on_frame(&Frame {
                    number: s.frames,
                    ts,
                    link,
                    data: p.data,
                    wire_len: p.header.len,
                });
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                s.stopped_early = Some(e.to_string());
                break;
            }
        }
    }
    s.add_copies(copies);
    // A stream that could not be decompressed to its end shows as a truncated capture: say why.
    if let Some(why) = feed.error() {
        s.stopped_early = Some(why);
    }
    on_progress(s.bytes);
    Ok(s)
}

impl ReadSummary {
    fn add_copies(&mut self, c: super::copies::Copies) {
        self.copies = c.copies;
        self.drops = c.drops;
        self.drop_frames = c.drop_frames;
        self.interfaces = c.interfaces.len();
    }
}

/// libpcap's message for a file whose first bytes are no capture it knows, said plainly.
fn open_reason(e: &pcap::Error) -> String {
    let msg = e.to_string();
    if msg.contains("unknown file format") || msg.contains("bad dump file format") {
        // One line that says what is read and how to get there from anything else.
        return format!(
            "not a pcap or pcapng capture ({msg}); rdpscope reads pcap, pcapng and Network Monitor .cap: \
             convert other formats with `editcap -F pcapng IN OUT`, Windows ETL traces with etl2pcapng"
        );
    }
    msg
}
