//! Brute force, password spraying and the rollups of a big run, on captures made here from a
//! real lab failure (`nla-wrong-password`: two NLA attempts refused by the server) repeated
//! from other client ports, addresses and cookies, with later timestamps: the real pipeline
//! must report the attack with its source, count, users and window, honour the thresholds,
//! and keep a capture of thousands of failures to one screen.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const CLIENT: [u8; 4] = [10, 99, 0, 2];

/// What copy `k` of the capture looks like.
struct Copy {
    client: [u8; 4],
    cookie: Option<String>,
    offset_secs: i64,
}

/// Write `copies` of the lab capture into one pcap: client address, client port (+k),
/// cookie (same length as `labuser`) and time changed per copy.
fn multiply(dir: &Path, name: &str, copies: usize, each: impl Fn(usize) -> Copy) -> PathBuf {
    let src = common::root().join("fixtures/lab/nla-wrong-password.pcap");
    let mut packets = Vec::new();
    let mut cap = pcap::Capture::from_file(&src).unwrap();
    while let Ok(p) = cap.next_packet() {
        packets.push((*p.header, p.data.to_vec()));
    }
    let out = dir.join(name);
    let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).unwrap();
    let mut save = dead.savefile(&out).unwrap();
    for k in 0..copies {
        let c = each(k);
        for (h, data) in &packets {
            let mut d = data.clone();
            let ihl = usize::from(d[14] & 0x0f) * 4;
            for off in [14 + 12, 14 + 16] {
                if d[off..off + 4] == CLIENT {
                    d[off..off + 4].copy_from_slice(&c.client);
                }
            }
            let t = 14 + ihl;
            for off in [t, t + 2] {
                let port = u16::from_be_bytes([d[off], d[off + 1]]);
                if port != 3389 {
                    d[off..off + 2].copy_from_slice(&(port.wrapping_add(k as u16 * 2)).to_be_bytes());
                }
            }
            if let (Some(cookie), Some(at)) = (&c.cookie, find(&d, b"mstshash=labuser")) {
                d[at + 9..at + 16].copy_from_slice(cookie.as_bytes());
            }
            let mut h = *h;
            h.ts.tv_sec += c.offset_secs as libc::time_t;
            save.write(&pcap::Packet::new(&h, &d));
        }
    }
    save.flush().unwrap();
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn analyze(args: &[&str], file: &Path) -> (String, Value) {
    let text = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .arg("analyze")
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let json = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--format", "json"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let summary = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap();
    (String::from_utf8(text.stdout).unwrap(), summary)
}

#[test]
fn one_source_failing_again_and_again_is_a_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    // 15 copies, 2 failures each, 3 s apart: 30 failures within 45 s, one user name.
    let f = multiply(dir.path(), "bf.pcap", 15, |k| Copy {
        client: CLIENT,
        cookie: None,
        offset_secs: 3 * k as i64,
    });
    let (text, s) = analyze(&[], &f);
    let attacks = s["attacks"].as_array().unwrap();
    assert_eq!(attacks.len(), 1, "{attacks:?}");
    let a = &attacks[0];
    assert_eq!(a["code"], "brute_force");
    assert_eq!(a["source"], "10.99.0.2");
    assert_eq!(a["failures"], 30);
    assert_eq!(a["servers"], serde_json::json!(["10.99.0.1"]));
    assert_eq!(a["users"], serde_json::json!(["labuser"]));
    assert_eq!(a["connections"].as_array().unwrap().len(), 10);
    assert!(
        text.contains("BRUTE FORCE: 30 failed attempts from 10.99.0.2 to 10.99.0.1"),
        "{text}"
    );
    assert!(text.contains("fix: Block or slow the source"), "{text}");
    // The top user name and client carry all 30 failures.
    assert_eq!(s["top_users"][0], serde_json::json!({"key": "labuser", "failures": 30}));
    assert_eq!(s["top_clients"][0]["failures"], 30);
    // Thresholds are the user's: a higher one, or a window shorter than the gaps, finds none.
    let (_, s) = analyze(&["--brute-force", "31"], &f);
    assert_eq!(s["attacks"], serde_json::json!([]));
    let (_, s) = analyze(&["--attack-window", "2"], &f);
    assert_eq!(s["attacks"], serde_json::json!([]));
    // The gauge says one source.
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--format", "prometheus"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("rdpscope_brute_force_sources 1\n"));
}

#[test]
fn many_user_names_from_one_source_is_password_spraying() {
    let dir = tempfile::tempdir().unwrap();
    // 12 copies, each with another 7-letter cookie: 12 users, 24 failures within 24 s.
    let f = multiply(dir.path(), "spray.pcap", 12, |k| Copy {
        client: CLIENT,
        cookie: Some(format!("user{k:03}")),
        offset_secs: 2 * k as i64,
    });
    let (text, s) = analyze(&[], &f);
    let codes: Vec<&str> = s["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    // The tenth name comes with the 19th failure, before the 20th makes a brute force.
    assert_eq!(codes, ["password_spray", "brute_force"]);
    let spray = &s["attacks"][0];
    assert_eq!(spray["distinct_users"], 10);
    assert_eq!(spray["users"].as_array().unwrap().len(), 10);
    assert!(text.contains("PASSWORD SPRAY:"), "{text}");
    // Below the spraying threshold the names alone say nothing.
    let (_, s) = analyze(&["--spray-users", "13"], &f);
    let codes: Vec<&str> = s["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["brute_force"]);
}

#[test]
fn thousands_of_failures_fit_one_screen() {
    let dir = tempfile::tempdir().unwrap();
    // 2,500 copies (5,000 failures) from 500 client addresses, 8 s apart per address
    // (nobody crosses the brute-force threshold), to one server.
    let f = multiply(dir.path(), "big.pcap", 2500, |k| Copy {
        client: [10, 50, (k % 500 / 250) as u8, (k % 250) as u8 + 1],
        cookie: Some(format!("u{:06}", k % 40)),
        offset_secs: 8 * (k / 500) as i64 + (k % 500) as i64 / 100,
    });
    let (text, s) = analyze(&["--group-by", "server", "--only", "failed", "--top", "5"], &f);
    assert_eq!(s["failed"], 5000);
    assert_eq!(
        s["failures_by_server"][0],
        serde_json::json!({"key": "10.99.0.1", "failures": 5000})
    );
    assert_eq!(s["top_clients"].as_array().unwrap().len(), 5);
    assert_eq!(s["top_clients"][0]["failures"], 10);
    assert_eq!(s["top_users"][0]["failures"], 126);
    if std::env::var_os("RDPSCOPE_SHOW").is_some() {
        eprintln!("{text}");
    }
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 60, "{} lines:\n{text}", lines.len());
    assert!(
        lines.iter().all(|l| l.chars().count() <= 200),
        "a line too long:\n{text}"
    );
    assert!(text.contains("Connections by server"), "{text}");
    assert!(text.contains("5000    5000 100.0%  10.99.0.1"), "{text}");
    assert!(text.contains("more retry stories"), "{text}");
}
