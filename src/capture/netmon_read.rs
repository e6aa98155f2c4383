//! Reading a Network Monitor capture file (`capture::netmon` parses, this reads): records in
//! frame-table order, each with its own media type, the BPF filter compiled per link type
//! (a file may mix Ethernet, Wi-Fi and raw IP), special records skipped and counted, frame
//! numbers as Wireshark gives them. Memory stays bounded whatever the file says: the frame
//! table is read a chunk at a time and a record is at most `netmon::MAX_RECORD` bytes.

use std::io::{BufReader, Read, Seek, SeekFrom};

use pcap::{BpfProgram, Capture, Linktype};

use super::file::{FileError, Frame, ReadSummary};
use super::netmon::{self, Header, Media};
use super::Filter;
use crate::decode::LinkType;

/// Frame-table entries read at once (64 KiB).
const TABLE_CHUNK: usize = 16_384;

/// The frame table, read a chunk at a time through its own handle (the record reader keeps
/// its own file position).
struct Table<T> {
    file: T,
    offset: u64,
    len: u32,
    next: u32,
    chunk: Vec<u32>,
    at: usize,
}

impl<T: Read + Seek> Table<T> {
    fn next(&mut self) -> std::io::Result<Option<u32>> {
        if self.at >= self.chunk.len() {
            if self.next >= self.len {
                return Ok(None);
            }
            let n = (self.len - self.next).min(TABLE_CHUNK as u32);
            let mut buf = vec![0u8; n as usize * 4];
            self.file
                .seek(SeekFrom::Start(self.offset + u64::from(self.next) * 4))?;
            self.file.read_exact(&mut buf)?;
            self.chunk.clear();
            self.chunk.extend(netmon::table_entries(&buf));
            self.at = 0;
            self.next += n;
        }
        let v = self.chunk.get(self.at).copied();
        self.at += 1;
        Ok(v)
    }
}

/// The BPF program for each link type met so far (a handful at most).
struct Programs<'f> {
    filter: &'f Filter,
    shown: &'f str,
    compiled: Vec<(LinkType, BpfProgram)>,
}

impl Programs<'_> {
    fn matches(&mut self, link: LinkType, data: &[u8]) -> Result<bool, FileError> {
        if let Some((_, p)) = self.compiled.iter().find(|(l, _)| *l == link) {
            return Ok(p.filter(data));
        }
        let expr = self.filter.expression(link);
        let err = |reason: String| FileError::Filter {
            path: self.shown.to_string(),
            filter: expr.clone(),
            reason,
        };
        let program = Capture::dead(Linktype(link.dlt()))
            .map_err(|e| err(e.to_string()))?
            .compile(&expr, true)
            .map_err(|e| err(e.to_string()))?;
        let hit = program.filter(data);
        self.compiled.push((link, program));
        Ok(hit)
    }
}

/// Read the Network Monitor file at `path`, as `capture::file::read` reads a pcap.
pub fn read(
    path: &std::path::Path,
    shown: &str,
    filter: &Filter,
    on_frame: &mut dyn FnMut(&Frame<'_>),
    on_progress: &mut dyn FnMut(u64),
) -> Result<ReadSummary, FileError> {
    let open = || {
        std::fs::File::open(path).map_err(|e| FileError::Open {
            path: shown.to_string(),
            reason: e.to_string(),
        })
    };
    // Two handles: records and frame table each keep their own position.
    read_from(open()?, open()?, shown, filter, on_frame, on_progress)
}

/// Read a Network Monitor file from `records` (the whole file) and `table` (the same bytes,
/// a second handle for the frame table). Pure but for the BPF filter: the fuzzer's entry.
pub fn read_from<R: Read + Seek, T: Read + Seek>(
    records: R,
    table: T,
    shown: &str,
    filter: &Filter,
    on_frame: &mut dyn FnMut(&Frame<'_>),
    on_progress: &mut dyn FnMut(u64),
) -> Result<ReadSummary, FileError> {
    let bad = |reason: String| FileError::Open {
        path: shown.to_string(),
        reason,
    };
    let mut r = BufReader::with_capacity(256 * 1024, records);
    let mut head = [0u8; netmon::HEADER_LEN];
    r.read_exact(&mut head)
        .map_err(|_| bad("Network Monitor file shorter than its 128-byte header".into()))?;
    let h = netmon::parse_header(&head).map_err(|e| bad(e.to_string()))?;
    let mut table = Table {
        file: table,
        offset: u64::from(h.frame_table_offset),
        len: h.frames,
        next: 0,
        chunk: Vec::new(),
        at: 0,
    };
    let mut programs = Programs {
        filter,
        shown,
        compiled: Vec::new(),
    };
    let mut s = ReadSummary {
        format: Some(if h.major == 1 { "netmon1" } else { "netmon2" }),
        ..Default::default()
    };
    let mut pos = netmon::HEADER_LEN as u64;
    let mut buf = Vec::new();
    loop {
        let offset = match table.next() {
            Ok(Some(o)) => u64::from(o),
            Ok(None) => break,
            Err(e) => {
                s.stopped_early = Some(format!("frame table unreadable: {e}"));
                break;
            }
        };
        let got = record(&mut r, &mut pos, offset, &h, &mut buf);
        let (rh, media) = match got {
            Ok(v) => v,
            Err(e) => {
                s.stopped_early = Some(format!("record {} at offset {offset}: {e}", s.frames + 1));
                break;
            }
        };
        s.bytes = pos;
        if let Media::SpecialUnnumbered(_) = media {
            s.metadata_records += 1;
            continue;
        }
        s.frames += 1;
        if s.frames.is_multiple_of(4096) {
            on_progress(s.bytes);
        }
        let (link, skip) = match media {
            Media::Packet { link, skip } => (link, skip),
            Media::SpecialNumbered(_) => {
                s.metadata_records += 1;
                continue;
            }
            Media::SpecialUnnumbered(_) | Media::Unsupported(_) => {
                s.unsupported_frames += 1;
                continue;
            }
        };
        let data = buf.get(..rh.incl_len as usize).unwrap_or_default();
        let Some(packet) = netmon::packet_bytes(skip, data) else {
            s.unsupported_frames += 1;
            continue;
        };
        if packet.is_empty() {
            s.empty_frames += 1;
        }
        s.link_type.get_or_insert(link);
        if !programs.matches(link, packet)? {
            continue;
        }
        let trailer = netmon::parse_trailer(&h, buf.get(rh.incl_len as usize..).unwrap_or_default()).ok();
        let ts = match netmon::frame_time(&h, &rh, trailer.as_ref()) {
            Ok(ts) => ts,
            Err(e) => {
                s.stopped_early = Some(format!("frame {}: {e}", s.frames));
                break;
            }
        };
        s.frames_matched += 1;
        let cut = (data.len() - packet.len()) as u32;
        on_frame(&Frame {
            number: s.frames,
            ts,
            link,
            data: packet,
            wire_len: rh.orig_len.saturating_sub(cut),
        });
    }
    on_progress(s.bytes);
    Ok(s)
}

/// Read the record at `offset` into `buf` (data then trailer); its header and media type.
fn record<R: Read + Seek>(
    r: &mut BufReader<R>,
    pos: &mut u64,
    offset: u64,
    h: &Header,
    buf: &mut Vec<u8>,
) -> Result<(netmon::RecordHeader, Media), String> {
    if offset != *pos {
        // Records usually follow each other; a jump (holes, a trailer record stored first)
        // is a seek that keeps the buffer when it can.
        let delta = i64::try_from(offset).unwrap_or(i64::MAX) - i64::try_from(*pos).unwrap_or(0);
        r.seek_relative(delta).map_err(|e| e.to_string())?;
        *pos = offset;
    }
    let mut rh_bytes = [0u8; 16];
    let rh_bytes = rh_bytes.get_mut(..h.record_header_len()).unwrap_or_default();
    r.read_exact(rh_bytes).map_err(|_| "cut short".to_string())?;
    let rh = netmon::parse_record_header(h, rh_bytes).map_err(|e| e.to_string())?;
    let total = rh.incl_len as usize + h.trailer_len();
    buf.resize(total, 0);
    r.read_exact(buf).map_err(|_| "cut short".to_string())?;
    *pos += (h.record_header_len() + total) as u64;
    let network = if h.trailer_len() > 0 {
        netmon::parse_trailer(h, buf.get(rh.incl_len as usize..).unwrap_or_default())
            .map_err(|e| e.to_string())?
            .network
    } else {
        h.network
    };
    Ok((rh, netmon::media(network)))
}
