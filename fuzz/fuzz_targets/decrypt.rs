//! TLS decryption on arbitrary bytes: the input as a key log (fed whole, and in chunks cut at
//! every 0xff byte, then finished), as a pcapng file scanned for Decryption Secrets Blocks, and as
//! a sequence of records (a content-type byte, a length byte, that many bytes) opened by both
//! directions of a session for every supported suite and version, with a fixed key log that has
//! keys for the connection (so the key schedules run and records reach authentication).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::decrypt::{dsb, HandshakeParams, KeyLog, Session};
use rdpscope::flow::Side;

const CR: [u8; 32] = [0x11; 32];

fn fixed_keylog() -> KeyLog {
    let cr = "11".repeat(32);
    let mut kl = KeyLog::new();
    for (label, secret) in [
        ("CLIENT_RANDOM", "5a".repeat(48)),
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "01".repeat(32)),
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "02".repeat(48)),
        ("CLIENT_TRAFFIC_SECRET_0", "03".repeat(32)),
        ("SERVER_TRAFFIC_SECRET_0", "04".repeat(32)),
    ] {
        kl.add_text(format!("{label} {cr} {secret}\n").as_bytes());
    }
    kl
}

const SUITES: [(u16, u16); 12] = [
    (0x0303, 0xC030),
    (0x0303, 0xC02F),
    (0x0303, 0xCCA8),
    (0x0303, 0x009D),
    (0x0301, 0x002F),
    (0x0302, 0xC014),
    (0x0303, 0xC028),
    (0x0303, 0x003C),
    (0x0304, 0x1301),
    (0x0304, 0x1302),
    (0x0304, 0x1303),
    (0x0303, 0x0005),
];

fuzz_target!(|data: &[u8]| {
    let mut kl = KeyLog::new();
    let st = kl.add_text(data);
    let fin = kl.finish();
    assert!(st.used + st.ignored + st.bad + st.dropped <= st.lines + fin.lines);
    let mut chunked = KeyLog::new();
    for chunk in data.split(|&b| b == 0xff) {
        chunked.add_text(chunk);
    }
    chunked.finish();
    let _ = format!("{kl:?}");

    if let Ok(secrets) = dsb::scan_tls_keylogs(data) {
        for s in secrets {
            assert!(s.len() <= dsb::MAX_SECRETS_BYTES);
        }
    }

    let Some((&sel, rest)) = data.split_first() else { return };
    let (version, cipher) = SUITES[usize::from(sel) % SUITES.len()];
    let params = HandshakeParams {
        version,
        cipher,
        client_random: CR,
        server_random: [0x22; 32],
        encrypt_then_mac: sel & 0x80 != 0,
    };
    let keys = fixed_keylog();
    let mut session = Session::new(&params, &keys);
    let mut rest = rest;
    let mut n = 0usize;
    while let [ct, len, tail @ ..] = rest {
        let take = (usize::from(*len) * 4).min(tail.len());
        let (frag, next) = tail.split_at(take);
        let side = if n % 2 == 0 { Side::Client } else { Side::Server };
        if let Ok(p) = session.open(side, *ct, 0x0303, frag) {
            let _ = format!("{p:?}");
        }
        rest = next;
        n += 1;
    }
    let _ = session.failure().map(|s| (s.kind(), s.to_string()));
});
