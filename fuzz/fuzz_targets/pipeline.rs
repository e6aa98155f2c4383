//! The whole pipeline from an in-memory pcap. libpcap reads only files, so the target parses
//! the classic pcap format itself (either byte order, µs or ns timestamps; caplen clamped
//! to what the input holds) and feeds every frame to `Analyzer::on_frame` exactly as
//! `capture::file` does, then builds, links, serializes and renders every record.
//! The low bit of the header's `sigfigs` field selects tiny resource bounds, so eviction,
//! buffer limits and timeouts are fuzzed too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::analyzer::Analyzer;
use rdpscope::config::Config;
use rdpscope::decode::LinkType;
use rdpscope::emit::Emitter;
use rdpscope::record::redact::Redactor;
use rdpscope::report::{json, text};
use rdpscope::ts::Ts;

fn u32_at(d: &[u8], at: usize, be: bool) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(magic) = u32_at(data, 0, false) else { return };
    let (be, nano) = match magic {
        0xa1b2_c3d4 => (false, false),
        0xd4c3_b2a1 => (true, false),
        0xa1b2_3c4d => (false, true),
        0x4d3c_b2a1 => (true, true),
        _ => return,
    };
    let (Some(sigfigs), Some(dlt)) = (u32_at(data, 12, be), u32_at(data, 20, be)) else {
        return;
    };
    let Some(link) = LinkType::from_dlt(dlt as i32) else {
        return;
    };
    let cfg = if sigfigs & 1 == 1 {
        Config {
            max_flows: 2,
            max_udp_flows: 1,
            max_stream_buffer: 512,
            max_out_of_order: 256,
            max_handshake_message: 512,
            max_app_records: 2,
            max_events: 8,
            idle_timeout_secs: 2,
            close_linger_secs: 1,
            server_ports: vec![3389, 1080, 8888],
            ..Config::default()
        }
    } else {
        Config {
            // The proxies of fixtures/lab/socks5-* (1080), http-connect-* (8888), arkime__socks5-rdp.
            server_ports: vec![3389, 3390, 1080, 8888, 42356],
            ..Config::default()
        }
    };
    let mut a = Analyzer::new(cfg.clone(), 1);
    let mut pos = 24;
    let mut frame = 0u64;
    while let (Some(sec), Some(frac), Some(caplen), Some(len)) = (
        u32_at(data, pos, be),
        u32_at(data, pos + 4, be),
        u32_at(data, pos + 8, be),
        u32_at(data, pos + 12, be),
    ) {
        let start = pos + 16;
        let end = start.saturating_add(caplen as usize).min(data.len());
        let bytes = &data[start..end];
        frame += 1;
        let ns = if nano { i64::from(frac) } else { i64::from(frac) * 1000 };
        a.on_frame(frame, Ts::from_parts(i64::from(sec), ns), link, bytes, len);
        pos = end;
    }
    let (finished, _stats) = a.finish();
    // The same emit step as the CLI, redaction included.
    let mut em = Emitter::new(&cfg, Some(Redactor::new(b"fuzz".to_vec())));
    let mut out = Vec::new();
    for f in finished {
        let r = em.finished(f);
        let _ = json::connection(&mut out, &r);
        let _ = text::connection(&mut out, &r, &text::Options { timeline: true });
    }
    let sum = em.finish();
    let _ = json::summary(&mut out, &sum);
    let _ = text::summary(&mut out, &sum);
});
