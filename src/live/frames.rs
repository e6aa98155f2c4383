//! The most recent raw frames, bounded by bytes, so a connection seen live can still be
//! written out as a pcap (`w` in the TUI).

use std::collections::VecDeque;

use pcap::{Capture, Linktype, Packet, PacketHeader, Precision};

use crate::capture::extract::Wanted;
use crate::capture::file::Frame;
use crate::capture::pcapng::PcapngWriter;
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
    link.dlt()
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

    pub fn push(&mut self, f: &Frame<'_>) {
        if self.max_bytes == 0 {
            // No view to write from (headless runs): nothing is kept, nothing is copied.
            return;
        }
        self.bytes += f.data.len();
        self.frames.push_back(OwnedFrame {
            number: f.number,
            ts: f.ts,
            link: f.link,
            data: f.data.to_vec(),
            wire_len: f.wire_len,
        });
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
    pub fn write(&self, w: &Wanted) -> Result<(usize, bool), String> {
        let (a, b, tcp, path, keylog) = (w.client, w.server, w.tcp, w.path.as_path(), w.keylog.as_deref());
        let [first, last] = w.frames;
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
        if let Some(k) = keylog {
            // With the connection's keys: a pcapng that carries them (it decrypts by itself).
            let err = |e: std::io::Error| format!("{}: {e}", path.display());
            let f = std::fs::File::create(path).map_err(err)?;
            let dlt = u16::try_from(dlt(link)).unwrap_or(1);
            let mut w = PcapngWriter::new(std::io::BufWriter::new(f), dlt, 262_144, Some(k.as_bytes())).map_err(err)?;
            for f in &ours {
                w.packet(f.ts.0, &f.data, f.wire_len).map_err(err)?;
            }
            w.flush().map_err(err)?;
            let partial = ours.first().is_none_or(|f| f.number > first);
            return Ok((ours.len(), partial));
        }
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
