//! The Network Monitor reader on arbitrary bytes: the input is a whole `.cap` file (seeds:
//! fixtures/windows and the hand-built files of tests/windows_netmon.rs), read with a filter
//! that lets every frame through; each frame handed out is decoded as the analyzer would.
//! Checks: no panic, frame numbers strictly increasing, no frame larger than a record may be.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use rdpscope::capture::{netmon, netmon_read, Filter};

fuzz_target!(|data: &[u8]| {
    let filter = Filter::Bpf(String::new());
    let mut last = 0u64;
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
        },
        &mut |_| {},
    );
});
