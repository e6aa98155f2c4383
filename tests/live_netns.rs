//! Live capture for real: a veth pair between two network namespaces made for this test,
//! `rdpscope live --format json` on one end, lab captures replayed onto the other with
//! tcpreplay (original timing), and the verdicts compared with `analyze` on the same
//! files. Needs root and tcpreplay: in CI their absence is a failure, elsewhere a loud
//! notice. No packet leaves the two namespaces.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdpscope::config::Config;
use serde_json::Value;

const FIXTURES: &[&str] = &[
    "tcp-port-closed",
    "reset-after-x224",
    "tls-no-shared-cipher",
    "cert-expired-ca-trusted",
    "nla-wrong-password",
    "server-killed-mid-session",
    "success-tls12",
];

fn run(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Namespaces and the capture process, removed whatever happens to the test.
struct Lab {
    a: String,
    b: String,
    child: Option<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        run(&["ip", "netns", "del", &self.a]);
        run(&["ip", "netns", "del", &self.b]);
    }
}

fn verdict(r: &Value) -> Value {
    serde_json::json!({
        "client_port": r["client"]["port"],
        "outcome": r["outcome"],
        "phase": r["phase_reached"],
        "codes": r["findings"].as_array().map(|f| f.iter().map(|f| f["code"].clone()).collect::<Vec<_>>()),
        "requested": r["negotiation"]["requested"],
        "selected": r["negotiation"]["selected"],
        "failure": r["negotiation"]["failure"],
        "tls_version": r["tls"]["version"],
        "alerts": r["tls"]["alerts"].as_array().map(|a| a.iter().map(|a| (a["from"].clone(), a["description"].clone())).collect::<Vec<_>>()),
    })
}

#[test]
fn live_capture_on_veth_gives_the_offline_verdicts() {
    let root = common::is_root();
    let tcpreplay = common::has_tool("tcpreplay", "-V");
    let missing: Vec<&str> = [
        (root, "root (network namespaces)"),
        (tcpreplay, "tcpreplay (apt-get install tcpreplay)"),
    ]
    .iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, what)| *what)
    .collect();
    if !common::require(
        &format!(
            "live_netns: needs {}; run `sudo -E cargo test --test live_netns`",
            missing.join(" and ")
        ),
        missing.is_empty(),
    ) {
        return;
    }
    let id = std::process::id();
    let mut lab = Lab {
        a: format!("rdps-live-a-{id}"),
        b: format!("rdps-live-b-{id}"),
        child: None,
    };
    let (a, b) = (lab.a.clone(), lab.b.clone());
    for ns in [&a, &b] {
        assert!(run(&["ip", "netns", "add", ns]), "setup failed: netns add {ns}");
        // No IPv6 chatter (router/neighbour solicitations) in the capture.
        for key in ["all", "default"] {
            let knob = format!("net.ipv6.conf.{key}.disable_ipv6=1");
            assert!(
                run(&["ip", "netns", "exec", ns, "sysctl", "-qw", &knob]),
                "setup failed: {knob} in {ns}"
            );
        }
    }
    for cmd in [
        vec![
            "ip", "-n", &a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &b,
        ],
        vec!["ip", "-n", &a, "link", "set", "va", "up"],
        vec!["ip", "-n", &b, "link", "set", "vb", "up"],
    ] {
        assert!(run(&cmd), "setup failed: {}", cmd.join(" "));
    }
    let out_dir = tempfile::tempdir().unwrap();
    let saved = out_dir.path().join("live.pcap");
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &a,
            env!("CARGO_BIN_EXE_rdpscope"),
            "live",
            "-i",
            "va",
            "--format",
            "json",
            "--write",
        ])
        .arg(&saved)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rdpscope live");
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    lab.child = Some(child);
    let mut err_lines = BufReader::new(stderr).lines();
    let ready = err_lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        ready.contains("capturing on va"),
        "rdpscope live did not start: {ready}"
    );

    // The capabilities are gone once the capture is open.
    let pid = lab.child.as_ref().map(|c| c.id()).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let cap_eff = status
        .lines()
        .find(|l| l.starts_with("CapEff:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        cap_eff.ends_with("0000000000000000"),
        "capabilities still held: {cap_eff}"
    );

    let files: Vec<String> = FIXTURES
        .iter()
        .map(|f| {
            common::root()
                .join(format!("fixtures/lab/{f}.pcap"))
                .display()
                .to_string()
        })
        .collect();
    let mut replay = vec!["ip", "netns", "exec", &b, "tcpreplay", "-q", "-i", "vb"];
    replay.extend(files.iter().map(String::as_str));
    assert!(run(&replay), "tcpreplay failed");
    std::thread::sleep(Duration::from_millis(500));

    // Ctrl-C: the capture stops and every connection still open is finished and printed.
    let pid = lab.child.as_ref().map(|c| c.id().to_string()).unwrap();
    assert!(run(&["pkill", "-INT", "-P", &pid]) || run(&["kill", "-INT", &pid]));
    let start = Instant::now();
    let mut live: Vec<Value> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["type"] == "connection" {
            live.push(v);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "rdpscope live did not finish"
        );
    }

    let cfg = Config::default();
    let mut offline: Vec<Value> = Vec::new();
    for f in FIXTURES {
        offline.extend(common::analyze(
            &common::root().join(format!("fixtures/lab/{f}.pcap")),
            &cfg,
        ));
    }
    let mut want: Vec<Value> = offline.iter().map(verdict).collect();
    let mut got: Vec<Value> = live.iter().map(verdict).collect();
    let key = |v: &Value| v["client_port"].as_u64().unwrap_or(0);
    want.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(
        got.len(),
        want.len(),
        "live saw {} connections, offline {}",
        got.len(),
        want.len()
    );
    assert_eq!(got, want);

    // --write kept every captured packet: analysing the saved file tells the same story.
    let mut again: Vec<Value> = common::analyze(&saved, &cfg).iter().map(verdict).collect();
    again.sort_by_key(key);
    assert_eq!(again, want, "the --write capture differs");
}
