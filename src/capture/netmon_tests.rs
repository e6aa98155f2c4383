//! Hand-built Network Monitor bytes: header, records of both versions, trailers, media.

use super::*;

fn header(major: u8, minor: u8, network: u16, table_off: u32, table_len: u32) -> Vec<u8> {
    let mut h = b"GMBU".to_vec();
    if major == 1 {
        h = b"RTSS".to_vec();
    }
    h.extend([minor, major]);
    h.extend(network.to_le_bytes());
    // 2026-12-05 (Saturday) 06:13:41.169
    for v in [2026u16, 12, 6, 5, 6, 13, 41, 169] {
        h.extend(v.to_le_bytes());
    }
    h.extend(table_off.to_le_bytes());
    h.extend(table_len.to_le_bytes());
    h.resize(HEADER_LEN, 0);
    h
}

#[test]
fn detects_both_magics_and_nothing_else() {
    assert!(detect(b"GMBU\x00\x02"));
    assert!(detect(b"RTSS"));
    assert!(!detect(b"\xd4\xc3\xb2\xa1"));
    assert!(!detect(b"GMB"));
}

#[test]
fn header_fields_and_start_time() {
    let h = parse_header(&header(2, 1, 1, 1000, 40)).unwrap();
    assert_eq!(
        (h.major, h.minor, h.network, h.frame_table_offset, h.frames),
        (2, 1, 1, 1000, 10)
    );
    assert_eq!(h.start.rfc3339(), "2026-12-05T06:13:41.169000Z");
    assert_eq!((h.record_header_len(), h.trailer_len()), (16, 2));
    let h1 = parse_header(&header(1, 1, 1, 0, 4)).unwrap();
    assert_eq!((h1.record_header_len(), h1.trailer_len()), (8, 0));
    assert_eq!(parse_header(&header(2, 3, 1, 0, 4)).unwrap().trailer_len(), 15);
}

#[test]
fn bad_headers_are_errors() {
    assert_eq!(parse_header(&header(3, 0, 1, 0, 4)), Err(NetmonError::Version(3, 0)));
    assert_eq!(parse_header(&header(2, 0, 1, 0, 6)), Err(NetmonError::FrameTable(6)));
    assert_eq!(parse_header(b"GMBU\x00"), Err(NetmonError::Short("header")));
    // A nonsense date still gives a time, not a panic.
    let mut b = header(2, 0, 1, 0, 4);
    b[10..12].copy_from_slice(&0u16.to_le_bytes());
    b[8..10].copy_from_slice(&0xFFFFu16.to_le_bytes());
    assert!(parse_header(&b).is_ok());
}

#[test]
fn record_headers_and_times() {
    let h = parse_header(&header(2, 0, 1, 0, 4)).unwrap();
    let mut r = 1_500_000u64.to_le_bytes().to_vec();
    r.extend(74u32.to_le_bytes());
    r.extend(60u32.to_le_bytes());
    let rh = parse_record_header(&h, &r).unwrap();
    assert_eq!((rh.delta_ns, rh.orig_len, rh.incl_len), (1_500_000_000, 74, 60));
    assert_eq!(
        frame_time(&h, &rh, None).unwrap().rfc3339(),
        "2026-12-05T06:13:42.669000Z"
    );
    let mut big = r.clone();
    big[12..16].copy_from_slice(&(MAX_RECORD + 1).to_le_bytes());
    assert_eq!(
        parse_record_header(&h, &big),
        Err(NetmonError::TooLarge(MAX_RECORD + 1))
    );
    assert!(parse_record_header(&h, &r[..15]).is_err());
    // A delta "before the start" (Wireshark's signed reading of the 64-bit value).
    let mut neg = u64::MAX.to_le_bytes().to_vec();
    neg.extend([0; 8]);
    let rh = parse_record_header(&h, &neg).unwrap();
    assert_eq!(rh.delta_ns, -1000);
    // 1.x: milliseconds, 16-bit lengths.
    let h1 = parse_header(&header(1, 1, 1, 0, 4)).unwrap();
    let rh1 = parse_record_header(&h1, &[0x10, 0x27, 0, 0, 74, 0, 60, 0]).unwrap();
    assert_eq!((rh1.delta_ns, rh1.orig_len, rh1.incl_len), (10_000_000_000, 74, 60));
}

#[test]
fn trailer_utc_time_wins_in_2_3() {
    let h = parse_header(&header(2, 3, 1, 0, 4)).unwrap();
    // 2026-12-05T06:13:41.1234567Z as FILETIME.
    let unix_100ns: u64 = 1_796_364_821 * 10_000_000 + 1_234_567;
    let ft = unix_100ns + 116_444_736_000_000_000;
    let mut t = 6u16.to_le_bytes().to_vec();
    t.extend(7u32.to_le_bytes());
    t.extend(ft.to_le_bytes());
    t.push(0);
    let tr = parse_trailer(&h, &t).unwrap();
    assert_eq!(
        tr,
        Trailer {
            network: 6,
            utc: Some(ft)
        }
    );
    let rh = RecordHeader {
        delta_ns: 0,
        orig_len: 0,
        incl_len: 0,
    };
    assert_eq!(frame_time(&h, &rh, Some(&tr)).unwrap().0 % 1_000_000_000, 123_456_700);
    assert!(parse_trailer(&h, &t[..10]).is_err());
    let huge = Trailer {
        network: 1,
        utc: Some(u64::MAX),
    };
    assert_eq!(frame_time(&h, &rh, Some(&huge)), Err(NetmonError::Time));
}

#[test]
fn media_types() {
    let eth = Media::Packet {
        link: LinkType::Ethernet,
        skip: MetaSkip::None,
    };
    assert_eq!(media(1), eth);
    assert_eq!(media(0), eth);
    assert_eq!(media(0xE001), eth);
    assert_eq!(
        media(9),
        Media::Packet {
            link: LinkType::RawIp,
            skip: MetaSkip::None
        }
    );
    assert_eq!(
        media(0xE065),
        Media::Packet {
            link: LinkType::RawIp,
            skip: MetaSkip::None
        }
    );
    assert_eq!(
        media(6),
        Media::Packet {
            link: LinkType::Ieee80211,
            skip: MetaSkip::Netmon80211
        }
    );
    assert_eq!(media(0xFFFF), Media::SpecialNumbered(0xFFFF));
    assert_eq!(media(0xFFFD), Media::SpecialUnnumbered(0xFFFD));
    assert_eq!(media(2), Media::Unsupported(2));
    assert_eq!(media(0xE083), Media::Unsupported(0xE083));
    assert_eq!(media(0xE0FF), Media::Unsupported(0xE0FF));
}

#[test]
fn wifi_metadata_is_skipped_by_its_own_length() {
    let mut d = vec![2u8, 32, 0];
    d.resize(32, 0);
    d.extend(b"frame");
    assert_eq!(packet_bytes(MetaSkip::Netmon80211, &d), Some(&b"frame"[..]));
    assert_eq!(packet_bytes(MetaSkip::Netmon80211, &[2, 200, 0, 1]), None);
    assert_eq!(packet_bytes(MetaSkip::Netmon80211, &[2]), None);
    assert_eq!(
        table_entries(&[1, 0, 0, 0, 2, 0, 0, 0, 9]).collect::<Vec<_>>(),
        vec![1, 2]
    );
}
