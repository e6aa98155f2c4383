//! The server key path on a test key (testdata/README.md): every key encoding, the premaster
//! checks of RFC 5246 §7.4.7.1, both master secret derivations against Python's computation.

use super::*;
use crate::decrypt::unhex;

const PKCS1_PEM: &[u8] = include_bytes!("testdata/rsa-test-key.pkcs1.pem");
const PKCS8_PEM: &[u8] = include_bytes!("testdata/rsa-test-key.pkcs8.pem");
const PKCS1_DER: &[u8] = include_bytes!("testdata/rsa-test-key.pkcs1.der");
const PKCS8_DER: &[u8] = include_bytes!("testdata/rsa-test-key.pkcs8.der");

fn keys() -> ServerKeys {
    let mut k = ServerKeys::default();
    k.add(PKCS8_PEM).unwrap();
    k
}

fn exchange<'a>(epms: &'a [u8], cipher: u16, ems: bool, transcript: Option<&'a [u8]>) -> RsaExchange<'a> {
    RsaExchange {
        version: 0x0303,
        cipher,
        client_version: 0x0303,
        client_random: &[0x11; 32],
        server_random: &[0x22; 32],
        encrypted_premaster: epms,
        extended_master_secret: ems,
        transcript,
    }
}

fn master(s: &Secrets) -> Vec<u8> {
    s.master.as_ref().unwrap().as_slice().to_vec()
}

#[test]
fn every_encoding_reads_and_nothing_else_does() {
    for bytes in [PKCS1_PEM, PKCS8_PEM, PKCS1_DER, PKCS8_DER] {
        let mut k = ServerKeys::default();
        k.add(bytes).unwrap();
        assert_eq!(k.len(), 1);
    }
    let mut k = ServerKeys::default();
    assert_eq!(k.add(b"-----BEGIN CERTIFICATE-----\nMIIB\n"), Err(KeyError::NotRsaKey));
    assert_eq!(k.add(&[0x30; 10]), Err(KeyError::NotRsaKey));
    assert_eq!(k.add(&vec![b'a'; MAX_KEY_FILE + 1]), Err(KeyError::TooLarge));
    // Never the key in Debug.
    assert_eq!(format!("{:?}", keys()), "ServerKeys(1 keys)");
}

#[test]
fn master_secret_from_the_premaster() {
    let epms = unhex(include_str!("testdata/rsa-test-premaster.hex"));
    let s = keys().secrets(&exchange(&epms, 0x009C, false, None)).unwrap();
    assert_eq!(
        master(&s),
        unhex("674f57692819f5b43c0363f3ae9bd93986acf50e580500c440778a68d1ec6024dc0b2b7db9615acae681ad71cc30ab1c")
    );
}

#[test]
fn extended_master_secret_hashes_the_transcript() {
    let epms = unhex(include_str!("testdata/rsa-test-premaster.hex"));
    let t: &[u8] = b"handshake messages";
    let s = keys().secrets(&exchange(&epms, 0x009C, true, Some(t))).unwrap();
    assert_eq!(
        master(&s),
        unhex("145dc9af47c08ed47170c8b5bc09e05718506a1607d3d2e7de1c4f9f44cdb398ff184e09e1e97eb6bd0752e022d331e8")
    );
    // TLS_RSA_WITH_AES_256_GCM_SHA384: SHA-384 for the session hash and the PRF.
    let s = keys().secrets(&exchange(&epms, 0x009D, true, Some(t))).unwrap();
    assert_eq!(
        master(&s),
        unhex("02d8b44a4d4f7ccd660e4baea08f3264fb83542ff87f9689d2ddaaa029e0c7890983bac07469241e78a3f28f61c2579d")
    );
    assert_eq!(
        keys().secrets(&exchange(&epms, 0x009C, true, None)).err(),
        Some(Refusal::NoTranscript)
    );
}

#[test]
fn what_the_server_would_replace_by_a_random_premaster_opens_nothing() {
    let epms = unhex(include_str!("testdata/rsa-test-premaster.hex"));
    // The ClientHello offered another version than the premaster carries.
    let mut x = exchange(&epms, 0x009C, false, None);
    x.client_version = 0x0302;
    assert_eq!(keys().secrets(&x).err(), Some(Refusal::NoKeyOpens));
    // A premaster starting 03 01 for a ClientHello of 03 03.
    let tls10 = unhex(include_str!("testdata/rsa-test-premaster-tls10.hex"));
    assert_eq!(
        keys().secrets(&exchange(&tls10, 0x009C, false, None)).err(),
        Some(Refusal::NoKeyOpens)
    );
    // Bad padding (a flipped byte), a wrong length, no key at all.
    let mut flipped = epms.clone();
    flipped[100] ^= 1;
    assert_eq!(
        keys().secrets(&exchange(&flipped, 0x009C, false, None)).err(),
        Some(Refusal::NoKeyOpens)
    );
    assert_eq!(
        keys().secrets(&exchange(&epms[1..], 0x009C, false, None)).err(),
        Some(Refusal::NoKeyOpens)
    );
    assert_eq!(
        ServerKeys::default()
            .secrets(&exchange(&epms, 0x009C, false, None))
            .err(),
        Some(Refusal::NoKeyOpens)
    );
}

#[test]
fn ecdhe_and_tls13_are_forward_secret() {
    let epms = unhex(include_str!("testdata/rsa-test-premaster.hex"));
    for cipher in [0xC030, 0xC02F, 0xCCA8, 0x1301] {
        assert_eq!(
            keys().secrets(&exchange(&epms, cipher, false, None)).err(),
            Some(Refusal::ForwardSecrecy)
        );
    }
    assert!(is_rsa_key_exchange(0x009D) && !is_rsa_key_exchange(0xC030));
}
