//! RDP-UDP (MS-RDPEUDP) datagrams: the input as one datagram, then cut into datagrams
//! (a length byte and a direction bit before each) fed to an RDP-UDP flow whose record is
//! built and serialized.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::config::Config;
use rdpscope::conn::udp::UdpFlow;
use rdpscope::flow::tcp::At;
use rdpscope::flow::{Endpoint, Side};
use rdpscope::proto::rdpeudp;
use rdpscope::ts::Ts;

fuzz_target!(|data: &[u8]| {
    let _ = rdpeudp::looks_like_syn(data);
    if let Ok(d) = rdpeudp::parse_datagram(data) {
        let _ = serde_json::to_string(&d);
    }
    let cfg = Config {
        max_events: 8,
        ..Config::default()
    };
    let ip = "10.0.0.1".parse().expect("literal address");
    let client = Endpoint { ip, port: 50000 };
    let server = Endpoint { ip, port: 3389 };
    let mut at = At { frame: 1, ts: Ts(0) };
    let mut flow = UdpFlow::new(1, client, server, at);
    let mut rest = data;
    while let [head, tail @ ..] = rest {
        let len = usize::from(head & 0x7f).min(tail.len());
        let side = if head & 0x80 == 0 { Side::Client } else { Side::Server };
        let (d, next) = tail.split_at(len);
        flow.on_datagram(side, at, d, &cfg);
        at.frame += 1;
        at.ts = Ts(at.ts.0 + 1_000_000);
        rest = next;
    }
    let r = rdpscope::emit::udp_record(&flow);
    let _ = serde_json::to_string(&r);
});
