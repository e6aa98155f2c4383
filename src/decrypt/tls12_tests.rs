//! TLS 1.0–1.2 records sealed here with the RustCrypto primitives directly, following the RFC
//! text independently of `tls12.rs`, then opened through the public `Direction`.
use aes_gcm::aead::{Aead, KeyInit, Payload};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use proptest::prelude::*;

use super::super::cipher::{hmac, suite, MacAlg};
use super::super::direction::{Direction, HandshakeParams, Stop};
use super::super::kdf;
use super::super::keylog::KeyLog;
use crate::flow::Side;

const CR: [u8; 32] = [0x11; 32];
const SR: [u8; 32] = [0x22; 32];
const MASTER: [u8; 48] = [0x5a; 48];

fn keylog(master: &[u8; 48]) -> KeyLog {
    let hex: String = master.iter().map(|b| format!("{b:02x}")).collect();
    let mut kl = KeyLog::new();
    kl.add_text(format!("CLIENT_RANDOM {} {hex}\n", "11".repeat(32)).as_bytes());
    kl
}

fn params(version: u16, cipher: u16, etm: bool) -> HandshakeParams {
    HandshakeParams {
        version,
        cipher,
        client_random: CR,
        server_random: SR,
        encrypt_then_mac: etm,
    }
}

/// The server's write keys from the key block (RFC 5246 §6.3), and the IV for TLS 1.0.
struct Keys {
    mac: Vec<u8>,
    key: Vec<u8>,
    iv: Vec<u8>,
}

fn server_keys(version: u16, cipher: u16) -> Keys {
    let s = suite(cipher).unwrap();
    let (mac, key) = (s.mac.map_or(0, MacAlg::len), s.bulk.key_len());
    let iv = if s.mac.is_some() {
        16
    } else if cipher >= 0xCCA8 {
        12
    } else {
        4
    };
    let prf = if version == 0x0303 { Some(s.hash) } else { None };
    let kb = kdf::key_block(prf, &MASTER, &CR, &SR, 2 * (mac + key + iv));
    let o = 2 * mac + 2 * key + iv;
    Keys {
        mac: kb[mac..2 * mac].to_vec(),
        key: kb[2 * mac + key..2 * mac + 2 * key].to_vec(),
        iv: kb[o..o + iv].to_vec(),
    }
}

fn aad(seq: u64, ct: u8, version: u16, len: usize) -> Vec<u8> {
    let mut a = seq.to_be_bytes().to_vec();
    a.push(ct);
    a.extend(version.to_be_bytes());
    a.extend((len as u16).to_be_bytes());
    a
}

/// RFC 5288 §3 (GCM) and RFC 7905 §2 (ChaCha20-Poly1305) records.
fn seal_aead(cipher: u16, k: &Keys, seq: u64, ct: u8, pt: &[u8]) -> Vec<u8> {
    let a = aad(seq, ct, 0x0303, pt.len());
    let payload = Payload { msg: pt, aad: &a };
    if cipher >= 0xCCA8 {
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&k.iv);
        for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
            *n ^= s;
        }
        chacha20poly1305::ChaCha20Poly1305::new_from_slice(&k.key)
            .unwrap()
            .encrypt(&nonce.into(), payload)
            .unwrap()
    } else {
        let explicit = (seq ^ 0xdead_beef).to_be_bytes();
        let nonce: Vec<u8> = k.iv.iter().chain(&explicit).copied().collect();
        let nonce = aes_gcm::Nonce::from_slice(&nonce);
        let ct = if k.key.len() == 16 {
            aes_gcm::Aes128Gcm::new_from_slice(&k.key)
                .unwrap()
                .encrypt(nonce, payload)
                .unwrap()
        } else {
            aes_gcm::Aes256Gcm::new_from_slice(&k.key)
                .unwrap()
                .encrypt(nonce, payload)
                .unwrap()
        };
        [explicit.to_vec(), ct].concat()
    }
}

fn cbc_encrypt(key: &[u8], iv: &[u8], data: &mut [u8]) {
    let n = data.len();
    if key.len() == 16 {
        cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(data, n)
            .unwrap();
    } else {
        cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(data, n)
            .unwrap();
    }
}

/// RFC 5246 §6.2.3.2 (MAC, then pad, then encrypt) or RFC 7366 §3 (pad, encrypt, then MAC).
/// `iv` is the explicit IV (TLS ≥ 1.1) or the chained one (TLS 1.0, not sent).
#[allow(clippy::too_many_arguments)]
fn seal_cbc(
    mac: MacAlg,
    k: &Keys,
    version: u16,
    etm: bool,
    seq: u64,
    ct: u8,
    pt: &[u8],
    iv: &[u8],
    pad: u8,
) -> Vec<u8> {
    let explicit: &[u8] = if version == 0x0301 { &[] } else { iv };
    let mut body = pt.to_vec();
    if !etm {
        body.extend(hmac(mac, &k.mac, &[&aad(seq, ct, version, pt.len()), pt]).unwrap());
    }
    // padding_length p, then p+1 bytes of value p (the length byte included), to a block multiple;
    // `pad` adds whole blocks (RFC 5246 allows up to 255 bytes of padding).
    let p = (16 - (body.len() + 1) % 16) % 16 + 16 * (pad as usize % 4);
    body.extend(std::iter::repeat_n(p as u8, p + 1));
    cbc_encrypt(&k.key, iv, &mut body);
    let mut frag = [explicit, &body].concat();
    if etm {
        let tag = hmac(mac, &k.mac, &[&aad(seq, ct, version, frag.len()), &frag]).unwrap();
        frag.extend(tag);
    }
    frag
}

#[test]
fn aead_suites_open_records_sealed_per_rfc() {
    for cipher in [0xC02F, 0xC030, 0xC02B, 0xC02C, 0x009C, 0x009D, 0xCCA8, 0xCCA9] {
        let k = server_keys(0x0303, cipher);
        let mut d = Direction::new(&params(0x0303, cipher, false), keylog(&MASTER).get(&CR), Side::Server);
        for seq in 0..3u64 {
            let pt = vec![seq as u8; 10 + seq as usize * 100];
            let ct = if seq == 0 { 22 } else { 23 };
            let p = d
                .open(ct, 0x0303, &seal_aead(cipher, &k, seq, ct, &pt))
                .unwrap_or_else(|e| panic!("{cipher:04x}: {e}"));
            assert_eq!((p.content_type, p.data), (ct, pt));
        }
        // A record sealed with the client's keys does not open as the server's.
        let mut c = Direction::new(&params(0x0303, cipher, false), keylog(&MASTER).get(&CR), Side::Client);
        assert_eq!(
            c.open(23, 0x0303, &seal_aead(cipher, &k, 0, 23, b"x")),
            Err(Stop::BadRecordMac { record: 1 })
        );
    }
}

#[test]
fn cbc_suites_in_every_version_and_mac_order() {
    for (version, cipher) in [
        (0x0301, 0x002F),
        (0x0301, 0xC014),
        (0x0302, 0x0035),
        (0x0302, 0xC013),
        (0x0303, 0x002F),
        (0x0303, 0x003C),
        (0x0303, 0x003D),
        (0x0303, 0xC027),
        (0x0303, 0xC028),
    ] {
        for etm in [false, true] {
            let s = suite(cipher).unwrap();
            let k = server_keys(version, cipher);
            let mut d = Direction::new(&params(version, cipher, etm), keylog(&MASTER).get(&CR), Side::Server);
            // TLS 1.0 (RFC 2246 §6.2.3.2): the first IV is the key block's, then the last ciphertext block.
            let mut chained = k.iv.clone();
            for seq in 0..4u64 {
                let pt = vec![0x40 + seq as u8; seq as usize * 37];
                let iv = if version == 0x0301 {
                    chained.clone()
                } else {
                    vec![seq as u8 + 1; 16]
                };
                let frag = seal_cbc(s.mac.unwrap(), &k, version, etm, seq, 23, &pt, &iv, (seq * 5) as u8);
                let ct_end = frag.len() - if etm { s.mac.unwrap().len() } else { 0 };
                chained = frag[ct_end - 16..ct_end].to_vec();
                let p = d
                    .open(23, version, &frag)
                    .unwrap_or_else(|e| panic!("{version:04x} {cipher:04x} etm={etm}: {e}"));
                assert_eq!(p.data, pt, "{version:04x} {cipher:04x} etm={etm} seq {seq}");
            }
        }
    }
}

#[test]
fn cbc_bad_mac_bad_padding_and_short_records_stop() {
    let (version, cipher) = (0x0303, 0xC013);
    let k = server_keys(version, cipher);
    let new = || Direction::new(&params(version, cipher, false), keylog(&MASTER).get(&CR), Side::Server);
    let good = seal_cbc(MacAlg::Sha1, &k, version, false, 0, 23, b"hello", &[7; 16], 0);
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 20] ^= 1; // inside the last block: padding or MAC damaged
    assert_eq!(new().open(23, version, &flipped), Err(Stop::BadRecordMac { record: 1 }));
    assert_eq!(
        new().open(22, version, &good),
        Err(Stop::BadRecordMac { record: 1 }),
        "type is MACed"
    );
    assert_eq!(
        new().open(23, version, &good[..16]),
        Err(Stop::TooShort { record: 1, len: 16 })
    );
    assert_eq!(
        new().open(23, version, &good[..good.len() - 3]),
        Err(Stop::TooShort {
            record: 1,
            len: good.len() - 3
        })
    );
    let mut d = new();
    assert!(d.open(23, version, &good).is_ok());
    assert_eq!(
        d.open(23, version, &good),
        Err(Stop::BadRecordMac { record: 2 }),
        "replayed: sequence number differs"
    );
    assert!(d.stopped().is_some());
}

#[test]
fn wrong_version_or_suite_or_key_is_reported() {
    let kl = keylog(&MASTER);
    let stop = |v, c| {
        Direction::new(&params(v, c, false), kl.get(&CR), Side::Client)
            .stopped()
            .cloned()
    };
    assert_eq!(
        stop(0x0301, 0xC030),
        Some(Stop::UnsupportedVersion {
            version: 0x0301,
            cipher: 0xC030
        })
    );
    assert_eq!(
        stop(0x0300, 0x002F),
        Some(Stop::UnsupportedVersion {
            version: 0x0300,
            cipher: 0x002F
        })
    );
    assert_eq!(
        stop(0x0303, 0x1301),
        Some(Stop::UnsupportedVersion {
            version: 0x0303,
            cipher: 0x1301
        })
    );
    assert_eq!(stop(0x0303, 0x0005), Some(Stop::UnsupportedCipherSuite(0x0005)));
    assert_eq!(
        Direction::new(&params(0x0303, 0xC030, false), None, Side::Client).stopped(),
        Some(&Stop::MissingKey)
    );
    assert_eq!(stop(0x0303, 0xC030), None);
}

proptest! {
    #[test]
    fn open_never_panics(
        cipher in prop::sample::select(vec![0xC02Fu16, 0xC030, 0xCCA8, 0x002F, 0xC028, 0x003C]),
        version in prop::sample::select(vec![0x0301u16, 0x0302, 0x0303]),
        etm in any::<bool>(),
        records in proptest::collection::vec((any::<u8>(), any::<u16>(), proptest::collection::vec(any::<u8>(), 0..200)), 1..5),
    ) {
        let kl = keylog(&MASTER);
        let mut d = Direction::new(&params(version, cipher, etm), kl.get(&CR), Side::Client);
        for (ct, v, frag) in &records {
            let _ = d.open(*ct, *v, frag);
        }
        // Block-aligned garbage exercises the CBC padding and MAC checks.
        let mut d = Direction::new(&params(version, cipher, etm), kl.get(&CR), Side::Client);
        let mut f = records[0].2.clone();
        f.resize(f.len().div_ceil(16).max(3) * 16, 0);
        let _ = d.open(23, version, &f);
    }
}
