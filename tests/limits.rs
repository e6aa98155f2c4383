//! Every resource bound of docs/limits.md, hit on purpose through the real analyzer with
//! synthetic traffic: the bound holds while it is hit, and the result says it was.

mod common;

use etherparse::PacketBuilder;
use rdpscope::analyzer::{Analyzer, Finished};
use rdpscope::config::Config;
use rdpscope::decode::LinkType;
use rdpscope::flow::reassembly::MAX_PENDING_SEGMENTS;
use rdpscope::ts::Ts;
use serde_json::Value;

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const SEC: i64 = 1_000_000_000;

/// Drives an analyzer with raw-IP frames; `t` is capture time in ns.
struct Feed {
    a: Analyzer,
    frame: u64,
    t: i64,
}

impl Feed {
    fn new(cfg: Config) -> Feed {
        Feed {
            a: Analyzer::new(cfg, 1),
            frame: 0,
            t: 1_700_000_000 * SEC,
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.frame += 1;
        self.t += 1_000_000;
        self.a
            .on_frame(self.frame, Ts(self.t), LinkType::RawIp, bytes, bytes.len() as u32);
    }

    /// A TCP segment; `client` says who sends it, `port` is the client's port.
    fn tcp(&mut self, client: bool, port: u16, seq: u32, flags: &str, payload: &[u8]) {
        self.tcp_of(C, client, port, seq, flags, payload);
    }

    /// A TCP segment between the client at `addr` and the server.
    fn tcp_of(&mut self, addr: [u8; 4], client: bool, port: u16, seq: u32, flags: &str, payload: &[u8]) {
        let (src, dst, sp, dp) = if client {
            (addr, S, port, 3389)
        } else {
            (S, addr, 3389, port)
        };
        let mut b = PacketBuilder::ipv4(src, dst, 64).tcp(sp, dp, seq, 65535);
        for f in flags.chars() {
            b = match f {
                'S' => b.syn(),
                'A' => b.ack(0),
                'R' => b.rst(),
                'F' => b.fin(),
                _ => b.psh(),
            };
        }
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        self.raw(&out);
    }

    fn udp(&mut self, port: u16, payload: &[u8]) {
        let mut out = Vec::new();
        PacketBuilder::ipv4(C, S, 64)
            .udp(port, 3389)
            .write(&mut out, payload)
            .unwrap();
        self.raw(&out);
    }

    /// Client SYN, server SYN-ACK: client data starts at 1001, server data at 5001.
    fn open(&mut self, port: u16) {
        self.open_of(C, port);
    }

    fn open_of(&mut self, addr: [u8; 4], port: u16) {
        self.tcp_of(addr, true, port, 1000, "S", &[]);
        self.tcp_of(addr, false, port, 5000, "SA", &[]);
    }

    fn wait(&mut self, secs: i64) {
        self.t += secs * SEC;
    }

    fn open_buffered(&self) -> usize {
        self.a.open_connections().map(|c| c.buffered()).sum()
    }

    fn finish(self) -> (Vec<Value>, rdpscope::analyzer::Stats) {
        let cfg = self.a.config().clone();
        let (finished, stats) = self.a.finish();
        let records = finished
            .iter()
            .map(|f| serde_json::to_value(rdpscope::emit::record(f, &cfg)).unwrap())
            .collect();
        (records, stats)
    }
}

fn anomalies(r: &Value) -> Vec<&str> {
    r["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["what"].as_str().unwrap())
        .collect()
}

fn tpkt(x224: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    v.extend_from_slice(&((x224.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(x224);
    v
}

/// X.224 Connection Request (cookie `test`, TLS requested) and a Confirm selecting TLS.
fn cr() -> Vec<u8> {
    let cookie = b"Cookie: mstshash=test\r\n";
    let mut x = vec![(6 + cookie.len() + 8) as u8, 0xE0, 0, 0, 0, 0, 0];
    x.extend_from_slice(cookie);
    x.extend_from_slice(&[1, 0, 8, 0, 1, 0, 0, 0]);
    tpkt(&x)
}

fn cc_tls() -> Vec<u8> {
    tpkt(&[14, 0xD0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 1, 0, 0, 0])
}

fn tls_record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 3, 3];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A TLS connection on `port` up to the server's Confirm; returns the next client and
/// server sequence numbers.
fn tls_setup(f: &mut Feed, port: u16) -> (u32, u32) {
    f.open(port);
    let cr = cr();
    f.tcp(true, port, 1001, "AP", &cr);
    let cc = cc_tls();
    f.tcp(false, port, 5001, "AP", &cc);
    (1001 + cr.len() as u32, 5001 + cc.len() as u32)
}

#[test]
fn max_flows_evicts_the_least_recently_active() {
    let mut f = Feed::new(Config {
        max_flows: 10,
        ..Config::default()
    });
    // Full connections (handshake done): bare SYNs from many ports would be a SYN flood,
    // which is summarised instead (tests/flood.rs).
    for port in 40000..40025 {
        f.open(port);
        assert!(f.a.open_connections().count() <= 10);
    }
    let (records, stats) = f.finish();
    assert_eq!(records.len(), 25, "evicted connections are still reported");
    assert!(stats.evicted >= 15);
    let evicted: Vec<_> = records.iter().filter(|r| r["evicted"] == true).collect();
    assert_eq!(evicted.len() as u64, stats.evicted);
    assert_eq!(evicted[0]["client"]["port"], 40000, "the oldest goes first");
}

#[test]
fn max_udp_flows_evicts_too() {
    let mut f = Feed::new(Config {
        max_udp_flows: 5,
        ..Config::default()
    });
    for port in 40000..40012 {
        f.udp(port, &[0xff; 32]);
        assert!(f.a.open_udp_flows().count() <= 5);
    }
    let (records, stats) = f.finish();
    assert_eq!(records.len(), 12);
    assert!(stats.evicted >= 7);
}

#[test]
fn max_stream_buffer_refuses_a_larger_pdu() {
    let cfg = Config {
        max_stream_buffer: 1024,
        ..Config::default()
    };
    let mut f = Feed::new(cfg);
    f.open(40000);
    // A TPKT claiming 4000 bytes, sent 300 bytes at a time: never buffered past the bound.
    let mut pdu = tpkt(&[0xF0; 3996]);
    pdu[4] = 2;
    let mut seq = 1001;
    for chunk in pdu.chunks(300) {
        f.tcp(true, 40000, seq, "AP", chunk);
        seq += chunk.len() as u32;
        assert!(f.open_buffered() <= 1024);
    }
    // And a TLS handshake record of 2000 bytes after TLS was selected, in pieces.
    let (cseq, _) = tls_setup(&mut f, 40001);
    let rec = tls_record(22, &[0x01; 2000]);
    let mut seq = cseq;
    for chunk in rec.chunks(300) {
        f.tcp(true, 40001, seq, "AP", chunk);
        seq += chunk.len() as u32;
        assert!(f.open_buffered() <= 1024 + 300);
    }
    let (records, _) = f.finish();
    assert_eq!(anomalies(&records[0]), ["TPKT length beyond the stream buffer bound"]);
    assert!(anomalies(&records[1]).contains(&"PDU larger than the stream buffer bound"));
}

#[test]
fn max_out_of_order_turns_the_hole_into_a_gap() {
    let mut f = Feed::new(Config {
        max_out_of_order: 4096,
        ..Config::default()
    });
    f.open(40000);
    // One byte missing at 1001, then 20 segments of 500 bytes beyond it.
    for i in 0..20u32 {
        f.tcp(true, 40000, 1002 + i * 500, "AP", &[0x41; 500]);
        let c = f.a.open_connections().next().unwrap();
        assert!(c.tcp.reasm[0].pending_bytes() <= 4096);
    }
    let (records, _) = f.finish();
    assert_eq!(records[0]["tcp"]["gaps"], 1);
    assert_eq!(records[0]["tcp"]["gap_bytes"], 1);
    assert_eq!(records[0]["tcp"]["payload_bytes"]["client"], 10_000);
}

#[test]
fn tiny_out_of_order_segments_are_bounded_by_count() {
    let mut f = Feed::new(Config {
        max_out_of_order: 1 << 20,
        ..Config::default()
    });
    f.open(40000);
    // 3000 one-byte segments beyond a hole, every other byte (so none merges).
    for i in 0..3000u32 {
        f.tcp(true, 40000, 1003 + i * 2, "AP", b"x");
        let c = f.a.open_connections().next().unwrap();
        assert!(c.tcp.reasm[0].pending_segments() <= MAX_PENDING_SEGMENTS);
    }
    let (records, _) = f.finish();
    assert!(records[0]["tcp"]["gaps"].as_u64().unwrap() >= 2);
}

#[test]
fn max_handshake_message_drops_a_larger_certificate() {
    let mut f = Feed::new(Config {
        max_handshake_message: 1024,
        ..Config::default()
    });
    let (_, sseq) = tls_setup(&mut f, 40000);
    let mut hello = vec![2, 0, 0, 38, 3, 3];
    hello.extend_from_slice(&[0; 32]);
    hello.extend_from_slice(&[0, 0xC0, 0x2F, 0]);
    let mut cert = vec![11, 0, 0x07, 0xD0]; // 2000 bytes claimed, sent in two records
    cert.extend_from_slice(&[0; 2000]);
    let mut seq = sseq;
    for body in [&hello[..], &cert[..1000], &cert[1000..]] {
        let r = tls_record(22, body);
        f.tcp(false, 40000, seq, "AP", &r);
        seq += r.len() as u32;
        assert!(f.open_buffered() <= 1024);
    }
    let (records, _) = f.finish();
    assert_eq!(anomalies(&records[0]), ["TLS handshake message larger than the bound"]);
    assert_eq!(records[0]["tls"]["version"], "1.2");
}

#[test]
fn max_app_records_stops_parsing() {
    let mut f = Feed::new(Config {
        max_app_records: 3,
        ..Config::default()
    });
    let (mut seq, _) = tls_setup(&mut f, 40000);
    for _ in 0..10 {
        let r = tls_record(23, &[0xAA; 100]);
        f.tcp(true, 40000, seq, "AP", &r);
        seq += r.len() as u32;
    }
    let (records, _) = f.finish();
    let r = &records[0];
    // Counting stops with the first record past the bound.
    assert_eq!(r["tls"]["application_data_records"]["client"], 4);
    let app_events = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"].as_str().unwrap().contains("application data"))
        .count();
    assert_eq!(app_events, 3);
}

#[test]
fn max_handshake_records_stops_parsing() {
    let mut f = Feed::new(Config {
        max_handshake_records: 10,
        ..Config::default()
    });
    let (mut seq, _) = tls_setup(&mut f, 40000);
    // An endless handshake: empty HelloRequest messages, one record each.
    for _ in 0..100 {
        let r = tls_record(22, &[0, 0, 0, 0]);
        f.tcp(true, 40000, seq, "AP", &r);
        seq += r.len() as u32;
    }
    let (records, _) = f.finish();
    let r = &records[0];
    assert_eq!(
        anomalies(r),
        ["more TLS handshake records than the bound: parsing stopped"]
    );
    let hs_events = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["from"] == "client" && e["event"].as_str().unwrap().starts_with("TLS"))
        .count();
    assert_eq!(hs_events, 10);
}

#[test]
fn max_events_bounds_the_timeline() {
    let mut f = Feed::new(Config {
        max_events: 8,
        ..Config::default()
    });
    f.open(40000);
    for i in 0..20u32 {
        f.tcp(true, 40000, 1001 + i, "F", &[]);
        f.tcp(false, 40000, 5001 + i, "R", &[]);
    }
    let (records, _) = f.finish();
    assert_eq!(records[0]["timeline"].as_array().unwrap().len(), 8);
    assert!(records[0]["timeline_dropped"].as_u64().unwrap() > 0);
}

fn finished_ports(v: &[Finished]) -> Vec<u16> {
    v.iter()
        .filter_map(|f| match f {
            Finished::Tcp(c) => Some(c.client.port),
            Finished::Udp(_) => None,
        })
        .collect()
}

#[test]
fn idle_timeout_finishes_a_quiet_connection() {
    let mut f = Feed::new(Config {
        idle_timeout_secs: 10,
        ..Config::default()
    });
    f.open(40000);
    f.tcp(true, 40000, 1001, "AP", &cr());
    f.wait(5);
    f.open(40001);
    assert!(f.a.take_ready(0).is_empty(), "5 s quiet is not idle");
    f.wait(6);
    f.open(40002);
    assert_eq!(finished_ports(&f.a.take_ready(0)), [40000]);
    let (records, _) = f.finish();
    assert_eq!(records.len(), 2, "the two still open end with the capture");
}

#[test]
fn close_linger_retires_a_closed_connection() {
    let mut f = Feed::new(Config {
        close_linger_secs: 2,
        ..Config::default()
    });
    f.open(40000);
    f.tcp(true, 40000, 1001, "R", &[]);
    f.wait(1);
    f.open(40001);
    assert!(f.a.take_ready(0).is_empty(), "still lingering after 1 s");
    f.wait(2);
    f.open(40002);
    assert_eq!(finished_ports(&f.a.take_ready(0)), [40000]);
}

#[test]
fn max_buffered_bytes_bounds_all_connections_together() {
    let cap = 10_000;
    let mut f = Feed::new(Config {
        max_out_of_order: 8192,
        max_buffered_bytes: cap,
        ..Config::default()
    });
    // Each connection holds 6000 bytes behind a hole: the second one takes the total over,
    // and the least recently active connection holding bytes is evicted.
    for port in 40000..40004 {
        f.open(port);
        for i in 0..12u32 {
            f.tcp(true, port, 1002 + i * 500, "AP", &[0x41; 500]);
            assert!(f.a.buffered() <= cap, "total {} over {cap}", f.a.buffered());
        }
    }
    let (records, stats) = f.finish();
    assert!(stats.evicted_for_memory >= 1);
    let evicted: Vec<_> = records.iter().filter(|r| r["evicted"] == true).collect();
    assert_eq!(evicted.len() as u64, stats.evicted_for_memory);
    for r in evicted {
        assert!(
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == "capture_incomplete"),
            "an evicted connection says its capture is incomplete"
        );
    }
}

/// docs/limits.md gives every configurable bound with the default the code really has.
#[test]
fn limits_md_states_every_default() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/limits.md")).unwrap();
    let d = Config::default();
    for (field, value) in [
        ("max_flows", d.max_flows as u64),
        ("max_udp_flows", d.max_udp_flows as u64),
        ("max_stream_buffer", d.max_stream_buffer as u64),
        ("max_out_of_order", d.max_out_of_order as u64),
        ("max_handshake_message", d.max_handshake_message as u64),
        ("max_app_records", d.max_app_records as u64),
        ("max_handshake_records", d.max_handshake_records as u64),
        ("max_events", d.max_events as u64),
        ("max_buffered_bytes", d.max_buffered_bytes as u64),
        ("idle_timeout_secs", d.idle_timeout_secs),
        ("close_linger_secs", d.close_linger_secs),
    ] {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{field}` |")))
            .unwrap_or_else(|| panic!("docs/limits.md has no row for {field}"));
        assert!(
            row.contains(&format!("| `{value}`")),
            "{field}: default {value} not in {row}"
        );
        let test = row.rsplit('|').nth(1).unwrap();
        let name = test.trim().split('`').nth(1).unwrap();
        assert!(
            include_str!("limits.rs").contains(&format!("fn {name}()")),
            "{field}: test {name} does not exist"
        );
    }
    let seg = format!("{MAX_PENDING_SEGMENTS} (`MAX_PENDING_SEGMENTS`)");
    assert!(doc.contains(&seg));
}

/// A live refresh lists at most `MAX_OPEN_ROWS` open connections, the most recently active,
/// and still counts them all (here with a bound of 5 of 40: 30 answered, 10 only SYNs).
#[test]
fn live_rows_are_the_most_recently_active_open_connections() {
    let mut f = Feed::new(Config::default());
    for port in 40000..40030 {
        f.open(port);
    }
    for port in 41000..41010 {
        f.tcp(true, port, 7, "S", &[]);
    }
    // Activity on two of the first connections makes them recent again.
    f.tcp(true, 40003, 1001, "PA", b"x");
    f.tcp(true, 40001, 1001, "PA", b"y");
    let (rows, total) = f.a.recent_open_connections(5);
    assert_eq!(total, 40);
    let mut ports: Vec<u16> = rows.iter().map(|c| c.client.port).collect();
    ports.sort_unstable();
    assert_eq!(ports, [40001, 40003, 41007, 41008, 41009]);
    let (all, total) = f.a.recent_open_connections(rdpscope::live::MAX_OPEN_ROWS);
    assert_eq!((all.len(), total), (40, 40));
}

fn ids(v: &[Finished]) -> Vec<u64> {
    v.iter().map(Finished::id).collect()
}

/// Output order (analyzer::ready): a long session of one client holds back the records of
/// others only for the reorder window, not until it ends.
#[test]
fn a_long_session_holds_back_other_records_only_for_the_reorder_window() {
    let mut f = Feed::new(Config::default());
    let other = [10, 0, 0, 9];
    f.open(40000); // id 1: stays open, active every 10 s
    f.open_of(other, 41000); // id 2: refused at once
    f.tcp_of(other, false, 41000, 5001, "R", &[]);
    let mut out = Vec::new();
    for _ in 0..12 {
        f.wait(10);
        f.tcp(true, 40000, 1001, "AP", &cr());
        out.extend(ids(&f.a.take_ready(60)));
        if f.t < 1_700_000_000 * SEC + 60 * SEC {
            assert!(out.is_empty(), "within the window, id order holds");
        }
    }
    assert_eq!(out, [2], "out after the window while 1 is still open");
    let (records, _) = f.finish();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], 1);
}

/// A retry goes out only after the attempt it repeats, even when that attempt ends later
/// (abandoned without a close: it ends at the idle timeout), so `retry_of` is always set.
#[test]
fn a_retry_waits_for_the_attempt_it_may_retry() {
    let cfg = Config {
        idle_timeout_secs: 120,
        ..Config::default()
    };
    let mut f = Feed::new(cfg.clone());
    f.open(40000); // id 1: the client sends its request, the server never answers, no close
    f.tcp(true, 40000, 1001, "AP", &cr());
    f.wait(3);
    f.open(40001); // id 2: the retry, refused at once
    f.tcp(false, 40001, 5001, "R", &[]);
    f.wait(20);
    f.open_of([10, 0, 0, 9], 41000); // a packet to move time on
    assert!(
        f.a.take_ready(0).is_empty(),
        "2 waits for 1, which may still end in the window"
    );
    f.wait(130);
    f.open_of([10, 0, 0, 9], 41001);
    let done = f.a.take_ready(0);
    assert_eq!(ids(&done), [1, 2, 3], "1 ended (idle), then 2, in id order");
    let mut em = rdpscope::emit::Emitter::new(&cfg, None);
    let records: Vec<_> = done.into_iter().map(|d| em.finished(d)).collect();
    assert_eq!(records[1].retry_of, Some(1));
}

/// A connection from the same client to the same server that started long after an open one
/// was last heard of cannot be its retry: it does not wait.
#[test]
fn a_connection_does_not_wait_for_an_open_one_it_cannot_retry() {
    let mut f = Feed::new(Config::default());
    f.open(40000); // id 1, silent from now on
    f.wait(40);
    f.open(40001); // id 2: starts 40 s after 1 was last heard of
    f.tcp(false, 40001, 5001, "R", &[]);
    f.wait(10);
    f.open_of([10, 0, 0, 9], 41000);
    assert_eq!(ids(&f.a.take_ready(0)), [2]);
}

/// However many retries pile up behind an open attempt, at most MAX_WAITING wait; the ones let
/// go early are counted.
#[test]
fn waiting_records_are_bounded() {
    use rdpscope::analyzer::ready::MAX_WAITING;
    let mut f = Feed::new(Config::default());
    f.open(40000); // id 1, open until the end
    f.tcp(true, 40000, 1001, "AP", &cr());
    let n = MAX_WAITING as u16 + 200;
    for i in 0..n {
        f.open(40001 + i);
        f.tcp(false, 40001 + i, 5001, "R", &[]);
        f.t += 10_000_000; // 10 ms apart: all within the retry window of 1
        f.a.take_ready(0);
        assert!(f.a.waiting() <= MAX_WAITING + 1);
    }
    f.wait(10);
    f.open_of([10, 0, 0, 9], 41000);
    f.a.take_ready(0);
    assert!(f.a.waiting() <= MAX_WAITING);
    let (_, stats) = f.finish();
    assert!(stats.released_early >= 200, "{}", stats.released_early);
}

/// The retry stories a run keeps are bounded (a sensor runs for days): beyond
/// `MAX_STORIES`, the stories with the fewest attempts are let go of and counted, and the
/// longest survive whenever they came.
#[test]
fn retry_stories_are_bounded_and_the_longest_kept() {
    use rdpscope::emit::retry::MAX_STORIES;
    // Enough records for the retry linker to let go of old attempts (every 4,096 records),
    // so ended chains are bounded as they end, not only at the end.
    let extra = 3_000;
    let mut chains: Vec<([u8; 4], u32, u16)> = (0..MAX_STORIES + extra)
        .map(|i| ([10, 1, (i / 250) as u8, (i % 250) as u8 + 1], 10 + (i as u32) * 2, 2))
        .collect();
    // The first chain of all has the most attempts.
    chains.push(([10, 9, 9, 9], 0, 5));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chains.pcap");
    common::refused_chains(&path, &chains);
    let cfg = Config::default();
    let res = rdpscope::pipeline::analyze_file(
        &path,
        &rdpscope::capture::Filter::Ports(vec![3389]),
        &cfg,
        1,
        &mut |_| {},
    )
    .unwrap();
    let s = &res.summary;
    assert_eq!(s.stories.len(), MAX_STORIES);
    assert_eq!(s.stories_omitted, extra as u64 + 1);
    assert!(s.stories[0].starts_with("10.9.9.9 -> 10.0.0.1"), "{}", s.stories[0]);
}
