//! `--server-key` (issue 17): lab sessions forced to an RSA key exchange (fixtures/lab/serverkey-*,
//! recorded with the lab server's key published as NAME.server.key and the client's key log as
//! NAME.keys) decrypt with the server key alone, exactly as with the key log, and what rdpscope
//! reads inside equals what tshark reads decrypting with the same RSA key. ECDHE sessions given
//! only a server key say they need a key log.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rdpscope::config::Config;
use serde_json::Value;

/// The RSA key exchange scenarios and their suites.
const SERVERKEY: &[(&str, &str)] = &[
    ("serverkey-tls12-rsa-aes256-gcm", "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    ("serverkey-tls12-rsa-cbc-no-ems", "TLS_RSA_WITH_AES_128_CBC_SHA256"),
];

fn lab(name: &str) -> PathBuf {
    common::root().join("fixtures/lab").join(name)
}

fn with_server_key(key: &Path) -> Config {
    Config {
        server_keys: vec![key.to_path_buf()],
        ..Config::default()
    }
}

#[test]
fn the_server_key_alone_decrypts_like_the_key_log() {
    for &(name, suite) in SERVERKEY {
        let pcap = lab(&format!("{name}.pcap"));
        let by_key = common::analyze(&pcap, &with_server_key(&lab(&format!("{name}.server.key"))));
        let by_log = common::analyze(
            &pcap,
            &Config {
                keylogs: vec![lab(&format!("{name}.keys"))],
                ..Config::default()
            },
        );
        assert_eq!(by_key.len(), 1, "{name}");
        let r = &by_key[0];
        assert_eq!(r["tls"]["cipher"]["name"], suite, "{name}");
        let d = &r["decryption"];
        assert_eq!(d["keys"], "server_key", "{name}");
        assert!(d["stopped"].is_null(), "{name}: {}", d["stopped"]);
        for side in ["client", "server"] {
            assert!(d["records"][side].as_u64().unwrap() > 0, "{name}: no {side} record");
        }
        assert!(r["session"]["user"].is_string(), "{name}: Client Info not read");
        let mut a = r.clone();
        let mut b = by_log[0].clone();
        a["decryption"]["keys"] = Value::Null;
        b["decryption"]["keys"] = Value::Null;
        assert_eq!(a, b, "{name}: server key vs key log");
        // Without any key, nothing is decrypted.
        assert!(common::analyze(&pcap, &Config::default())[0]["decryption"].is_null());
    }
}

/// tshark's (frame, value) pairs of `field`, decrypting with the RSA key `key`.
fn tshark_rsa(capture: &Path, key: &Path, field: &str) -> Vec<(u64, String)> {
    let opts = ["-o".to_string(), format!("uat:rsa_keys:\"{}\",\"\"", key.display())];
    common::tshark_pairs(capture, &opts, field, field)
}

#[test]
fn decrypted_facts_match_tshark_with_the_same_rsa_key() {
    if !common::tshark("server_key::decrypted_facts_match_tshark_with_the_same_rsa_key") {
        return;
    }
    for &(name, _) in SERVERKEY {
        let pcap = lab(&format!("{name}.pcap"));
        let key = lab(&format!("{name}.server.key"));
        let r = &common::analyze(&pcap, &with_server_key(&key))[0];
        let s = &r["session"];
        let user = tshark_rsa(&pcap, &key, "rdp.userName");
        assert_eq!(user.len(), 1, "{name}: {user:?}");
        assert_eq!(s["user"], user[0].1.as_str(), "{name}: Client Info user");
        let build = tshark_rsa(&pcap, &key, "rdp.client.build");
        assert_eq!(s["client"]["build"].to_string(), build[0].1, "{name}: client build");
        let cname = tshark_rsa(&pcap, &key, "rdp.client.name");
        assert_eq!(s["client"]["name"], cname[0].1.as_str(), "{name}: client name");
        let lic = tshark_rsa(&pcap, &key, "rdp.errorCode");
        assert_eq!(lic.len(), 1, "{name}: {lic:?}");
        assert_eq!(s["license"]["frame"], lic[0].0, "{name}: licensing frame");
        // And tshark without the key reads none of it.
        let none = Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .args(["-d", "tcp.port==3389,tls", "-Y", "rdp.userName"])
            .output()
            .unwrap();
        assert!(none.stdout.is_empty(), "{name}");
    }
}

#[test]
fn ecdhe_sessions_say_a_key_log_is_needed() {
    // An ECDHE lab session and a server key (any: the key exchange decides).
    let key = lab("serverkey-tls12-rsa-aes256-gcm.server.key");
    let r = &common::analyze(&lab("keyed-tls12-aes128-gcm.pcap"), &with_server_key(&key))[0];
    let d = &r["decryption"];
    assert_eq!(d["keys"], "server_key");
    assert_eq!(d["records"]["client"], 0);
    assert!(d["stopped"].as_str().unwrap().starts_with("forward_secrecy"), "{d}");
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .arg("analyze")
        .arg(lab("keyed-tls12-aes128-gcm.pcap"))
        .arg("--server-key")
        .arg(&key)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("forward secrecy")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("a key log of the client is needed"), "{}", lines[0]);
    // A key of another server on an RSA session: said, nothing decrypted.
    let other = common::root().join("src/decrypt/testdata/rsa-test-key.pkcs8.pem");
    let r = &common::analyze(&lab("serverkey-tls12-rsa-aes256-gcm.pcap"), &with_server_key(&other))[0];
    assert!(r["decryption"]["stopped"]
        .as_str()
        .unwrap()
        .starts_with("server_key_mismatch"));
    assert!(r["session"].is_null());
}

#[test]
fn the_key_never_reaches_any_output() {
    let key = lab("serverkey-tls12-rsa-aes256-gcm.server.key");
    let pem = std::fs::read_to_string(&key).unwrap();
    // A line of the key's base64 body: it must appear nowhere.
    let body = pem.lines().nth(3).unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
            .args(["analyze", "--format", format, "--write-evidence"])
            .arg(dir.path().join(format))
            .arg(lab("serverkey-tls12-rsa-aes256-gcm.pcap"))
            .arg("--server-key")
            .arg(&key)
            .output()
            .unwrap();
        for stream in [&out.stdout, &out.stderr] {
            assert!(!String::from_utf8_lossy(stream).contains(&body));
        }
    }
    // A file that is not a key: one line naming it, exit 2, nothing of the file's content.
    let bad = dir.path().join("not-a-key.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nc2VjcmV0LWNvbnRlbnQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .arg("analyze")
        .arg(lab("serverkey-tls12-rsa-aes256-gcm.pcap"))
        .arg("--server-key")
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not-a-key.pem") && err.contains("not an RSA private key"),
        "{err}"
    );
    assert!(!err.contains("c2VjcmV0"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
