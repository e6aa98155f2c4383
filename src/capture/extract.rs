//! Extracting connections: a second pass over a capture file writes, per wanted
//! connection (4-tuple and frame range), a pcap of only its packets, unchanged, with their
//! original timestamps. What is wanted and how the files are named is the caller's choice
//! (`--write-evidence` asks for the failed connections).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use std::fs::File;
use std::io::BufWriter;

use pcap::{Capture, Linktype, Packet, PacketHeader, Precision, Savefile};

use super::pcapng::PcapngWriter;

use crate::decode::{self, Transport};
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
    /// Opened at the connection's first frame (its link type is known then).
    out: Option<Out>,
    keylog: Option<String>,
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

/// One pass over the input for up to [`MAX_OPEN`] connections. Frames come through
/// `capture::file::read`, so a Network Monitor file gives evidence like a pcap; each output
/// is opened at its connection's first frame, with that frame's link type.
fn pass(input: &Path, wanted: &[Wanted], done: &mut Written) -> Result<(), String> {
    // A libpcap input keeps its own DLT (LOOP stays LOOP); a NetMon one gets its frames'.
    let input_dlt = match super::file::detect_format(input) {
        super::file::Format::Netmon => None,
        super::file::Format::Libpcap => Some(
            super::file::open(input)
                .map_err(|e| format!("{}: cannot reopen for evidence: {e}", input.display()))?
                .0
                .get_datalink()
                .0,
        ),
    };
    let mut targets: Vec<Target> = wanted
        .iter()
        .map(|w| Target {
            client: w.client,
            server: w.server,
            tcp: w.tcp,
            first: w.frames[0],
            last: w.frames[1],
            out: None,
            keylog: w.keylog.clone(),
            path: w.path.clone(),
            error: None,
        })
        .collect();
    let last_frame = targets.iter().map(|t| t.last).max().unwrap_or(0);
    let all = super::Filter::Bpf(String::new());
    let read = super::file::read_with(
        input,
        &all,
        super::file::Copies::Every,
        &mut |f| {
            if f.number > last_frame {
                return;
            }
            let Ok(d) = decode::decode(f.link, f.data, f.wire_len) else {
                return;
            };
            let (tcp, sp, dp) = match d.transport {
                Transport::Tcp(h) => (true, h.src_port, h.dst_port),
                Transport::Udp { src_port, dst_port } => (false, src_port, dst_port),
            };
            let (a, b) = (ep(d.src, sp), ep(d.dst, dp));
            for t in targets.iter_mut().filter(|t| t.error.is_none()) {
                let ours = t.tcp == tcp && ((a == t.client && b == t.server) || (a == t.server && b == t.client));
                if ours && (t.first..=t.last).contains(&f.number) {
                    let dlt = input_dlt.unwrap_or_else(|| f.link.dlt());
                    if let Err(e) = t.write(dlt, f.ts.0, f.data, f.wire_len) {
                        t.error = Some(e);
                    }
                }
            }
        },
        &mut |_| {},
    );
    read.map_err(|e| format!("{}: cannot reopen for evidence: {e}", input.display()))?;
    for mut t in targets {
        // A connection none of whose frames came back still gets its (empty) file.
        if t.out.is_none() && t.error.is_none() {
            if let Err(e) = t.open(input_dlt.unwrap_or(1)) {
                t.error = Some(e);
            }
        }
        let flushed = match &mut t.out {
            Some(Out::Pcap(s)) => s.flush().map_err(|e| e.to_string()),
            Some(Out::Pcapng(w)) => w.flush().map_err(|e| e.to_string()),
            None => Ok(()),
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

impl Target {
    /// Open the output: a pcap through libpcap (nanosecond timestamps), or a pcapng with the
    /// connection's keys.
    fn open(&mut self, dlt: i32) -> Result<(), String> {
        let out = match &self.keylog {
            Some(k) => File::create(&self.path)
                .map_err(|e| e.to_string())
                .and_then(|f| {
                    let dlt = u16::try_from(dlt).unwrap_or(1);
                    PcapngWriter::new(BufWriter::new(f), dlt, 262_144, Some(k.as_bytes())).map_err(|e| e.to_string())
                })
                .map(Out::Pcapng),
            None if self.path.to_str().is_none() => Err("the path is not valid UTF-8".to_string()),
            None => Capture::dead_with_precision(Linktype(dlt), Precision::Nano)
                .and_then(|c| c.savefile(&self.path))
                .map(Out::Pcap)
                .map_err(|e| e.to_string()),
        };
        self.out = Some(out.map_err(|e| format!("cannot write: {e}"))?);
        Ok(())
    }

    fn write(&mut self, dlt: i32, ts_ns: i64, data: &[u8], wire_len: u32) -> Result<(), String> {
        if self.out.is_none() {
            self.open(dlt)?;
        }
        match &mut self.out {
            Some(Out::Pcap(s)) => {
                let header = PacketHeader {
                    // Nanosecond precision: tv_usec holds nanoseconds.
                    ts: libc::timeval {
                        tv_sec: ts_ns.div_euclid(1_000_000_000),
                        tv_usec: ts_ns.rem_euclid(1_000_000_000),
                    },
                    caplen: u32::try_from(data.len()).unwrap_or(u32::MAX),
                    len: wire_len,
                };
                s.write(&Packet::new(&header, data));
                Ok(())
            }
            Some(Out::Pcapng(w)) => w.packet(ts_ns, data, wire_len).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

fn ep(ip: IpAddr, port: u16) -> Endpoint {
    Endpoint { ip, port }
}
