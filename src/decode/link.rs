//! Link-layer framing: strips whatever sits in front of the IP header for each
//! supported capture link type, so that `etherparse` can take it from there.

use etherparse::EtherType;

/// Capture link types rdpscope understands. Values are libpcap's DLT numbers as
/// reported by `pcap_datalink()` (libpcap maps the file's LINKTYPE to these).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LinkType {
    Ethernet,
    /// BSD loopback (DLT_NULL, host byte order) and OpenBSD DLT_LOOP (network order).
    Null,
    LinuxSll,
    LinuxSll2,
    /// Raw IP with the version taken from the first nibble.
    RawIp,
}

impl LinkType {
    pub fn from_dlt(dlt: i32) -> Option<LinkType> {
        Some(match dlt {
            1 => LinkType::Ethernet,
            0 | 108 => LinkType::Null,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            // DLT_RAW is 12 on most systems and 14 on OpenBSD; 101 is LINKTYPE_RAW when not
            // mapped; 228/229 are raw IPv4/IPv6.
            12 | 14 | 101 | 228 | 229 => LinkType::RawIp,
            _ => return None,
        })
    }
}

/// What follows the link header.
pub enum Inner<'a> {
    /// An Ethernet II frame (VLAN tags are handled by etherparse).
    Ethernet(&'a [u8]),
    /// A payload with a known EtherType.
    EtherType(EtherType, &'a [u8]),
    /// An IP packet (v4 or v6, by its first nibble).
    Ip(&'a [u8]),
}

/// Strip the link header. `None` when the frame is too short for its link type.
pub fn strip(link: LinkType, data: &[u8]) -> Option<Inner<'_>> {
    match link {
        LinkType::Ethernet => Some(Inner::Ethernet(data)),
        // A 4-byte address family (2 = IPv4; 24, 28, 30 = IPv6 on the BSDs); the IP
        // version nibble is more reliable than the family's byte order.
        LinkType::Null => data.get(4..).map(Inner::Ip),
        // SLL: 16-byte header, protocol type in the last two bytes.
        LinkType::LinuxSll => {
            let proto = data.get(14..16)?.try_into().ok()?;
            Some(Inner::EtherType(EtherType(u16::from_be_bytes(proto)), data.get(16..)?))
        }
        // SLL2: 20-byte header, protocol type first.
        LinkType::LinuxSll2 => {
            let proto = data.get(0..2)?.try_into().ok()?;
            Some(Inner::EtherType(EtherType(u16::from_be_bytes(proto)), data.get(20..)?))
        }
        LinkType::RawIp => Some(Inner::Ip(data)),
    }
}
