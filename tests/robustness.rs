//! No input may panic the pipeline: random frames, fixture frames with random bytes
//! changed, frames dropped and reordered, and truncated or corrupted copies of the
//! fixture files read through libpcap.

mod common;

use proptest::prelude::*;
use rdpscope::analyzer::Analyzer;
use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::decode::LinkType;
use rdpscope::pipeline;
use rdpscope::ts::Ts;

struct Frame {
    ts: Ts,
    data: Vec<u8>,
    wire_len: u32,
}

struct Capture {
    link: LinkType,
    frames: Vec<Frame>,
}

fn load_fixtures() -> Vec<Capture> {
    common::captures("real")
        .iter()
        .chain(common::captures("lab").iter())
        .map(|p| {
            let mut cap = pcap::Capture::from_file(p).unwrap();
            let link = LinkType::from_dlt(cap.get_datalink().0).unwrap();
            let mut frames = Vec::new();
            while let Ok(pk) = cap.next_packet() {
                frames.push(Frame {
                    ts: Ts::from_parts(pk.header.ts.tv_sec, pk.header.ts.tv_usec * 1000),
                    data: pk.data.to_vec(),
                    wire_len: pk.header.len,
                });
            }
            Capture { link, frames }
        })
        .collect()
}

/// Feed frames to a fresh analyzer, finish it, and build and serialize every record.
fn run(link: LinkType, frames: &[(Ts, &[u8], u32)], cfg: &Config) -> usize {
    let mut a = Analyzer::new(cfg.clone(), 1);
    for (i, (ts, data, len)) in frames.iter().enumerate() {
        a.on_frame(i as u64 + 1, *ts, link, data, *len);
    }
    let (finished, _) = a.finish();
    for f in &finished {
        let r = rdpscope::emit::record(f, cfg);
        serde_json::to_string(&r).unwrap();
    }
    finished.len()
}

/// The default configuration, plus the proxy ports of the fixtures (SOCKS 1080 and 42356,
/// HTTP 8888) so that the proxy exchanges are decoded, and mutated, too.
fn base_config() -> Config {
    Config {
        server_ports: vec![3389, 1080, 8888, 42356],
        ..Config::default()
    }
}

/// Small bounds so the tests also exercise eviction and buffer limits.
fn tight_config() -> Config {
    Config {
        max_flows: 3,
        max_udp_flows: 2,
        max_stream_buffer: 2048,
        max_out_of_order: 1024,
        max_handshake_message: 1024,
        max_app_records: 4,
        max_events: 16,
        ..base_config()
    }
}

fn link_of(i: u8) -> LinkType {
    [
        LinkType::Ethernet,
        LinkType::Null,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
    ][usize::from(i % 5)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_frames_never_panic(
        link in 0u8..5,
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..40),
    ) {
        let fs: Vec<(Ts, &[u8], u32)> = frames.iter().enumerate()
            .map(|(i, f)| (Ts(i as i64 * 1000), f.as_slice(), f.len() as u32)).collect();
        run(link_of(link), &fs, &base_config());
    }

    #[test]
    fn mutated_fixture_frames_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>()), 1..40),
        tight in any::<bool>(),
    ) {
        let caps = fixtures();
        let cap = which.get(caps);
        let mut frames: Vec<Vec<u8>> = cap.frames.iter().map(|f| f.data.clone()).collect();
        for (fi, bi, v) in &mutations {
            let f = fi.get_mut(&mut frames);
            if !f.is_empty() {
                let n = f.len();
                f[bi.index(n)] = *v;
            }
        }
        let fs: Vec<(Ts, &[u8], u32)> = cap.frames.iter().zip(&frames).map(|(f, d)| (f.ts, d.as_slice(), f.wire_len)).collect();
        run(cap.link, &fs, &if tight { tight_config() } else { base_config() });
    }

    #[test]
    fn dropped_duplicated_and_reordered_frames_never_panic(
        which in any::<prop::sample::Index>(),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 0..120),
        cut in any::<prop::sample::Index>(),
    ) {
        let caps = fixtures();
        let cap = which.get(caps);
        if cap.frames.is_empty() {
            return Ok(());
        }
        let fs: Vec<(Ts, &[u8], u32)> = order.iter().map(|i| {
            let f = i.get(&cap.frames);
            // Sometimes cut the frame short as a small snaplen would.
            let keep = if i.index(3) == 0 { cut.index(f.data.len() + 1) } else { f.data.len() };
            (f.ts, &f.data[..keep], f.wire_len)
        }).collect();
        run(cap.link, &fs, &tight_config());
    }
}

fn fixtures() -> &'static [Capture] {
    static CAPS: std::sync::OnceLock<Vec<Capture>> = std::sync::OnceLock::new();
    CAPS.get_or_init(load_fixtures)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Truncated and corrupted files go through libpcap: either an error or a report.
    #[test]
    fn truncated_and_corrupted_files_never_panic(
        which in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let files: Vec<_> = common::captures("real");
        let path = which.get(&files);
        let mut bytes = std::fs::read(path).unwrap();
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep);
        for (i, v) in &flips {
            if !bytes.is_empty() {
                let n = bytes.len();
                bytes[i.index(n)] = *v;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(path.file_name().unwrap());
        std::fs::write(&p, &bytes).unwrap();
        let cfg = base_config();
        if let Ok(res) = pipeline::analyze_file(&p, &Filter::Ports(cfg.server_ports.clone()), &cfg, 1, &mut |_| {}) {
            for r in &res.records {
                serde_json::to_string(r).unwrap();
            }
        }
    }
}
