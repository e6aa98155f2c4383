//! The Windows capture readers on arbitrary bytes (issue 17): the input as a whole Network
//! Monitor `.cap` file (seeds: fixtures/windows/*.cap), read with a filter that lets every
//! frame through, each frame decoded as the analyzer would and passed through the pktmon copy
//! detector; the same bytes as a pcapng file walked for packet metadata (interface, packet id,
//! verdict) in both byte orders; and as a `--server-key` file. Checks: no panic, frame numbers
//! strictly increasing, no frame larger than a record may be.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use rdpscope::capture::copies::Copies;
use rdpscope::capture::pcapng_meta;
use rdpscope::capture::pcapng_walk::Walker;
use rdpscope::capture::{netmon, netmon_read, Filter};
use rdpscope::decrypt::ServerKeys;

fuzz_target!(|data: &[u8]| {
    let filter = Filter::Bpf(String::new());
    let mut last = 0u64;
    let mut copies = Copies::new();
    let _ = netmon_read::read_from(
        Cursor::new(data),
        Cursor::new(data),
        "fuzz.cap",
        &filter,
        &mut |f| {
            assert!(f.number > last);
            last = f.number;
            assert!(f.data.len() <= netmon::MAX_RECORD as usize);
            let _ = rdpscope::decode::decode(f.link, f.data, f.wire_len);
            copies.is_copy(f.number, f.ts, None, f.data);
        },
        &mut |_| {},
    );

    let mut walker = Walker::new(Cursor::new(data));
    let mut n = 0u64;
    while let Some(meta) = walker.next_packet() {
        n += 1;
        copies.is_copy(n, rdpscope::ts::Ts(n as i64 * 1000), Some(&meta), data);
    }
    for be in [false, true] {
        let _ = pcapng_meta::parse_block(data, be);
    }

    let _ = ServerKeys::default().add(data);
});
