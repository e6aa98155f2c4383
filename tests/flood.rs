//! A SYN flood at small scale: 20,000 half-open attempts against one server from 500
//! sources, with a small flow table. Memory bounds hold (flows tracked never exceed the
//! bound), the flood is summarised in the text and JSON summaries instead of 20,000
//! records, and connections that are not part of it are still reported one by one.
//! No timing is measured here.

use std::path::Path;
use std::process::Command;

use etherparse::PacketBuilder;
use rdpscope::analyzer::Analyzer;
use rdpscope::config::Config;
use rdpscope::decode::LinkType;
use rdpscope::ts::Ts;

const SYNS: u32 = 20_000;
const SOURCES: u32 = 500;
const MAX_FLOWS: usize = 2_000;

fn syn(src: [u8; 4], sport: u16, dst: [u8; 4], seq: u32) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2; 6], [4; 6])
        .ipv4(src, dst, 64)
        .tcp(sport, 3389, seq, 64_240)
        .syn();
    let mut v = Vec::new();
    b.write(&mut v, &[]).unwrap();
    v
}

/// (time in ns, frame): the flood, and one unanswered attempt to another server before it.
fn frames() -> Vec<(i64, Vec<u8>)> {
    let t0 = 1_700_000_000_000_000_000i64;
    let mut v = vec![(t0, syn([10, 1, 1, 1], 50_000, [10, 9, 9, 9], 7))];
    for k in 0..SYNS {
        let s = k % SOURCES;
        let src = [198, 18, (s >> 8) as u8, s as u8];
        let ts = t0 + 1_000_000 + i64::from(k) * 50_000; // 20,000 SYNs in one second
        v.push((
            ts,
            syn(
                src,
                1024 + (k % 60_000) as u16,
                [10, 200, 0, 1],
                k.wrapping_mul(2_654_435_761),
            ),
        ));
    }
    v
}

/// A classic pcap file (microsecond timestamps, Ethernet).
fn write_pcap(path: &Path) {
    let mut b = Vec::new();
    for x in [
        0xa1b2_c3d4u32.to_le_bytes(),
        [2, 0, 4, 0],
        [0; 4],
        [0; 4],
        65_535u32.to_le_bytes(),
        1u32.to_le_bytes(),
    ] {
        b.extend_from_slice(&x);
    }
    for (ts, f) in frames() {
        b.extend_from_slice(&((ts / 1_000_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&(((ts % 1_000_000_000) / 1000) as u32).to_le_bytes());
        b.extend_from_slice(&(f.len() as u32).to_le_bytes());
        b.extend_from_slice(&(f.len() as u32).to_le_bytes());
        b.extend_from_slice(&f);
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn flow_table_stays_bounded_and_the_flood_is_summarised() {
    let cfg = Config {
        max_flows: MAX_FLOWS,
        ..Config::default()
    };
    let mut a = Analyzer::new(cfg, 1);
    let mut most = 0;
    for (i, (ts, f)) in frames().iter().enumerate() {
        a.on_frame(i as u64 + 1, Ts(*ts), LinkType::Ethernet, f, f.len() as u32);
        most = most.max(a.tracked().0);
    }
    assert!(most <= MAX_FLOWS, "{most} flows tracked at once");
    // Live views list the lone attempt while it waits, never the flood's half-open entries.
    let open: Vec<u64> = a.open_connections().map(|c| c.id).collect();
    assert_eq!(open, [1]);
    let (finished, stats) = a.finish();
    assert!(stats.peak_flows <= MAX_FLOWS as u64);
    assert_eq!(stats.syn_floods.len(), 1, "{:?}", stats.syn_floods);
    let f = &stats.syn_floods[0];
    assert_eq!(f.server.ip.to_string(), "10.200.0.1");
    assert_eq!(f.half_open, u64::from(SYNS));
    assert_eq!(f.sources, u64::from(SOURCES));
    // The attempt to the other server is still a connection of its own.
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].id(), 1);
}

/// With the default (large) flow table the flood does not fill it: a flooded server's
/// unanswered attempts are held up to 4,096 (+ the quarter summarised at once), so a flood
/// costs the same memory whatever its size; every attempt is still counted.
#[test]
fn a_flood_holds_a_bounded_number_of_attempts_whatever_the_table_size() {
    let mut a = Analyzer::new(Config::default(), 1);
    let mut most = 0;
    for (i, (ts, f)) in frames().iter().enumerate() {
        a.on_frame(i as u64 + 1, Ts(*ts), LinkType::Ethernet, f, f.len() as u32);
        most = most.max(a.tracked().0);
    }
    let threshold = Config::default().flood_half_open;
    assert!(most <= 4096 + threshold + 2, "{most} flows tracked at once");
    let (_, stats) = a.finish();
    assert_eq!(stats.syn_floods[0].half_open, u64::from(SYNS));
    assert_eq!(stats.syn_floods[0].syns, u64::from(SYNS));
}

#[test]
fn cli_reports_the_flood_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("flood.pcap");
    write_pcap(&pcap);
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(["analyze", "--format", format, "--max-flows", "2000"])
            .arg(&pcap)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let json = run("json");
    let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "one connection and the summary");
    assert_eq!(lines[0]["type"], "connection");
    assert_eq!(lines[0]["server"]["ip"], "10.9.9.9");
    let s = &lines[1];
    assert_eq!(s["type"], "summary");
    let stats = &s["files"][0]["stats"];
    assert!(stats["peak_flows"].as_u64().unwrap() <= 2000);
    let flood = &stats["syn_floods"][0];
    assert_eq!(flood["server"]["ip"], "10.200.0.1");
    assert_eq!(flood["half_open"], 20_000);
    assert_eq!(flood["sources"], 500);
    let text = run("text");
    assert!(
        text.contains(
            "SYN flood: 20000 half-open connections (20000 SYNs, never answered) from 500 sources to 10.200.0.1:3389"
        ),
        "{text}"
    );
}

/// A real capture of a client whose SYNs are dropped (fixtures/lab/tcp-syn-dropped.pcap: six
/// SYNs, never answered). While it waits, the attempt is listed as an open connection (what a
/// live view shows), with every SYN so far, from its first SYN on, and under one id, across
/// the switch from a small half-open entry to a full connection.
#[test]
fn an_unanswered_attempt_is_listed_while_it_waits() {
    use rdpscope::capture::{file, Filter};
    let cfg = Config::default();
    let mut a = Analyzer::new(cfg.clone(), 1);
    let mut seen = Vec::new();
    file::read(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/lab/tcp-syn-dropped.pcap"
        )),
        &Filter::Ports(vec![3389]),
        &mut |f| {
            a.on_frame(f.number, f.ts, f.link, f.data, f.wire_len);
            let open: Vec<_> = a.open_connections().map(|c| c.into_owned()).collect();
            assert_eq!(open.len(), 1, "frame {}", f.number);
            let r = rdpscope::emit::tcp_record(&open[0], &cfg);
            let tcp = r.tcp.as_ref().unwrap();
            assert_eq!(
                (r.id, tcp.syn_count, r.frames[0]),
                (1, f.number as u32, 1),
                "frame {}",
                f.number
            );
            assert_eq!(r.server.port, 3389);
            seen.push(f.number);
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
}
