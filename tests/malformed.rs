//! Hostile captures (fixtures/malformed/, made by make.py, described in its README.md) run
//! through the real CLI binary. Each has a defined result: a file that cannot be read at
//! all gets one line on stderr naming it and exit 2; every other file gets a report in
//! which the anomaly is visible (anomalies, tcp counters or the file's stats).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/malformed")
        .join(name)
}

struct Run {
    code: i32,
    conns: Vec<Value>,
    /// None when no file could be read (then nothing is printed on stdout).
    summary: Option<Value>,
    stderr: String,
}

fn run(name: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--format", "json"])
        .arg(path(name))
        .output()
        .expect("run rdpscope");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let (summary, conns): (Vec<Value>, Vec<Value>) = lines.into_iter().partition(|v| v["type"] == "summary");
    Run {
        code: out.status.code().expect("exit code, not a signal"),
        conns,
        summary: summary.into_iter().next(),
        stderr,
    }
}

fn file_stats(r: &Run) -> &Value {
    &r.summary.as_ref().expect("a summary line")["files"][0]
}

fn anomalies(c: &Value) -> Vec<String> {
    c["anomalies"]
        .as_array()
        .expect("anomalies list")
        .iter()
        .map(|a| a["what"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Unreadable: exactly one line on stderr, naming the file and the reason; exit 2.
fn unreadable(name: &str, reason: &str) {
    let r = run(name);
    assert_eq!(r.code, 2, "{name}: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{name}: {}", r.stderr);
    assert!(
        lines[0].starts_with("rdpscope: ") && lines[0].contains(name),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(reason), "{name}: {:?} lacks {reason:?}", lines[0]);
    assert!(r.conns.is_empty() && r.summary.is_none(), "{name}: nothing on stdout");
}

/// Read up to a point: a one-line warning naming where reading stopped, and a report.
fn stopped_early(name: &str, frames: u64, reason: &str) -> Run {
    let r = run(name);
    assert_ne!(r.code, 2, "{name}: {}", r.stderr);
    let want = format!("reading stopped after frame {frames}: ");
    assert!(
        r.stderr.contains(name) && r.stderr.contains(&want),
        "{name}: {}",
        r.stderr
    );
    assert!(r.stderr.contains(reason), "{name}: {}", r.stderr);
    assert!(file_stats(&r)["warning"].as_str().is_some_and(|w| w.contains(reason)));
    assert_eq!(file_stats(&r)["frames"], frames);
    assert_eq!(r.conns.len(), 1, "{name}: the connection read so far is reported");
    assert_eq!(r.conns[0]["cookie"], "test");
    r
}

/// Readable: a report, no warning or error, exit 0 or 1.
fn reported(name: &str) -> Run {
    let r = run(name);
    assert!(r.code == 0 || r.code == 1, "{name}: exit {} {}", r.code, r.stderr);
    assert!(r.stderr.is_empty(), "{name}: {}", r.stderr);
    assert!(file_stats(&r)["warning"].is_null() && file_stats(&r)["error"].is_null());
    assert!(!r.conns.is_empty(), "{name}: no connection reported");
    r
}

#[test]
fn wrong_magic() {
    unreadable("wrong-magic.pcap", "cannot open: not a pcap or pcapng capture");
}

#[test]
fn truncated_header() {
    unreadable(
        "truncated-header.pcap",
        "cannot open: libpcap error: truncated dump file",
    );
}

#[test]
fn unsupported_link_type() {
    unreadable(
        "unsupported-linktype.pcap",
        "unsupported link type IEEE802_11_RADIO (127)",
    );
}

#[test]
fn truncated_last_packet() {
    stopped_early("truncated-last-packet.pcap", 7, "truncated dump file");
}

#[test]
fn caplen_beyond_the_file() {
    stopped_early("caplen-beyond-file.pcap", 7, "tried to read 5000 captured bytes");
}

#[test]
fn caplen_beyond_any_snaplen() {
    stopped_early("caplen-huge.pcap", 7, "invalid packet capture length 2147483647");
}

#[test]
fn caplen_larger_than_snaplen_is_cut_to_it() {
    // libpcap reads the record and keeps snaplen bytes: the X.224 request loses its tail,
    // which is a snaplen cut (counted), not an error.
    let r = reported("caplen-over-snaplen.pcap");
    assert_eq!(file_stats(&r)["stats"]["snaplen_cut_frames"], 1);
    assert_eq!(r.conns[0]["tcp"]["snaplen_cut_bytes"], 16);
    assert_eq!(r.conns[0]["tcp"]["gaps"], 1);
}

#[test]
fn zero_length_packets() {
    let r = reported("zero-length-packets.pcap");
    let f = file_stats(&r);
    assert_eq!(f["frames"], 12);
    assert_eq!(f["stats"]["empty_frames"], 4);
    assert_eq!(f["frames_analyzed"], 8);
    // The conversation around them is read as if they were not there; frames keep their
    // positions in the file.
    assert_eq!(r.conns[0]["cookie"], "test");
    assert_eq!(r.conns[0]["frames"], serde_json::json!([1, 12]));
}

#[test]
fn timestamps_going_backwards() {
    let r = reported("timestamps-backwards.pcap");
    assert_eq!(file_stats(&r)["stats"]["timestamps_backwards"], 1);
    assert_eq!(r.conns[0]["cookie"], "test");
}

#[test]
fn pcapng_with_unknown_blocks() {
    let r = reported("pcapng-unknown-blocks.pcapng");
    assert_eq!(file_stats(&r)["frames"], 8);
    assert_eq!(r.conns[0]["cookie"], "test");
    assert_eq!(r.conns[0]["negotiation"]["selected"], "ssl");
}

#[test]
fn tpkt_claiming_65535_bytes_with_3_following() {
    let r = reported("tpkt-65535.pcap");
    assert_eq!(
        anomalies(&r.conns[0]),
        ["stream ended inside a PDU: its length promised more bytes"]
    );
    assert_eq!(r.conns[0]["phase_reached"], "tcp");
}

#[test]
fn x224_length_indicator_that_lies() {
    let r = reported("x224-li-lies.pcap");
    assert_eq!(
        anomalies(&r.conns[0]),
        ["X.224 length indicator disagrees with TPKT length"]
    );
    assert_eq!(r.conns[0]["cookie"], "test");
}

#[test]
fn tls_record_longer_than_allowed() {
    let r = reported("tls-record-oversize.pcap");
    assert_eq!(anomalies(&r.conns[0]), ["TLS record longer than 2^14 + 2048"]);
    assert!(r.conns[0]["tls"].is_null(), "the claimed record is not believed");
}

#[test]
fn certificate_chain_claiming_megabytes() {
    let r = reported("cert-chain-huge.pcap");
    assert_eq!(r.conns.len(), 2);
    assert_eq!(anomalies(&r.conns[0]), ["TLS handshake message larger than the bound"]);
    assert_eq!(anomalies(&r.conns[1]), ["TLS handshake message does not parse"]);
    for c in &r.conns {
        assert_eq!(c["tls"]["version"], "1.2", "the ServerHello before it is kept");
        assert!(c["tls"]["certificate"].is_null());
    }
}

#[test]
fn endless_out_of_order_segments() {
    let r = reported("endless-out-of-order.pcap");
    let tcp = &r.conns[0]["tcp"];
    // 400 kB wait behind a 1-byte hole; the 256 KiB out-of-order bound gives up on the hole.
    assert_eq!(tcp["gaps"], 1);
    assert_eq!(tcp["gap_bytes"], 1);
    assert_eq!(
        tcp["payload_bytes"]["client"].as_u64().map(|b| b >= 400_000),
        Some(true)
    );
}

#[test]
fn overlapping_segments_with_different_content() {
    let r = reported("overlap-conflict.pcap");
    let c = &r.conns[0];
    assert_eq!(c["tcp"]["overlap_conflicts"], 1);
    assert_eq!(c["tcp"]["retransmissions"]["client"], 1);
    // First copy wins: the cookie is the one first sent, not the forged "EVIL" bytes.
    assert_eq!(c["cookie"], "test");
    assert!(anomalies(c).is_empty());
}

#[test]
fn a_wrong_key_stops_decryption_and_the_keyless_verdict_stands() {
    let r = reported("keyed-wrong-key.pcapng");
    let c = &r.conns[0];
    assert_eq!(c["decryption"]["keys"], "capture");
    assert_eq!(c["decryption"]["records"]["client"], 0);
    assert_eq!(c["decryption"]["stopped"], "bad_record_mac (client records)");
    assert!(c["session"].is_null());
    assert_eq!(c["outcome"], "success");
}

#[test]
fn a_record_cut_by_the_snaplen_stops_decryption_there() {
    let r = reported("keyed-snaplen-cut-record.pcapng");
    let c = &r.conns[0];
    assert_eq!(c["tcp"]["gaps"], 1);
    let d = &c["decryption"];
    assert!(d["stopped"].as_str().unwrap().starts_with("bad_record_mac"), "{d}");
    // What came before the cut was read.
    assert!(d["records"]["client"].as_u64().unwrap() > 0 && d["records"]["server"].as_u64().unwrap() > 0);
    assert_eq!(c["outcome"], "success");
}

#[test]
fn a_secrets_block_of_garbage_is_no_key() {
    let r = reported("keyed-dsb-garbage.pcapng");
    let c = &r.conns[0];
    assert!(c["decryption"].is_null());
    assert!(c["nla"].is_null() && c["session"].is_null());
    assert_eq!(c["outcome"], "success");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

/// The text report (the default) gets the same exit code as JSON for every fixture, and
/// never panics.
#[test]
fn text_report_agrees_on_every_fixture() {
    for e in std::fs::read_dir(path("")).expect("fixtures/malformed") {
        let p = e.expect("entry").path();
        if !p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .arg("analyze")
            .arg(&p)
            .output()
            .expect("run rdpscope");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert_eq!(out.status.code(), Some(run(&name).code), "{name}");
    }
}

/// Every fixture has a test above, and make.py reproduces the committed files exactly.
#[test]
fn fixtures_are_complete_and_reproducible() {
    let dir = path("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/malformed")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    names.sort();
    let readme = std::fs::read_to_string(dir.join("README.md")).expect("README.md");
    let tests = include_str!("malformed.rs");
    for n in &names {
        assert!(readme.contains(&format!("`{n}`")), "{n} is not described in README.md");
        assert!(tests.contains(&format!("\"{n}\"")), "{n} has no test");
    }
    let Ok(status) = Command::new("python3").arg("--version").output() else {
        eprintln!("python3 not found: reproducibility not checked");
        return;
    };
    assert!(status.status.success());
    let tmp = tempfile::tempdir().expect("temp dir");
    let made = Command::new("python3")
        .arg(dir.join("make.py"))
        .arg(tmp.path())
        .status()
        .expect("run make.py");
    assert!(made.success());
    for n in &names {
        let want = std::fs::read(dir.join(n)).expect("fixture");
        let got = std::fs::read(tmp.path().join(n)).unwrap_or_else(|e| panic!("make.py did not write {n}: {e}"));
        assert!(want == got, "{n} differs from what make.py writes");
    }
}
