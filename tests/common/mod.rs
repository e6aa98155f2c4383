//! Helpers shared by the integration tests: run the real pipeline (libpcap and all) on a
//! fixture and get its JSON records.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::pipeline;

/// Whether the tests run as root (namespaces, live capture, the lab need it).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Whether a program can be started (`PROGRAM ARG` runs at all, whatever its exit code).
pub fn has_tool(program: &str, arg: &str) -> bool {
    std::process::Command::new(program).arg(arg).output().is_ok()
}

/// A prerequisite of a test (root, a tool). Returns `ok`. When it is missing: under CI
/// (`CI` set) the test fails, since a skipped test there would pass without checking
/// anything; elsewhere one loud line goes to stderr (even when the harness captures
/// output), `SKIPPED <what>`, and the caller returns. `what` names the test, what is
/// missing and how to run it, e.g. `live_netns: needs root (run \`sudo -E cargo test --test live_netns\`)`.
pub fn require(what: &str, ok: bool) -> bool {
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} (under CI a missing prerequisite is a failure, not a skip)"
        );
        // Straight to the stderr handle, not `eprintln!`: the test harness captures the
        // macros' output of passing tests, and this line must be seen.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {what} ***\n");
    }
    ok
}

/// `../shared/corpus/keyed` beside the crate (the layout here and in CI), or a SKIPPED line
/// (a failure under CI) naming `test`.
pub fn keyed_corpus(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/corpus/keyed");
    require(
        &format!("{test}: needs {} (the shared keyed captures)", dir.display()),
        dir.is_dir(),
    )
    .then_some(dir)
}

/// Whether tshark runs; otherwise a SKIPPED line (a failure under CI) naming `test`.
pub fn tshark(test: &str) -> bool {
    let ok = std::process::Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    require(&format!("{test}: needs tshark (apt-get install tshark)"), ok)
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// All capture files directly under `fixtures/<dir>`, sorted.
pub fn captures(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures").join(dir))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    v.sort();
    v
}

/// Extra server ports a capture is analyzed with: `NAME.ports` next to it (RDP through a
/// SOCKS proxy on another port), as `--port` would give them.
pub fn extra_ports(path: &Path) -> Vec<u16> {
    std::fs::read_to_string(path.with_extension("ports"))
        .map(|s| s.split_whitespace().filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default()
}

/// `--port N` arguments for the capture's extra ports, and `--keylog FILE` for its default
/// key log ([`default_keylog`]): the command line [`analyze`] stands for.
pub fn port_args(path: &Path) -> Vec<String> {
    extra_ports(path)
        .iter()
        .flat_map(|p| ["--port".to_string(), p.to_string()])
        .chain(
            default_keylog(path)
                .into_iter()
                .flat_map(|k| ["--keylog".to_string(), k.to_string_lossy().into_owned()]),
        )
        .collect()
}

/// The key log a capture is analyzed with by default: `NAME.keys` next to a lab
/// `gateway-*` capture, whose verdict is read from the decrypted HTTP and MS-TSGU (as
/// `--keylog NAME.keys` would give it). Other captures are analyzed without their key log:
/// their reviewed results are those of the encrypted wire (tests/decrypt_lab.rs and
/// tests/lab_keys.rs decrypt them).
pub fn default_keylog(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_string_lossy().into_owned();
    let keys = path.with_extension("keys");
    (stem.starts_with("gateway-") && keys.is_file()).then_some(keys)
}

/// Records as JSON values, with the file path made relative so goldens do not depend
/// on where the repository is checked out. The capture's extra ports are added to `cfg`,
/// and its default key log ([`default_keylog`]).
pub fn analyze(path: &Path, cfg: &Config) -> Vec<serde_json::Value> {
    let mut cfg = cfg.clone();
    for p in extra_ports(path) {
        if !cfg.server_ports.contains(&p) {
            cfg.server_ports.push(p);
        }
    }
    if let Some(k) = default_keylog(path) {
        if !cfg.keylogs.contains(&k) {
            cfg.keylogs.push(k);
        }
    }
    let cfg = &cfg;
    let filter = Filter::Ports(cfg.server_ports.clone());
    let res = pipeline::analyze_file(path, &filter, cfg, 1, &mut |_| {})
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    res.records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).expect("record serializes");
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            v["file"] = serde_json::Value::String(name);
            v
        })
        .collect()
}

/// tshark's values of `field` in the frames matching `filter`, as (frame, value) pairs, one per
/// occurrence; `opts` (e.g. `-o`, a key preference) go before the filter. RDP on 3389 is TLS.
pub fn tshark_pairs(capture: &Path, opts: &[String], filter: &str, field: &str) -> Vec<(u64, String)> {
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-d", "tcp.port==3389,tls"])
        .args(opts)
        .args(["-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"])
        .args(["-e", "frame.number", "-e", field])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {filter}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .flat_map(|l| {
            let (frame, values) = l.split_once('\t').unwrap_or((l, ""));
            let frame: u64 = frame.parse().expect("frame number");
            values
                .split('|')
                .filter(|v| !v.is_empty())
                .map(move |v| (frame, v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A capture of `n` refused attempts (SYN, RST) from 10.0.0.2, each from its own client port.
pub fn refused_attempts(path: &std::path::Path, n: u16) {
    refused_chains(path, &[([10, 0, 0, 2], 0, n)]);
}

/// A classic pcap of refused attempts (SYN, RST) to 10.0.0.1:3389: `(client, first second,
/// attempts)` each, one attempt a second from fresh client ports, so each client's attempts
/// form a chain of retries.
pub fn refused_chains(path: &std::path::Path, chains: &[([u8; 4], u32, u16)]) {
    use etherparse::PacketBuilder;
    const SERVER: [u8; 4] = [10, 0, 0, 1];
    let mut frames: Vec<(u32, u32, Vec<u8>)> = Vec::new();
    for (client, start, attempts) in chains {
        for k in 0..*attempts {
            let t = start + u32::from(k);
            let port = 40_000 + k;
            let syn = PacketBuilder::ethernet2([2; 6], [4; 6])
                .ipv4(*client, SERVER, 64)
                .tcp(port, 3389, 1000, 64_240)
                .syn();
            let rst = PacketBuilder::ethernet2([4; 6], [2; 6])
                .ipv4(SERVER, *client, 64)
                .tcp(3389, port, 0, 0)
                .rst()
                .ack(1001);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            syn.write(&mut a, &[]).unwrap();
            rst.write(&mut b, &[]).unwrap();
            frames.push((t, 0, a));
            frames.push((t, 300, b));
        }
    }
    frames.sort_by_key(|(t, u, _)| (*t, *u));
    let mut out = Vec::new();
    out.extend_from_slice(&0xA1B2C3D4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (t, usec, f) in frames {
        out.extend_from_slice(&(1_700_000_000 + t).to_le_bytes());
        out.extend_from_slice(&usec.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&f);
    }
    std::fs::write(path, out).unwrap();
}

/// The records of fixtures/lab/success-nla.pcap decrypted with its key log (NLA read inside TLS).
pub fn decrypted_success_nla() -> Vec<rdpscope::record::ConnectionRecord> {
    let lab = root().join("fixtures/lab");
    let cfg = Config {
        keylogs: vec![lab.join("success-nla.keys")],
        ..Config::default()
    };
    pipeline::analyze_file(
        &lab.join("success-nla.pcap"),
        &Filter::Ports(vec![3389]),
        &cfg,
        1,
        &mut |_| {},
    )
    .unwrap()
    .records
}

/// The cause of a failed connection's JSON record: the code of its first `error` finding,
/// or `unexplained` (as the summary counts it).
pub fn cause_code(r: &serde_json::Value) -> String {
    r["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["severity"] == "error"))
        .and_then(|f| f["code"].as_str())
        .unwrap_or("unexplained")
        .to_string()
}
