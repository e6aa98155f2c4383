//! Extracting connections: a second pass over a capture file writes, per wanted
//! connection (4-tuple and frame range), a pcap of only its packets, unchanged, with their
//! original timestamps. What is wanted and how the files are named is the caller's choice
//! (`--write-evidence` asks for the failed connections).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use std::fs::File;
use std::io::BufWriter;

use pcap::Savefile;

use super::pcapng::PcapngWriter;

use crate::decode::{self, LinkType, Transport};
use crate::flow::Endpoint;

/// One connection to extract.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub client: Endpoint,
    pub server: Endpoint,
    pub tcp: bool,
    /// First and last frame number (inclusive).
    pub frames: [u64; 2],
    /// Where to write its pcap.
    pub path: PathBuf,
    /// This connection's TLS key log lines: the file is then a pcapng carrying them in a
    /// Decryption Secrets Block, so it decrypts by itself.
    pub keylog: Option<String>,
}

/// A pcap through libpcap, or a pcapng with the connection's keys.
enum Out {
    Pcap(Savefile),
    Pcapng(PcapngWriter<BufWriter<File>>),
}

struct Target {
    client: Endpoint,
    server: Endpoint,
    tcp: bool,
    first: u64,
    last: u64,
    out: Out,
    path: PathBuf,
}

/// Write a pcap per wanted connection (all from `input`) into `dir`.
pub fn write(input: &Path, wanted: &[Wanted], dir: &Path) -> Result<Vec<PathBuf>, String> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
    let (mut cap, _file) =
        super::file::open(input).map_err(|e| format!("{}: cannot reopen for evidence: {e}", input.display()))?;
    let link = LinkType::from_dlt(cap.get_datalink().0).ok_or("unsupported link type")?;
    let mut targets = Vec::new();
    for w in wanted {
        let path = w.path.clone();
        if path.to_str().is_none() {
            return Err(format!("{}: path is not valid UTF-8", path.display()));
        }
        let cannot = |e: &dyn std::fmt::Display| format!("{}: cannot write: {e}", path.display());
        let out = match &w.keylog {
            Some(k) => {
                let f = File::create(&path).map_err(|e| cannot(&e))?;
                let dlt = u16::try_from(cap.get_datalink().0).unwrap_or(1);
                Out::Pcapng(
                    PcapngWriter::new(BufWriter::new(f), dlt, 262_144, Some(k.as_bytes())).map_err(|e| cannot(&e))?,
                )
            }
            None => Out::Pcap(cap.savefile(&path).map_err(|e| cannot(&e))?),
        };
        targets.push(Target {
            client: w.client,
            server: w.server,
            tcp: w.tcp,
            first: w.frames[0],
            last: w.frames[1],
            out,
            path,
        });
    }
    let last_frame = targets.iter().map(|t| t.last).max().unwrap_or(0);
    let mut frame = 0u64;
    while let Ok(p) = cap.next_packet() {
        frame += 1;
        if frame > last_frame {
            break;
        }
        let Ok(d) = decode::decode(link, p.data, p.header.len) else {
            continue;
        };
        let (tcp, sp, dp) = match d.transport {
            Transport::Tcp(h) => (true, h.src_port, h.dst_port),
            Transport::Udp { src_port, dst_port } => (false, src_port, dst_port),
        };
        let (a, b) = (ep(d.src, sp), ep(d.dst, dp));
        for t in targets.iter_mut() {
            let ours = t.tcp == tcp && ((a == t.client && b == t.server) || (a == t.server && b == t.client));
            if ours && (t.first..=t.last).contains(&frame) {
                match &mut t.out {
                    Out::Pcap(s) => s.write(&p),
                    Out::Pcapng(w) => {
                        // Nanosecond precision: tv_usec holds nanoseconds.
                        let ns = p
                            .header
                            .ts
                            .tv_sec
                            .saturating_mul(1_000_000_000)
                            .saturating_add(p.header.ts.tv_usec);
                        w.packet(ns, p.data, p.header.len)
                            .map_err(|e| format!("{}: {e}", t.path.display()))?;
                    }
                }
            }
        }
    }
    let mut paths = Vec::new();
    for mut t in targets {
        match &mut t.out {
            Out::Pcap(s) => s.flush(),
            Out::Pcapng(w) => w.flush().map_err(Into::into),
        }
        .map_err(|e: pcap::Error| format!("{}: {e}", t.path.display()))?;
        paths.push(t.path);
    }
    Ok(paths)
}

fn ep(ip: IpAddr, port: u16) -> Endpoint {
    Endpoint { ip, port }
}
