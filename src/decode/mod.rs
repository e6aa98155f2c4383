//! Frame decoding: link layer → IP → TCP/UDP, with `etherparse` doing the header work.
//! Lax slicing keeps snaplen-cut packets usable: their headers are read and the missing
//! payload length is reported so reassembly can count it as a gap instead of guessing.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod fast;
pub mod link;

use std::net::IpAddr;

use etherparse::{LaxNetSlice, LaxSlicedPacket, TcpOptionElement, TransportSlice};

pub use link::LinkType;

/// TCP header facts the analysis uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    pub ack_flag: bool,
    pub fin: bool,
    pub rst: bool,
    pub window: u16,
    pub mss: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp(TcpHeader),
    Udp { src_port: u16, dst_port: u16 },
}

/// A decoded frame. `payload` is what the capture holds; `missing` is how many payload
/// bytes the snaplen cut off (0 for a complete packet).
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport,
    pub payload: &'a [u8],
    pub missing: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame too short for its link type")]
    ShortLink,
    #[error("no IPv4/IPv6 header")]
    NotIp,
    #[error("not TCP or UDP (or an IP fragment)")]
    NotTcpUdp,
}

/// Decode one frame. `wire_len` is the original length from the capture record header.
pub fn decode(link: LinkType, data: &[u8], wire_len: u32) -> Result<Packet<'_>, DecodeError> {
    if let Some(p) = fast::decode(link, data, wire_len) {
        return Ok(p);
    }
    decode_with_etherparse(link, data, wire_len)
}

/// The general decoder (every link type, VLAN depth, IPv6 extension header, fragment and
/// truncation case), by `etherparse`.
pub fn decode_with_etherparse(link: LinkType, data: &[u8], wire_len: u32) -> Result<Packet<'_>, DecodeError> {
    let sliced = match link::strip(link, data).ok_or(DecodeError::ShortLink)? {
        link::Inner::Ethernet(d) => LaxSlicedPacket::from_ethernet(d).map_err(|_| DecodeError::ShortLink)?,
        link::Inner::EtherType(t, d) => LaxSlicedPacket::from_ether_type(t, d),
        link::Inner::Ip(d) => LaxSlicedPacket::from_ip(d).map_err(|_| DecodeError::NotIp)?,
    };
    let (src, dst) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        Some(LaxNetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        _ => return Err(DecodeError::NotIp),
    };
    let cut = data.len() < wire_len as usize;
    let missing = if cut {
        wire_len.saturating_sub(data.len() as u32)
    } else {
        0
    };
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            let mss = t.options_iterator().find_map(|o| match o {
                Ok(TcpOptionElement::MaximumSegmentSize(m)) => Some(m),
                _ => None,
            });
            Ok(Packet {
                src,
                dst,
                transport: Transport::Tcp(TcpHeader {
                    src_port: t.source_port(),
                    dst_port: t.destination_port(),
                    seq: t.sequence_number(),
                    ack: t.acknowledgment_number(),
                    syn: t.syn(),
                    ack_flag: t.ack(),
                    fin: t.fin(),
                    rst: t.rst(),
                    window: t.window_size(),
                    mss,
                }),
                payload: t.payload(),
                missing,
            })
        }
        Some(TransportSlice::Udp(u)) => Ok(Packet {
            src,
            dst,
            transport: Transport::Udp {
                src_port: u.source_port(),
                dst_port: u.destination_port(),
            },
            payload: u.payload(),
            missing,
        }),
        _ => Err(DecodeError::NotTcpUdp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame(payload: &[u8]) -> Vec<u8> {
        let b = PacketBuilder::ethernet2([1; 6], [2; 6])
            .single_vlan(etherparse::VlanId::try_new(7).unwrap_or_default())
            .ipv4([10, 0, 0, 2], [10, 0, 0, 1], 64)
            .tcp(50123, 3389, 1000, 65535)
            .syn();
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn decodes_vlan_tcp() {
        let f = tcp_frame(b"\x03\x00\x00\x0b");
        let p = decode(LinkType::Ethernet, &f, f.len() as u32).unwrap();
        assert_eq!(p.src.to_string(), "10.0.0.2");
        let Transport::Tcp(t) = p.transport else { panic!("tcp") };
        assert_eq!((t.src_port, t.dst_port, t.seq, t.syn), (50123, 3389, 1000, true));
        assert_eq!(p.payload, b"\x03\x00\x00\x0b");
        assert_eq!(p.missing, 0);
    }

    #[test]
    fn snaplen_cut_reports_missing_bytes() {
        let f = tcp_frame(&[0x16; 100]);
        let cut = &f[..f.len() - 40];
        let p = decode(LinkType::Ethernet, cut, f.len() as u32).unwrap();
        assert_eq!(p.payload.len(), 60);
        assert_eq!(p.missing, 40);
    }

    #[test]
    fn fast_path_agrees_with_etherparse_on_every_fixture_frame() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut n = 0;
        for dir in ["real", "lab"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = e.unwrap().path();
                if !path.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                    continue;
                }
                let mut cap = pcap::Capture::from_file(&path).unwrap();
                let Some(link) = LinkType::from_dlt(cap.get_datalink().0) else {
                    continue;
                };
                while let Ok(p) = cap.next_packet() {
                    let data = p.data;
                    // Every prefix too: snaplen cuts at any byte.
                    for cut in [
                        data.len(),
                        data.len().saturating_sub(1),
                        60.min(data.len()),
                        40.min(data.len()),
                    ] {
                        let d = &data[..cut];
                        let a = format!("{:?}", fast::decode(link, d, p.header.len));
                        if a != "None" {
                            let b = format!("{:?}", decode_with_etherparse(link, d, p.header.len).ok());
                            assert_eq!(a, b, "{} cut {cut}", path.display());
                            n += 1;
                        }
                    }
                }
            }
        }
        assert!(n > 1000, "fast path taken {n} times");
    }

    #[test]
    fn sll2_and_null_and_raw() {
        let f = tcp_frame(b"x");
        let ip = &f[18..]; // after Ethernet + one VLAN tag
        let mut sll2 = vec![0x08, 0x00, 0, 0];
        sll2.extend_from_slice(&[0; 16]);
        sll2.extend_from_slice(ip);
        assert!(decode(LinkType::LinuxSll2, &sll2, sll2.len() as u32).is_ok());
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(ip);
        assert!(decode(LinkType::Null, &null, null.len() as u32).is_ok());
        assert!(decode(LinkType::RawIp, ip, ip.len() as u32).is_ok());
        assert!(decode(LinkType::RawIp, &[0x45], 1).is_err());
    }

    #[test]
    fn wifi_data_frames_only() {
        let f = tcp_frame(b"x");
        let ip = &f[18..];
        // QoS data, To DS: 26-byte header, then LLC/SNAP with IPv4.
        let mut w = vec![0x88, 0x01];
        w.extend([0; 24]);
        w.extend([0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]);
        w.extend_from_slice(ip);
        let p = decode(LinkType::Ieee80211, &w, w.len() as u32).unwrap();
        assert_eq!(p.payload, b"x");
        // Plain data, both DS bits: four addresses (30 bytes).
        let mut w4 = vec![0x08, 0x03];
        w4.extend([0; 28]);
        w4.extend_from_slice(&w[26..]);
        assert!(decode(LinkType::Ieee80211, &w4, w4.len() as u32).is_ok());
        // Protected, management, null-data and cut frames are not read.
        for (i, v) in [(1, 0x41u8), (0, 0x80), (0, 0xC8)] {
            let mut x = w.clone();
            x[i] = v;
            assert!(decode(LinkType::Ieee80211, &x, x.len() as u32).is_err(), "{i} {v:#x}");
        }
        assert!(decode(LinkType::Ieee80211, &w[..30], 30).is_err());
    }
}
