//! Reading packets: capture files through libpcap (and, later, live interfaces).
//! A thin shell around the `pcap` crate; it hands raw frames to a callback and knows
//! nothing of RDP.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod evidence;
pub mod file;

/// The default capture filter: RDP on TCP and UDP.
pub const DEFAULT_PORT: u16 = 3389;

/// The BPF filter for a set of server ports (`--port` adds to 3389). BPF's `vlan` keyword
/// shifts every later offset, so the untagged test comes first and each tag level nests
/// inside the previous one: this matches untagged, 802.1Q and QinQ frames alike.
/// VLAN tags exist only on Ethernet: libpcap refuses `vlan` for other link types.
pub fn filter_for_ports(ports: &[u16], link: crate::decode::LinkType) -> String {
    let base = ports
        .iter()
        .map(|p| format!("tcp port {p} or udp port {p}"))
        .collect::<Vec<_>>()
        .join(" or ");
    if link == crate::decode::LinkType::Ethernet {
        format!("{base} or (vlan and ({base} or (vlan and ({base}))))")
    } else {
        base
    }
}

/// Which packets to look at: RDP server ports (the default filter is built for the
/// link type), or a BPF expression given by the user.
#[derive(Debug, Clone)]
pub enum Filter {
    Ports(Vec<u16>),
    Bpf(String),
}

impl Filter {
    pub fn expression(&self, link: crate::decode::LinkType) -> String {
        match self {
            Filter::Ports(p) => filter_for_ports(p, link),
            Filter::Bpf(e) => e.clone(),
        }
    }
}
