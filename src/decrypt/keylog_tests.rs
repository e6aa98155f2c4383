use super::*;
use proptest::prelude::*;

const CR: &str = "c8c5eec4bbd6a58ab0b1e558b7000000000000000000000000000000000000aa";
const MS: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const S32: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

fn cr() -> [u8; 32] {
    let mut c = [0u8; 32];
    unhex_into(CR.as_bytes(), &mut c).unwrap();
    c
}

#[test]
fn parses_all_used_labels_and_counts_the_rest() {
    let text = format!(
        "# a comment\n\nCLIENT_RANDOM {CR} {MS}\r\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {CR} {S32}\n\
         SERVER_HANDSHAKE_TRAFFIC_SECRET {CR} {MS}\nCLIENT_TRAFFIC_SECRET_0 {CR} {S32}\n\
         SERVER_TRAFFIC_SECRET_0 {CR} {S32}\nEXPORTER_SECRET {CR} {S32}\nRSA 0011223344556677 {MS}\n\
         CLIENT_RANDOM {CR} 0011\nCLIENT_RANDOM zz {MS}\nnonsense\nCLIENT_RANDOM {CR} {MS} extra\n"
    );
    let mut kl = KeyLog::new();
    let st = kl.add_text(text.as_bytes());
    assert_eq!(
        st,
        KeyLogStats {
            lines: 13,
            used: 5,
            ignored: 2,
            bad: 4,
            dropped: 0
        }
    );
    let s = kl.get(&cr()).unwrap();
    assert!(s.has_master_secret() && s.has_tls13_traffic_secrets());
    assert_eq!(s.master.as_ref().unwrap().as_slice().len(), 48);
    assert_eq!(s.server_handshake.as_ref().unwrap().as_slice().len(), 48);
    assert_eq!(s.client_handshake.as_ref().unwrap().as_slice().first(), Some(&1));
    assert!(kl.get(&[0u8; 32]).is_none());
}

#[test]
fn debug_prints_no_secret() {
    let mut kl = KeyLog::new();
    kl.add_text(format!("CLIENT_RANDOM {CR} {MS}\n").as_bytes());
    let s = kl.get(&cr()).unwrap();
    assert_eq!(format!("{s:?}"), "Secrets { .. }");
    let d = format!("{kl:?}");
    assert!(!d.contains("00112233") && !d.to_lowercase().contains(&MS[..16]), "{d}");
}

#[test]
fn incremental_chunks_equal_one_feed() {
    let text = format!("CLIENT_RANDOM {CR} {MS}\nCLIENT_TRAFFIC_SECRET_0 {CR} {S32}\nEXPORTER_SECRET {CR} {S32}");
    let mut whole = KeyLog::new();
    whole.add_text(text.as_bytes());
    whole.finish();
    for cut in [1, 7, 50, 100, 150, 200] {
        let mut kl = KeyLog::new();
        let (a, b) = text.as_bytes().split_at(cut.min(text.len()));
        let s1 = kl.add_text(a);
        let s2 = kl.add_text(b);
        let s3 = kl.finish();
        assert_eq!(s1.lines + s2.lines + s3.lines, 3, "cut {cut}");
        assert_eq!(kl.stats(), whole.stats(), "cut {cut}");
        assert_eq!(kl.get(&cr()), whole.get(&cr()));
    }
    // Without finish, the unterminated last line is not parsed yet.
    let mut kl = KeyLog::new();
    assert_eq!(kl.add_text(text.as_bytes()).lines, 2);
}

#[test]
fn overlong_lines_are_bad_even_across_chunks() {
    let mut kl = KeyLog::new();
    let long = vec![b'A'; MAX_LINE_LEN + 10];
    let mut st = kl.add_text(&long[..600]);
    st.add(&kl.add_text(&long[600..]));
    st.add(&kl.add_text(format!("\nCLIENT_RANDOM {CR} {MS}\n").as_bytes()));
    assert_eq!((st.lines, st.bad, st.used), (2, 1, 1));
}

#[test]
fn to_keylog_lines_round_trips() {
    let mut kl = KeyLog::new();
    kl.add_text(format!("SERVER_TRAFFIC_SECRET_0 {CR} {S32}\nCLIENT_RANDOM {CR} {MS}\n").as_bytes());
    let lines = kl.get(&cr()).unwrap().to_keylog_lines(&cr());
    assert_eq!(
        lines,
        format!("CLIENT_RANDOM {CR} {MS}\nSERVER_TRAFFIC_SECRET_0 {CR} {S32}\n")
    );
    let mut again = KeyLog::new();
    again.add_text(lines.as_bytes());
    assert_eq!(again.get(&cr()), kl.get(&cr()));
}

#[test]
fn store_is_bounded() {
    let mut kl = KeyLog::new();
    let mut text = String::new();
    for i in 0..MAX_KEYLOG_ENTRIES + 3 {
        text.push_str(&format!("CLIENT_RANDOM {:064x} {MS}\n", i));
    }
    let st = kl.add_text(text.as_bytes());
    assert_eq!(kl.len(), MAX_KEYLOG_ENTRIES);
    assert_eq!((st.used, st.dropped), (MAX_KEYLOG_ENTRIES as u64, 3));
    // A connection already kept still takes more lines.
    let st = kl.add_text(format!("CLIENT_TRAFFIC_SECRET_0 {:064x} {S32}\n", 0).as_bytes());
    assert_eq!((st.used, st.dropped), (1, 0));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..6)) {
        let mut kl = KeyLog::new();
        let mut lines = 0;
        for c in &chunks {
            lines += kl.add_text(c).lines;
        }
        lines += kl.finish().lines;
        let st = kl.stats();
        prop_assert_eq!(st.lines, lines);
        prop_assert!(st.used + st.ignored + st.bad + st.dropped <= st.lines);
    }
}
