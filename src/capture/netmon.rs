//! Microsoft Network Monitor capture files (`.cap`): format 1.x (magic `RTSS`, Network
//! Monitor 1.x/2.x) and 2.x (magic `GMBU`, Network Monitor 3.x and Message Analyzer exports).
//! Pure functions over bytes; `capture::file` does the reading.
//!
//! Format reference: the "Network Monitor Capture File Format" pages of the Network
//! Monitor 3.4 help (2.x), the `CAPTUREFILE_HEADER` of Microsoft's `Bhfile.zip` STRUCT.H
//! (1.x), and Wireshark's `wiretap/netmon.c`, whose numbering and time arithmetic we follow.
//!
//! ```text
//! file header, 128 bytes, little-endian:
//!   0  magic[4]        "RTSS" (1.x) | "GMBU" (2.x)
//!   4  ver_minor u8, ver_major u8
//!   6  network u16     media type of the file (2.1+: per frame, in the trailer)
//!   8  SYSTEMTIME      year, month, dow, day, hour, min, sec, msec (u16 each): capture start,
//!                      in the capturing machine's local time (no zone is stored)
//!  24  frame_table_offset u32, frame_table_length u32 (bytes; 4 per entry)
//!  32  user data, comment data, process info (2.2+), network info offsets/lengths
//! frame table: u32 file offsets of the records, in frame order (records may sit anywhere)
//! record 1.x: ts_delta u32 (ms since start), orig_len u16, incl_len u16, data
//! record 2.x: ts_delta u64 (us since start), orig_len u32, incl_len u32, data, then a trailer:
//!   2.1: network u16 | 2.2: + process_info_index u32 | 2.3+: + utc FILETIME u64 + tz index u8
//! ```
//!
//! Media types (the header's or the trailer's `network`): 0 and 1 Ethernet, 6 802.11 with
//! Network Monitor's metadata header in front, 7/8/9 raw IP (tunnel, WWAN, raw IP frames),
//! `0xE000 | LINKTYPE` a converted pcap frame, `0xE080` plain 802.11. Special records carry
//! metadata, not packets: Wireshark shows ETW events (`0xFFE0`), adapter lists (`0xFFFB`)
//! and the capture filter (`0xFFFF`) as frames of their own, and skips payload headers
//! (`0xFFFC`), network info (`0xFFFD`) and the DNS cache (`0xFFFE`) without a number.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use nom::bytes::complete::take;
use nom::number::complete::{le_u16, le_u32, le_u64, u8 as byte};
use nom::IResult;

use crate::decode::LinkType;
use crate::ts::Ts;

/// The file header is padded to this size.
pub const HEADER_LEN: usize = 128;
/// The largest record accepted (Wireshark's limit for a standard packet): a bigger one is
/// a corrupt file, not a packet.
pub const MAX_RECORD: u32 = 262_144;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetmonError {
    #[error("Network Monitor file too short for its {0}")]
    Short(&'static str),
    #[error("Network Monitor format version {0}.{1} is not supported (1.x and 2.x are)")]
    Version(u8, u8),
    #[error("frame table length {0} is not a whole number of entries")]
    FrameTable(u32),
    #[error("record of {0} bytes is larger than the {MAX_RECORD} bytes a packet can have")]
    TooLarge(u32),
    #[error("time stamp out of range")]
    Time,
}

/// Whether these first bytes are a Network Monitor file (1.x or 2.x).
pub fn detect(first: &[u8]) -> bool {
    matches!(first.get(..4), Some(b"RTSS" | b"GMBU"))
}

/// What the file header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub major: u8,
    pub minor: u8,
    /// Media type of every frame (before 2.1; later files carry one per frame).
    pub network: u16,
    /// Capture start, the header's SYSTEMTIME read as UTC (see [`parse_header`]).
    pub start: Ts,
    pub frame_table_offset: u32,
    /// Entries in the frame table.
    pub frames: u32,
}

impl Header {
    /// Bytes of a record header before the frame data.
    pub fn record_header_len(&self) -> usize {
        if self.major == 1 {
            8
        } else {
            16
        }
    }

    /// Bytes of the trailer after the frame data (2.1 and later).
    pub fn trailer_len(&self) -> usize {
        match (self.major, self.minor) {
            (2, 0) | (1, _) => 0,
            (2, 1) => 2,
            (2, 2) => 6,
            _ => 15,
        }
    }
}

/// The 128-byte file header. The start time is a SYSTEMTIME in the capturing machine's
/// local time with no zone stored; it is read as UTC (Wireshark reads it in the reader's
/// zone: the two agree under TZ=UTC). Format 2.3 frames carry a UTC time of their own.
pub fn parse_header(b: &[u8]) -> Result<Header, NetmonError> {
    let r: IResult<&[u8], Header> = (|i| {
        let (i, _magic) = take(4usize)(i)?;
        let (i, minor) = byte(i)?;
        let (i, major) = byte(i)?;
        let (i, network) = le_u16(i)?;
        let (i, year) = le_u16(i)?;
        let (i, month) = le_u16(i)?;
        let (i, _dow) = le_u16(i)?;
        let (i, day) = le_u16(i)?;
        let (i, hour) = le_u16(i)?;
        let (i, min) = le_u16(i)?;
        let (i, sec) = le_u16(i)?;
        let (i, msec) = le_u16(i)?;
        let (i, frame_table_offset) = le_u32(i)?;
        let (i, frame_table_len) = le_u32(i)?;
        let start = systemtime(year, month, day, hour, min, sec, msec);
        Ok((
            i,
            Header {
                major,
                minor,
                network,
                start,
                frame_table_offset,
                frames: frame_table_len,
            },
        ))
    })(b);
    let (_, mut h) = r.map_err(|_: nom::Err<nom::error::Error<&[u8]>>| NetmonError::Short("header"))?;
    if !(h.major == 1 || h.major == 2) {
        return Err(NetmonError::Version(h.major, h.minor));
    }
    if h.frames % 4 != 0 {
        return Err(NetmonError::FrameTable(h.frames));
    }
    h.frames /= 4;
    Ok(h)
}

/// A SYSTEMTIME as UTC: days from the civil date (Howard Hinnant's algorithm), so that a
/// nonsense date (month 13) still gives a defined time rather than an error.
fn systemtime(year: u16, month: u16, day: u16, hour: u16, min: u16, sec: u16, msec: u16) -> Ts {
    let (y, m) = (i64::from(year), i64::from(month.clamp(1, 12)));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day.max(1)) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec);
    Ts::from_parts(secs, i64::from(msec) * 1_000_000)
}

/// A record's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Time since the capture start, in nanoseconds (signed: see [`parse_record_header`]).
    pub delta_ns: i64,
    pub orig_len: u32,
    pub incl_len: u32,
}

/// A record's header (8 bytes in 1.x, 16 in 2.x). The 2.x delta is documented as unsigned
/// microseconds, but Network Monitor writes frames before the start as the 64-bit value
/// times ten read as signed 100 ns units (Wireshark's reading, kept here).
pub fn parse_record_header(h: &Header, b: &[u8]) -> Result<RecordHeader, NetmonError> {
    let short = |_: nom::Err<nom::error::Error<&[u8]>>| NetmonError::Short("record header");
    let rh = if h.major == 1 {
        let (i, ms) = le_u32(b).map_err(short)?;
        let (i, orig) = le_u16(i).map_err(short)?;
        let (_, incl) = le_u16(i).map_err(short)?;
        RecordHeader {
            delta_ns: i64::from(ms) * 1_000_000,
            orig_len: u32::from(orig),
            incl_len: u32::from(incl),
        }
    } else {
        let (i, us) = le_u64(b).map_err(short)?;
        let (i, orig_len) = le_u32(i).map_err(short)?;
        let (_, incl_len) = le_u32(i).map_err(short)?;
        RecordHeader {
            delta_ns: (us.wrapping_mul(10) as i64).saturating_mul(100),
            orig_len,
            incl_len,
        }
    };
    if rh.incl_len > MAX_RECORD {
        return Err(NetmonError::TooLarge(rh.incl_len));
    }
    Ok(rh)
}

/// What a 2.1+ trailer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub network: u16,
    /// 2.3+: the frame's own time, FILETIME (100 ns units since 1601-01-01 UTC).
    pub utc: Option<u64>,
}

/// The trailer after a 2.1+ record's data (its fields are not aligned).
pub fn parse_trailer(h: &Header, b: &[u8]) -> Result<Trailer, NetmonError> {
    let short = |_: nom::Err<nom::error::Error<&[u8]>>| NetmonError::Short("record trailer");
    let (i, network) = le_u16(b).map_err(short)?;
    let utc = if h.trailer_len() >= 15 {
        let (i, _process) = le_u32(i).map_err(short)?;
        let (_, t) = le_u64(i).map_err(short)?;
        Some(t)
    } else {
        None
    };
    Ok(Trailer { network, utc })
}

/// FILETIME intervals from 1601-01-01 to the Unix epoch.
const FILETIME_EPOCH: i64 = 116_444_736_000_000_000;

/// A frame's time: the 2.3 trailer's UTC time when there is one, else start + delta.
pub fn frame_time(h: &Header, rh: &RecordHeader, t: Option<&Trailer>) -> Result<Ts, NetmonError> {
    if let Some(ft) = t.and_then(|t| t.utc) {
        let ticks = i64::try_from(ft).map_err(|_| NetmonError::Time)? - FILETIME_EPOCH;
        return ticks.checked_mul(100).map(Ts).ok_or(NetmonError::Time);
    }
    h.start.0.checked_add(rh.delta_ns).map(Ts).ok_or(NetmonError::Time)
}

/// What a record holds, by its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// A packet of a link type rdpscope reads, after `skip` bytes of metadata.
    Packet { link: LinkType, skip: MetaSkip },
    /// Metadata Wireshark numbers as a frame (ETW event, adapter list, filter).
    SpecialNumbered(u16),
    /// Metadata Wireshark skips without a number (payload header, network info, DNS cache).
    SpecialUnnumbered(u16),
    /// A packet of a media type rdpscope does not read (Token Ring, FDDI, ATM, WFP, ...).
    Unsupported(u16),
}

/// Metadata in front of the packet bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaSkip {
    None,
    /// Network Monitor's 802.11 metadata header: version u8, then its own length u16.
    Netmon80211,
}

/// The media type of a record (`network` of the file header or the frame trailer).
pub fn media(network: u16) -> Media {
    let packet = |link| Media::Packet {
        link,
        skip: MetaSkip::None,
    };
    match network {
        0 | 1 => packet(LinkType::Ethernet),
        6 => Media::Packet {
            link: LinkType::Ieee80211,
            skip: MetaSkip::Netmon80211,
        },
        7..=9 => packet(LinkType::RawIp),
        0xE080 => packet(LinkType::Ieee80211),
        0xFFE0 | 0xFFFB | 0xFFFF => Media::SpecialNumbered(network),
        0xFFFC..=0xFFFE => Media::SpecialUnnumbered(network),
        n if n & 0xF000 == 0xE000 && n < 0xE080 => {
            LinkType::from_dlt(i32::from(n & 0x0FFF)).map_or(Media::Unsupported(n), packet)
        }
        n => Media::Unsupported(n),
    }
}

/// The packet bytes of a record's data once metadata in front is skipped; `None` when the
/// metadata claims more than the record has.
pub fn packet_bytes(skip: MetaSkip, data: &[u8]) -> Option<&[u8]> {
    match skip {
        MetaSkip::None => Some(data),
        MetaSkip::Netmon80211 => {
            let len = <[u8; 2]>::try_from(data.get(1..3)?).ok()?;
            data.get(usize::from(u16::from_le_bytes(len))..)
        }
    }
}

/// The frame table's entries (record offsets), from its bytes.
pub fn table_entries(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4)
        .map(|c| <[u8; 4]>::try_from(c).map_or(0, u32::from_le_bytes))
}

#[cfg(test)]
#[path = "netmon_tests.rs"]
mod tests;
