//! RDP over UDP (MS-RDPEUDP): a flow on UDP 3389. Only the handshake is visible and
//! interesting: a SYN repeated without a SYN+ACK means UDP is blocked and the client
//! falls back to TCP.

use crate::config::Config;
use crate::conn::event::{EventKind, Timeline};
use crate::flow::table::LastSeen;
use crate::flow::tcp::At;
use crate::flow::{Endpoint, Side};
use crate::proto::rdpeudp::{self, SynInfo, UdpKind};
use crate::ts::Ts;

#[derive(Debug, Clone)]
pub struct UdpFlow {
    pub id: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub first: At,
    pub last: At,
    pub syns: u32,
    pub first_syn: Option<(At, SynInfo)>,
    pub synack: Option<At>,
    pub datagrams: [u64; 2],
    pub bytes: [u64; 2],
    pub timeline: Timeline,
    /// The capture began after the handshake (data without a SYN first).
    pub midstream: bool,
    pub evicted: bool,
    pub frame_count: u64,
}

impl LastSeen for UdpFlow {
    fn last_seen(&self) -> Ts {
        self.last.ts
    }
}

impl UdpFlow {
    pub fn new(id: u64, client: Endpoint, server: Endpoint, at: At) -> UdpFlow {
        UdpFlow {
            id,
            client,
            server,
            first: at,
            last: at,
            syns: 0,
            first_syn: None,
            synack: None,
            datagrams: [0; 2],
            bytes: [0; 2],
            timeline: Timeline::default(),
            midstream: false,
            evicted: false,
            frame_count: 0,
        }
    }

    pub fn side_of(&self, src: Endpoint) -> Side {
        crate::flow::side_of(self.client, src)
    }

    pub fn on_datagram(&mut self, side: Side, at: At, payload: &[u8], cfg: &Config) {
        self.last = at;
        self.frame_count += 1;
        let i = side.index();
        if let (Some(d), Some(b)) = (self.datagrams.get_mut(i), self.bytes.get_mut(i)) {
            *d += 1;
            *b += payload.len() as u64;
        }
        let first = self.datagrams.iter().sum::<u64>() == 1;
        let kind = rdpeudp::parse_datagram(payload).map(|d| (d.kind, d.syn));
        match kind {
            Ok((UdpKind::Syn, syn)) if side == Side::Client => {
                self.syns = self.syns.saturating_add(1);
                if let Some(s) = syn {
                    self.first_syn.get_or_insert((at, s));
                }
                self.timeline.push(cfg.max_events, at, side, EventKind::UdpSyn);
            }
            Ok((UdpKind::SynAck, _)) if side == Side::Server && self.synack.is_none() => {
                self.synack = Some(at);
                self.timeline.push(cfg.max_events, at, side, EventKind::UdpSynAck);
            }
            _ if first => self.midstream = true,
            _ => {}
        }
    }
}
