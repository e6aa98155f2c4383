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
    #[error("{path}: cannot open: {reason}")]
    Open { path: String, reason: String },
    #[error("{path}: unsupported link type {name} ({dlt}); rdpscope reads Ethernet, Linux cooked (SLL/SLL2), BSD loopback and raw IP")]
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

/// A capture file opened by libpcap, whatever bytes its name has: libpcap (through the pcap
/// crate) takes a UTF-8 name only, so another name is opened here and handed over as
/// `/proc/self/fd/N` (the open file is kept until the capture is).
pub fn open(path: &Path) -> Result<(Capture<pcap::Offline>, Option<std::fs::File>), pcap::Error> {
    if path.to_str().is_some() {
        return Capture::from_file_with_precision(path, Precision::Nano).map(|c| (c, None));
    }
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path).map_err(|e| pcap::Error::IoError(e.kind()))?;
    let proc = std::path::PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()));
    Capture::from_file_with_precision(&proc, Precision::Nano).map(|c| (c, Some(f)))
}

/// Read `path`, call `on_frame` for every frame that passes `filter`. `on_progress` gets
/// the bytes read so far every few thousand frames.
pub fn read(
    path: &Path,
    filter: &Filter,
    on_frame: &mut dyn FnMut(&Frame<'_>),
    on_progress: &mut dyn FnMut(u64),
) -> Result<ReadSummary, FileError> {
    let shown = path.display().to_string();
    if detect_format(path) == Format::Netmon {
        return super::netmon_read::read(path, &shown, filter, on_frame, on_progress);
    }
    let (mut cap, _file) = open(path).map_err(|e| FileError::Open {
        path: shown.clone(),
        reason: open_reason(path, &e),
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
    let mut s = ReadSummary {
        link_type: Some(link),
        format: Some(libpcap_format(path)),
        ..Default::default()
    };
    loop {
        match cap.next_packet() {
            Ok(p) => {
                s.frames += 1;
                s.bytes += 16 + u64::from(p.header.caplen);
                if p.data.is_empty() {
                    s.empty_frames += 1;
                }
                if s.frames.is_multiple_of(4096) {
                    on_progress(s.bytes);
                }
                if !program.filter(p.data) {
                    continue;
                }
                s.frames_matched += 1;
                let ts = Ts::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
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
    on_progress(s.bytes);
    Ok(s)
}

/// libpcap's messages for a missing or non-capture file are terse; say what it means.
fn open_reason(path: &Path, e: &pcap::Error) -> String {
    if !path.exists() {
        return "no such file".into();
    }
    if path.is_dir() {
        return "is a directory, not a capture file".into();
    }
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
