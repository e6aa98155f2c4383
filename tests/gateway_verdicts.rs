//! Gateway verdicts for every failure MS-TSGU and HTTP can carry, from spec-shaped bytes: a
//! decrypted client/server exchange (HTTP/1.1 heads, a 101 upgrade, masked client WebSocket
//! frames, MS-TSGU packets with each status) goes through the same `conn::gateway` stream
//! a decrypted leg uses, then through the diagnosis, and the finding code, hop and status
//! name are checked. The real captures (all statuses 0) are in tests/gateway_keyed.rs.

use rdpscope::config::Config;
use rdpscope::conn::ctx::Ctx;
use rdpscope::conn::event::Timeline;
use rdpscope::conn::gateway::GatewayStream;
use rdpscope::conn::inside::DecryptState;
use rdpscope::conn::inside_facts::DecryptionFacts;
use rdpscope::conn::Connection;
use rdpscope::decrypt::KeySource;
use rdpscope::diagnosis::{diagnose, Outcome};
use rdpscope::flow::tcp::At;
use rdpscope::flow::{Endpoint, Side};
use rdpscope::proto::tsgu::*;
use rdpscope::ts::Ts;

fn pkt(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut v = ty.to_le_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&u32::try_from(body.len() + 8).unwrap().to_le_bytes());
    v.extend_from_slice(body);
    v
}

/// A WebSocket binary frame (RFC 6455 §5.2); masked from the client.
fn ws(payload: &[u8], masked: bool) -> Vec<u8> {
    let mut v = vec![0x82];
    let mask_bit = if masked { 0x80 } else { 0 };
    if payload.len() < 126 {
        v.push(mask_bit | u8::try_from(payload.len()).unwrap());
    } else {
        v.push(mask_bit | 126);
        v.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        v.extend_from_slice(&key);
        v.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        v.extend_from_slice(payload);
    }
    v
}

fn status_body(status: u32, extra: &[u8]) -> Vec<u8> {
    [&status.to_le_bytes()[..], extra].concat()
}

fn channel_create() -> Vec<u8> {
    let name: Vec<u8> = "rdp01.example.test\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let mut b = vec![1, 0, 0x3d, 0x0d, 3, 0];
    b.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
    b.extend_from_slice(&name);
    pkt(PKT_TYPE_CHANNEL_CREATE, &b)
}

/// The exchange up to the step that carries `fail` (statuses before it are 0).
fn exchange(step: &str, fail: u32) -> Vec<(Side, Vec<u8>)> {
    let ok = |s: &str| if s == step { fail } else { 0 };
    let mut v = vec![
        (Side::Client, b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nRDG-Connection-Id: {1}\r\n\r\n".to_vec()),
        (Side::Server, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec()),
        (Side::Client, ws(&pkt(PKT_TYPE_HANDSHAKE_REQUEST, &[1, 0, 0, 0, 0, 0]), true)),
        (Side::Server, ws(&pkt(PKT_TYPE_HANDSHAKE_RESPONSE, &status_body(ok("handshake"), &[1, 0, 0, 0, 0, 0])), false)),
    ];
    if step == "handshake" {
        return v;
    }
    v.push((
        Side::Client,
        ws(&pkt(PKT_TYPE_TUNNEL_CREATE, &[0x3f, 0, 0, 0, 0, 0, 0, 0]), true),
    ));
    let mut tr = 1u16.to_le_bytes().to_vec();
    tr.extend_from_slice(&ok("tunnel").to_le_bytes());
    tr.extend_from_slice(&[0, 0, 0, 0]);
    v.push((Side::Server, ws(&pkt(PKT_TYPE_TUNNEL_RESPONSE, &tr), false)));
    if step == "tunnel" {
        return v;
    }
    v.push((
        Side::Client,
        ws(&pkt(PKT_TYPE_TUNNEL_AUTH, &[0, 0, 4, 0, b'P', 0, b'C', 0]), true),
    ));
    v.push((
        Side::Server,
        ws(
            &pkt(
                PKT_TYPE_TUNNEL_AUTH_RESPONSE,
                &status_body(ok("tunnel_auth"), &[0, 0, 0, 0]),
            ),
            false,
        ),
    ));
    if step == "tunnel_auth" {
        return v;
    }
    v.push((Side::Client, ws(&channel_create(), true)));
    v.push((
        Side::Server,
        ws(
            &pkt(
                PKT_TYPE_CHANNEL_RESPONSE,
                &status_body(ok("channel"), &[1, 0, 0, 0, 7, 0, 0, 0]),
            ),
            false,
        ),
    ));
    if step == "channel" {
        return v;
    }
    // DATA: an X.224 Connection Request, then the gateway closes the channel.
    let cr = [3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0];
    let mut data = u16::try_from(cr.len()).unwrap().to_le_bytes().to_vec();
    data.extend_from_slice(&cr);
    v.push((Side::Client, ws(&pkt(PKT_TYPE_DATA, &data), true)));
    v.push((
        Side::Server,
        ws(&pkt(PKT_TYPE_CLOSE_CHANNEL, &fail.to_le_bytes()), false),
    ));
    v
}

/// The leg's diagnosis after `pieces` went through the gateway stream, and its inner
/// connection (if any).
fn judge(pieces: &[(Side, Vec<u8>)]) -> (rdpscope::diagnosis::Diagnosis, Option<Connection>) {
    let cfg = Config::default();
    let ep = |p| Endpoint {
        ip: "10.0.0.1".parse().unwrap(),
        port: p,
    };
    let mut c = Connection::new(1, ep(50000), ep(443), At { frame: 1, ts: Ts(0) }, false);
    c.facts.https = Some(Default::default());
    c.facts.inside.decryption = Some(DecryptionFacts {
        keys: KeySource::Keylog,
        records: [1, 1],
        stopped: None,
    });
    let mut g = GatewayStream::default();
    let mut timeline = Timeline::default();
    let mut decrypt = DecryptState::default();
    let mut unused = GatewayStream::default();
    for (i, (side, bytes)) in pieces.iter().enumerate() {
        let mut ctx = Ctx {
            facts: &mut c.facts,
            timeline: &mut timeline,
            cfg: &cfg,
            keys: None,
            decrypt: &mut decrypt,
            gateway: &mut unused,
        };
        // Cut each piece in two to exercise reassembly across records.
        let at = At {
            frame: i as u64 + 10,
            ts: Ts(i as i64),
        };
        let (a, b) = bytes.split_at(bytes.len() / 2);
        g.data(*side, at, a, &mut ctx);
        g.data(*side, at, b, &mut ctx);
    }
    let inner = g.take_inner().map(|mut i| {
        i.finish();
        let mut ic = Connection::new(2, ep(50000), ep(443), i.first, false);
        ic.facts = i.facts.clone();
        ic
    });
    (diagnose(&c, &cfg), inner)
}

fn cause(d: &rdpscope::diagnosis::Diagnosis) -> (&str, String) {
    let f = d
        .findings
        .iter()
        .find(|f| f.severity == rdpscope::diagnosis::Severity::Error)
        .expect("an error finding");
    (f.code, f.summary.clone())
}

#[test]
fn each_tsgu_failure_names_its_code_hop_and_status() {
    for (step, status, code, hop, name) in [
        (
            "handshake",
            0x8007_59D8,
            "gateway_refused",
            "client→gateway",
            "E_PROXY_INTERNALERROR",
        ),
        (
            "tunnel",
            0x8007_59E9,
            "gateway_capability_mismatch",
            "client→gateway",
            "E_PROXY_CAPABILITYMISMATCH",
        ),
        (
            "tunnel",
            0x8007_59EE,
            "gateway_refused",
            "client→gateway",
            "E_PROXY_NOCERTAVAILABLE",
        ),
        (
            "tunnel",
            0x8007_59F9,
            "gateway_policy_denied",
            "gateway policy",
            "E_PROXY_UNSUPPORTED_AUTHENTICATION_METHOD",
        ),
        (
            "tunnel_auth",
            0x8007_59DB,
            "gateway_policy_denied",
            "gateway policy",
            "E_PROXY_NAP_ACCESSDENIED",
        ),
        (
            "tunnel_auth",
            0x8007_59ED,
            "gateway_policy_denied",
            "gateway policy",
            "E_PROXY_QUARANTINE_ACCESSDENIED",
        ),
        (
            "tunnel_auth",
            0x8007_59F8,
            "gateway_policy_denied",
            "gateway policy",
            "E_PROXY_COOKIE_AUTHENTICATION_ACCESS_DENIED",
        ),
        (
            "tunnel_auth",
            0x8007_59F7,
            "gateway_refused",
            "client→gateway",
            "E_PROXY_COOKIE_BADPACKET",
        ),
        (
            "channel",
            0x8007_59DA,
            "gateway_policy_denied",
            "gateway policy",
            "E_PROXY_RAP_ACCESSDENIED",
        ),
        (
            "channel",
            0x8007_59DD,
            "gateway_target_unreachable",
            "gateway→server",
            "E_PROXY_TS_CONNECTFAILED",
        ),
        (
            "channel",
            0x8007_59DF,
            "gateway_refused",
            "client→gateway",
            "E_PROXY_ALREADYDISCONNECTED",
        ),
        (
            "channel",
            0x8007_1234,
            "gateway_refused",
            "client→gateway",
            "0x80071234",
        ),
        (
            "close",
            0x59F6,
            "gateway_session_timeout",
            "gateway policy",
            "E_PROXY_SESSIONTIMEOUT",
        ),
        (
            "close",
            0x59FA,
            "gateway_reauth_failed",
            "gateway policy",
            "E_PROXY_REAUTH_AUTHN_FAILED",
        ),
        (
            "close",
            0x59FB,
            "gateway_reauth_failed",
            "gateway policy",
            "E_PROXY_REAUTH_CAP_FAILED",
        ),
        (
            "close",
            0x59FC,
            "gateway_reauth_failed",
            "gateway policy",
            "E_PROXY_REAUTH_RAP_FAILED",
        ),
        (
            "close",
            0x5A00,
            "gateway_reauth_failed",
            "gateway policy",
            "E_PROXY_REAUTH_NAP_FAILED",
        ),
    ] {
        let (d, inner) = judge(&exchange(step, status));
        assert_eq!(d.outcome, Outcome::Failed, "{step} {name}");
        let (c, summary) = cause(&d);
        assert_eq!(c, code, "{step} {name}: {summary}");
        assert!(summary.starts_with(hop), "{step} {name}: {summary}");
        assert!(summary.contains(name), "{step} {name}: {summary}");
        if status == 0x8007_59DD {
            assert!(summary.contains("rdp01.example.test:3389"), "{summary}");
        }
        assert_eq!(
            inner.is_some(),
            step == "close",
            "{step}: the inner connection exists once DATA flowed"
        );
    }
}

#[test]
fn a_tunnel_that_works_is_a_success_and_its_data_is_an_rdp_connection() {
    let (d, inner) = judge(&exchange("close", 0));
    assert_eq!(d.outcome, Outcome::Success, "{:?}", d.findings);
    let inner = inner.expect("DATA opened an inner connection");
    assert!(
        inner.facts.request.is_some(),
        "the inner X.224 Connection Request was read"
    );
}

#[test]
fn http_refusals_are_the_gateway_login() {
    for (status, reason, code) in [
        (401, "User Account Restricted", "gateway_auth_failed"),
        (403, "Forbidden", "gateway_forbidden"),
        (503, "Service Unavailable", "gateway_http_error"),
    ] {
        let req = b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nUpgrade: websocket\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n".to_vec();
        let resp = format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 5\r\n\r\nbody!").into_bytes();
        let (d, _) = judge(&[(Side::Client, req), (Side::Server, resp)]);
        let (c, summary) = cause(&d);
        assert_eq!(c, code);
        assert!(summary.contains(&format!("HTTP {status} {reason}")), "{summary}");
        assert!(summary.contains("Basic"), "{summary}");
        assert!(
            !summary.contains("dXNlcjpwYXNz") && !summary.contains("pass"),
            "no secret: {summary}"
        );
    }
}

#[test]
fn garbage_after_the_upgrade_is_an_anomaly_not_a_panic() {
    let mut v = exchange("handshake", 0);
    v.push((Side::Server, vec![0x83, 0xff, 0, 1, 2]));
    v.push((Side::Client, ws(&[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], true)));
    let (d, _) = judge(&v);
    assert_ne!(d.outcome, Outcome::Failed);
}

#[test]
fn legacy_http_transport_channels() {
    // OUT channel: the server's packets are the body of a long 200 response.
    let mut body = pkt(PKT_TYPE_HANDSHAKE_RESPONSE, &status_body(0, &[1, 0, 0, 0, 0, 0]));
    body.extend(pkt(
        PKT_TYPE_TUNNEL_AUTH_RESPONSE,
        &status_body(0x8007_59DB, &[0, 0, 0, 0]),
    ));
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n".to_vec();
    resp.extend(&body);
    let (d, _) = judge(&[
        (
            Side::Client,
            b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nRDG-Connection-Id: {1}\r\n\r\n".to_vec(),
        ),
        (Side::Server, resp),
    ]);
    let (c, summary) = cause(&d);
    assert_eq!(c, "gateway_policy_denied");
    assert!(summary.contains("E_PROXY_NAP_ACCESSDENIED"), "{summary}");
    // As a gateway sends it (MS-TSGU 3.3.5.1): no entity length, a random seed (10 bytes
    // from Windows, up to 100 by the spec) before the first packet; the seed may even
    // start like a packet header.
    for seed in [
        vec![0xab; 10],
        vec![0x02, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 2],
        vec![0x5a; 100],
    ] {
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
        resp.extend(&seed);
        let (d, _) = judge(&[
            (
                Side::Client,
                b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nRDG-Connection-Id: {1}\r\n\r\n".to_vec(),
            ),
            (Side::Server, resp),
            (Side::Server, body.clone()),
        ]);
        let (c, summary) = cause(&d);
        assert_eq!(c, "gateway_policy_denied", "seed {seed:?}");
        assert!(summary.contains("E_PROXY_NAP_ACCESSDENIED"), "{summary}");
    }
    // IN channel: the client's packets are the chunks of its request body.
    let hs = pkt(PKT_TYPE_HANDSHAKE_REQUEST, &[1, 0, 0, 0, 0, 0]);
    let cc = channel_create();
    let mut req = b"RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for p in [&hs, &cc] {
        req.extend(format!("{:x}\r\n", p.len()).into_bytes());
        req.extend(p.iter());
        req.extend(b"\r\n");
    }
    let (d, _) = judge(&[(Side::Client, req)]);
    assert_ne!(d.outcome, Outcome::Failed, "{:?}", d.findings);
}

#[test]
fn rpc_over_http_fault_status() {
    let mut fault = vec![5, 0, 3, 3, 0x10, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0];
    fault.extend_from_slice(&[0; 8]);
    fault.extend_from_slice(&0x8007_59DDu32.to_le_bytes());
    fault.extend_from_slice(&[0; 4]);
    let mut resp =
        b"HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 1073741824\r\n\r\n".to_vec();
    resp.extend(&fault);
    let (d, _) = judge(&[
        (
            Side::Client,
            b"RPC_OUT_DATA /rpc/rpcproxy.dll?gw.example.test:3388 HTTP/1.1\r\nContent-Length: 76\r\n\r\n".to_vec(),
        ),
        (Side::Server, resp),
    ]);
    let (c, summary) = cause(&d);
    assert_eq!(c, "gateway_target_unreachable");
    assert!(summary.contains("RPC fault E_PROXY_TS_CONNECTFAILED"), "{summary}");
}

#[test]
fn udp_3391_is_counted_like_rdp_udp() {
    use etherparse::PacketBuilder;
    use rdpscope::analyzer::{Analyzer, Finished};
    use rdpscope::decode::LinkType;
    let dgram = |sport: u16, dport: u16, src: [u8; 4], dst: [u8; 4]| {
        let mut v = Vec::new();
        PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(src, dst, 64)
            .udp(sport, dport)
            .write(&mut v, &[0x16, 0xfe, 0xfd, 0, 0])
            .unwrap();
        v
    };
    let mut a = Analyzer::new(Config::default(), 1);
    for (i, f) in [
        dgram(50000, 3391, [10, 0, 0, 2], [10, 0, 0, 1]),
        dgram(3391, 50000, [10, 0, 0, 1], [10, 0, 0, 2]),
    ]
    .iter()
    .enumerate()
    {
        a.on_frame(i as u64 + 1, Ts(i as i64), LinkType::Ethernet, f, f.len() as u32);
    }
    let (done, stats) = a.finish();
    assert_eq!(stats.udp_flows, 1);
    let Some(Finished::Udp(u)) = done.first() else {
        panic!("{done:?}")
    };
    assert_eq!(u.server.port, 3391);
    assert_eq!(u.datagrams, [1, 1]);
    let f = rdpscope::capture::filter_for_ports(&[3389], LinkType::Ethernet);
    assert!(
        f.starts_with("tcp port 3389 or udp port 3389 or tcp port 88 or udp port 88 or udp port 3391"),
        "{f}"
    );
}
