//! Capture files (pcap and pcapng) read with libpcap. The BPF filter is compiled once and
//! run per packet here rather than installed in libpcap, so that frame numbers count
//! every packet in the file, as Wireshark numbers them.

use std::path::Path;

use pcap::{Capture, Linktype, Precision};

use super::Filter;
use crate::decode::LinkType;
use crate::ts::Ts;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {reason}")]
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
    let shown = path.display().to_string();
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
    let mut s = ReadSummary {
        link_type: Some(link),
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
    // A stream that could not be decompressed to its end shows as a truncated capture: say why.
    if let Some(why) = feed.error() {
        s.stopped_early = Some(why);
    }
    on_progress(s.bytes);
    Ok(s)
}

/// libpcap's message for a file whose first bytes are no capture it knows, said plainly.
fn open_reason(e: &pcap::Error) -> String {
    let msg = e.to_string();
    if msg.contains("unknown file format") || msg.contains("bad dump file format") {
        return format!("not a pcap or pcapng capture ({msg})");
    }
    msg
}
