//! Benchmark-data generator: a large, realistic capture built from the fixtures.
//!
//! ```sh
//! cargo run --release --example make_bench -- OUT.pcap SIZE_MB [--flood N] [--rdp-per-mb K]
//!     [--seconds-per-mb S] [--flood-sources M] [--seed X]
//! ```
//!
//! What goes in (Ethernet/IPv4 pcap, timestamps in order):
//! - RDP: every fixture capture (fixtures/real, fixtures/lab) is a template of one
//!   conversation (all its TCP/UDP 3389 flows, retries included). Replicas are started at
//!   random times over the whole capture, each with a fresh client address and fresh client
//!   ports, against a pool of servers, so thousands of connections are open at once and
//!   interleave packet by packet. `--rdp-per-mb` replicas per MB (default 4).
//! - Bulk non-RDP TCP (HTTPS, SMB, SSH, HTTP on their usual ports) makes up most of the
//!   bytes: a few dozen concurrent transfers of full-size segments with delayed ACKs, plus
//!   a trickle of DNS over UDP.
//! - A SYN flood section in the middle: `--flood N` SYNs (default 300,000; 0 for none) to
//!   one server on 3389 from `--flood-sources` spoofed sources (default 5,000), never answered.
//!
//! The capture spans `--seconds-per-mb` seconds of capture time per MB (default 0.6, about
//! 14 Mbit/s: a branch-office sensor). Deterministic for a given seed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rdpscope::decode::{self, LinkType, Transport};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

#[derive(Clone, Copy)]
enum L4 {
    Tcp {
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        mss: Option<u16>,
    },
    Udp {
        sport: u16,
        dport: u16,
    },
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// One packet of a template conversation.
struct TPkt {
    rel_ns: i64,
    src: IpAddr,
    dst: IpAddr,
    l4: L4,
    payload: Vec<u8>,
    missing: u32,
}

struct Template {
    pkts: Vec<TPkt>,
    /// Original addresses that are servers (they sent or received on 3389 as the server).
    servers: Vec<IpAddr>,
    bytes: u64,
}

fn load_templates(dirs: &[PathBuf]) -> Vec<Template> {
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if let Some(t) = load_template(&f) {
            out.push(t);
        }
    }
    out
}

fn load_template(path: &Path) -> Option<Template> {
    let mut cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano).ok()?;
    let link = LinkType::from_dlt(cap.get_datalink().0)?;
    let mut pkts = Vec::new();
    let mut servers: Vec<IpAddr> = Vec::new();
    let mut first: Option<i64> = None;
    let mut last_abs = 0i64;
    let mut rel = 0i64;
    while let Ok(p) = cap.next_packet() {
        let ts = p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec;
        let Ok(d) = decode::decode(link, p.data, p.header.len) else {
            continue;
        };
        let (l4, sport, dport) = match d.transport {
            Transport::Tcp(h) => {
                let mut flags = 0;
                for (on, bit) in [(h.fin, FIN), (h.syn, SYN), (h.rst, RST), (h.ack_flag, ACK)] {
                    if on {
                        flags |= bit;
                    }
                }
                if !d.payload.is_empty() {
                    flags |= PSH;
                }
                (
                    L4::Tcp {
                        sport: h.src_port,
                        dport: h.dst_port,
                        seq: h.seq,
                        ack: h.ack,
                        flags,
                        window: h.window,
                        mss: h.mss,
                    },
                    h.src_port,
                    h.dst_port,
                )
            }
            Transport::Udp { src_port, dst_port } => (
                L4::Udp {
                    sport: src_port,
                    dport: dst_port,
                },
                src_port,
                dst_port,
            ),
        };
        if sport != 3389 && dport != 3389 {
            continue;
        }
        let server = if dport == 3389 { d.dst } else { d.src };
        if !servers.contains(&server) {
            servers.push(server);
        }
        // Long pauses (one fixture spans months) are shortened to a minute.
        match first {
            None => first = Some(ts),
            Some(_) => rel += (ts - last_abs).clamp(0, 60_000_000_000),
        }
        last_abs = ts;
        pkts.push(TPkt {
            rel_ns: rel,
            src: d.src,
            dst: d.dst,
            l4,
            payload: d.payload.to_vec(),
            missing: d.missing,
        });
    }
    if pkts.is_empty() {
        return None;
    }
    let bytes = pkts.iter().map(|p| 16 + 54 + p.payload.len() as u64).sum();
    Some(Template { pkts, servers, bytes })
}

fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u32::from(*b) << 8;
    }
    sum
}

fn csum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Append an Ethernet/IPv4/TCP-or-UDP frame to `buf`.
fn build_frame(buf: &mut Vec<u8>, src: Ipv4Addr, dst: Ipv4Addr, l4: &L4, payload: &[u8], ip_id: u16) {
    let mac_c = [0x02, 0, 0, 0, 0, 1];
    let mac_s = [0x02, 0, 0, 0, 0, 2];
    buf.extend_from_slice(&mac_s);
    buf.extend_from_slice(&mac_c);
    buf.extend_from_slice(&[0x08, 0x00]);
    let (proto, l4_len) = match l4 {
        L4::Tcp { mss, .. } => (6u8, if mss.is_some() { 24 } else { 20 }),
        L4::Udp { .. } => (17u8, 8),
    };
    let total = 20 + l4_len + payload.len();
    let ip_start = buf.len();
    buf.extend_from_slice(&[0x45, 0]);
    buf.extend_from_slice(&(total.min(65535) as u16).to_be_bytes());
    buf.extend_from_slice(&ip_id.to_be_bytes());
    buf.extend_from_slice(&[0x40, 0, 64, proto, 0, 0]);
    buf.extend_from_slice(&src.octets());
    buf.extend_from_slice(&dst.octets());
    let c = csum_fold(csum_add(0, &buf[ip_start..ip_start + 20]));
    buf[ip_start + 10..ip_start + 12].copy_from_slice(&c.to_be_bytes());
    let l4_start = buf.len();
    match *l4 {
        L4::Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
            mss,
        } => {
            buf.extend_from_slice(&sport.to_be_bytes());
            buf.extend_from_slice(&dport.to_be_bytes());
            buf.extend_from_slice(&seq.to_be_bytes());
            buf.extend_from_slice(&ack.to_be_bytes());
            buf.push(((l4_len / 4) as u8) << 4);
            buf.push(flags);
            buf.extend_from_slice(&window.to_be_bytes());
            buf.extend_from_slice(&[0, 0, 0, 0]);
            if let Some(m) = mss {
                buf.extend_from_slice(&[2, 4]);
                buf.extend_from_slice(&m.to_be_bytes());
            }
        }
        L4::Udp { sport, dport } => {
            buf.extend_from_slice(&sport.to_be_bytes());
            buf.extend_from_slice(&dport.to_be_bytes());
            buf.extend_from_slice(&((8 + payload.len()).min(65535) as u16).to_be_bytes());
            buf.extend_from_slice(&[0, 0]);
        }
    }
    buf.extend_from_slice(payload);
    // Transport checksum over the pseudo-header, header and payload.
    let seg_len = buf.len() - l4_start;
    let mut sum = csum_add(0, &src.octets());
    sum = csum_add(sum, &dst.octets());
    sum += u32::from(proto) + seg_len as u32;
    sum = csum_add(sum, &buf[l4_start..]);
    let c = csum_fold(sum);
    let off = if proto == 6 { 16 } else { 6 };
    buf[l4_start + off..l4_start + off + 2].copy_from_slice(&c.to_be_bytes());
}

struct Out {
    w: BufWriter<File>,
    bytes: u64,
    frames: u64,
    last_ts: i64,
    frame: Vec<u8>,
    ip_id: u16,
}

impl Out {
    fn new(path: &Path) -> std::io::Result<Out> {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
        // pcap, microsecond timestamps, snaplen 262144, Ethernet.
        w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        w.write_all(&2u16.to_le_bytes())?;
        w.write_all(&4u16.to_le_bytes())?;
        w.write_all(&[0; 8])?;
        w.write_all(&262_144u32.to_le_bytes())?;
        w.write_all(&1u32.to_le_bytes())?;
        Ok(Out {
            w,
            bytes: 24,
            frames: 0,
            last_ts: 0,
            frame: Vec::with_capacity(2048),
            ip_id: 0,
        })
    }

    fn packet(
        &mut self,
        ts: i64,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        l4: &L4,
        payload: &[u8],
        missing: u32,
    ) -> std::io::Result<()> {
        let ts = ts.max(self.last_ts);
        self.last_ts = ts;
        self.frame.clear();
        self.ip_id = self.ip_id.wrapping_add(1);
        build_frame(&mut self.frame, src, dst, l4, payload, self.ip_id);
        let caplen = self.frame.len() as u32;
        let sec = (ts / 1_000_000_000) as u32;
        let usec = ((ts % 1_000_000_000) / 1000) as u32;
        self.w.write_all(&sec.to_le_bytes())?;
        self.w.write_all(&usec.to_le_bytes())?;
        self.w.write_all(&caplen.to_le_bytes())?;
        self.w.write_all(&(caplen + missing).to_le_bytes())?;
        self.w.write_all(&self.frame)?;
        self.bytes += 16 + u64::from(caplen);
        self.frames += 1;
        Ok(())
    }
}

/// A running replica of a template.
struct Replica {
    tpl: usize,
    start: i64,
    next: usize,
    /// Original address -> replica address.
    ips: Vec<(IpAddr, Ipv4Addr)>,
    port_off: u16,
}

impl Replica {
    fn map_ip(&self, ip: IpAddr) -> Ipv4Addr {
        self.ips
            .iter()
            .find(|(o, _)| *o == ip)
            .map_or(Ipv4Addr::new(10, 255, 255, 254), |(_, n)| *n)
    }

    fn map_port(&self, p: u16) -> u16 {
        if p == 3389 {
            p
        } else {
            1024 + ((u32::from(p) + u32::from(self.port_off)) % 64_000) as u16
        }
    }
}

/// A bulk non-RDP transfer: the server sends full-size segments, the client ACKs every other one.
struct Bulk {
    client: Ipv4Addr,
    server: Ipv4Addr,
    cport: u16,
    sport: u16,
    seq: u32,
    cseq: u32,
    sent: u32,
    left: u64,
}

const BULK_PORTS: [u16; 5] = [443, 445, 22, 80, 8443];
const MSS: usize = 1448;

fn new_bulk(rng: &mut Rng) -> Bulk {
    Bulk {
        client: Ipv4Addr::new(172, 16, rng.below(256) as u8, 1 + rng.below(254) as u8),
        server: Ipv4Addr::new(192, 168, 10, 1 + rng.below(200) as u8),
        cport: 1024 + rng.below(60_000) as u16,
        sport: BULK_PORTS[rng.below(BULK_PORTS.len() as u64) as usize],
        seq: rng.next() as u32,
        cseq: rng.next() as u32,
        sent: 0,
        // 1 MB to 200 MB per transfer.
        left: 1_000_000 + rng.below(200_000_000),
    }
}

struct Args {
    out: PathBuf,
    size_mb: u64,
    flood: u64,
    flood_sources: u64,
    rdp_per_mb: f64,
    seconds_per_mb: f64,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let usage = "usage: make_bench OUT.pcap SIZE_MB [--flood N] [--flood-sources M] [--rdp-per-mb K] [--seconds-per-mb S] [--seed X]";
    let out = PathBuf::from(it.next().ok_or(usage)?);
    let size_mb = it.next().ok_or(usage)?.parse().map_err(|_| usage)?;
    let mut a = Args {
        out,
        size_mb,
        flood: 300_000,
        flood_sources: 5_000,
        rdp_per_mb: 4.0,
        seconds_per_mb: 0.6,
        seed: 1,
    };
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(usage)?;
        let bad = |_: std::num::ParseIntError| format!("bad value for {flag}");
        let badf = |_: std::num::ParseFloatError| format!("bad value for {flag}");
        match flag.as_str() {
            "--flood" => a.flood = v.parse().map_err(bad)?,
            "--flood-sources" => a.flood_sources = v.parse::<u64>().map_err(bad)?.max(1),
            "--rdp-per-mb" => a.rdp_per_mb = v.parse().map_err(badf)?,
            "--seconds-per-mb" => a.seconds_per_mb = v.parse().map_err(badf)?,
            "--seed" => a.seed = v.parse().map_err(bad)?,
            _ => return Err(usage.into()),
        }
    }
    Ok(a)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse_args()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let templates = load_templates(&[root.join("real"), root.join("lab")]);
    if templates.is_empty() {
        return Err("no fixture templates found".into());
    }
    let mut rng = Rng(a.seed);
    let target = a.size_mb * 1_000_000;
    let duration = ((a.size_mb as f64 * a.seconds_per_mb).max(10.0) * 1e9) as i64;
    let t0: i64 = 1_700_000_000_000_000_000;

    // RDP replicas: start times uniformly over the capture (sorted).
    let n_rdp = (a.size_mb as f64 * a.rdp_per_mb).round() as u64;
    let mut starts: Vec<(i64, usize)> = (0..n_rdp)
        .map(|_| {
            (
                rng.below(duration as u64 * 9 / 10) as i64,
                rng.below(templates.len() as u64) as usize,
            )
        })
        .collect();
    starts.sort_unstable();
    let rdp_bytes: u64 = starts.iter().map(|(_, t)| templates[*t].bytes).sum();
    let flood_bytes = a.flood * (16 + 58);
    let flood_start = duration / 2;
    let flood_len = (duration / 20).max(1_000_000_000);
    let bulk_budget = target.saturating_sub(rdp_bytes + flood_bytes + 24);

    let tick: i64 = 10_000_000; // 10 ms
    let ticks = (duration / tick).max(1);
    let bulk_per_tick = bulk_budget / ticks as u64;
    let mut out = Out::new(&a.out)?;
    let mut bulks: Vec<Bulk> = (0..48).map(|_| new_bulk(&mut rng)).collect();
    let mut active: Vec<Replica> = Vec::new();
    let mut next_start = 0usize;
    let mut client_counter: u32 = 0;
    let mut flood_sent: u64 = 0;
    let flood_server = Ipv4Addr::new(10, 200, 0, 1);
    let mut due: Vec<(i64, u8, usize, usize)> = Vec::new();
    let mut bulk_bytes_total = 0u64;
    let mut max_open = 0usize;
    let mut dns_id: u16 = 0;

    let mut t = 0i64;
    while t < duration || !active.is_empty() || next_start < starts.len() {
        let end = t + tick;
        // Start replicas due in this tick.
        while let Some(&(s, tpl)) = starts.get(next_start) {
            if s >= end {
                break;
            }
            next_start += 1;
            client_counter += 1;
            let c = client_counter;
            let tplr = &templates[tpl];
            let mut ips = Vec::new();
            let mut extra = 0u32;
            for p in &tplr.pkts {
                for ip in [p.src, p.dst] {
                    if ips.iter().any(|(o, _)| *o == ip) {
                        continue;
                    }
                    let new = if tplr.servers.contains(&ip) {
                        let k = rng.below(64) as u8;
                        Ipv4Addr::new(10, 200, 1, 1 + k)
                    } else {
                        extra += 1;
                        let n = c * 4 + extra;
                        Ipv4Addr::new(10, 64 + ((n >> 16) & 0x3f) as u8, (n >> 8) as u8, n as u8)
                    };
                    ips.push((ip, new));
                }
            }
            active.push(Replica {
                tpl,
                start: s,
                next: 0,
                ips,
                port_off: rng.below(64_000) as u16,
            });
        }
        max_open = max_open.max(active.len());
        // Replica packets due in this tick.
        due.clear();
        for (ri, r) in active.iter().enumerate() {
            let pkts = &templates[r.tpl].pkts;
            let mut i = r.next;
            while let Some(p) = pkts.get(i) {
                let ts = r.start + p.rel_ns;
                if ts >= end {
                    break;
                }
                due.push((ts, 0, ri, i));
                i += 1;
            }
        }
        // Flood SYNs in this tick.
        if t >= flood_start && t < flood_start + flood_len && a.flood > 0 {
            let want = ((t + tick - flood_start) as u128 * u128::from(a.flood) / flood_len as u128)
                .min(u128::from(a.flood)) as u64;
            for k in flood_sent..want {
                let off = (k * tick as u64 / (want - flood_sent).max(1)) as i64 % tick;
                due.push((t + off, 1, k as usize, 0));
            }
            flood_sent = want;
        } else if t >= flood_start + flood_len && flood_sent < a.flood {
            for k in flood_sent..a.flood {
                due.push((t, 1, k as usize, 0));
            }
            flood_sent = a.flood;
        }
        // Bulk: spread over the tick.
        if t < duration {
            let mut budget = bulk_per_tick as i64;
            let mut k = 0u64;
            while budget > 0 {
                let off = (k * 37 % 1000) as i64 * (tick / 1000);
                due.push((t + off, 2, 0, 0));
                budget -= (16 + 54 + MSS) as i64 + 16 + 54 / 2;
                k += 1;
            }
            if rng.below(4) == 0 {
                due.push((t + rng.below(tick as u64) as i64, 3, 0, 0));
            }
        }
        due.sort_unstable();
        for &(ts, kind, a1, a2) in &due {
            let abs = t0 + ts;
            match kind {
                0 => {
                    let r = &active[a1];
                    let p = &templates[r.tpl].pkts[a2];
                    let l4 = match p.l4 {
                        L4::Tcp {
                            sport,
                            dport,
                            seq,
                            ack,
                            flags,
                            window,
                            mss,
                        } => L4::Tcp {
                            sport: r.map_port(sport),
                            dport: r.map_port(dport),
                            seq,
                            ack,
                            flags,
                            window,
                            mss,
                        },
                        L4::Udp { sport, dport } => L4::Udp {
                            sport: r.map_port(sport),
                            dport: r.map_port(dport),
                        },
                    };
                    out.packet(abs, r.map_ip(p.src), r.map_ip(p.dst), &l4, &p.payload, p.missing)?;
                }
                1 => {
                    let k = a1 as u64;
                    let src_n = (k.wrapping_mul(2_654_435_761)) % a.flood_sources;
                    let src = Ipv4Addr::new(198, 18 + (src_n >> 16) as u8 % 2, (src_n >> 8) as u8, src_n as u8);
                    let l4 = L4::Tcp {
                        sport: 1024 + (k % 60_000) as u16,
                        dport: 3389,
                        seq: (k as u32).wrapping_mul(2_246_822_519),
                        ack: 0,
                        flags: SYN,
                        window: 64_240,
                        mss: Some(1460),
                    };
                    out.packet(abs, src, flood_server, &l4, &[], 0)?;
                }
                2 => {
                    let bi = rng.below(bulks.len() as u64) as usize;
                    let b = &mut bulks[bi];
                    let l4 = L4::Tcp {
                        sport: b.sport,
                        dport: b.cport,
                        seq: b.seq,
                        ack: b.cseq,
                        flags: ACK | PSH,
                        window: 502,
                        mss: None,
                    };
                    static PAYLOAD: [u8; MSS] = [0x17; MSS];
                    out.packet(abs, b.server, b.client, &l4, &PAYLOAD, 0)?;
                    b.seq = b.seq.wrapping_add(MSS as u32);
                    b.sent += 1;
                    bulk_bytes_total += MSS as u64;
                    if b.sent.is_multiple_of(2) {
                        let l4 = L4::Tcp {
                            sport: b.cport,
                            dport: b.sport,
                            seq: b.cseq,
                            ack: b.seq,
                            flags: ACK,
                            window: 2048,
                            mss: None,
                        };
                        out.packet(abs, b.client, b.server, &l4, &[], 0)?;
                    }
                    b.left = b.left.saturating_sub(MSS as u64);
                    if b.left == 0 {
                        *b = new_bulk(&mut rng);
                    }
                }
                _ => {
                    dns_id = dns_id.wrapping_add(1);
                    let mut q = Vec::with_capacity(40);
                    q.extend_from_slice(&dns_id.to_be_bytes());
                    q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7]);
                    q.extend_from_slice(b"example\x03com\x00\x00\x01\x00\x01");
                    let l4 = L4::Udp {
                        sport: 1024 + dns_id % 60_000,
                        dport: 53,
                    };
                    out.packet(
                        abs,
                        Ipv4Addr::new(172, 16, 0, 9),
                        Ipv4Addr::new(192, 168, 10, 53),
                        &l4,
                        &q,
                        0,
                    )?;
                }
            }
        }
        // Advance replica cursors; retire finished replicas.
        for r in active.iter_mut() {
            let pkts = &templates[r.tpl].pkts;
            while pkts.get(r.next).is_some_and(|p| r.start + p.rel_ns < end) {
                r.next += 1;
            }
        }
        active.retain(|r| r.next < templates[r.tpl].pkts.len());
        t = end;
    }
    out.w.flush()?;
    eprintln!(
        "{}: {} frames, {:.1} MB, {:.0} s of capture time; {} RDP conversations from {} templates (up to {} at once, {:.1} MB), {} flood SYNs from {} sources to {}:3389, {:.1} MB bulk non-RDP",
        a.out.display(),
        out.frames,
        out.bytes as f64 / 1e6,
        duration as f64 / 1e9,
        n_rdp,
        templates.len(),
        max_open,
        rdp_bytes as f64 / 1e6,
        a.flood,
        a.flood_sources.min(a.flood.max(1)),
        flood_server,
        bulk_bytes_total as f64 / 1e6,
    );
    Ok(())
}
