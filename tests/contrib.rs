//! contrib/rdpscope.service: `systemd-analyze verify` accepts it without a warning, it runs
//! rdpscope as the fleet page says (dynamic user, the two capture capabilities, ECS events,
//! metrics), and rdpscope's own command line accepts its ExecStart arguments.

mod common;

use std::process::Command;

fn unit() -> String {
    std::fs::read_to_string(common::root().join("contrib/rdpscope.service")).unwrap()
}

#[test]
fn the_systemd_unit_verifies_cleanly() {
    if !common::require(
        "contrib: needs systemd-analyze (apt-get install systemd)",
        common::has_tool("systemd-analyze", "--version"),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // verify checks that ExecStart's program exists: point it at the one just built.
    let text = unit().replace("/usr/local/bin/rdpscope", env!("CARGO_BIN_EXE_rdpscope"));
    let path = dir.path().join("rdpscope.service");
    std::fs::write(&path, text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // Unknown keys and bad values are warnings only: none is allowed.
    let about_unit: Vec<&str> = err.lines().filter(|l| l.contains("rdpscope.service")).collect();
    assert!(about_unit.is_empty(), "{err}");
}

#[test]
fn the_unit_runs_a_sensor_as_documented() {
    let u = unit();
    for line in [
        "DynamicUser=yes",
        "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN",
        "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN",
        "NoNewPrivileges=yes",
    ] {
        assert!(u.lines().any(|l| l == line), "missing {line}");
    }
    let exec = u.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    let args: Vec<&str> = exec.split_whitespace().collect();
    assert!(
        exec.contains("--format ecs") && exec.contains("--metrics 127.0.0.1:"),
        "{exec}"
    );
    // The arguments parse: with a key file and an interface that does not exist, the error
    // is about the interface, not the command line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("redact-key"), b"key").unwrap();
    let args: Vec<String> = args[1..]
        .iter()
        .map(|a| {
            a.replace("${CREDENTIALS_DIRECTORY}", &dir.path().display().to_string())
                .replace("eth0", "rdpscope-no-such-if0")
                .replace(":9839", ":0")
        })
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(&args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("Usage:"), "the unit's arguments do not parse: {err}");
    assert!(err.contains("rdpscope-no-such-if0"), "{err}");
}
