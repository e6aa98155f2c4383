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
    /// IEEE 802.11 frames without radio header (Wi-Fi in Network Monitor captures).
    Ieee80211,
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
            105 => LinkType::Ieee80211,
            _ => return None,
        })
    }

    /// libpcap's DLT for this link type (for BPF and for files written).
    pub fn dlt(self) -> i32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::Null => 0,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::RawIp => 12,
            LinkType::Ieee80211 => 105,
        }
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
        LinkType::Ieee80211 => wifi_data(data),
    }
}

/// An 802.11 data frame's payload behind its LLC/SNAP header (IEEE 802.11-2020 9.2.4 and
/// 9.3.2.1, RFC 1042 encapsulation). Management, control, null-data and protected frames
/// carry no readable IP: `None`.
fn wifi_data(data: &[u8]) -> Option<Inner<'_>> {
    let fc = u16::from_le_bytes(<[u8; 2]>::try_from(data.get(0..2)?).ok()?);
    let (kind, subtype) = ((fc >> 2) & 3, (fc >> 4) & 0xF);
    // Type 2 is data; subtypes with bit 2 set have no payload; bit 14 is Protected Frame.
    if kind != 2 || subtype & 0x4 != 0 || fc & 0x4000 != 0 {
        return None;
    }
    // Address 4 when both To DS and From DS are set; QoS Control for QoS subtypes; HT
    // Control when a QoS frame has the +HTC/Order bit.
    let mut len = if fc & 0x0300 == 0x0300 { 30 } else { 24 };
    if subtype & 0x8 != 0 {
        len += 2;
        if fc & 0x8000 != 0 {
            len += 4;
        }
    }
    let llc = data.get(len..len + 8)?;
    if llc.get(0..6)? != [0xAA, 0xAA, 0x03, 0, 0, 0] {
        return None;
    }
    let proto = u16::from_be_bytes(<[u8; 2]>::try_from(llc.get(6..8)?).ok()?);
    Some(Inner::EtherType(EtherType(proto), data.get(len + 8..)?))
}
