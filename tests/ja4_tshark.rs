//! `tls.ja4` of every fixture against a JA4 worked out here, independently, from the fields
//! tshark 4.0 decodes from the same ClientHello (cipher suites, extension types, signature
//! algorithms, ALPN, supported_versions), following FoxIO's JA4.md. tshark 4.0 has no JA4
//! of its own; the two computations share nothing but the spec. The spec's own example is
//! checked in src/proto/ja4.rs.

mod common;

use std::collections::BTreeMap;

use rdpscope::config::Config;
use sha2::{Digest, Sha256};

fn grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn list(s: &str) -> Vec<u16> {
    s.split(',')
        .filter(|x| !x.is_empty())
        // tshark writes cipher suites and versions in hex, extension types in decimal.
        .map(|x| match x.strip_prefix("0x") {
            Some(h) => u16::from_str_radix(h, 16).unwrap(),
            None => x.parse().unwrap(),
        })
        .filter(|v| !grease(*v))
        .collect()
}

fn h12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".into();
    }
    let d = Sha256::digest(s.as_bytes());
    d.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn join(v: &[u16]) -> String {
    v.iter().map(|x| format!("{x:04x}")).collect::<Vec<_>>().join(",")
}

/// JA4 from tshark's fields: version|ciphers|extension types|sig algs|alpn|supported versions|sni.
fn ja4_from_fields(f: &[&str]) -> String {
    let [version, ciphers, exts, sigs, alpn, versions, _sni] = f else {
        panic!("fields: {f:?}")
    };
    let mut ciphers = list(ciphers);
    let exts = list(exts);
    let v = list(versions).into_iter().max().unwrap_or_else(|| list(version)[0]);
    let ver = match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        _ => "00",
    };
    let first_alpn = alpn.split(',').next().unwrap_or("");
    let alpn = match (first_alpn.chars().next(), first_alpn.chars().last()) {
        (Some(a), Some(z)) => format!("{a}{z}"),
        _ => "00".into(),
    };
    let a = format!(
        "t{ver}{}{:02}{:02}{alpn}",
        if exts.contains(&0) { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99)
    );
    ciphers.sort();
    let mut hashed: Vec<u16> = exts.into_iter().filter(|e| *e != 0 && *e != 0x10).collect();
    hashed.sort();
    let sigs = list(sigs);
    let c = if hashed.is_empty() {
        "000000000000".into()
    } else if sigs.is_empty() {
        h12(&join(&hashed))
    } else {
        h12(&format!("{}_{}", join(&hashed), join(&sigs)))
    };
    format!("{a}_{}_{c}", h12(&join(&ciphers)))
}

fn check(dir: &str) -> usize {
    let mut checked = 0;
    for pcap in common::captures(dir) {
        let mut decode = vec!["-d".to_string(), "tcp.port==3389,tls".to_string()];
        for p in common::extra_ports(&pcap) {
            decode.extend(["-d".to_string(), format!("tcp.port=={p},tls")]);
        }
        let out = std::process::Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .args(&decode)
            .args(["-Y", "tls.handshake.type==1", "-T", "fields", "-E", "separator=|"])
            .args([
                "-e",
                "frame.number",
                "-e",
                "tls.handshake.version",
                "-e",
                "tls.handshake.ciphersuite",
            ])
            .args(["-e", "tls.handshake.extension.type", "-e", "tls.handshake.sig_hash_alg"])
            .args([
                "-e",
                "tls.handshake.extensions_alpn_str",
                "-e",
                "tls.handshake.extensions.supported_version",
            ])
            .args(["-e", "tls.handshake.extensions_server_name"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let expected: BTreeMap<u64, String> = text
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('|').collect();
                // One ClientHello per frame (a frame with two is not in the fixtures).
                let frame = f.first()?.parse().ok()?;
                Some((frame, ja4_from_fields(f.get(1..)?)))
            })
            .collect();
        for r in common::analyze(&pcap, &Config::default()) {
            let Some(frame) = r["tls"]["client_hello_frame"].as_u64() else {
                continue;
            };
            let Some(want) = expected.get(&frame) else {
                // tshark did not dissect this hello as TLS (after a capture gap, or a
                // proxy port it does not decode): nothing to compare with.
                continue;
            };
            assert_eq!(
                r["tls"]["ja4"].as_str(),
                Some(want.as_str()),
                "{} frame {frame}",
                pcap.display()
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn ja4_agrees_with_one_computed_from_tshark_fields() {
    if !common::tshark("ja4_tshark") {
        return;
    }
    let real = check("real");
    let lab = check("lab");
    assert!(real >= 3, "only {real} real ClientHellos compared");
    assert!(lab >= 30, "only {lab} lab ClientHellos compared");
}
