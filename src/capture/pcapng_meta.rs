//! What a pcapng packet block says beside its bytes, which libpcap does not hand out: the
//! interface it was captured on, a packet id shared by the copies of one packet, and a drop
//! verdict. Windows' Packet Monitor (pktmon) logs a packet at every networking component it
//! crosses; etl2pcapng (>= 1.12, microsoft/etl2pcapng PR #79) writes one Interface Description
//! Block per component, so the copies of a packet sit on different interfaces.
//!
//! Pure functions over block bytes (pcapng, draft-ietf-opsawg-pcapng):
//! ```text
//! block: type u32, total length u32, body, total length u32 (4-byte aligned)
//! EPB (type 6, 4.3): interface id u32, ts high u32, ts low u32, captured len u32,
//!                    original len u32, data (padded to 4), options
//! SPB (type 3), PB (type 2, obsolete): packets too (libpcap returns them in file order)
//! option: code u16, length u16, value (padded to 4); 0 ends the list
//!   1 opt_comment | 4.3.1: 2 epb_flags, 3 epb_hash, 4 epb_dropcount, 5 epb_packetid (u64),
//!   6 epb_queue, 7 epb_verdict
//! ```
//! pktmon's own text format for a packet, which converters also put in comments, names the
//! packet `PktGroupId G, PktNumber N` and starts a dropped one with `Drop:`; a comment of that
//! form stands in for a missing epb_packetid.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub const SHB: u32 = 0x0A0D_0D0A;
const EPB: u32 = 6;
const SPB: u32 = 3;
const PB: u32 = 2;
const OPT_COMMENT: u16 = 1;
const EPB_PACKETID: u16 = 5;
const EPB_VERDICT: u16 = 7;

/// What one packet block says beside the packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketMeta {
    /// The interface (for pktmon: the component) it was captured on; SPBs have none.
    pub interface: Option<u32>,
    /// Shared by every copy of one packet (epb_packetid, or pktmon's group id and number).
    pub packet_id: Option<u64>,
    /// An epb_verdict option, or a pktmon comment saying `Drop`.
    pub dropped: bool,
}

/// What a block is, for the walk in step with libpcap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// A Section Header Block: its byte order (big-endian when true) holds from here.
    Section {
        big_endian: bool,
    },
    Packet(PacketMeta),
    Other,
}

fn u16_at(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let x = <[u8; 2]>::try_from(b.get(at..at.checked_add(2)?)?).ok()?;
    Some(if be {
        u16::from_be_bytes(x)
    } else {
        u16::from_le_bytes(x)
    })
}

fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let x = <[u8; 4]>::try_from(b.get(at..at.checked_add(4)?)?).ok()?;
    Some(if be {
        u32::from_be_bytes(x)
    } else {
        u32::from_le_bytes(x)
    })
}

fn u64_at(b: &[u8], at: usize, be: bool) -> Option<u64> {
    let x = <[u8; 8]>::try_from(b.get(at..at.checked_add(8)?)?).ok()?;
    Some(if be {
        u64::from_be_bytes(x)
    } else {
        u64::from_le_bytes(x)
    })
}

/// A block's type and total length from its first 8 bytes (`None` if short).
pub fn block_head(b: &[u8], be: bool) -> Option<(u32, u32)> {
    Some((u32_at(b, 0, be)?, u32_at(b, 4, be)?))
}

/// The byte order of a Section Header Block from its byte-order magic (bytes 8..12).
pub fn section_big_endian(b: &[u8]) -> Option<bool> {
    match b.get(8..12)? {
        [0x1A, 0x2B, 0x3C, 0x4D] => Some(true),
        [0x4D, 0x3C, 0x2B, 0x1A] => Some(false),
        _ => None,
    }
}

/// Classify a whole block (`b` from its type field to its trailing length).
pub fn parse_block(b: &[u8], be: bool) -> Block {
    let Some((kind, _)) = block_head(b, be) else {
        return Block::Other;
    };
    match kind {
        SHB => section_big_endian(b).map_or(Block::Other, |big_endian| Block::Section { big_endian }),
        EPB => Block::Packet(epb(b, be).unwrap_or_default()),
        SPB | PB => Block::Packet(PacketMeta::default()),
        _ => Block::Other,
    }
}

/// An EPB's interface and options (what cannot be read stays unknown).
fn epb(b: &[u8], be: bool) -> Option<PacketMeta> {
    let interface = u32_at(b, 8, be)?;
    let caplen = usize::try_from(u32_at(b, 20, be)?).ok()?;
    let mut meta = PacketMeta {
        interface: Some(interface),
        ..Default::default()
    };
    // Options start after the 28 bytes of header and the padded data; the last 4 bytes are
    // the trailing length.
    let mut at = 28usize.checked_add(caplen.checked_add(3)? & !3)?;
    let end = b.len().checked_sub(4)?;
    while at.checked_add(4)? <= end {
        let code = u16_at(b, at, be)?;
        let len = usize::from(u16_at(b, at + 2, be)?);
        let value = b.get(at + 4..(at + 4).checked_add(len)?.min(end))?;
        match code {
            0 => break,
            EPB_PACKETID if len == 8 => meta.packet_id = u64_at(value, 0, be),
            EPB_VERDICT => meta.dropped = true,
            OPT_COMMENT => {
                let text = String::from_utf8_lossy(value);
                meta.dropped |= text.contains("Drop");
                if meta.packet_id.is_none() {
                    meta.packet_id = comment_id(&text);
                }
            }
            _ => {}
        }
        at = at.checked_add(4)?.checked_add(len.checked_add(3)? & !3)?;
    }
    Some(meta)
}

/// `PktGroupId G, PktNumber N` in pktmon's text, as one id.
fn comment_id(text: &str) -> Option<u64> {
    let number_after = |key: &str| -> Option<u64> {
        let rest = text.get(text.find(key)? + key.len()..)?.trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let group = number_after("PktGroupId")?;
    let number = number_after("PktNumber").unwrap_or(0);
    Some(group.wrapping_mul(0x1_0000).wrapping_add(number))
}

#[cfg(test)]
#[path = "pcapng_meta_tests.rs"]
mod tests;
