//! The inputs people really have (issue 16): compressed captures, standard input, empty and
//! text files, other capture formats. Each is told by its content, never its name, and gets
//! either the same report as the plain capture or one line saying what it is (exit 2).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

const CAPTURE: &str = "fixtures/real/zeek__rdp-proprietary-encryption.pcap";

/// rdpscope with `stdin` on its standard input: (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rdpscope");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// The report without the file name, which differs by input.
fn report(out: &str, name: &str) -> String {
    out.replace(&format!("file: {name}\n"), "file: FILE\n")
        .replace(&format!("\n  {name}: "), "\n  FILE: ")
}

fn plain() -> String {
    let (code, out, _) = run(&["analyze", CAPTURE], b"");
    assert_eq!(code, 1);
    report(&out, CAPTURE)
}

#[test]
fn compressed_captures_are_read_by_content_not_name() {
    let pcap = std::fs::read(CAPTURE).unwrap();
    let expected = plain();
    let dir = tempfile::tempdir().unwrap();
    // Names that say nothing, or the wrong thing.
    for (name, bytes) in [("a.pcap", gzip(&pcap)), ("b.gz", zstd(&pcap)), ("c", gzip(&pcap))] {
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes).unwrap();
        let shown = p.to_str().unwrap();
        let (code, out, err) = run(&["analyze", shown], b"");
        assert_eq!(code, 1, "{name}: {err}");
        assert_eq!(report(&out, shown), expected, "{name}");
        assert!(err.is_empty(), "{name}: {err}");
    }
}

#[test]
fn standard_input_plain_gzip_and_zstd() {
    let pcap = std::fs::read(CAPTURE).unwrap();
    let expected = plain();
    for (what, bytes) in [("plain", pcap.clone()), ("gzip", gzip(&pcap)), ("zstd", zstd(&pcap))] {
        for threads in ["1", "2"] {
            let (code, out, err) = run(&["analyze", "--threads", threads, "-"], &bytes);
            assert_eq!(code, 1, "{what}: {err}");
            assert_eq!(report(&out, "-"), expected, "{what}");
        }
    }
    // A pcapng with its TLS secrets, gzip-compressed: the keys inside are still found.
    let keyed = std::fs::read("fixtures/lab/keyed-tls13-aes128-gcm-dsb.pcapng").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("keyed.pcapng.gz");
    std::fs::write(&p, gzip(&keyed)).unwrap();
    let (_, out, _) = run(&["analyze", "--format", "json", p.to_str().unwrap()], b"");
    let (_, want, _) = run(
        &[
            "analyze",
            "--format",
            "json",
            "fixtures/lab/keyed-tls13-aes128-gcm-dsb.pcapng",
        ],
        b"",
    );
    assert!(want.contains("\"decryption\""), "{want}");
    assert_eq!(
        out.lines().next().map(|l| l.replace(p.to_str().unwrap(), "F")),
        want.lines()
            .next()
            .map(|l| l.replace("fixtures/lab/keyed-tls13-aes128-gcm-dsb.pcapng", "F"))
    );
}

/// `replay -` reads standard input, as its help says: the same records as from the file.
#[test]
fn replay_reads_standard_input() {
    let pcap = std::fs::read(CAPTURE).unwrap();
    let (want_code, want, _) = run(&["replay", "--fast", "--format", "json", CAPTURE], b"");
    let (code, out, err) = run(&["replay", "--fast", "--format", "json", "-"], &gzip(&pcap));
    assert!(err.is_empty() && code == want_code, "{code} {err}");
    assert!(want.contains("\"type\":\"connection\""), "{want}");
    assert_eq!(
        out.replace("\"file\":\"-\"", "\"file\":\"F\""),
        want.replace(&format!("\"file\":\"{CAPTURE}\""), "\"file\":\"F\"")
    );
}

/// One line on stderr naming the input, nothing on stdout, exit 2.
fn refused(args: &[&str], stdin: &[u8]) -> String {
    let (code, out, err) = run(args, stdin);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn what_is_not_a_capture_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let e = empty.to_str().unwrap();
    assert_eq!(refused(&["analyze", e], b""), format!("rdpscope: {e}: empty file\n"));
    assert_eq!(
        refused(&["analyze", "-"], b""),
        "rdpscope: -: empty input (nothing was read from standard input)\n"
    );
    assert_eq!(
        refused(&["analyze", "-"], b"hello\n"),
        "rdpscope: -: text, not a capture\n"
    );
    assert_eq!(
        refused(&["analyze", "-"], &gzip(b"GET / HTTP/1.1\r\n")),
        "rdpscope: -: gzip-compressed text, not a capture\n"
    );
    assert_eq!(
        refused(&["analyze", "README.md"], b""),
        "rdpscope: README.md: text, not a capture\n"
    );
    // Capture formats libpcap does not read: named, with the conversion.
    let snoop = dir.path().join("trace.snoop");
    std::fs::write(&snoop, b"snoop\0\0\0\0\0\0\x02\0\0\0\x04").unwrap();
    let s = snoop.to_str().unwrap();
    let err = refused(&["analyze", s], b"");
    let base = dir.path().join("trace.pcapng");
    assert!(
        err.contains("a snoop capture") && err.contains(&format!("editcap -F pcapng {s} {}", base.display())),
        "{err}"
    );
    let err = refused(&["analyze", "-"], b"TRSNIFF data    \x1a\x01\x00");
    assert!(
        err.contains("Sniffer (NGSniffer) capture") && err.contains("editcap -F pcapng IN OUT.pcapng"),
        "{err}"
    );
}

#[test]
fn a_cut_compressed_stream_says_why_reading_stopped() {
    let gz = gzip(&std::fs::read(CAPTURE).unwrap());
    let (code, out, err) = run(&["analyze", "-"], gz.get(..gz.len() / 2).unwrap());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("-: reading stopped after frame") && err.contains("gzip:"),
        "{err}"
    );
    assert!(out.contains("FAILED at x224"), "{out}");
}

#[test]
fn with_several_files_each_without_rdp_gets_the_port_hint() {
    let (_, _, err) = run(
        &[
            "analyze",
            "fixtures/lab/socks5-success.pcap",
            "fixtures/lab/success-tls12.pcap",
            "fixtures/lab/http-connect-forbidden.pcap",
        ],
        b"",
    );
    let hints: Vec<&str> = err.lines().filter(|l| l.contains("--port N")).collect();
    assert_eq!(hints.len(), 2, "{err}");
    assert!(hints[0].starts_with("rdpscope: fixtures/lab/socks5-success.pcap: no packet to or from port 3389"));
    assert!(hints[1].starts_with("rdpscope: fixtures/lab/http-connect-forbidden.pcap: no packet"));
}

/// Two runs into one evidence directory (issue 16: `0001-cert_expired.pcap` beside
/// `0001-tcp_refused.pcap`): each file says which capture and when, and the run says where.
#[test]
fn evidence_of_two_runs_does_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for f in [
        "fixtures/lab/cert-expired-ca-trusted.pcap",
        "fixtures/lab/tcp-port-closed.pcap",
    ] {
        let (code, _, err) = run(&["analyze", "--write-evidence", d, f], b"");
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!("{f}: ")) && err.contains(&format!("written to {d}: ")),
            "{err}"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cert-expired-ca-trusted-20261121T085805Z-0001-cert_expired.pcap",
            "tcp-port-closed-20261121T085810Z-0001-tcp_refused.pcap",
            "tcp-port-closed-20261121T085810Z-0002-tcp_refused.pcap",
        ]
    );
}
