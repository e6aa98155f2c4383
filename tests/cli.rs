//! The command line as a user runs it: exit codes, error lines, JSON lines, evidence pcaps.

mod common;

use std::process::Command;

fn rdpscope(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run rdpscope");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_follow_the_outcomes() {
    // A failed negotiation (and its successful retry): 1.
    let (code, out, _) = rdpscope(&["analyze", "fixtures/real/zeek__rdp-proprietary-encryption.pcap"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAILED at x224: negotiation refused: SSL_NOT_ALLOWED_BY_SERVER"),
        "{out}"
    );
    assert!(out.contains("client retried: #2 succeeded with rdp"), "{out}");
    // Only successful or unfinished connections: 0.
    let (code, _, _) = rdpscope(&["analyze", "fixtures/real/suricata-verify__RDP-003.pcap"]);
    assert_eq!(code, 0);
}

#[test]
fn unreadable_inputs_get_one_line_and_exit_2() {
    let (code, out, err) = rdpscope(&["analyze", "no-such-file.pcap"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "nothing on stdout when no file could be read: {out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no-such-file.pcap") && err.contains("no such file"),
        "{err}"
    );
    let (code, _, err) = rdpscope(&["analyze", "Cargo.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("Cargo.toml: text, not a capture"), "{err}");
    // A good file next to a bad one is still reported.
    let (code, out, _) = rdpscope(&[
        "analyze",
        "--format",
        "json",
        "Cargo.toml",
        "fixtures/real/ndpi__rdp3.pcap",
    ]);
    assert_eq!(code, 2);
    assert!(out.lines().any(|l| l.contains("\"cookie\":\"Administr\"")), "{out}");
}

#[test]
fn a_capture_without_rdp_on_its_ports_says_how_to_name_the_port() {
    // RDP through a SOCKS5 proxy on port 42356: nothing on 3389.
    let f = "fixtures/real/arkime__socks5-rdp.pcap";
    let (code, _, err) = rdpscope(&["analyze", f]);
    assert_eq!(code, 0);
    assert!(
        err.contains(&format!("{f}: no packet to or from port 3389")) && err.contains("--port N"),
        "{err}"
    );
    let (_, out, err) = rdpscope(&["analyze", "--port", "42356", f]);
    assert!(err.is_empty(), "{err}");
    assert!(out.contains("proxy: socks5 CONNECT 10.0.0.1:3389"), "{out}");
}

#[test]
fn truncated_file_is_reported_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/real/zeek__rdp-to-ssl.pcap"
    ))
    .unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..3000]).unwrap();
    let (code, out, err) = rdpscope(&["analyze", cut.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("reading stopped after frame 13"), "{err}");
    assert!(out.contains("cookie \"AWAKECODI\""), "{out}");
}

#[test]
fn json_lines_carry_the_contract() {
    let (_, out, _) = rdpscope(&["analyze", "--format", "json", "fixtures/real/ndpi__rdp_over_tls.pcap"]);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    let c = &lines[0];
    for key in [
        "type",
        "id",
        "transport",
        "client",
        "server",
        "first_seen",
        "last_seen",
        "duration_ms",
        "frames",
        "cookie",
        "routing_token",
        "negotiation",
        "tls",
        "standard_security",
        "tcp",
        "phase_reached",
        "outcome",
        "findings",
    ] {
        assert!(c.get(key).is_some(), "missing {key}");
    }
    assert_eq!(c["tls"]["cipher"]["name"], "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_eq!(c["findings"][0]["code"], "nla_failed");
    assert_eq!(c["findings"][0]["inferred"], true);
    assert_eq!(lines[1]["type"], "summary");
    assert_eq!(lines[1]["failures_by_cause"]["nla_failed"], 1);
}

#[test]
fn evidence_pcaps_hold_only_the_failed_connection() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = rdpscope(&[
        "analyze",
        "--write-evidence",
        d,
        "fixtures/real/zeek__rdp-proprietary-encryption.pcap",
    ]);
    assert_eq!(code, 1, "{err}");
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("zeek__rdp-proprietary-encryption-20071026T033634Z-0001-negotiation_failure.pcap"));
    assert!(
        err.contains(&format!(
            "1 evidence file written to {d}: zeek__rdp-proprietary-encryption-"
        )),
        "{err}"
    );
    // Re-analysed, the evidence tells the same story with its 8 frames.
    let (code, out, _) = rdpscope(&["analyze", "--format", "json", files[0].to_str().unwrap()]);
    assert_eq!(code, 1);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["frames"], serde_json::json!([1, 8]));
    assert_eq!(first["negotiation"]["failure"]["code"], 2);
    assert_eq!(out.lines().count(), 2);
}

fn verdicts(out: &str) -> Vec<serde_json::Value> {
    let mut v: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["type"] == "connection")
        .map(|r| {
            serde_json::json!([
                r["id"],
                r["outcome"],
                r["phase_reached"],
                r["findings"],
                r["negotiation"],
                r["tls"],
                r["retry_of"]
            ])
        })
        .collect();
    v.sort_by_key(|x| x[0].as_u64());
    v
}

/// Every capture, the keyed lab captures with their secrets embedded included: `replay` decrypts
/// like `analyze` (the live worker reads the capture's secrets too).
#[test]
fn replay_gives_the_same_verdicts_as_analyze() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut n = 0;
    for sub in ["lab", "real"] {
        for e in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            let p = e.unwrap().path();
            if !p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                continue;
            }
            let f = p.to_str().unwrap();
            let (_, a, _) = rdpscope(&["analyze", "--format", "json", f]);
            let (_, r, err) = rdpscope(&["replay", "--fast", "--format", "json", f]);
            assert_eq!(verdicts(&r), verdicts(&a), "{f}: replay differs from analyze ({err})");
            n += 1;
        }
    }
    assert!(n >= 40);
}

#[test]
fn live_without_privileges_says_what_to_do() {
    // Not a skip: without root the unprivileged attempt is checked directly, as root it is
    // checked after dropping to nobody; either way the message is asserted.
    let root = common::is_root();
    if !root {
        // Unprivileged already: the message must come straight away.
        let (code, _, err) = rdpscope(&["live", "-i", "lo", "--format", "json"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("setcap cap_net_raw,cap_net_admin+eip"), "{err}");
        return;
    }
    // As root, drop to nobody for the attempt (a copy of the binary nobody can execute).
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("rdpscope");
    std::fs::copy(env!("CARGO_BIN_EXE_rdpscope"), &bin).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rx", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
        .arg(&bin)
        .args(["live", "-i", "lo", "--format", "json"])
        .output()
        .expect("setpriv");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("permission denied") && err.contains("setcap cap_net_raw,cap_net_admin+eip"),
        "{err}"
    );
}

/// Capabilities are per thread: every thread of `pid` has none, an empty bounding set, and
/// no_new_privs.
fn every_thread_is_unprivileged(pid: u32) {
    std::thread::sleep(std::time::Duration::from_millis(500));
    let tasks: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .map(|t| std::fs::read_to_string(t.path().join("status")).unwrap_or_default())
        .collect();
    assert!(
        tasks.len() >= 3,
        "capture and analysis threads expected: {}",
        tasks.len()
    );
    for t in &tasks {
        for (k, want) in [
            ("CapEff:", "0000000000000000"),
            ("CapPrm:", "0000000000000000"),
            ("CapBnd:", "0000000000000000"),
            ("NoNewPrivs:", "1"),
        ] {
            let got = t
                .lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("");
            assert_eq!(got, want, "{k} of a thread:\n{t}");
        }
    }
}

/// `rdpscope ARGS` started as a child, once it said it is capturing on lo; its stderr after
/// that line.
fn start_capturing(args: &[&str]) -> (std::process::Child, std::io::BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(line.contains("capturing on lo"), "{line}");
    (child, err)
}

#[test]
fn live_as_root_without_user_drops_privileges_in_every_thread() {
    if !common::require(
        "cli live_as_root_without_user_drops_privileges_in_every_thread: needs root; run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let (child, _err) = start_capturing(&["live", "-i", "lo", "--format", "json"]);
    let pid = child.id();
    every_thread_is_unprivileged(pid);
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"type\":\"summary\""));
}

/// `--metrics`: the endpoint's thread is started after the drop, like every other, and it
/// serves while the capture runs as nobody.
#[test]
fn live_metrics_thread_holds_no_privilege() {
    if !common::require(
        "cli live_metrics_thread_holds_no_privilege: needs root; run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let (child, mut err) = start_capturing(&[
        "live",
        "-i",
        "lo",
        "--format",
        "ecs",
        "--user",
        "nobody",
        "--metrics",
        "127.0.0.1:0",
    ]);
    let pid = child.id();
    let mut line = String::new();
    line.clear();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("rdpscope: metrics on http://")
        .and_then(|s| s.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    every_thread_is_unprivileged(pid);
    let names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .map(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .collect();
    assert!(names.iter().any(|n| n == "metrics"), "no metrics thread: {names:?}");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut s, b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut s, &mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    assert!(
        body.contains("rdpscope_capture_dropped_packets_total{by=\"kernel\"}"),
        "{body}"
    );
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // ECS prints events only: no summary line.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"type\":\"summary\""));
}

#[test]
fn live_as_root_switches_to_the_given_user() {
    if !common::require(
        "cli live_as_root_switches_to_the_given_user: needs root; run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let (child, _err) = start_capturing(&["live", "-i", "lo", "--format", "json", "--user", "nobody"]);
    let pid = child.id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_default()
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string()
    };
    every_thread_is_unprivileged(pid);
    Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(field("Uid:"), "65534");
    assert_eq!(field("Gid:"), "65534");
    assert_eq!(field("CapEff:"), "0000000000000000");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"type\":\"summary\""));
}

/// SIGTERM and SIGHUP end a run exactly as Ctrl-C does: the open connections and the summary
/// are printed, the exit code is the verdict's. A replay slowed down stands for a long run.
#[test]
fn replay_ends_cleanly_on_sigterm_and_sighup() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab/success-tls12.pcap");
    for sig in ["-TERM", "-HUP", "-INT"] {
        let child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(["replay", "--speed", "0.01", "--format", "json", f])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.code().is_some(), "{sig}: killed by the signal");
        assert!(stdout.contains("\"type\":\"summary\""), "{sig}: no summary: {stdout}");
        // The connection still open is reported, whole.
        assert!(
            stdout.lines().any(|l| l.contains("\"type\":\"connection\"")),
            "{sig}: {stdout}"
        );
        for l in stdout.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
}

/// `live --format json | head -1` on a quiet link: once stdout's reader is gone the run ends
/// at once and quietly, exit 0 (as tcpdump's does), instead of capturing on for nobody.
#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    use std::io::BufRead;
    if !common::require(
        "cli a_closed_stdout_ends_the_run_quietly: needs root (live capture); run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["live", "-i", "lo", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("capturing on lo"), "{line}");
    let closed = std::time::Instant::now();
    drop(child.stdout.take());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if closed.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            panic!("live still running 10 s after its stdout was closed");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(rest.is_empty(), "{rest}");
}

/// A full disk under stdout: said once on stderr, counted, the run goes on to its end.
#[test]
fn a_full_disk_under_stdout_is_said_and_counted() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab/nla-wrong-password.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["replay", "--fast", "--format", "json", f])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("cannot write a record to stdout").count(), 1, "{err}");
    assert!(err.contains("2 records could not be written"), "{err}");
    assert!(!err.contains("panicked"));
}

/// A capture with a three-hour gap replays its gap once, shortened to 5 s, not once per packet
/// after it (which took 5 s per packet).
#[test]
fn replay_shortens_a_long_gap_once() {
    let src = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab/success-tls12.pcap")).unwrap();
    assert_eq!(&src[..4], &0xA1B2C3D4u32.to_le_bytes());
    let mut out = src[..24].to_vec();
    let (mut pos, mut n) = (24, 0);
    while pos + 16 <= src.len() {
        let mut h: [u8; 16] = src[pos..pos + 16].try_into().unwrap();
        let cap = u32::from_le_bytes(h[8..12].try_into().unwrap()) as usize;
        n += 1;
        if n > 30 {
            let sec = u32::from_le_bytes(h[..4].try_into().unwrap()) + 3 * 3600;
            h[..4].copy_from_slice(&sec.to_le_bytes());
        }
        out.extend_from_slice(&h);
        out.extend_from_slice(&src[pos + 16..pos + 16 + cap]);
        pos += 16 + cap;
    }
    assert!(n > 60, "{n} frames");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("gap.pcap");
    std::fs::write(&f, out).unwrap();
    let t = std::time::Instant::now();
    let (code, stdout, err) = rdpscope(&["replay", "--speed", "10", "--format", "json", f.to_str().unwrap()]);
    let took = t.elapsed();
    assert!(code == 0 || code == 1, "{err}");
    assert!(stdout.contains("\"type\":\"summary\""));
    // One shortened gap (5 s) and the rest at ten times the original pace (about 0.5 s).
    assert!(took < std::time::Duration::from_secs(20), "replay took {took:?}");
    assert!(
        took >= std::time::Duration::from_secs(5),
        "the gap was not waited at all: {took:?}"
    );
}

/// Values that would make the analysis lie or panic are usage errors: exit 2, the option named.
#[test]
fn bad_values_are_usage_errors() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab/success-tls12.pcap");
    let cases: &[&[&str]] = &[
        &["analyze", "--max-flows", "0", f],
        &["analyze", "--max-flows", "99", f],
        &["analyze", "--max-buffered-bytes", "0", f],
        &["analyze", "--max-buffered-bytes", "1000", f],
        &["analyze", "--threads", "0", f],
        &["analyze", "--threads", "3", f],
        &["analyze", "--threads", "1000", f],
        &["analyze", "--high-latency-ms", "0", f],
        &["analyze", "--high-latency-ms", "NaN", f],
        &["analyze", "--high-latency-ms", "inf", f],
        &["analyze", "--port", "0", f],
        &["replay", "--speed", "0", "--format", "json", f],
        &["replay", "--speed=-1", "--format", "json", f],
        &["replay", "--speed", "NaN", "--format", "json", f],
        &["replay", "--speed", "1e-300", "--format", "json", f],
    ];
    for args in cases {
        let (code, out, err) = rdpscope(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        let opt = args.iter().find(|a| a.starts_with("--") && *a != &"--format").unwrap();
        let name = opt.split('=').next().unwrap();
        assert!(err.contains(name) && !err.contains("panicked"), "{args:?}: {err}");
    }
    // The smallest accepted values work.
    let (code, _, err) = rdpscope(&[
        "analyze",
        "--max-flows",
        "100",
        "--max-buffered-bytes",
        "1048576",
        "--threads",
        "1",
        f,
    ]);
    assert_eq!(code, 0, "{err}");
}

/// The capture's interface deleted while `live` runs: the run ends, says why, and fails (exit 2).
#[test]
fn a_vanished_interface_ends_live_with_a_failure() {
    use std::io::BufRead;
    if !common::require(
        "cli a_vanished_interface_ends_live_with_a_failure: needs root (an interface to delete); run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let dev = format!("rdpsv{}", std::process::id() % 100_000);
    let ip = |args: &[&str]| Command::new("ip").args(args).status().unwrap().success();
    let peer = format!("{dev}p");
    assert!(ip(&["link", "add", &dev, "type", "veth", "peer", "name", &peer]) && ip(&["link", "set", &dev, "up"]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["live", "-i", &dev, "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("capturing on"), "{line}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(ip(&["link", "del", &dev]));
    let t = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            panic!("live still running 10 s after its interface was deleted");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert_eq!(status.code(), Some(2), "{rest}");
    assert!(rest.contains("rdpscope: "), "{rest}");
}

/// A file name that is not UTF-8 opens like any other (libpcap gets it by descriptor).
#[test]
fn a_file_name_that_is_not_utf8_is_read() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.pcap"));
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab/success-tls12.pcap"),
        &p,
    )
    .unwrap();
    for cmd in [
        &["analyze", "--format", "json"][..],
        &["replay", "--fast", "--format", "json"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(cmd)
            .arg(&p)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("\"type\":\"connection\""), "{cmd:?}");
    }
}

/// On a quiet link a connection that ended is printed within the close linger (5 s) and a
/// tick, not when the next packet happens to come or the run stops.
#[test]
fn live_reports_an_ended_connection_on_an_idle_link() {
    use std::io::BufRead;
    if !common::require(
        "cli live_reports_an_ended_connection_on_an_idle_link: needs root (live capture); run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["live", "-i", "lo", "--format", "json", "--port", "3390"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("capturing on lo"), "{line}");
    // A connection to a port nothing listens on: SYN, RST. Then nothing more on the link.
    let _ = std::net::TcpStream::connect_timeout(&"127.0.0.1:3390".parse().unwrap(), std::time::Duration::from_secs(1));
    let t = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(stdout);
        let mut l = String::new();
        let _ = r.read_line(&mut l);
        let _ = tx.send(l);
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(12));
    let took = t.elapsed();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
    let l = got.expect("no record within 12 s on an idle link");
    assert!(
        l.contains("\"type\":\"connection\"") && l.contains("tcp_refused"),
        "{l}"
    );
    assert!(
        took >= std::time::Duration::from_secs(4),
        "before the close linger: {took:?}"
    );
}

/// More failed connections than the process may open files: every one still gets its file.
#[test]
fn evidence_for_more_connections_than_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("refused.pcap");
    common::refused_attempts(&cap, 300);
    let ev = dir.path().join("ev");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec {} analyze --format json --write-evidence {} {}",
            env!("CARGO_BIN_EXE_rdpscope"),
            ev.display(),
            cap.display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let files = std::fs::read_dir(&ev).unwrap().count();
    assert_eq!(files, 300, "{err}");
    assert!(!err.contains("not written"), "{err}");
}

/// A full disk under --write-evidence: what could not be written whole is removed and listed;
/// the files that remain are complete.
#[test]
fn evidence_on_a_full_disk_leaves_no_broken_file() {
    if !common::require(
        "cli evidence_on_a_full_disk_leaves_no_broken_file: needs root (a small tmpfs); run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("refused.pcap");
    common::refused_attempts(&cap, 300);
    let ev = dir.path().join("ev");
    std::fs::create_dir(&ev).unwrap();
    assert!(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=40k", "tmpfs"])
        .arg(&ev)
        .status()
        .unwrap()
        .success());
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--format", "json", "--write-evidence"])
        .arg(&ev)
        .arg(&cap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let left: Vec<std::path::PathBuf> = std::fs::read_dir(&ev).unwrap().flatten().map(|e| e.path()).collect();
    let mut whole = 0;
    for f in &left {
        // Each file left is a readable pcap holding both packets of its attempt.
        let (code, stdout, e) = rdpscope(&["analyze", "--format", "json", f.to_str().unwrap()]);
        assert_eq!(code, 1, "{}: {e}", f.display());
        assert!(stdout.contains("tcp_refused"), "{}", f.display());
        whole += 1;
    }
    let _ = Command::new("umount").arg(&ev).status();
    assert_eq!(out.status.code(), Some(2), "{err}");
    let failed = err.matches("evidence not written").count();
    assert!(failed > 0 && whole > 0, "written {whole}, failed {failed}: {err}");
    assert_eq!(whole + failed, 300, "{err}");
}

/// --write-evidence on a FIFO (read once, cannot be read again): the report comes, the evidence
/// is refused with a reason, and nothing hangs.
#[test]
fn evidence_from_a_fifo_is_refused_not_hung() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.pcap");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lab/nla-wrong-password.pcap");
    let writer = Command::new("sh")
        .arg("-c")
        .arg(format!("cat {src} > {}", fifo.display()))
        .spawn()
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["analyze", "--format", "json", "--write-evidence"])
        .arg(dir.path().join("ev"))
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("--write-evidence on a FIFO hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let _ = { writer }.wait();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs a regular file"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).matches("nla_failed").count() >= 2);
}

/// `live --write` onto a full disk: said on stderr when it happens, the analysis goes on, and
/// the run ends saying the pcap is incomplete.
#[test]
fn live_write_on_a_full_disk_is_said() {
    use std::io::BufRead;
    if !common::require(
        "cli live_write_on_a_full_disk_is_said: needs root (live capture, a small tmpfs); run `sudo -E cargo test --test cli`",
        common::is_root(),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    assert!(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
        .arg(dir.path())
        .status()
        .unwrap()
        .success());
    let pcap = dir.path().join("w.pcap");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(["live", "-i", "lo", "--format", "json", "--port", "3391", "--write"])
        .arg(&pcap)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("capturing on lo"), "{line}");
    // About 150 KB of SYN/RST on lo port 3391, far more than the 16 KiB file system holds.
    for _ in 0..800 {
        let _ = std::net::TcpStream::connect("127.0.0.1:3391");
    }
    // The failure is said while the run goes on (within the 1 s check), before the end.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let said = rest.lines().next().unwrap_or("").to_string();
    let _ = Command::new("umount").arg(dir.path()).status();
    assert!(said.contains("cannot write the pcap"), "{said}{rest}");
    assert!(rest.contains("writes of the pcap failed"), "{rest}");
    // The records still came, whole.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().filter(|l| l.contains("tcp_refused")).count() >= 100);
    for l in stdout.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
}
