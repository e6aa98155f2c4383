//! The most recent raw frames, bounded by bytes, so a connection seen live can still be
//! written out as a pcap (`w` in the TUI).

use std::collections::VecDeque;
use std::path::Path;

use pcap::{Capture, Linktype, Packet, PacketHeader, Precision};

use crate::capture::OwnedFrame;
use crate::decode::{self, LinkType, Transport};
use crate::flow::Endpoint;

pub struct FrameStore {
    frames: VecDeque<OwnedFrame>,
    bytes: usize,
    max_bytes: usize,
    /// Frames pushed out by the bound: a connection older than this is only partly kept.
    pub evicted: u64,
}

fn dlt(link: LinkType) -> i32 {
    match link {
        LinkType::Ethernet => 1,
        LinkType::Null => 0,
        LinkType::LinuxSll => 113,
        LinkType::LinuxSll2 => 276,
        LinkType::RawIp => 12,
    }
}

impl FrameStore {
    pub fn new(max_bytes: usize) -> FrameStore {
        FrameStore {
            frames: VecDeque::new(),
            bytes: 0,
            max_bytes,
            evicted: 0,
        }
    }

    pub fn push(&mut self, f: &OwnedFrame) {
        self.bytes += f.data.len();
        self.frames.push_back(f.clone());
        while self.bytes > self.max_bytes {
            match self.frames.pop_front() {
                Some(old) => {
                    self.bytes -= old.data.len();
                    self.evicted += 1;
                }
                None => break,
            }
        }
    }

    /// Write the kept frames of one connection (both directions, frames `first..=last`).
    /// Returns how many frames were written and whether older ones were already gone.
    pub fn write(
        &self,
        path: &Path,
        a: Endpoint,
        b: Endpoint,
        tcp: bool,
        first: u64,
        last: u64,
    ) -> Result<(usize, bool), String> {
        let ours: Vec<&OwnedFrame> = self
            .frames
            .iter()
            .filter(|f| (first..=last).contains(&f.number))
            .filter(|f| match decode::decode(f.link, &f.data, f.wire_len) {
                Ok(p) => {
                    let (t, sp, dp) = match p.transport {
                        Transport::Tcp(h) => (true, h.src_port, h.dst_port),
                        Transport::Udp { src_port, dst_port } => (false, src_port, dst_port),
                    };
                    let (x, y) = (Endpoint { ip: p.src, port: sp }, Endpoint { ip: p.dst, port: dp });
                    t == tcp && ((x == a && y == b) || (x == b && y == a))
                }
                Err(_) => false,
            })
            .collect();
        let link = ours.first().map_or(LinkType::Ethernet, |f| f.link);
        let cap = Capture::dead_with_precision(Linktype(dlt(link)), Precision::Nano).map_err(|e| e.to_string())?;
        if path.to_str().is_none() {
            return Err(format!("{}: path is not valid UTF-8", path.display()));
        }
        let mut out = cap.savefile(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for f in &ours {
            let ns = f.ts.0.rem_euclid(1_000_000_000);
            let header = PacketHeader {
                ts: libc::timeval {
                    tv_sec: f.ts.0.div_euclid(1_000_000_000) as libc::time_t,
                    tv_usec: ns as libc::suseconds_t,
                },
                caplen: f.data.len() as u32,
                len: f.wire_len,
            };
            out.write(&Packet::new(&header, &f.data));
        }
        out.flush().map_err(|e| format!("{}: {e}", path.display()))?;
        let partial = ours.first().is_none_or(|f| f.number > first);
        Ok((ours.len(), partial))
    }
}
