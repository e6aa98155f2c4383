//! `--redact`: no user name (cookie or SOCKS user), client name, certificate subject/issuer/SAN,
//! SNI or SOCKS target host name from any fixture appears in the redacted text or JSON output, and the hashes are stable for a key.

mod common;

use std::process::Command;

fn run(args: &[&str], key: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .env("RDPSCOPE_REDACT_KEY", key)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sensitive strings of one unredacted JSON record.
fn secrets(r: &serde_json::Value) -> Vec<String> {
    let mut v = Vec::new();
    let mut push = |x: &serde_json::Value| {
        if let Some(s) = x.as_str().map(str::trim).filter(|s| s.len() >= 3) {
            v.push(s.to_string());
        }
    };
    push(&r["cookie"]);
    push(&r["routing_token"]);
    push(&r["tls"]["sni"]);
    push(&r["standard_security"]["client_name"]);
    push(&r["proxy"]["user"]);
    if r["proxy"]["target_host"]
        .as_str()
        .is_some_and(|h| h.parse::<std::net::IpAddr>().is_err())
    {
        push(&r["proxy"]["target_host"]);
    }
    // Read inside TLS with the keys (the keyed lab captures carry theirs).
    for k in ["user", "domain", "workstation", "service", "realm"] {
        push(&r["nla"][k]);
    }
    push(&r["session"]["user"]);
    push(&r["session"]["domain"]);
    push(&r["session"]["client"]["name"]);
    for k in r["kerberos"].as_array().into_iter().flatten() {
        push(&k["user"]);
        push(&k["realm"]);
    }
    for c in [&r["tls"]["certificate"], &r["standard_security"]["certificate"]] {
        push(&c["subject"]);
        push(&c["issuer"]);
        for s in c["san"].as_array().into_iter().flatten() {
            push(s);
        }
    }
    // An SNI that is the server's address is an address, not a name: addresses stay.
    let ips = [
        r["server"]["ip"].as_str().unwrap_or(""),
        r["client"]["ip"].as_str().unwrap_or(""),
    ];
    v.retain(|s| !ips.contains(&s.as_str()));
    v
}

#[test]
fn nothing_sensitive_survives_redaction() {
    let mut checked = 0;
    for dir in ["fixtures/real", "fixtures/lab"] {
        for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + dir).unwrap() {
            let p = e.unwrap().path();
            if !p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                continue;
            }
            let f = p.to_str().unwrap();
            let ports = common::port_args(&p);
            let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
            let plain = run(&[&["analyze", "--format", "json", f], &ports[..]].concat(), "k");
            let secrets: Vec<String> = plain
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .flat_map(|r| secrets(&r))
                .collect();
            if secrets.is_empty() {
                continue;
            }
            for format in ["json", "text"] {
                let red = run(
                    &[&["analyze", "--redact", "--format", format, f], &ports[..]].concat(),
                    "k",
                );
                for s in &secrets {
                    // JSON escapes backslashes; look for both spellings.
                    assert!(
                        !red.contains(s.as_str()) && !red.contains(&s.replace('\\', "\\\\")),
                        "{f} ({format}): {s:?} not redacted"
                    );
                }
                assert!(red.contains("[redacted:"), "{f}: nothing redacted");
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} captures had names to redact");
}

#[test]
fn hashes_are_stable_for_a_key() {
    let f = "fixtures/real/zeek__rdp-proprietary-encryption.pcap";
    let a = run(&["analyze", "--redact", "--format", "json", f], "key-1");
    let b = run(&["analyze", "--redact", "--format", "json", f], "key-1");
    let c = run(&["analyze", "--redact", "--format", "json", f], "key-2");
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Both connections of the same user carry the same token.
    let cookies: Vec<String> = a
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|r| r["cookie"].as_str().map(str::to_string))
        .collect();
    assert_eq!(cookies.len(), 2);
    assert_eq!(cookies[0], cookies[1]);
    // The live pipeline (replay) redacts the same way.
    let r = run(&["replay", "--fast", "--redact", "--format", "json", f], "key-1");
    assert!(r.contains(&cookies[0]) && !r.contains("FTBCO"), "{r}");
}
