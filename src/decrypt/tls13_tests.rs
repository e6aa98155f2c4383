use aes_gcm::aead::{Aead, KeyInit, Payload};
use proptest::prelude::*;

use super::super::direction::{Direction, HandshakeParams, Stop};
use super::super::kdf::{expand_label, Hash};
use super::super::keylog::KeyLog;
use super::*;
use crate::decrypt::unhex;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const CR: [u8; 32] = [0x33; 32];

fn params(cipher: u16) -> HandshakeParams {
    HandshakeParams {
        version: 0x0304,
        cipher,
        client_random: CR,
        server_random: [0x44; 32],
        encrypt_then_mac: false,
    }
}

fn keylog(lines: &[(&str, &[u8])]) -> KeyLog {
    let mut kl = KeyLog::new();
    for (label, secret) in lines {
        kl.add_text(format!("{label} {} {}\n", hex(&CR), hex(secret)).as_bytes());
    }
    kl
}

/// RFC 8448 §3 (Simple 1-RTT Handshake): the server's handshake traffic secret, the protected
/// record of its encrypted flight (EncryptedExtensions … Finished, 674 bytes of fragment) and
/// that flight's plaintext, as printed in the RFC.
const RFC8448_SHTS: &str = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
const RFC8448_RECORD: &str = include_str!("testdata/rfc8448-server-flight-record.hex");
const RFC8448_PLAINTEXT: &str = include_str!("testdata/rfc8448-server-flight-plaintext.hex");

#[test]
fn rfc8448_server_flight_decrypts_and_switches_to_application_keys() {
    let record = unhex(RFC8448_RECORD);
    let app = [0x77u8; 32];
    let kl = keylog(&[
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", &unhex(RFC8448_SHTS)),
        ("SERVER_TRAFFIC_SECRET_0", &app),
    ]);
    let mut d = Direction::new(&params(0x1301), kl.get(&CR), Side::Server);
    let p = d
        .open(record[0], u16::from_be_bytes([record[1], record[2]]), &record[5..])
        .unwrap();
    assert_eq!(p.content_type, 22);
    assert_eq!(p.data, unhex(RFC8448_PLAINTEXT));
    // The flight ends with the Finished: the next record is under the application key, sequence 0.
    let next = seal(0x1301, &app, 0, 23, b"application data", 0);
    assert_eq!(d.open(23, 0x0303, &next).unwrap().data, b"application data");
}

/// A TLS 1.3 record (RFC 8446 §5.2) sealed with the crates directly: key and iv per §7.3, inner
/// plaintext = content + type + `pad` zeros, AAD = the record header.
fn seal(cipher: u16, secret: &[u8], seq: u64, inner_type: u8, content: &[u8], pad: usize) -> Vec<u8> {
    let hash = if cipher == 0x1302 { Hash::Sha384 } else { Hash::Sha256 };
    let key = expand_label(hash, secret, b"key", if cipher == 0x1301 { 16 } else { 32 }).unwrap();
    let mut nonce = expand_label(hash, secret, b"iv", 12).unwrap();
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    let mut inner = content.to_vec();
    inner.push(inner_type);
    inner.extend(vec![0; pad]);
    let len = (inner.len() + 16) as u16;
    let aad = [23, 3, 3, (len >> 8) as u8, len as u8];
    let payload = Payload { msg: &inner, aad: &aad };
    let nonce = aes_gcm::Nonce::from_slice(&nonce);
    match cipher {
        0x1301 => aes_gcm::Aes128Gcm::new_from_slice(&key)
            .unwrap()
            .encrypt(nonce, payload)
            .unwrap(),
        0x1302 => aes_gcm::Aes256Gcm::new_from_slice(&key)
            .unwrap()
            .encrypt(nonce, payload)
            .unwrap(),
        _ => chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key)
            .unwrap()
            .encrypt(nonce, payload)
            .unwrap(),
    }
}

fn finished(len: usize) -> Vec<u8> {
    let mut m = vec![20, 0, 0, len as u8];
    m.extend(vec![0xf1; len]);
    m
}

#[test]
fn every_suite_follows_finished_and_key_updates() {
    for cipher in [0x1301u16, 0x1302, 0x1303] {
        let n = if cipher == 0x1302 { 48 } else { 32 };
        let (hs, app) = (vec![1u8; n], vec![2u8; n]);
        let kl = keylog(&[
            ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &hs),
            ("CLIENT_TRAFFIC_SECRET_0", &app),
        ]);
        let mut d = Direction::new(&params(cipher), kl.get(&CR), Side::Client);
        // A Certificate message spanning two records, then the Finished in the second.
        let mut cert = vec![11, 0, 0, 100];
        cert.extend([0xce; 100]);
        let (a, b) = cert.split_at(60);
        assert_eq!(d.open(23, 0x0303, &seal(cipher, &hs, 0, 22, a, 3)).unwrap().data, a);
        let second = [b, &finished(n)].concat();
        assert_eq!(
            d.open(23, 0x0303, &seal(cipher, &hs, 1, 22, &second, 0)).unwrap().data,
            second
        );
        let p = d.open(23, 0x0303, &seal(cipher, &app, 0, 23, b"rdp", 7)).unwrap();
        assert_eq!((p.content_type, p.data.as_slice()), (23, &b"rdp"[..]));
        // RFC 8446 §7.2: KeyUpdate, then records under the next generation.
        let key_update = [24, 0, 0, 1, 0];
        assert!(d.open(23, 0x0303, &seal(cipher, &app, 1, 22, &key_update, 0)).is_ok());
        let hash = if cipher == 0x1302 { Hash::Sha384 } else { Hash::Sha256 };
        let next = expand_label(hash, &app, b"traffic upd", n).unwrap();
        assert_eq!(
            d.open(23, 0x0303, &seal(cipher, &next, 0, 23, b"after", 0))
                .unwrap()
                .data,
            b"after"
        );
        // A record still under the old key after the update: the update was not followed.
        let mut d2 = Direction::new(&params(cipher), kl.get(&CR), Side::Client);
        d2.open(23, 0x0303, &seal(cipher, &hs, 0, 22, &finished(n), 0)).unwrap();
        d2.open(23, 0x0303, &seal(cipher, &app, 0, 22, &key_update, 0)).unwrap();
        let stale = seal(cipher, &app, 1, 23, b"old", 0);
        assert_eq!(
            d2.open(23, 0x0303, &stale),
            Err(Stop::KeyUpdateNotFollowed { record: 3 })
        );
        assert_eq!(
            d2.open(23, 0x0303, &stale),
            Err(Stop::KeyUpdateNotFollowed { record: 3 })
        );
    }
}

#[test]
fn without_handshake_secret_handshake_records_are_skipped() {
    let (hs, app) = ([1u8; 32], [2u8; 32]);
    let kl = keylog(&[("SERVER_TRAFFIC_SECRET_0", &app)]);
    let mut d = Direction::new(&params(0x1301), kl.get(&CR), Side::Server);
    let r1 = d.open(23, 0x0303, &seal(0x1301, &hs, 0, 22, &[8, 0, 0, 2, 0, 0], 0));
    assert_eq!(r1, Err(Stop::HandshakeRecordSkipped { record: 1 }));
    assert!(!r1.unwrap_err().is_final() && d.stopped().is_none());
    d.open(23, 0x0303, &seal(0x1301, &hs, 1, 22, &finished(32), 0))
        .unwrap_err();
    assert_eq!(
        d.open(23, 0x0303, &seal(0x1301, &app, 0, 23, b"x", 0)).unwrap().data,
        b"x"
    );
    assert_eq!(
        d.open(23, 0x0303, &seal(0x1301, &app, 1, 23, b"y", 0)).unwrap().data,
        b"y"
    );
    // Once application records flow, a failure is final again.
    assert_eq!(
        d.open(23, 0x0303, &seal(0x1301, &hs, 2, 23, b"z", 0)),
        Err(Stop::BadRecordMac { record: 5 })
    );

    let mut d = Direction::new(&params(0x1301), kl.get(&CR), Side::Server);
    for i in 0..MAX_SKIPPED_HANDSHAKE_RECORDS {
        assert!(d.open(23, 0x0303, &seal(0x1301, &hs, i, 22, b"hs", 0)).is_err());
    }
    assert_eq!(
        d.open(23, 0x0303, &seal(0x1301, &hs, 0, 22, b"hs", 0)),
        Err(Stop::MissingKey)
    );
    assert_eq!(d.stopped(), Some(&Stop::MissingKey));
}

#[test]
fn malformed_tls13_records_stop() {
    let hs = [1u8; 32];
    let kl = keylog(&[
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &hs),
        ("CLIENT_TRAFFIC_SECRET_0", &[2u8; 32]),
    ]);
    let new = || Direction::new(&params(0x1303), kl.get(&CR), Side::Client);
    let all_padding = seal(0x1303, &hs, 0, 0, b"", 5);
    assert_eq!(
        new().open(23, 0x0303, &all_padding),
        Err(Stop::NoInnerContentType { record: 1 })
    );
    assert_eq!(
        new().open(22, 0x0303, &[0; 40]),
        Err(Stop::UnexpectedContentType {
            record: 1,
            content_type: 22
        })
    );
    assert_eq!(
        new().open(23, 0x0303, &[0; 16]),
        Err(Stop::TooShort { record: 1, len: 16 })
    );
    assert_eq!(
        new().open(23, 0x0303, &vec![0; MAX_CIPHERTEXT + 1]),
        Err(Stop::TooLong {
            record: 1,
            len: MAX_CIPHERTEXT + 1
        })
    );
    // Secrets of the wrong length for the suite's hash are not usable.
    let kl48 = keylog(&[("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &[1u8; 48])]);
    assert_eq!(
        Direction::new(&params(0x1301), kl48.get(&CR), Side::Client).stopped(),
        Some(&Stop::MissingKey)
    );
}

#[test]
fn handshake_scanner_reports_messages_across_records() {
    let mut s = HsScanner::default();
    assert_eq!(s.feed(&[20, 0]), Vec::<u8>::new());
    assert_eq!(s.feed(&[0, 2, 9]), Vec::<u8>::new());
    assert_eq!(s.feed(&[9, 4, 0, 0, 0, 24, 0, 0, 1, 0]), vec![20, 4, 24]);
}

proptest! {
    #[test]
    fn open_never_panics(cipher in prop::sample::select(vec![0x1301u16, 0x1302, 0x1303]),
                         records in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..120)), 1..6)) {
        let kl = keylog(&[("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &[1u8; 48]), ("CLIENT_TRAFFIC_SECRET_0", &[2u8; 32])]);
        let mut d = Direction::new(&params(cipher), kl.get(&CR), Side::Client);
        for (ct, f) in &records {
            let _ = d.open(*ct, 0x0303, f);
        }
    }

    #[test]
    fn scanner_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..6)) {
        let mut s = HsScanner::default();
        for c in &chunks {
            let _ = s.feed(c);
        }
    }
}
