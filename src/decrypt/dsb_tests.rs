use super::*;
use proptest::prelude::*;

fn word(le: bool, v: u32) -> [u8; 4] {
    if le {
        v.to_le_bytes()
    } else {
        v.to_be_bytes()
    }
}

/// A minimal Section Header Block (no options) in the given byte order.
fn shb(le: bool) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&word(le, SHB_TYPE));
    b.extend_from_slice(&word(le, 28));
    b.extend_from_slice(&word(le, BYTE_ORDER_MAGIC));
    b.extend_from_slice(&word(le, 0x0000_0001)); // version 1.0
    b.extend_from_slice(&[0xff; 8]); // section length unknown
    b.extend_from_slice(&word(le, 28));
    b
}

/// Some other block (an Interface Description Block shape) to be skipped.
fn other_block(le: bool, body: &[u8]) -> Vec<u8> {
    let len = 12 + body.len().div_ceil(4) * 4;
    let mut b = Vec::new();
    b.extend_from_slice(&word(le, 1));
    b.extend_from_slice(&word(le, len as u32));
    b.extend_from_slice(body);
    b.resize(len - 4, 0);
    b.extend_from_slice(&word(le, len as u32));
    b
}

#[test]
fn encode_block_layout() {
    let b = encode_block(true, b"abcde").unwrap();
    assert_eq!(b.len(), 28);
    assert_eq!(&b[..4], &[0x0a, 0, 0, 0]);
    assert_eq!(&b[4..8], &28u32.to_le_bytes());
    assert_eq!(&b[8..12], b"KSLT"); // 0x544c534b little-endian
    assert_eq!(&b[12..16], &5u32.to_le_bytes());
    assert_eq!(&b[16..24], b"abcde\0\0\0");
    assert_eq!(&b[24..], &28u32.to_le_bytes());
    let be = encode_block(false, b"abcd").unwrap();
    assert_eq!(&be[8..12], b"TLSK");
    assert_eq!(be.len(), 24);
}

#[test]
fn finds_dsbs_in_every_section_and_byte_order() {
    let mut f = shb(true);
    f.extend(other_block(true, &[1, 2, 3, 4, 5, 6]));
    f.extend(encode_block(true, b"CLIENT_RANDOM a b\n").unwrap());
    f.extend(shb(false));
    f.extend(other_block(false, &[9; 40]));
    f.extend(encode_block(false, b"second").unwrap());
    // A DSB of another secrets type (SSH key log) is skipped.
    let mut ssh = encode_block(false, b"ssh").unwrap();
    ssh[8..12].copy_from_slice(&0x5353_484bu32.to_be_bytes());
    f.extend(ssh);
    let got = scan_tls_keylogs(&f[..]).unwrap();
    assert_eq!(got, vec![b"CLIENT_RANDOM a b\n".to_vec(), b"second".to_vec()]);
}

#[test]
fn non_pcapng_is_empty_and_broken_pcapng_is_an_error() {
    // Classic pcap magic, random text, empty input: not pcapng.
    assert!(scan_tls_keylogs(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0][..])
        .unwrap()
        .is_empty());
    assert!(scan_tls_keylogs(&b"hello world, not a capture"[..]).unwrap().is_empty());
    assert!(scan_tls_keylogs(&[][..]).unwrap().is_empty());

    let mut bad_magic = shb(true);
    bad_magic[8..12].copy_from_slice(&[1, 2, 3, 4]);
    assert!(matches!(
        scan_tls_keylogs(&bad_magic[..]),
        Err(DsbError::BadByteOrderMagic { offset: 0 })
    ));

    let mut f = shb(true);
    let mut dsb = encode_block(true, b"0123456789").unwrap();
    dsb[12..16].copy_from_slice(&1000u32.to_le_bytes()); // secrets length beyond the block
    f.extend(&dsb);
    assert!(matches!(
        scan_tls_keylogs(&f[..]),
        Err(DsbError::BadSecretsLength {
            offset: 28,
            claimed: 1000
        })
    ));

    let mut f = shb(true);
    let mut dsb = encode_block(true, b"0123456789").unwrap();
    let n = dsb.len();
    dsb[n - 4..].copy_from_slice(&8u32.to_le_bytes());
    f.extend(&dsb);
    assert!(matches!(scan_tls_keylogs(&f[..]), Err(DsbError::LengthMismatch { .. })));

    let mut f = shb(true);
    f.extend(encode_block(true, b"0123456789").unwrap());
    f.truncate(f.len() - 3);
    assert!(matches!(
        scan_tls_keylogs(&f[..]),
        Err(DsbError::Truncated { offset: 28 })
    ));

    let mut f = shb(true);
    f.extend(&word(true, 6));
    f.extend(&word(true, 13));
    assert!(matches!(
        scan_tls_keylogs(&f[..]),
        Err(DsbError::BadBlockLength { len: 13, .. })
    ));

    let mut f = shb(true);
    f.extend(&word(true, 6));
    f.extend(&word(true, MAX_BLOCK_LEN + 4));
    assert!(matches!(scan_tls_keylogs(&f[..]), Err(DsbError::BlockTooLarge { .. })));
}

#[test]
fn total_secrets_are_bounded() {
    let mut f = shb(true);
    let chunk = vec![b'x'; MAX_SECRETS_BYTES / 2 + 1];
    f.extend(encode_block(true, &chunk).unwrap());
    f.extend(encode_block(true, &chunk).unwrap());
    assert!(matches!(scan_tls_keylogs(&f[..]), Err(DsbError::SecretsTooLarge)));
    assert!(encode_block(true, &vec![0; MAX_SECRETS_BYTES + 1]).is_err());
}

proptest! {
    #[test]
    fn never_panics(tail in proptest::collection::vec(any::<u8>(), 0..400), le in any::<bool>()) {
        let _ = scan_tls_keylogs(&tail[..]);
        let mut f = shb(le);
        f.extend(&tail);
        let _ = scan_tls_keylogs(&f[..]);
    }

    #[test]
    fn encoded_blocks_scan_back(secrets in proptest::collection::vec(any::<u8>(), 0..200), le in any::<bool>()) {
        let mut f = shb(le);
        f.extend(encode_block(le, &secrets).unwrap());
        prop_assert_eq!(scan_tls_keylogs(&f[..]).unwrap(), vec![secrets]);
    }
}
