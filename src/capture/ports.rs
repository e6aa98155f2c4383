//! The default filter's question, "is this a TCP or UDP packet to or from one of these ports",
//! answered in Rust for the common Ethernet frame instead of by libpcap's BPF interpreter
//! (122 instructions for the VLAN-aware expression; the reader thread runs it on every frame
//! of the file). It answers exactly as the compiled expression of `filter_for_ports` would,
//! and only where that is certain: a VLAN tag, a frame too short for every field the
//! program may load, or anything unusual is left to BPF (`None`). Pure.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

const ETHERNET: usize = 14;
const IPV4: [u8; 2] = [0x08, 0x00];
const IPV6: [u8; 2] = [0x86, 0xdd];
const TCP: u8 = 6;
const UDP: u8 = 17;

/// The ports of `filter_for_ports(ports, Ethernet)`.
#[derive(Debug, Clone)]
pub struct PortCheck {
    tcp: Vec<u16>,
    udp: Vec<u16>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

impl PortCheck {
    /// The same ports as `capture::filter_for_ports`: the RDP ports and Kerberos (88) over
    /// TCP and UDP, and UDP 3391.
    pub fn new(ports: &[u16]) -> PortCheck {
        let tcp: Vec<u16> = ports.iter().copied().chain([88]).collect();
        let udp = tcp.iter().copied().chain([3391]).collect();
        PortCheck { tcp, udp }
    }

    /// Whether the BPF program would accept `frame` (an Ethernet frame as captured), or
    /// `None` where this is not certain.
    pub fn decide(&self, frame: &[u8]) -> Option<bool> {
        let ethertype = [*frame.get(12)?, *frame.get(13)?];
        // The transport header's offset and protocol; a fragment after the first has no ports.
        let (l4, proto) = if ethertype == IPV4 {
            let vihl = *frame.get(ETHERNET)?;
            let proto = *frame.get(ETHERNET + 9)?;
            let frag = be16(frame, ETHERNET + 6)? & 0x1fff;
            if frag != 0 {
                return Some(false);
            }
            (ETHERNET + usize::from(vihl & 0x0f) * 4, proto)
        } else if ethertype == IPV6 {
            (ETHERNET + 40, *frame.get(ETHERNET + 6)?)
        } else if matches!(ethertype, [0x81, 0x00] | [0x88, 0xa8] | [0x91, 0x00]) {
            // VLAN-tagged: BPF's part of the expression.
            return None;
        } else {
            return Some(false);
        };
        let ports = match proto {
            TCP => &self.tcp,
            UDP => &self.udp,
            _ => return Some(false),
        };
        // Both ports must be there: the program loads them one after the other, and a load
        // past the end rejects the frame at once, whatever the alternatives left.
        let (src, dst) = (be16(frame, l4), be16(frame, l4 + 2));
        let (Some(src), Some(dst)) = (src, dst) else {
            return None;
        };
        Some(ports.contains(&src) || ports.contains(&dst))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ipv4(proto: u8, sport: u16, dport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&IPV4);
        f.extend_from_slice(&[0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&[0u8; 16]);
        f
    }

    #[test]
    fn ports_protocols_and_fragments() {
        let c = PortCheck::new(&[3389]);
        assert_eq!(c.decide(&ipv4(TCP, 50000, 3389)), Some(true));
        assert_eq!(c.decide(&ipv4(TCP, 3389, 50000)), Some(true));
        assert_eq!(c.decide(&ipv4(TCP, 50000, 443)), Some(false));
        assert_eq!(c.decide(&ipv4(UDP, 50000, 3391)), Some(true));
        assert_eq!(c.decide(&ipv4(TCP, 50000, 3391)), Some(false));
        assert_eq!(c.decide(&ipv4(TCP, 88, 50000)), Some(true));
        assert_eq!(c.decide(&ipv4(1, 3389, 3389)), Some(false));
        let mut frag = ipv4(TCP, 50000, 3389);
        frag[ETHERNET + 7] = 1;
        assert_eq!(c.decide(&frag), Some(false));
        // Cut inside the ports: left to BPF.
        assert_eq!(c.decide(&ipv4(TCP, 50000, 3389)[..36]), None);
        let mut vlan = ipv4(TCP, 50000, 3389);
        vlan[12..14].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(c.decide(&vlan), None);
    }
}
