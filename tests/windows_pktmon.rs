//! Packet Monitor (pktmon) captures (issue 17): lab captures rewritten as pktmon shows them
//! (fixtures/windows/make_pktmon.py: every packet once per networking component, in the
//! etl2pcapng layout with an interface per component and packet ids, and in `pktmon
//! etl2pcap`'s single-interface layout) give the verdicts of the pcap they came from: no
//! phantom retransmission, the real retransmissions still found, the copies and the drop
//! verdict counted.

mod common;

use std::path::{Path, PathBuf};

use rdpscope::analyzer::Stats;
use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::pipeline;
use serde_json::Value;

const SOURCES: [&str; 4] = [
    "nla-wrong-password",
    "high-latency",
    "pmtu-blackhole",
    "tcp-syn-dropped",
];

fn run(path: &Path, pcap: &Path) -> (Vec<Value>, Stats) {
    let mut cfg = Config::default();
    let keys = pcap.with_extension("keys");
    if keys.exists() {
        cfg.keylogs.push(keys);
    }
    let res = pipeline::analyze_file(path, &Filter::Ports(vec![3389]), &cfg, 1, &mut |_| {}).unwrap();
    let records = res.records.iter().map(|r| serde_json::to_value(r).unwrap()).collect();
    (records, res.summary.files[0].stats.clone())
}

/// What must not change: verdict, findings (codes), the TCP counters, what was decrypted.
fn essence(rs: &[Value]) -> Vec<Value> {
    rs.iter()
        .map(|r| {
            let codes: Vec<&Value> = r["findings"].as_array().unwrap().iter().map(|f| &f["code"]).collect();
            let t = &r["tcp"];
            serde_json::json!([
                r["outcome"],
                r["cause"],
                r["phase"],
                codes,
                t["retransmissions"],
                t["payload_bytes"],
                t["syn_count"],
                r["decryption"],
                r["nla"]
            ])
        })
        .collect()
}

fn files(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let root = common::root().join("fixtures");
    (
        root.join(format!("lab/{name}.pcap")),
        root.join(format!("windows/{name}.pktmon-ids.pcapng")),
        root.join(format!("windows/{name}.pktmon-single.pcapng")),
    )
}

#[test]
fn component_copies_are_analyzed_once_in_both_layouts() {
    for name in SOURCES {
        let (pcap, ids, single) = files(name);
        let (want, base) = run(&pcap, &pcap);
        assert_eq!(base.component_copies, 0, "{name}");
        for (layout, path) in [("ids", &ids), ("single", &single)] {
            let (got, stats) = run(path, &pcap);
            assert_eq!(essence(&got), essence(&want), "{name} {layout}");
            // Three copies of every packet.
            assert_eq!(stats.component_copies, 3 * base.frames, "{name} {layout}");
            assert_eq!(stats.frames, base.frames, "{name} {layout}");
            let interfaces = if layout == "ids" { 4 } else { 1 };
            assert_eq!(stats.capture_interfaces, interfaces, "{name} {layout}");
        }
    }
}

#[test]
fn real_retransmissions_are_still_found() {
    for (name, client, server) in [
        ("pmtu-blackhole", 0, 6),
        ("tcp-syn-dropped", 5, 0),
        ("high-latency", 0, 1),
    ] {
        let (pcap, ids, single) = files(name);
        for path in [&pcap, &ids, &single] {
            let (rs, _) = run(path, &pcap);
            let r = &rs[0]["tcp"]["retransmissions"];
            assert_eq!(
                (r["client"].as_u64(), r["server"].as_u64()),
                (Some(client), Some(server)),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn drop_verdicts_are_counted_with_their_frame() {
    for name in SOURCES {
        let (pcap, ids, single) = files(name);
        let (_, stats) = run(&ids, &pcap);
        assert_eq!(stats.pktmon_drops, 1, "{name}");
        // The dropped copy is the fourth component's copy of the fourth packet; check the frame
        // number against tshark's reading of the verdict.
        if common::tshark("drop_verdicts_are_counted_with_their_frame") {
            let out = std::process::Command::new("tshark")
                .arg("-r")
                .arg(&ids)
                .args([
                    "-Y",
                    "frame.comment contains \"Drop\"",
                    "-T",
                    "fields",
                    "-e",
                    "frame.number",
                ])
                .output()
                .unwrap();
            let want: Vec<u64> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.parse().unwrap())
                .collect();
            assert_eq!(stats.pktmon_drop_frames, want, "{name}");
        }
        assert_eq!(run(&single, &pcap).1.pktmon_drops, 0, "{name}");
    }
}

#[test]
fn fixtures_are_what_the_script_writes() {
    let out = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("python3")
        .arg(common::root().join("fixtures/windows/make_pktmon.py"))
        .arg(out.path())
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    for name in SOURCES {
        let (_, ids, single) = files(name);
        for committed in [ids, single] {
            let fresh = out.path().join(committed.file_name().unwrap());
            assert!(
                std::fs::read(&fresh).unwrap() == std::fs::read(&committed).unwrap(),
                "{} differs from what make_pktmon.py writes",
                committed.display()
            );
        }
    }
}
