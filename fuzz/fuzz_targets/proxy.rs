//! A proxy exchange before RDP (SOCKS, HTTP CONNECT): (1) the input as a client stream and
//! as a proxy stream, walked message by message the way the stream decoder steps through an
//! exchange; (2) a whole `Connection` (TCP handshake, then the input cut into client and
//! proxy segments: a length and direction byte before each), whose record, diagnosis and
//! text report are built.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::analyzer::Finished;
use rdpscope::config::Config;
use rdpscope::conn::Connection;
use rdpscope::decode::TcpHeader;
use rdpscope::flow::tcp::At;
use rdpscope::flow::{Endpoint, Side};
use rdpscope::proto::http_connect;
use rdpscope::proto::socks::{self, ClientMsg, ClientStep, ServerMsg, ServerStep};
use rdpscope::ts::Ts;

fn walk_client(mut i: &[u8]) {
    let mut step = ClientStep::First;
    while let Ok((m, n)) = socks::parse_client(i, step) {
        assert!(n > 0 && n <= i.len());
        i = &i[n..];
        match m {
            ClientMsg::Request(r) => {
                let _ = (r.target.to_string(), socks::command_name(r.command));
                return;
            }
            ClientMsg::Greeting { methods } => {
                for m in &methods {
                    let _ = socks::method_name(*m);
                }
                step = ClientStep::AfterGreeting;
            }
            ClientMsg::Auth { .. } => step = ClientStep::AfterGreeting,
        }
    }
}

fn walk_server(mut i: &[u8]) {
    let mut step = ServerStep::First;
    while let Ok((m, n)) = socks::parse_server(i, step) {
        assert!(n > 0 && n <= i.len());
        i = &i[n..];
        step = match m {
            ServerMsg::Method(socks::METHOD_USER_PASS) => ServerStep::AuthStatus,
            ServerMsg::Method(_) | ServerMsg::AuthStatus(_) => ServerStep::Reply,
            ServerMsg::Reply { version, code } => {
                let _ = (socks::reply_name(version, code), socks::granted(version, code));
                return;
            }
        };
    }
}

/// A segment header of `side`: `[seq, ack]`.
fn header(side: Side, [seq, ack]: [u32; 2], syn: bool, ack_flag: bool) -> TcpHeader {
    let (src_port, dst_port) = if side == Side::Client {
        (50000, 1080)
    } else {
        (1080, 50000)
    };
    TcpHeader {
        src_port,
        dst_port,
        seq,
        ack,
        syn,
        ack_flag,
        fin: false,
        rst: false,
        window: 1024,
        mss: None,
    }
}

/// CONNECT requests, then responses, one after another as after a 407.
fn walk_http(mut i: &[u8]) {
    let _ = (http_connect::is_request_start(i), http_connect::is_response_start(i));
    while let Ok((r, n)) = http_connect::parse_request(i) {
        assert!(n > 0 && n <= i.len());
        let _ = r.target.map(|t| t.to_string());
        i = &i[n..];
    }
    while let Ok((r, n)) = http_connect::parse_response(i) {
        assert!(n > 0 && n <= i.len());
        let _ = (r.granted(), http_connect::status_name(r.status));
        i = &i[n..];
        i = &i[r.body.unwrap_or(i.len()).min(i.len())..];
    }
}

fuzz_target!(|data: &[u8]| {
    walk_client(data);
    walk_server(data);
    walk_http(data);

    let cfg = Config::default();
    let client = Endpoint {
        ip: [10, 0, 0, 2].into(),
        port: 50000,
    };
    let server = Endpoint {
        ip: [10, 0, 0, 1].into(),
        port: 1080,
    };
    let mut at = At {
        frame: 1,
        ts: Ts(1_700_000_000_000_000_000),
    };
    let mut conn = Connection::new(1, client, server, at, false);
    for (side, syn, ack) in [
        (Side::Client, true, false),
        (Side::Server, true, true),
        (Side::Client, false, true),
    ] {
        let seq = if side == Side::Client {
            [1000, 5000]
        } else {
            [5000, 1001]
        };
        conn.on_tcp(side, at, &header(side, seq, syn, ack), &[], 0, &cfg, None);
        at.frame += 1;
    }
    let mut next = [1001u32, 5001u32];
    let mut rest = data;
    while let Some((&b, tail)) = rest.split_first() {
        let n = usize::from(b & 0x7F).min(tail.len());
        let side = if b & 0x80 == 0 { Side::Client } else { Side::Server };
        let (seg, more) = tail.split_at(n);
        let (mine, theirs) = (next[side.index()], next[1 - side.index()]);
        conn.on_tcp(side, at, &header(side, [mine, theirs], false, true), seg, 0, &cfg, None);
        next[side.index()] = mine.wrapping_add(n as u32);
        at.frame += 1;
        at.ts = Ts(at.ts.0 + 500_000_000);
        rest = more;
    }
    conn.finish(&cfg, None);
    let f = Finished::Tcp(Box::new(conn));
    let r = rdpscope::emit::record(&f, &cfg);
    if let Some(p) = &r.proxy {
        let _ = p.summary();
    }
    let _ = serde_json::to_string(&r);
    let mut out = Vec::new();
    let _ = rdpscope::report::text::connection(&mut out, &r, &rdpscope::report::text::Options { timeline: true });
});
