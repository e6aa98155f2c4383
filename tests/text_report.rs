//! The text report as a new user reads it (issue 16, "Report lines that read wrong"): the
//! whole report of the captures where each line was seen is a reviewed snapshot
//! (tests/snapshots/text_report__*.snap), and each fixed line is asserted on its own so a
//! regression names itself.

mod common;

use std::process::Command;

/// `rdpscope analyze` (text) on a fixture, with its `--port`s: stdout.
fn report(fixture: &str) -> String {
    let path = common::root().join(fixture);
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .arg("analyze")
        .args(common::port_args(&path))
        .arg(fixture)
        .current_dir(common::root())
        .output()
        .expect("run rdpscope");
    String::from_utf8(out.stdout).unwrap()
}

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

const SEEN: &[&str] = &[
    "fixtures/lab/pmtu-blackhole.pcap",
    "fixtures/real/zeek__rdp-no-cookie-mstshash.pcap",
    "fixtures/lab/nla-required-by-client-server-picks-tls.pcap",
    "fixtures/lab/tls-version-server-new-client-old.pcap",
    "fixtures/lab/socks5-target-refused.pcap",
    "fixtures/lab/http-connect-forbidden.pcap",
    "fixtures/real/zeek__rdpeudp-handshake-fail.pcap",
    "fixtures/real/ndpi__rdp2.pcapng",
    "fixtures/lab/success-tls12.pcap",
    "fixtures/real/zeek__rdp-proprietary-encryption.pcap",
    "fixtures/real/suricata-verify__RDP-003.pcap",
    "fixtures/lab/cert-expired-ca-trusted.pcap",
];

#[test]
fn reports_where_the_lines_were_seen_are_reviewed() {
    for f in SEEN {
        let stem = std::path::Path::new(f)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        snapshot(&stem, &report(f));
    }
}

#[test]
fn no_finding_line_ends_in_an_empty_frame_list() {
    for f in SEEN {
        let r = report(f);
        for l in r.lines() {
            assert!(!l.ends_with("frames ") && !l.ends_with("frames"), "{f}: {l:?}");
            assert_ne!(l.trim(), "tls:", "{f}: an empty tls line");
            assert!(!l.contains("why: evidence:"), "{f}: {l}");
        }
    }
    let r = report("fixtures/lab/pmtu-blackhole.pcap");
    assert!(
        r.contains("[warning] retransmissions: 6 retransmitted segments from the server (13 packets sent)  frames #12 #13 #14 #15 #16 #19"),
        "{r}"
    );
}

#[test]
fn proxy_failures_name_the_proxy_and_get_the_remedy_that_fits() {
    let socks = report("fixtures/lab/socks5-target-refused.pcap");
    let http = report("fixtures/lab/http-connect-forbidden.pcap");
    assert!(
        socks.contains("  FAILED at socks5 proxy: the SOCKS5 proxy could not open"),
        "{socks}"
    );
    assert!(
        http.contains("  FAILED at http proxy: the HTTP proxy refused the CONNECT"),
        "{http}"
    );
    let fix = |r: &str| r.lines().find(|l| l.starts_with("    fix: ")).unwrap().to_string();
    assert_ne!(fix(&socks), fix(&http));
    assert!(fix(&http).contains("only to port 443") && !fix(&http).contains("connection refused"));
    assert!(fix(&socks).contains("nothing accepted the connection") && !fix(&socks).contains("443"));
    assert!(fix(&socks).len() < 400 && fix(&http).len() < 400);
}

#[test]
fn udp_flows_say_what_they_reached_and_saw() {
    let fail = report("fixtures/real/zeek__rdpeudp-handshake-fail.pcap");
    assert!(fail.contains("  INCOMPLETE (reached udp handshake)"), "{fail}");
    assert!(!fail.contains("reached tcp"), "{fail}");
    let mid = report("fixtures/real/ndpi__rdp2.pcapng");
    assert!(
        mid.contains("  rdp-udp: handshake before the capture began, datagrams client 12 / server 14"),
        "{mid}"
    );
    assert!(!mid.contains("0 SYN, no SYN+ACK"), "{mid}");
}

#[test]
fn a_half_closed_connection_says_which_side_is_open() {
    let r = report("fixtures/lab/success-tls12.pcap");
    assert!(r.contains("client FIN #68"), "{r}");
    assert!(
        r.contains("  note: half open when the capture ended: the client closed its side (FIN #68), the server never closed its own"),
        "{r}"
    );
    assert!(!r.contains("still open when the capture ended"), "{r}");
}

#[test]
fn small_things_read_right() {
    let one = report("fixtures/lab/pmtu-blackhole.pcap");
    assert!(one.contains("Summary: 1 connection: 0 succeeded"), "{one}");
    let cert = report("fixtures/lab/cert-expired-ca-trusted.pcap");
    assert!(
        cert.contains("valid 2020-01-01 00:00:00 UTC to 2020-01-31 00:00:00 UTC"),
        "{cert}"
    );
    assert!(!cert.contains(".000000Z"), "{cert}");
    // The cookie is written one way: as on the wire, one backslash.
    let pe = report("fixtures/real/zeek__rdp-proprietary-encryption.pcap");
    assert!(pe.contains("rdp: cookie \"FTBCO\\A70\", requested ssl"), "{pe}");
    assert!(pe.contains("cookie=FTBCO\\A70"), "{pe}");
    assert!(!pe.contains("\\\\"), "{pe}");
    // Named MCS steps instead of "RDP data (N B)".
    assert!(!pe.contains("RDP data ("), "{pe}");
    assert!(pe.contains("C -> S  MCS Attach User Request"), "{pe}");
    assert!(pe.contains("C <- S  MCS Channel Join Confirm (x6)"), "{pe}");
    // The frame column stays in line whatever the event's length.
    for block in pe.split("  timeline:\n").skip(1) {
        let cols: Vec<usize> = block
            .lines()
            .take_while(|l| l.starts_with("    "))
            .map(|l| l.find(" C ").unwrap())
            .collect();
        assert!(cols.windows(2).all(|w| w[0] == w[1]), "{block}");
    }
    let s = report("fixtures/real/suricata-verify__RDP-003.pcap");
    assert!(
        s.contains("suricata-verify__RDP-003.pcap: 435 frames, 429 analyzed; not analyzed: 6 not on an RDP port"),
        "{s}"
    );
}
