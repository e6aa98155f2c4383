//! The default filter answered in Rust (`capture::ports`) must say what libpcap's compiled
//! BPF program says, frame for frame: on every Ethernet frame of every fixture, on each cut
//! short at every length, and with the header fields it reads changed.

mod common;

use pcap::{Capture, Linktype};
use rdpscope::capture::filter_for_ports;
use rdpscope::capture::ports::PortCheck;
use rdpscope::decode::LinkType;

fn frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in ["real", "lab", "windows", "malformed"] {
        for path in common::captures(dir) {
            let Ok(mut cap) = Capture::from_file(&path) else {
                continue;
            };
            if cap.get_datalink() != Linktype::ETHERNET {
                continue;
            }
            while let Ok(p) = cap.next_packet() {
                out.push(p.data.to_vec());
            }
        }
    }
    out
}

/// The frame with the fields the check reads changed, one at a time.
fn variants(f: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut with = |at: usize, b: &[u8]| {
        if f.len() >= at + b.len() {
            let mut g = f.to_vec();
            g[at..at + b.len()].copy_from_slice(b);
            v.push(g);
        }
    };
    for ethertype in [[0x08, 0x00], [0x86, 0xdd], [0x81, 0x00], [0x88, 0xa8], [0x08, 0x06]] {
        with(12, &ethertype);
    }
    for vihl in [0x45, 0x46, 0x4f, 0x40, 0x60] {
        with(14, &[vihl]);
    }
    for frag in [[0x00, 0x00], [0x40, 0x00], [0x20, 0x00], [0x00, 0x01], [0x1f, 0xff]] {
        with(20, &frag);
    }
    for proto in [6, 17, 1, 58] {
        with(23, &[proto]);
        with(20, &[proto]);
    }
    for port in [3389u16, 88, 3391, 443] {
        for at in [34, 36, 54, 56, 38, 40] {
            with(at, &port.to_be_bytes());
        }
    }
    v
}

#[test]
fn the_rust_check_agrees_with_bpf() {
    let ports = [3389u16, 3390];
    let check = PortCheck::new(&ports);
    let expr = filter_for_ports(&ports, LinkType::Ethernet);
    let dead = Capture::dead(Linktype::ETHERNET).unwrap();
    let bpf = dead.compile(&expr, true).unwrap();
    let (mut decided, mut total, mut passed) = (0u64, 0u64, 0u64);
    let all = frames();
    // Whole frames: the check answers nearly all of them itself, both ways, or it saves nothing.
    let whole: Vec<Option<bool>> = all.iter().map(|f| check.decide(f)).collect();
    let answered = whole.iter().filter(|d| d.is_some()).count();
    assert!(answered * 100 >= all.len() * 95, "{answered} of {}", all.len());
    assert!(whole.contains(&Some(true)) && whole.contains(&Some(false)));
    for f in all {
        let mut cases = variants(&f);
        cases.push(f.clone());
        let lens: Vec<usize> = (0..f.len().min(80)).collect();
        for n in lens {
            cases.push(f[..n].to_vec());
        }
        for c in cases {
            total += 1;
            if let Some(v) = check.decide(&c) {
                decided += 1;
                passed += u64::from(v);
                assert_eq!(v, bpf.filter(&c), "{expr}: {c:02x?}");
            }
        }
    }
    assert!(passed > 1000 && decided - passed > 1000, "{decided} {passed} {total}");
}
