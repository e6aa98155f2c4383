//! Evidence pcaps: one file per failed connection holding only its own packets, to
//! attach to a ticket. A second pass over the input picks the frames by 4-tuple and
//! frame range; the packets are written unchanged, with their original timestamps.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pcap::{Capture, Precision, Savefile};

use crate::decode::{self, LinkType, Transport};
use crate::diagnosis::Outcome;
use crate::flow::Endpoint;
use crate::record::ConnectionRecord;

struct Target {
    client: Endpoint,
    server: Endpoint,
    tcp: bool,
    first: u64,
    last: u64,
    out: Savefile,
    path: PathBuf,
}

/// The file name for a connection's evidence: `ID-CAUSE.pcap`.
pub fn file_name(r: &ConnectionRecord) -> String {
    format!("{:04}-{}.pcap", r.id, r.cause())
}

/// Write a pcap per failed connection of `records` (all from `input`) into `dir`.
pub fn write(input: &Path, records: &[ConnectionRecord], dir: &Path) -> Result<Vec<PathBuf>, String> {
    let failed: Vec<&ConnectionRecord> = records.iter().filter(|r| r.outcome == Outcome::Failed).collect();
    if failed.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
    let mut cap = Capture::from_file_with_precision(input, Precision::Nano)
        .map_err(|e| format!("{}: cannot reopen for evidence: {e}", input.display()))?;
    let link = LinkType::from_dlt(cap.get_datalink().0).ok_or("unsupported link type")?;
    let mut targets = Vec::new();
    for r in failed {
        let path = dir.join(file_name(r));
        if path.to_str().is_none() {
            return Err(format!("{}: path is not valid UTF-8", path.display()));
        }
        let out = cap
            .savefile(&path)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        targets.push(Target {
            client: r.client,
            server: r.server,
            tcp: r.transport == "tcp",
            first: r.frames[0],
            last: r.frames[1],
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
                t.out.write(&p);
            }
        }
    }
    let mut paths = Vec::new();
    for mut t in targets {
        t.out.flush().map_err(|e| format!("{}: {e}", t.path.display()))?;
        paths.push(t.path);
    }
    Ok(paths)
}

fn ep(ip: IpAddr, port: u16) -> Endpoint {
    Endpoint { ip, port }
}
