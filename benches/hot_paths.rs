//! Criterion benchmarks for the hot paths: link/IP/TCP decode, flow lookup, reassembly,
//! TPKT/X.224 and TLS record parsing, and the whole pipeline over an in-memory capture
//! (BPF filter, analyzer, records) built from the fixtures and bulk non-RDP traffic.
//!
//! `cargo bench --bench hot_paths` (no timing assertions anywhere: these are for looking at).

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use etherparse::PacketBuilder;
use rdpscope::analyzer::Analyzer;
use rdpscope::config::Config;
use rdpscope::decode::{self, LinkType, Transport};
use rdpscope::flow::reassembly::{Chunk, Reassembler};
use rdpscope::flow::table::{FlowTable, LastSeen};
use rdpscope::flow::{Endpoint, FlowKey};
use rdpscope::proto::{tls, tpkt, x224};
use rdpscope::ts::Ts;

struct Frame {
    ts: Ts,
    link: LinkType,
    data: Vec<u8>,
    wire_len: u32,
}

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

fn read_frames(path: &std::path::Path) -> Vec<Frame> {
    let mut out = Vec::new();
    let Ok(mut cap) = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano) else {
        return out;
    };
    let Some(link) = LinkType::from_dlt(cap.get_datalink().0) else {
        return out;
    };
    while let Ok(p) = cap.next_packet() {
        out.push(Frame {
            ts: Ts::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec),
            link,
            data: p.data.to_vec(),
            wire_len: p.header.len,
        });
    }
    out
}

fn bulk_frame(seq: u32) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([192, 168, 10, 5], [172, 16, 3, 4], 64)
        .tcp(443, 50_000, seq, 502)
        .ack(12345);
    let mut v = Vec::new();
    let _ = b.write(&mut v, &[0x17; 1448]);
    v
}

/// Client X.224 Connection Request, client ClientHello record, server ServerHello.. records.
fn rdp_payloads() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut cr = Vec::new();
    let mut ch = Vec::new();
    let mut sh = Vec::new();
    for f in read_frames(&fixture("lab/success-tls12.pcap")) {
        let Ok(p) = decode::decode(f.link, &f.data, f.wire_len) else {
            continue;
        };
        let Transport::Tcp(h) = p.transport else { continue };
        let d = p.payload;
        if d.first() == Some(&3) && h.dst_port == 3389 && cr.is_empty() {
            cr = d.to_vec();
        } else if d.first() == Some(&0x16) && h.dst_port == 3389 && ch.is_empty() {
            ch = d.to_vec();
        } else if d.first() == Some(&0x16) && h.src_port == 3389 && sh.is_empty() {
            sh = d.to_vec();
        }
    }
    (cr, ch, sh)
}

fn bench_decode(c: &mut Criterion) {
    let f = bulk_frame(1);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("ethernet_ipv4_tcp_1448", |b| {
        b.iter(|| decode::decode(LinkType::Ethernet, black_box(&f), f.len() as u32).is_ok())
    });
    g.finish();
}

struct V(Ts);
impl LastSeen for V {
    fn last_seen(&self) -> Ts {
        self.0
    }
}

fn bench_flow_lookup(c: &mut Criterion) {
    let server = Endpoint {
        ip: "10.200.0.1".parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
        port: 3389,
    };
    let client = |i: u32| Endpoint {
        ip: std::net::IpAddr::from((0x0a40_0000u32 + i / 60_000).to_be_bytes()),
        port: 1024 + (i % 60_000) as u16,
    };
    let mut t = FlowTable::new(200_000);
    for i in 0..100_000 {
        t.insert(FlowKey::new(client(i), server), V(Ts(i64::from(i))));
    }
    let mut g = c.benchmark_group("flow_table");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u32;
    g.bench_function("lookup_hit_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % 100_000;
            t.get_mut(&FlowKey::new(server, client(i))).is_some()
        })
    });
    g.bench_function("lookup_miss_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % 100_000;
            t.get_mut(&FlowKey::new(server, client(i + 1_000_000))).is_some()
        })
    });
    g.finish();
}

fn bench_reassembly(c: &mut Criterion) {
    let seg = vec![0x17u8; 1448];
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(64 * 1448));
    g.bench_function("in_order_64_segments", |b| {
        b.iter(|| {
            let mut r = Reassembler::default();
            r.on_syn(0);
            let mut n = 0usize;
            for k in 0..64u32 {
                r.segment(1 + k * 1448, &seg, 256 * 1024, &mut |c| {
                    if let Chunk::Data(d) = c {
                        n += d.len()
                    }
                });
            }
            n
        })
    });
    g.bench_function("pairs_swapped_64_segments", |b| {
        b.iter(|| {
            let mut r = Reassembler::default();
            r.on_syn(0);
            let mut n = 0usize;
            for k in 0..64u32 {
                let k = k ^ 1;
                r.segment(1 + k * 1448, &seg, 256 * 1024, &mut |c| {
                    if let Chunk::Data(d) = c {
                        n += d.len()
                    }
                });
            }
            n
        })
    });
    g.finish();
}

fn bench_parsers(c: &mut Criterion) {
    let (cr, ch, sh) = rdp_payloads();
    let mut g = c.benchmark_group("parse");
    g.bench_function("tpkt_x224_connection_request", |b| {
        b.iter(|| match tpkt::split(black_box(&cr)) {
            Ok((p, _)) => x224::parse(p).is_ok(),
            Err(_) => false,
        })
    });
    g.bench_function("tls_record_header", |b| {
        b.iter(|| tls::parse_record_header(black_box(&sh)).is_ok())
    });
    g.bench_function("tls_client_hello", |b| {
        b.iter(|| {
            let body = ch.get(tls::RECORD_HEADER_LEN..).unwrap_or_default();
            tls::parse_handshake(black_box(body)).is_ok()
        })
    });
    g.bench_function("tls_server_hello_flight", |b| {
        b.iter(|| {
            let mut n = 0;
            let mut rest = sh.as_slice();
            while let Ok(h) = tls::parse_record_header(rest) {
                let end = tls::RECORD_HEADER_LEN + usize::from(h.length);
                let Some(body) = rest.get(tls::RECORD_HEADER_LEN..end) else {
                    break;
                };
                let mut m = body;
                while let Ok(len) = tls::handshake_message_len(m) {
                    let Some(msg) = m.get(..len) else { break };
                    n += usize::from(tls::parse_handshake(msg).is_ok());
                    m = m.get(len..).unwrap_or_default();
                }
                rest = rest.get(end..).unwrap_or_default();
            }
            n
        })
    });
    g.finish();
}

/// Every Ethernet fixture's frames, each followed by 20 bulk non-RDP frames (about 97% of
/// the bytes), with timestamps made increasing.
fn in_memory_capture() -> Vec<Frame> {
    let mut files: Vec<PathBuf> = ["real", "lab"]
        .iter()
        .filter_map(|d| std::fs::read_dir(fixture(d)).ok())
        .flat_map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    let mut ts = 1_700_000_000_000_000_000i64;
    let mut seq = 0u32;
    for f in files {
        for fr in read_frames(&f) {
            if fr.link != LinkType::Ethernet {
                continue;
            }
            ts += 100_000;
            out.push(Frame { ts: Ts(ts), ..fr });
            for _ in 0..20 {
                seq = seq.wrapping_add(1448);
                let data = bulk_frame(seq);
                ts += 10_000;
                out.push(Frame {
                    ts: Ts(ts),
                    link: LinkType::Ethernet,
                    wire_len: data.len() as u32,
                    data,
                });
            }
        }
    }
    out
}

fn bench_pipeline(c: &mut Criterion) {
    let frames = in_memory_capture();
    let bytes: u64 = frames.iter().map(|f| 16 + f.data.len() as u64).sum();
    let expr = rdpscope::capture::filter_for_ports(&[3389], LinkType::Ethernet);
    let Ok(dead) = pcap::Capture::dead(pcap::Linktype::ETHERNET) else {
        return;
    };
    let Ok(program) = dead.compile(&expr, true) else { return };
    let cfg = Config::default();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.bench_function("in_memory_fixtures_plus_bulk", |b| {
        b.iter_batched(
            || Analyzer::new(cfg.clone(), 1),
            |mut a| {
                for (i, f) in frames.iter().enumerate() {
                    if program.filter(&f.data) {
                        a.on_frame(i as u64 + 1, f.ts, f.link, &f.data, f.wire_len);
                    }
                }
                let (fin, _) = a.finish();
                fin.iter()
                    .map(|f| rdpscope::emit::record(f, &cfg).frames[1])
                    .sum::<u64>()
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("bpf_only", |b| {
        b.iter(|| frames.iter().filter(|f| program.filter(&f.data)).count())
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_decode,
    bench_flow_lookup,
    bench_reassembly,
    bench_parsers,
    bench_pipeline
);
criterion_main!(benches);
