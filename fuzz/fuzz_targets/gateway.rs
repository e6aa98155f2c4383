//! An HTTPS connection's decrypted bytes: the parsers on their own (HTTP heads and chunk
//! sizes, WebSocket frame headers, MS-TSGU packets, HTTP/2 frame headers, KDC-PROXY-
//! MESSAGE), and the gateway stream state machine fed the input as alternating client and
//! server pieces (cut at every 0xff byte), in HTTP/1.1 and in HTTP/2 mode, with the inner
//! RDP connection its DATA packets open.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::config::Config;
use rdpscope::conn::ctx::Ctx;
use rdpscope::conn::event::Timeline;
use rdpscope::conn::facts::RdpFacts;
use rdpscope::conn::gateway::GatewayStream;
use rdpscope::conn::inside::DecryptState;
use rdpscope::flow::tcp::At;
use rdpscope::flow::Side;
use rdpscope::proto::{h2, http, kkdcp, tsgu, websocket};
use rdpscope::ts::Ts;

fn stream(prefix: &[u8], data: &[u8], cfg: &Config) {
    let mut facts = RdpFacts::default();
    facts.https = Some(Default::default());
    let mut timeline = Timeline::default();
    let mut decrypt = DecryptState::default();
    let mut g = GatewayStream::default();
    let mut gw = GatewayStream::default();
    let mut ctx = Ctx {
        facts: &mut facts,
        timeline: &mut timeline,
        cfg,
        keys: None,
        decrypt: &mut decrypt,
        gateway: &mut gw,
    };
    let at = At { frame: 1, ts: Ts(0) };
    g.data(Side::Client, at, prefix, &mut ctx);
    for (i, piece) in data.split(|&b| b == 0xff).enumerate() {
        let side = if i % 2 == 0 { Side::Client } else { Side::Server };
        g.data(
            side,
            At {
                frame: i as u64 + 2,
                ts: Ts(i as i64),
            },
            piece,
            &mut ctx,
        );
    }
    assert!(g.buffered() <= 8 << 20);
    let _ = g.take_inner();
}

fuzz_target!(|data: &[u8]| {
    let _ = http::parse_request(data);
    let _ = http::parse_response(data);
    let _ = http::chunk_header(data);
    if let Ok(h) = websocket::parse_header(data) {
        assert!(h.header_len <= 14 && h.header_len <= data.len());
    }
    if let Ok(len) = tsgu::packet_len(data) {
        assert!(len <= tsgu::MAX_PACKET);
        let _ = tsgu::parse(data).map(|p| p.name());
    }
    let _ = h2::parse_header(data);
    let _ = kkdcp::parse(data);
    let cfg = Config::default();
    stream(b"", data, &cfg);
    stream(
        b"RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        data,
        &cfg,
    );
    stream(
        b"RDG_IN_DATA /remoteDesktopGateway/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        data,
        &cfg,
    );
    stream(h2::PREFACE, data, &cfg);
});
