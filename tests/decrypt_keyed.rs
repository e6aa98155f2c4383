//! TLS decryption on real Windows captures (mstsc against Windows Server 2022) that carry their
//! key log in a pcapng Decryption Secrets Block: the DSB read with `decrypt::dsb`, every record
//! of the RDP connection decrypted with `decrypt::Session`, CredSSP found inside, and the
//! plaintext compared byte for byte with tshark's own decryption of the same file. Skipped with
//! a notice when `../shared/corpus/keyed` is absent.

mod common;
mod decrypt_support;

use std::path::PathBuf;

use decrypt_support as ds;
use rdpscope::decrypt::dsb::{self, DsbError};
use rdpscope::decrypt::{KeyLog, Plain, Session, Stop};
use rdpscope::flow::Side;

const NTLM_REJECTED: &str = "awakecoding-wireshark-rdp__rdp-nla-ntlm-rejected2.pcapng";
const KERBEROS: &str = "awakecoding-wireshark-rdp__rdp-nla-kerberos-auth1.pcapng";

/// The capture's path and the key log from its DSBs.
fn keyed(name: &str) -> Option<(PathBuf, KeyLog)> {
    let path = ds::keyed_corpus()?.join(name);
    let payloads = dsb::scan_tls_keylogs(std::fs::File::open(&path).unwrap()).unwrap();
    assert!(!payloads.is_empty(), "{name}: no TLS key log DSB");
    let mut kl = KeyLog::new();
    for p in &payloads {
        kl.add_text(p);
        kl.finish();
    }
    assert!(kl.stats().used > 0 && kl.stats().bad == 0, "{name}: {:?}", kl.stats());
    Some((path, kl))
}

/// Decrypts the 3389 connection fully; checks every record authenticates and that tshark
/// decrypts the same bytes. Returns the plaintexts per direction.
fn decrypt_capture(name: &str) -> Option<(Vec<Plain>, Vec<Plain>)> {
    let (path, kl) = keyed(name)?;
    let streams = ds::streams(&path, &[3389]);
    assert_eq!(streams.len(), 1, "{name}: one RDP connection");
    let stream = &streams[0];
    let c = ds::conn(stream).expect("hellos");
    assert_eq!(
        (c.params.version, c.params.cipher),
        (0x0303, 0xC030),
        "{name}: TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384"
    );
    let mut session = Session::new(&c.params, &kl);
    let (client, cstop) = ds::decrypt(&mut session, Side::Client, &c.client);
    let (server, sstop) = ds::decrypt(&mut session, Side::Server, &c.server);
    assert_eq!((cstop, sstop), (None, None), "{name}: every record authenticates");
    assert_eq!((client.len(), server.len()), (c.client.len(), c.server.len()));
    assert!(
        client.len() >= 2 && server.len() >= 2,
        "{name}: Finished and CredSSP each way"
    );
    // The first protected record of each side is its Finished (handshake type 20, 12 bytes).
    for p in [&client[0], &server[0]] {
        assert_eq!((p.content_type, p.data.first(), p.data.len()), (22, Some(&20), 16));
    }
    if ds::tshark_available() {
        let (tc, ts) = ds::tshark_plaintexts(&path, None, stream);
        let data = |v: &[Plain]| v.iter().map(|p| p.data.clone()).collect::<Vec<_>>();
        assert_eq!(
            tc.len(),
            client.len(),
            "{name}: tshark decrypted as many client records"
        );
        assert_eq!(
            ts.len(),
            server.len(),
            "{name}: tshark decrypted as many server records"
        );
        assert!(tc == data(&client), "{name}: client plaintext differs from tshark's");
        assert!(ts == data(&server), "{name}: server plaintext differs from tshark's");
    }
    Some((client, server))
}

fn app_data(v: &[Plain]) -> Vec<&Plain> {
    v.iter().filter(|p| p.content_type == 23).collect()
}

#[test]
fn ntlm_rejected_decrypts_to_credssp_with_the_error_code() {
    let Some((client, server)) = decrypt_capture(NTLM_REJECTED) else {
        return;
    };
    // CredSSP TSRequest (MS-CSSP 2.2.1): a DER SEQUENCE.
    assert_eq!(app_data(&client)[0].data[0], 0x30);
    // The server's last TSRequest carries errorCode [4] INTEGER 0xC000006E STATUS_ACCOUNT_RESTRICTION.
    let last = app_data(&server).last().copied().unwrap();
    assert_eq!(last.data[0], 0x30);
    let needle = [0xa4, 0x06, 0x02, 0x04, 0xc0, 0x00, 0x00, 0x6e];
    assert!(
        last.data.windows(needle.len()).any(|w| w == needle),
        "errorCode 0xC000006E in the last TSRequest"
    );
}

#[test]
fn kerberos_logon_decrypts_to_credssp_and_rdp() {
    let Some((client, server)) = decrypt_capture(KERBEROS) else {
        return;
    };
    assert_eq!(app_data(&client)[0].data[0], 0x30);
    assert_eq!(app_data(&server)[0].data[0], 0x30);
    // After CredSSP the RDP connection sequence runs inside TLS: TPKT (version 3) or fast-path.
    assert!(
        app_data(&client).iter().any(|p| p.data.starts_with(&[3, 0])),
        "a TPKT PDU from the client"
    );
}

/// The connection's master secret with one bit flipped, as a key log.
fn flipped(kl: &KeyLog, client_random: &[u8; 32]) -> KeyLog {
    let lines = kl.get(client_random).unwrap().to_keylog_lines(client_random);
    let line = lines.lines().find(|l| l.starts_with("CLIENT_RANDOM ")).unwrap();
    let mut bytes = line.as_bytes().to_vec();
    let last = bytes.last_mut().unwrap();
    *last = if *last == b'0' { b'1' } else { b'0' };
    ds::keylog_from(&bytes)
}

#[test]
fn wrong_missing_or_damaged_input_stops_with_a_reason() {
    let Some((path, kl)) = keyed(NTLM_REJECTED) else { return };
    let stream = &ds::streams(&path, &[3389])[0];
    let c = ds::conn(stream).unwrap();

    // A wrong master secret: the first record of each side fails to authenticate, and stays failed.
    let mut s = Session::new(&c.params, &flipped(&kl, &c.params.client_random));
    for (side, recs) in [(Side::Client, &c.client), (Side::Server, &c.server)] {
        let (plain, stop) = ds::decrypt(&mut s, side, recs);
        assert!(plain.is_empty());
        assert_eq!(stop, Some(Stop::BadRecordMac { record: 1 }));
        let again = s.open(side, 23, 0x0303, &recs[1].fragment);
        assert_eq!(
            again,
            Err(Stop::BadRecordMac { record: 1 }),
            "a stopped direction stays stopped"
        );
        assert!(s.direction(side).stopped().is_some());
    }
    assert_eq!(s.failure_name(), Some("bad_record_mac"));
    assert!(!format!("{s:?}").is_empty());

    // No key for this connection.
    let mut s = Session::new(&c.params, &KeyLog::new());
    assert_eq!(
        s.open(Side::Client, 22, 0x0303, &c.client[0].fragment),
        Err(Stop::MissingKey)
    );

    // A record cut short: one byte less fails to authenticate, below nonce + tag is too short.
    let mut s = Session::new(&c.params, &kl);
    let f = &c.client[0].fragment;
    assert_eq!(
        s.open(Side::Client, 22, 0x0303, &f[..f.len() - 1]),
        Err(Stop::BadRecordMac { record: 1 })
    );
    let mut s = Session::new(&c.params, &kl);
    assert_eq!(
        s.open(Side::Client, 22, 0x0303, &f[..20]),
        Err(Stop::TooShort { record: 1, len: 20 })
    );
    assert!(Stop::TooShort { record: 1, len: 20 }.to_string().contains("too short"));

    // A missing record (the Finished never seen): the next one fails (its sequence number is off).
    let mut s = Session::new(&c.params, &kl);
    let (_, stop) = ds::decrypt(&mut s, Side::Server, &c.server[1..]);
    assert_eq!(stop, Some(Stop::BadRecordMac { record: 1 }));

    // An unsupported suite.
    let mut p = c.params;
    p.cipher = 0x000A; // TLS_RSA_WITH_3DES_EDE_CBC_SHA
    let mut s = Session::new(&p, &kl);
    assert_eq!(
        s.open(Side::Client, 22, 0x0303, f),
        Err(Stop::UnsupportedCipherSuite(0x000A))
    );
    assert!(!Session::supported(0x000A) && Session::supported(0xC030));
}

#[test]
fn damaged_pcapng_gives_a_defined_dsb_error() {
    let Some(dir) = ds::keyed_corpus() else { return };
    let bytes = std::fs::read(dir.join(NTLM_REJECTED)).unwrap();
    // The DSB: block type 0x0000000A (little-endian here) followed by the TLSK secrets type.
    let at = bytes
        .windows(12)
        .position(|w| w[..4] == [0x0a, 0, 0, 0] && &w[8..12] == b"KSLT")
        .expect("a DSB");
    let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;

    let mut bad = bytes.clone();
    bad[at + len - 4] ^= 0x10; // trailing length
    assert!(matches!(
        dsb::scan_tls_keylogs(&bad[..]),
        Err(DsbError::LengthMismatch { .. })
    ));

    let mut bad = bytes.clone();
    bad[at + 12..at + 16].copy_from_slice(&u32::MAX.to_le_bytes()); // secrets length
    assert!(matches!(
        dsb::scan_tls_keylogs(&bad[..]),
        Err(DsbError::BadSecretsLength { .. })
    ));

    assert!(matches!(
        dsb::scan_tls_keylogs(&bytes[..at + len / 2]),
        Err(DsbError::Truncated { .. })
    ));
    let e = dsb::scan_tls_keylogs(&bytes[..at + len / 2]).unwrap_err().to_string();
    assert!(e.contains("cut short") && !e.contains("CLIENT_RANDOM"), "{e}");
}
