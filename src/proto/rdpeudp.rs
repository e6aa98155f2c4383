//! RDP-UDP (MS-RDPEUDP) handshake datagrams: the RDPUDP_FEC_HEADER every version-1
//! datagram starts with (2.2.2.1), and the SYN / SYN+ACK payloads (2.2.2.5, 2.2.2.8,
//! 2.2.2.9). All fields are in network byte order.
//!
//! Only the handshake is decoded. Once RDPEUDP2 is negotiated the datagrams use another
//! layout (MS-RDPEUDP2), so anything that is not a well-formed SYN or SYN+ACK is reported
//! as [`UdpKind::Other`], not as an error.

use super::{ParseError, ParseResult};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u32};
use nom::IResult;

/// RDPUDP_FLAG_SYN.
pub const FLAG_SYN: u16 = 0x0001;
/// RDPUDP_FLAG_FIN.
pub const FLAG_FIN: u16 = 0x0002;
/// RDPUDP_FLAG_ACK.
pub const FLAG_ACK: u16 = 0x0004;
/// RDPUDP_FLAG_DATA.
pub const FLAG_DATA: u16 = 0x0008;
/// RDPUDP_FLAG_SYNLOSSY: the lossy (unreliable) transport is requested.
pub const FLAG_SYNLOSSY: u16 = 0x0200;
/// RDPUDP_FLAG_CORRELATION_ID: an RDPUDP_CORRELATION_ID_PAYLOAD follows the SYN data.
pub const FLAG_CORRELATION_ID: u16 = 0x0800;
/// RDPUDP_FLAG_SYNEX: an RDPUDP_SYNDATAEX_PAYLOAD follows.
pub const FLAG_SYNEX: u16 = 0x1000;

/// `uSynExFlags` bit saying `uUdpVer` is meaningful.
const SYNEX_VERSION_INFO_VALID: u16 = 0x0001;

/// One RDP-UDP datagram, as far as the handshake needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct UdpDatagram {
    /// `snSourceAck`; -1 (0xFFFFFFFF) in a client SYN.
    pub snd_source_ack: u32,
    /// `uReceiveWindowSize`.
    pub receive_window: u16,
    /// `uFlags`, unknown bits kept.
    pub flags: u16,
    pub kind: UdpKind,
    /// Present exactly when `kind` is `Syn` or `SynAck`.
    pub syn: Option<SynInfo>,
}

/// Handshake role of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum UdpKind {
    /// SYN without ACK: the client opens the connection.
    Syn,
    /// SYN and ACK: the server accepts.
    SynAck,
    /// Anything else, including RDPEUDP2 traffic and SYNs too short to carry SYN data.
    Other,
}

/// RDPUDP_SYNDATA_PAYLOAD (2.2.2.5) plus the optional correlation id (2.2.2.8) and
/// SYNEX payload (2.2.2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SynInfo {
    /// `snInitialSequenceNumber`.
    pub initial_sequence: u32,
    /// `uUpStreamMtu` (1132..=1232 when valid; not enforced, we only observe).
    pub upstream_mtu: u16,
    /// `uDownStreamMtu`.
    pub downstream_mtu: u16,
    /// `uCorrelationId`, which ties the UDP flow to the TCP connection that asked for it.
    pub correlation_id: Option<[u8; 16]>,
    /// `uUdpVer` when the SYNEX payload says it is valid: 1, 2, or 0x0101 (= RDPEUDP2).
    pub synex_version: Option<u16>,
    /// RDPUDP_FLAG_SYNLOSSY.
    pub lossy: bool,
}

/// RDPUDP_FEC_HEADER (MS-RDPEUDP 2.2.2.1).
fn fec_header(i: &[u8]) -> IResult<&[u8], (u32, u16, u16)> {
    let (i, ack) = be_u32(i)?;
    let (i, window) = be_u16(i)?;
    let (i, flags) = be_u16(i)?;
    Ok((i, (ack, window, flags)))
}

/// Parses one RDP-UDP datagram (MS-RDPEUDP 2.2.2.1 header; for SYN and SYN+ACK also
/// 2.2.2.5 RDPUDP_SYNDATA_PAYLOAD, 2.2.2.8 RDPUDP_CORRELATION_ID_PAYLOAD and
/// 2.2.2.9 RDPUDP_SYNDATAEX_PAYLOAD).
///
/// Only fewer than 8 bytes is an error (`Malformed`: a datagram does not grow with
/// reassembly, so "incomplete" would mislead). A datagram with the SYN flag but no room for the SYN data
/// is `Other`, since RDPEUDP2 data can have that bit pattern by chance. Optional payloads
/// that are cut short are left `None`.
pub fn parse_datagram(i: &[u8]) -> ParseResult<UdpDatagram> {
    let (rest, (snd_source_ack, receive_window, flags)) =
        fec_header(i).map_err(|_: nom::Err<nom::error::Error<&[u8]>>| {
            ParseError::Malformed("RDPEUDP: datagram shorter than the 8-byte header")
        })?;

    let mut d = UdpDatagram {
        snd_source_ack,
        receive_window,
        flags,
        kind: UdpKind::Other,
        syn: None,
    };
    if flags & FLAG_SYN == 0 {
        return Ok(d);
    }
    let Some(syn) = syn_payloads(rest, flags) else {
        return Ok(d);
    };
    d.kind = if flags & FLAG_ACK == 0 {
        UdpKind::Syn
    } else {
        UdpKind::SynAck
    };
    d.syn = Some(syn);
    Ok(d)
}

/// The SYN data, then the payloads announced by the flags, in the order of
/// MS-RDPEUDP 3.1.5.1.1: correlation id (SYN only in practice, but taken whenever the flag
/// says so) before SYNEX.
fn syn_payloads(i: &[u8], flags: u16) -> Option<SynInfo> {
    type E<'a> = nom::error::Error<&'a [u8]>;
    let (i, initial_sequence) = be_u32::<_, E>(i).ok()?;
    let (i, upstream_mtu) = be_u16::<_, E>(i).ok()?;
    let (mut i, downstream_mtu) = be_u16::<_, E>(i).ok()?;
    let mut syn = SynInfo {
        initial_sequence,
        upstream_mtu,
        downstream_mtu,
        correlation_id: None,
        synex_version: None,
        lossy: flags & FLAG_SYNLOSSY != 0,
    };

    if flags & FLAG_CORRELATION_ID != 0 {
        // 16-byte id then 16 reserved bytes.
        let Ok((rest, id)) = take::<_, _, E>(16usize)(i) else {
            return Some(syn);
        };
        syn.correlation_id = <[u8; 16]>::try_from(id).ok();
        let Ok((rest, _reserved)) = take::<_, _, E>(16usize)(rest) else {
            return Some(syn);
        };
        i = rest;
    }
    if flags & FLAG_SYNEX != 0 {
        let Ok((rest, synex_flags)) = be_u16::<_, E>(i) else {
            return Some(syn);
        };
        let Ok((_, version)) = be_u16::<_, E>(rest) else {
            return Some(syn);
        };
        if synex_flags & SYNEX_VERSION_INFO_VALID != 0 {
            syn.synex_version = Some(version);
        }
    }
    Some(syn)
}

/// Cheap pre-filter for a client SYN (MS-RDPEUDP 3.1.5.1.1): `snSourceAck` is -1 and the
/// SYN flag is set. Use it to pick RDP-UDP flows out of arbitrary UDP on port 3389.
pub fn looks_like_syn(i: &[u8]) -> bool {
    matches!(i, [0xff, 0xff, 0xff, 0xff, _, _, _, lo, ..] if u16::from(*lo) & FLAG_SYN != 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Real UDP payloads from /work/main/fixtures/real.

    /// zeek__rdpeudp-handshake-fail.pcap frame 1: client SYN (CORRELATION_ID | SYNEX), first 52 of 1232 bytes; the rest is zero padding
    const FAIL_SYN: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0x00, 0x40, 0x18, 0x01, 0xee, 0x40, 0x71, 0xdc, 0x04, 0xd0, 0x04, 0xd0, 0xf8, 0x53,
        0x03, 0x60, 0xca, 0x7f, 0x42, 0x41, 0xa6, 0x73, 0x74, 0xe5, 0x20, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02,
    ];

    /// zeek__rdpeudp-handshake-success.pcap frame 1 (IPv6): client SYN, first 52 of 1232 bytes; the rest is zero padding
    const V1_SYN: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0x00, 0x40, 0x18, 0x01, 0x0b, 0x12, 0x7f, 0x15, 0x04, 0xd0, 0x04, 0xd0, 0x78, 0x55,
        0xd0, 0x64, 0xfb, 0xaf, 0x43, 0xf0, 0xb6, 0xe8, 0xf8, 0xaa, 0xdf, 0xad, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,
    ];

    /// zeek__rdpeudp-handshake-success.pcap frame 2: server SYN+ACK (SYNEX), first 20 of 1232 bytes; the rest is zero padding
    const V1_SYNACK: &[u8] = &[
        0x0b, 0x12, 0x7f, 0x15, 0x00, 0x40, 0x10, 0x05, 0x0f, 0x94, 0xea, 0x0b, 0x04, 0xd0, 0x04, 0xd0, 0x00, 0x01,
        0x00, 0x02,
    ];

    /// zeek__rdpeudp-handshake-success.pcap frame 8: ACK|DATA datagram carrying TLS
    const V1_DATA: &[u8] = &[
        0x0b, 0x12, 0x7f, 0x18, 0x00, 0xc8, 0x00, 0x0c, 0x00, 0x01, 0x02, 0x1f, 0x0f, 0x94, 0xea, 0x0e, 0x0f, 0x94,
        0xea, 0x0e, 0x17, 0x03, 0x03, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x9b, 0x87, 0xbf,
        0xaa, 0x04, 0x99, 0x46, 0x17, 0x92, 0xa5, 0xf5, 0x25, 0x2a, 0x05, 0x82, 0xb4, 0xa9, 0xf3, 0x6e, 0xa9, 0xa3,
        0xbc, 0xcb, 0x98,
    ];

    /// zeek__rdpeudp2-handshake-success.pcap frame 1: client SYN offering uUdpVer 0x0101, first 52 of 1232 bytes
    const V2_SYN: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0x00, 0x40, 0x18, 0x01, 0xa7, 0xeb, 0x5d, 0xa4, 0x04, 0xd0, 0x04, 0xd0, 0xa2, 0xe2,
        0xc8, 0x18, 0x6d, 0xe3, 0x4f, 0x1e, 0x8d, 0x0f, 0x91, 0x75, 0xe4, 0xcd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01,
    ];

    /// zeek__rdpeudp2-handshake-success.pcap frame 2: server SYN+ACK choosing 0x0101, first 20 of 1232 bytes
    const V2_SYNACK: &[u8] = &[
        0xa7, 0xeb, 0x5d, 0xa4, 0x00, 0x40, 0x10, 0x05, 0x05, 0x47, 0xd7, 0x2b, 0x04, 0xd0, 0x04, 0xd0, 0x00, 0x01,
        0x01, 0x01,
    ];

    /// zeek__rdpeudp2-handshake-success.pcap frame 6: RDPEUDP2 packet (not the v1 layout)
    const V2_DATA: &[u8] = &[
        0x02, 0x14, 0xc0, 0x64, 0x00, 0x65, 0x00, 0xe0, 0x00, 0xbd, 0xcd, 0xd3, 0x07, 0xbc, 0x54, 0x57, 0xe6, 0x51,
        0x0e, 0xde, 0x63, 0x95, 0x55, 0x8b, 0x99, 0x09, 0xb8, 0x68, 0xf1, 0xb6, 0x06, 0x62, 0xcb, 0x59, 0x81, 0xe9,
        0x94, 0x36, 0x26, 0x05, 0xff, 0xa1, 0x83, 0xe9, 0xe2, 0x55, 0xf2, 0x80, 0xca, 0x59, 0x9a, 0xa0, 0x3d, 0x15,
        0xed, 0xb3, 0x19, 0x5d, 0x83, 0x70, 0xa7, 0x18, 0x28, 0x48, 0x39, 0x6a, 0x8c, 0xa6, 0x45, 0x01, 0xf7, 0x0e,
        0x00, 0x00, 0x00,
    ];

    /// ndpi__rdp2.pcapng frame 33 (VLAN): client SYN with SYNLOSSY, first 84 of 1232 bytes (a 32-byte cookie hash follows SYNEX although uUdpVer is 2)
    const LOSSY_SYN: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0x00, 0x40, 0x1a, 0x01, 0x9f, 0xd6, 0x75, 0x2b, 0x04, 0xd0, 0x04, 0xd0, 0x72, 0xb5,
        0x3b, 0x84, 0x7b, 0x4a, 0x47, 0x5d, 0xb6, 0xab, 0x6b, 0x23, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x71, 0xbb,
        0xbe, 0x88, 0x94, 0x3e, 0x58, 0x21, 0xd3, 0x91, 0xe6, 0x90, 0x0e, 0x22, 0x7c, 0xa1, 0xd7, 0xc7, 0x31, 0xad,
        0xc4, 0x41, 0x7e, 0xd1, 0x8f, 0xc1, 0xd1, 0x9e, 0x82, 0xd6, 0xd2, 0x0d,
    ];

    /// ndpi__rdp2.pcapng frame 13: 12-byte mid-stream datagram
    const V2_ACK: &[u8] = &[0x10, 0x97, 0x60, 0x37, 0x03, 0xff, 0x04, 0x04, 0x00, 0x01, 0x04, 0x00];

    /// SYN and SYN+ACK datagrams are padded with zeros to 1232 bytes on the wire;
    /// rebuild the full datagram from its non-zero head.
    fn padded(head: &[u8]) -> Vec<u8> {
        let mut v = head.to_vec();
        v.resize(1232, 0);
        v
    }

    #[test]
    fn unanswered_syn() {
        let d = parse_datagram(&padded(FAIL_SYN)).unwrap();
        assert_eq!(d.kind, UdpKind::Syn);
        assert_eq!(d.snd_source_ack, 0xffff_ffff);
        assert_eq!(d.receive_window, 64);
        assert_eq!(d.flags, FLAG_SYN | FLAG_CORRELATION_ID | FLAG_SYNEX);
        let syn = d.syn.unwrap();
        assert_eq!(syn.initial_sequence, 0xee40_71dc);
        assert_eq!((syn.upstream_mtu, syn.downstream_mtu), (1232, 1232));
        assert_eq!(
            syn.correlation_id,
            Some([0xf8, 0x53, 0x03, 0x60, 0xca, 0x7f, 0x42, 0x41, 0xa6, 0x73, 0x74, 0xe5, 0x20, 0x1a, 0x00, 0x00])
        );
        assert_eq!(syn.synex_version, Some(2));
        assert!(!syn.lossy);
        assert!(looks_like_syn(FAIL_SYN));
    }

    #[test]
    fn v1_handshake_syn_then_synack() {
        let syn = parse_datagram(&padded(V1_SYN)).unwrap();
        let ack = parse_datagram(&padded(V1_SYNACK)).unwrap();
        assert_eq!(syn.kind, UdpKind::Syn);
        assert_eq!(ack.kind, UdpKind::SynAck);
        assert_eq!(ack.flags, FLAG_SYN | FLAG_ACK | FLAG_SYNEX);
        // The server acknowledges the client's initial sequence number.
        assert_eq!(ack.snd_source_ack, syn.syn.unwrap().initial_sequence);
        let a = ack.syn.unwrap();
        assert_eq!(a.initial_sequence, 0x0f94_ea0b);
        assert_eq!(a.correlation_id, None);
        assert_eq!(a.synex_version, Some(2));
        assert!(!looks_like_syn(V1_SYNACK));
    }

    #[test]
    fn v2_handshake_negotiates_0x0101() {
        let syn = parse_datagram(&padded(V2_SYN)).unwrap();
        let ack = parse_datagram(&padded(V2_SYNACK)).unwrap();
        assert_eq!((syn.kind, ack.kind), (UdpKind::Syn, UdpKind::SynAck));
        assert_eq!(syn.syn.unwrap().synex_version, Some(0x0101));
        assert_eq!(ack.syn.unwrap().synex_version, Some(0x0101));
    }

    #[test]
    fn lossy_syn() {
        let d = parse_datagram(&padded(LOSSY_SYN)).unwrap();
        assert_eq!(d.kind, UdpKind::Syn);
        assert_eq!(d.flags, 0x1a01);
        let syn = d.syn.unwrap();
        assert!(syn.lossy);
        assert_eq!(syn.synex_version, Some(2));
        assert!(syn.correlation_id.is_some());
    }

    #[test]
    fn data_after_handshake_is_other() {
        for dgram in [V1_DATA, V2_DATA, V2_ACK] {
            let d = parse_datagram(dgram).unwrap();
            assert_eq!(d.kind, UdpKind::Other);
            assert_eq!(d.syn, None);
            assert!(!looks_like_syn(dgram));
        }
        assert_eq!(parse_datagram(V1_DATA).unwrap().flags, FLAG_ACK | FLAG_DATA);
    }

    #[test]
    fn short_inputs() {
        // Below 8 bytes there is no header.
        for n in 0..8 {
            assert!(matches!(parse_datagram(&FAIL_SYN[..n]), Err(ParseError::Malformed(_))));
            assert!(!looks_like_syn(&FAIL_SYN[..n]));
        }
        // A SYN flag without room for the SYN data is not a handshake.
        let d = parse_datagram(&FAIL_SYN[..15]).unwrap();
        assert_eq!((d.kind, d.syn), (UdpKind::Other, None));
        // SYN data present, correlation id cut short: the SYN is still recognised.
        let d = parse_datagram(&FAIL_SYN[..30]).unwrap();
        assert_eq!(d.kind, UdpKind::Syn);
        assert_eq!(d.syn.unwrap().correlation_id, None);
        // The unpadded 52-byte head carries everything.
        assert_eq!(
            parse_datagram(FAIL_SYN).unwrap(),
            parse_datagram(&padded(FAIL_SYN)).unwrap()
        );
    }

    #[test]
    fn unknown_flags_are_kept() {
        let mut v = padded(V1_SYN);
        v[6] |= 0x80; // a flag bit MS-RDPEUDP does not define
        let d = parse_datagram(&v).unwrap();
        assert_eq!(d.flags, 0x9801);
        assert_eq!(d.kind, UdpKind::Syn);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..1300)) {
            let r = parse_datagram(&b);
            prop_assert_eq!(r.is_err(), b.len() < 8);
            if let Ok(d) = r {
                prop_assert_eq!(d.syn.is_some(), d.kind != UdpKind::Other);
            }
            let _ = looks_like_syn(&b);
        }
    }
}
