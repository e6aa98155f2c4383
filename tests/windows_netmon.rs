//! Network Monitor `.cap` files (issue 17): lab captures converted by `editcap -F netmon2` /
//! `-F netmon1` (fixtures/windows) give the verdicts of the pcap they came from; a file built
//! here with every kind of special record, Wi-Fi and raw IP frames, records stored out of
//! order and 2.3 UTC timestamps is numbered and timed exactly as tshark numbers and times it.

mod common;

use std::path::{Path, PathBuf};

use rdpscope::capture::file;
use rdpscope::capture::Filter;
use rdpscope::config::Config;
use serde_json::Value;

fn lab(name: &str) -> PathBuf {
    common::root().join("fixtures/lab").join(name)
}

fn cfg_for(pcap: &Path) -> Config {
    let mut cfg = Config::default();
    let keys = pcap.with_extension("keys");
    if keys.exists() {
        cfg.keylogs.push(keys);
    }
    cfg
}

/// Records without the file name (the one field that must differ).
fn records(path: &Path, cfg: &Config) -> Vec<Value> {
    common::analyze(path, cfg)
        .into_iter()
        .map(|mut v| {
            v["file"] = Value::Null;
            v
        })
        .collect()
}

/// What a verdict is made of: outcome, cause, phase, and each finding's code and frames.
fn verdicts(rs: &[Value]) -> Vec<Value> {
    rs.iter()
        .map(|r| {
            let findings: Vec<Value> = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| serde_json::json!([f["code"], f["frames"]]))
                .collect();
            serde_json::json!([r["outcome"], r["cause"], r["phase"], findings, r["decryption"]])
        })
        .collect()
}

fn windows_fixtures(suffix: &str) -> Vec<(PathBuf, PathBuf)> {
    let dir = common::root().join("fixtures/windows");
    let mut v: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_name()?.to_str()?.strip_suffix(suffix)?.to_string();
            Some((p, lab(&format!("{name}.pcap"))))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn netmon2_conversions_give_the_pcap_records_exactly() {
    let pairs = windows_fixtures(".netmon2.cap");
    assert!(pairs.len() >= 4, "{pairs:?}");
    for (cap, pcap) in pairs {
        let cfg = cfg_for(&pcap);
        let (a, b) = (records(&cap, &cfg), records(&pcap, &cfg));
        assert!(!a.is_empty(), "{}", cap.display());
        assert_eq!(a, b, "{}", cap.display());
    }
}

#[test]
fn netmon1_conversions_give_the_pcap_verdicts() {
    // 1.x keeps milliseconds only: times and RTTs move, verdicts and frames do not.
    let pairs = windows_fixtures(".netmon1.cap");
    assert!(pairs.len() >= 4, "{pairs:?}");
    for (cap, pcap) in pairs {
        let cfg = cfg_for(&pcap);
        let (a, b) = (records(&cap, &cfg), records(&pcap, &cfg));
        assert_eq!(verdicts(&a), verdicts(&b), "{}", cap.display());
    }
}

#[test]
fn fixtures_are_what_editcap_writes() {
    if !common::require(
        "fixtures_are_what_editcap_writes: needs editcap",
        common::has_tool("editcap", "-V"),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (suffix, format) in [(".netmon2.cap", "netmon2"), (".netmon1.cap", "netmon1")] {
        for (cap, pcap) in windows_fixtures(suffix) {
            let out = dir.path().join("x.cap");
            let st = std::process::Command::new("editcap")
                .env("TZ", "UTC")
                .args(["-F", format])
                .arg(&pcap)
                .arg(&out)
                .status()
                .unwrap();
            assert!(st.success());
            assert_eq!(
                std::fs::read(&out).unwrap(),
                std::fs::read(&cap).unwrap(),
                "{}",
                cap.display()
            );
        }
    }
}

// --- a hand-built NetMon 2.x file -----------------------------------------------------

/// One record: media type and bytes (packet or metadata).
struct Rec {
    network: u16,
    data: Vec<u8>,
    /// Time in ns since the epoch (the 2.3 trailer's FILETIME; start + delta otherwise).
    ns: i64,
}

/// NetMon 2.`minor` bytes for `recs`, stored physically in reverse order (the frame table
/// gives the order), with the start time `start_ns` (whole milliseconds).
fn netmon2(minor: u8, start_ns: i64, recs: &[Rec]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut offsets = vec![0u32; recs.len()];
    for (i, r) in recs.iter().enumerate().rev() {
        offsets[i] = (128 + body.len()) as u32;
        let delta_us = ((r.ns - start_ns) / 1000) as u64;
        body.extend(delta_us.to_le_bytes());
        body.extend((r.data.len() as u32).to_le_bytes());
        body.extend((r.data.len() as u32).to_le_bytes());
        body.extend(&r.data);
        body.extend(r.network.to_le_bytes());
        if minor >= 2 {
            body.extend(0u32.to_le_bytes());
        }
        if minor >= 3 {
            let ft = (r.ns / 100 + 116_444_736_000_000_000) as u64;
            body.extend(ft.to_le_bytes());
            body.push(0);
        }
    }
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(start_ns)).unwrap();
    let mut h = b"GMBU".to_vec();
    h.extend([minor, 2]);
    h.extend(1u16.to_le_bytes());
    for v in [
        t.year() as u16,
        u8::from(t.month()) as u16,
        t.weekday().number_days_from_sunday() as u16,
        t.day() as u16,
        t.hour() as u16,
        t.minute() as u16,
        t.second() as u16,
        t.millisecond(),
    ] {
        h.extend(v.to_le_bytes());
    }
    h.extend(((128 + body.len()) as u32).to_le_bytes());
    h.extend(((recs.len() * 4) as u32).to_le_bytes());
    h.resize(128, 0);
    h.extend(body);
    for o in offsets {
        h.extend(o.to_le_bytes());
    }
    h
}

/// Ethernet frame → 802.11 QoS data frame (to DS) behind Network Monitor's 32-byte metadata.
fn as_wifi(eth: &[u8]) -> Vec<u8> {
    let mut d = vec![2u8, 32, 0];
    d.resize(32, 0);
    d.extend([0x88, 0x01, 0, 0]);
    d.extend(&eth[0..6]);
    d.extend(&eth[6..12]);
    d.extend(&eth[0..6]);
    d.extend([0, 0, 0, 0]);
    d.extend([0xAA, 0xAA, 0x03, 0, 0, 0]);
    d.extend(&eth[12..]);
    d
}

/// Records put before packet N (index): media type, fill byte, length. The capture filter
/// (0xFFFF), adapter list (0xFFFB) and ETW event (0xFFE0) are numbered by Wireshark, network
/// info (0xFFFD), DNS cache (0xFFFE) and payload header (0xFFFC) are not; Token Ring (2) is a
/// packet of a media type rdpscope does not read, still numbered.
const SPECIALS: [(usize, u16, u8, usize); 7] = [
    (0, 0xFFFF, 0, 6),
    (0, 0xFFFD, 1, 40),
    (4, 0xFFFB, 0, 24),
    (4, 0xFFFE, 2, 12),
    (4, 0xFFFC, 3, 8),
    (7, 0xFFE0, 0, 80),
    (7, 2, 0, 30),
];

/// The lab capture's frames as records, with special records between them and every
/// third packet as Wi-Fi, every fifth as raw IP.
fn hand_built(pcap: &Path) -> (Vec<Rec>, i64) {
    let mut cap = pcap::Capture::from_file_with_precision(pcap, pcap::Precision::Nano).unwrap();
    let mut recs = Vec::new();
    let mut start = None;
    let mut i = 0;
    while let Ok(p) = cap.next_packet() {
        let ns = p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec;
        let start = *start.get_or_insert(ns / 1_000_000 * 1_000_000);
        for &(before, network, fill, len) in SPECIALS.iter().filter(|s| s.0 == i) {
            let data = if network == 0xFFFF {
                b"t\0c\0p\0".to_vec()
            } else {
                vec![fill; len]
            };
            let ns = if before == 0 { start } else { ns };
            recs.push(Rec { network, data, ns });
        }
        let (network, data) = match i % 15 {
            3 | 6 | 9 | 12 => (6, as_wifi(p.data)),
            5 | 10 => (0xE065, p.data[14..].to_vec()),
            _ => (1, p.data.to_vec()),
        };
        recs.push(Rec { network, data, ns });
        i += 1;
    }
    (recs, start.unwrap())
}

/// (frame number, ns, tcp ports) of every frame `file::read` hands out.
fn ours(path: &Path) -> (Vec<(u64, i64, String)>, file::ReadSummary) {
    let mut v = Vec::new();
    let filter = Filter::Bpf("tcp".into());
    let s = file::read(
        path,
        &filter,
        &mut |f| {
            let p = rdpscope::decode::decode(f.link, f.data, f.wire_len).unwrap();
            let rdpscope::decode::Transport::Tcp(t) = p.transport else {
                panic!()
            };
            v.push((f.number, f.ts.0, format!("{},{}", t.src_port, t.dst_port)));
        },
        &mut |_| {},
    )
    .unwrap();
    (v, s)
}

/// tshark's (frame number, ns, tcp ports) for the TCP frames of `path`, read with TZ=UTC.
fn tsharks(path: &Path) -> Vec<(u64, i64, String)> {
    let out = std::process::Command::new("tshark")
        .env("TZ", "UTC")
        .arg("-r")
        .arg(path)
        .args([
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
        ])
        .args(["-e", "tcp.srcport", "-e", "tcp.dstport"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let (s, n) = f[1].split_once('.').unwrap();
            let ns = s.parse::<i64>().unwrap() * 1_000_000_000 + format!("{n:0<9}").parse::<i64>().unwrap();
            (f[0].parse().unwrap(), ns, format!("{},{}", f[2], f[3]))
        })
        .collect()
}

#[test]
fn hand_built_special_records_media_and_order_match_tshark() {
    if !common::tshark("hand_built_special_records_media_and_order_match_tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pcap = lab("nla-wrong-password.pcap");
    let (recs, start) = hand_built(&pcap);
    for minor in [1u8, 2, 3] {
        let path = dir.path().join(format!("hand-2.{minor}.cap"));
        std::fs::write(&path, netmon2(minor, start, &recs)).unwrap();
        let (got, summary) = ours(&path);
        let want = tsharks(&path);
        assert!(want.len() > 20, "{want:?}");
        assert_eq!(got, want, "2.{minor}");
        // 3 numbered special records (filter, adapters, ETW event) + 3 unnumbered ones.
        assert_eq!(summary.metadata_records, 6);
        assert_eq!(summary.unsupported_frames, 1);
        assert_eq!(summary.format, Some("netmon2"));
        // Same verdicts as the pcap it was made from.
        let cfg = cfg_for(&pcap);
        let (a, b) = (records(&path, &cfg), records(&pcap, &cfg));
        let strip = |rs: Vec<Value>| -> Vec<Value> {
            rs.iter()
                .map(|r| {
                    serde_json::json!([
                        r["outcome"],
                        r["cause"],
                        r["phase"],
                        r["nla"],
                        r["findings"].as_array().unwrap().len()
                    ])
                })
                .collect()
        };
        assert_eq!(strip(a), strip(b), "2.{minor}");
    }
}

#[test]
fn broken_netmon_files_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let cap = common::root().join("fixtures/windows/nla-wrong-password.netmon2.cap");
    let bytes = std::fs::read(&cap).unwrap();
    let filter = Filter::Ports(vec![3389]);
    let run = |name: &str, b: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, b).unwrap();
        file::read(&p, &filter, &mut |_| {}, &mut |_| {})
    };
    // Header only: one clear error naming the file.
    let e = run("short.cap", &bytes[..60]).unwrap_err().to_string();
    assert!(e.contains("short.cap") && e.contains("128-byte header"), "{e}");
    // A version 3 header.
    let mut v3 = bytes.clone();
    v3[5] = 3;
    let e = run("v3.cap", &v3).unwrap_err().to_string();
    assert!(e.contains("version 3.0"), "{e}");
    // A frame table pointing past the end: reading stops with a warning, earlier frames kept.
    let mut cut = bytes.clone();
    let table = u32::from_le_bytes(cut[24..28].try_into().unwrap()) as usize;
    cut[table + 40..table + 44].copy_from_slice(&u32::MAX.to_le_bytes());
    let s = run("cut.cap", &cut).unwrap();
    assert_eq!(s.frames, 10);
    assert!(s.stopped_early.unwrap().contains("record 11"));
    // A record claiming 1 GiB.
    let mut huge = bytes.clone();
    let first = u32::from_le_bytes(huge[table..table + 4].try_into().unwrap()) as usize;
    huge[first + 12..first + 16].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let s = run("huge.cap", &huge).unwrap();
    assert_eq!(s.frames, 0);
    assert!(s.stopped_early.unwrap().contains("larger than"));
}

/// Every (time, bytes) of a capture file, through libpcap.
fn packets(path: &Path) -> Vec<(i64, Vec<u8>)> {
    let mut cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano).unwrap();
    let mut v = Vec::new();
    while let Ok(p) = cap.next_packet() {
        v.push((
            p.header.ts.tv_sec * 1_000_000_000 + p.header.ts.tv_usec,
            p.data.to_vec(),
        ));
    }
    v
}

#[test]
fn evidence_from_a_netmon_file_equals_evidence_from_the_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for (name, input) in [
        ("pcap", lab("tcp-syn-dropped.pcap")),
        (
            "cap",
            common::root().join("fixtures/windows/tcp-syn-dropped.netmon2.cap"),
        ),
    ] {
        let ev = dir.path().join(name);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(["analyze", "--write-evidence"])
            .arg(&ev)
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        let mut files: Vec<PathBuf> = std::fs::read_dir(&ev).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert_eq!(files.len(), 1);
        written.push(packets(&files[0]));
    }
    assert!(written[0].len() >= 3);
    assert_eq!(written[0], written[1]);
}

#[test]
fn editcap_conversions_are_numbered_and_timed_as_tshark_reads_them() {
    if !common::tshark("editcap_conversions_are_numbered_and_timed_as_tshark_reads_them") {
        return;
    }
    for suffix in [".netmon2.cap", ".netmon1.cap"] {
        for (cap, _) in windows_fixtures(suffix) {
            let (got, summary) = ours(&cap);
            assert_eq!(got, tsharks(&cap), "{}", cap.display());
            assert_eq!(summary.metadata_records, 0);
        }
    }
}
