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
    /// The first write that failed: the file is removed at the end.
    error: Option<String>,
}

/// Files open at once: more failed connections than the open-file limit (1,024 by default)
/// must still each get their file, so they are written in passes of this many.
pub const MAX_OPEN: usize = 128;

/// Files one pass may open: [`MAX_OPEN`], or fewer under a low open-file limit (32 are kept for
/// the rest of the process).
fn files_per_pass() -> usize {
    use nix::sys::resource::{getrlimit, Resource};
    getrlimit(Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| {
            usize::try_from(soft)
                .unwrap_or(MAX_OPEN)
                .saturating_sub(32)
                .clamp(1, MAX_OPEN)
        })
        .unwrap_or(16)
}

/// What an extraction wrote, and what it could not (the file removed, with the reason).
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub failed: Vec<(PathBuf, String)>,
}

/// Write a pcap per wanted connection (all from `input`) into `dir`, at most [`MAX_OPEN`]
/// files at a time (one pass over the input each). A file that cannot be written whole (a
/// full disk) is removed and listed with its reason; the others are still written.
pub fn write(input: &Path, wanted: &[Wanted], dir: &Path) -> Result<Written, String> {
    let mut done = Written::default();
    if wanted.is_empty() {
        return Ok(done);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
    for chunk in wanted.chunks(files_per_pass()) {
        pass(input, chunk, &mut done)?;
    }
    Ok(done)
}

/// One pass over the input for up to [`MAX_OPEN`] connections.
fn pass(input: &Path, wanted: &[Wanted], done: &mut Written) -> Result<(), String> {
    let (mut cap, _feed) =
        super::file::open(input).map_err(|e| format!("{}: cannot reopen for evidence: {e}", input.display()))?;
    let link = LinkType::from_dlt(cap.get_datalink().0).ok_or("unsupported link type")?;
    let dlt = u16::try_from(cap.get_datalink().0).unwrap_or(1);
    let mut targets = Vec::new();
    for w in wanted {
        let path = w.path.clone();
        let out = match &w.keylog {
            Some(k) => File::create(&path)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    PcapngWriter::new(BufWriter::new(f), dlt, 262_144, Some(k.as_bytes())).map_err(|e| e.to_string())
                })
                .map(Out::Pcapng),
            None if path.to_str().is_none() => Err("the path is not valid UTF-8".to_string()),
            None => cap.savefile(&path).map(Out::Pcap).map_err(|e| e.to_string()),
        };
        match out {
            Ok(out) => targets.push(Target {
                client: w.client,
                server: w.server,
                tcp: w.tcp,
                first: w.frames[0],
                last: w.frames[1],
                out,
                path,
                error: None,
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                done.failed.push((path, format!("cannot write: {e}")));
            }
        }
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
        for t in targets.iter_mut().filter(|t| t.error.is_none()) {
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
                        if let Err(e) = w.packet(ns, p.data, p.header.len) {
                            t.error = Some(e.to_string());
                        }
                    }
                }
            }
        }
    }
    for mut t in targets {
        let flushed = match &mut t.out {
            Out::Pcap(s) => s.flush().map_err(|e| e.to_string()),
            Out::Pcapng(w) => w.flush().map_err(|e| e.to_string()),
        };
        match t.error.take().map_or(flushed, Err) {
            Ok(()) => done.files.push(t.path),
            Err(e) => {
                drop(t.out);
                let _ = std::fs::remove_file(&t.path);
                done.failed.push((t.path, e));
            }
        }
    }
    Ok(())
}

fn ep(ip: IpAddr, port: u16) -> Endpoint {
    Endpoint { ip, port }
}
