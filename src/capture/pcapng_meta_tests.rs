//! Hand-built pcapng blocks: EPB options in both byte orders, comments, cut blocks.

use super::*;

fn opt(code: u16, v: &[u8], be: bool) -> Vec<u8> {
    let mut o = Vec::new();
    let (c, l) = (code, v.len() as u16);
    o.extend(if be { c.to_be_bytes() } else { c.to_le_bytes() });
    o.extend(if be { l.to_be_bytes() } else { l.to_le_bytes() });
    o.extend(v);
    o.resize(o.len().div_ceil(4) * 4, 0);
    o
}

fn epb(iface: u32, data: &[u8], opts: &[Vec<u8>], be: bool) -> Vec<u8> {
    let w = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut body = Vec::new();
    for v in [iface, 0, 0, data.len() as u32, data.len() as u32] {
        body.extend(w(v));
    }
    body.extend(data);
    body.resize(body.len().div_ceil(4) * 4, 0);
    for o in opts {
        body.extend(o);
    }
    body.extend([0, 0, 0, 0]);
    let len = body.len() as u32 + 12;
    let mut b = w(6).to_vec();
    b.extend(w(len));
    b.extend(body);
    b.extend(w(len));
    b
}

#[test]
fn packet_id_and_verdict_in_both_byte_orders() {
    for be in [false, true] {
        let id = if be {
            0x1122u64.to_be_bytes()
        } else {
            0x1122u64.to_le_bytes()
        };
        let b = epb(
            3,
            b"hello",
            &[opt(2, &[0, 0, 0, 1], be), opt(5, &id, be), opt(7, &[0, 1], be)],
            be,
        );
        assert_eq!(
            parse_block(&b, be),
            Block::Packet(PacketMeta {
                interface: Some(3),
                packet_id: Some(0x1122),
                dropped: true
            })
        );
    }
}

#[test]
fn pktmon_comment_stands_in_for_the_packet_id() {
    let c = b"Drop: PktGroupId 562949953421500, PktNumber 2, Appearance 1, Component 78";
    let b = epb(1, b"x", &[opt(1, c, false)], false);
    let Block::Packet(m) = parse_block(&b, false) else {
        panic!()
    };
    assert_eq!(m.packet_id, Some(562_949_953_421_500u64.wrapping_mul(0x1_0000) + 2));
    assert!(m.dropped);
    // etl2pcapng's PID comment is no id.
    let b = epb(1, b"x", &[opt(1, b"PID=4", false)], false);
    assert_eq!(
        parse_block(&b, false),
        Block::Packet(PacketMeta {
            interface: Some(1),
            ..Default::default()
        })
    );
}

#[test]
fn cut_and_odd_blocks_give_what_can_be_read() {
    let b = epb(2, b"data", &[opt(5, &[1; 8], false)], false);
    // Options cut off: the interface is still known.
    let cut = [&b[..b.len() - 16], &b[b.len() - 4..]].concat();
    let Block::Packet(m) = parse_block(&cut, false) else {
        panic!()
    };
    assert_eq!(m.interface, Some(2));
    // A caplen beyond the block.
    let mut big = b.clone();
    big[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        parse_block(&big, false),
        Block::Packet(PacketMeta {
            interface: Some(2),
            ..Default::default()
        })
    );
    assert_eq!(parse_block(&[6, 0], false), Block::Other);
    let mut shb = vec![0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A];
    shb.resize(28, 0);
    assert_eq!(parse_block(&shb, false), Block::Section { big_endian: false });
}
