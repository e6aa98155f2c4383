//! TCP reassembly with arbitrary segment sequences (structured input via `arbitrary`).
//! The same operations drive (1) a bare `Reassembler`, whose invariants are checked after
//! every step, and (2) a whole `Connection` (tracker, both reassemblers, both stream
//! decoders), whose record is then built, serialized and rendered.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rdpscope::analyzer::Finished;
use rdpscope::config::Config;
use rdpscope::conn::Connection;
use rdpscope::decode::TcpHeader;
use rdpscope::flow::reassembly::{Chunk, Reassembler};
use rdpscope::flow::tcp::At;
use rdpscope::flow::{Endpoint, Side};
use rdpscope::ts::Ts;

#[derive(Arbitrary, Debug)]
enum Op {
    /// SYN (or SYN-ACK from the server) with this initial sequence number.
    Syn { server: bool, isn: u32 },
    /// Data near the base sequence number (where most interesting overlaps happen).
    Near {
        server: bool,
        off: i16,
        data: Vec<u8>,
        flags: u8,
        ack_off: i16,
    },
    /// Data anywhere in sequence space (wrap-around, huge jumps).
    Far { server: bool, seq: u32, data: Vec<u8> },
    /// A pure ACK from the peer: may reveal a gap.
    Ack { server: bool, ack_off: i32 },
    /// A snaplen-cut segment: `data` captured, `missing` more on the wire.
    Cut {
        server: bool,
        off: i16,
        data: Vec<u8>,
        missing: u16,
    },
    /// Time passes.
    Wait { secs: u16 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    base: u32,
    max_pending: u16,
    max_stream_buffer: u16,
    max_hs: u16,
    ops: Vec<Op>,
}

/// Feeds a bare reassembler (client direction) and checks that every byte the stream
/// advanced by was handed out as data or as a gap, and that the buffer stays in bounds.
struct Checked {
    r: Reassembler,
    start: Option<u32>,
    handed: u64,
    max: usize,
}

impl Checked {
    fn check(&mut self) {
        assert!(
            self.r.pending_bytes() <= self.max,
            "pending {} > {}",
            self.r.pending_bytes(),
            self.max
        );
        if self.start.is_none() {
            self.start = self.r.next_seq();
        }
        if let (Some(s), Some(n)) = (self.start, self.r.next_seq()) {
            assert_eq!(s.wrapping_add(self.handed as u32), n, "data + gaps != stream advance");
        }
    }
    fn segment(&mut self, seq: u32, data: &[u8]) {
        let mut handed = 0u64;
        self.r.segment(seq, data, self.max, &mut |c| {
            handed += match c {
                Chunk::Data(d) => d.len() as u64,
                Chunk::Gap(n) => u64::from(n),
            }
        });
        self.add(handed);
    }
    fn ack(&mut self, ack: u32) {
        let mut handed = 0u64;
        self.r.on_peer_ack(ack, &mut |c| {
            handed += match c {
                Chunk::Data(d) => d.len() as u64,
                Chunk::Gap(n) => u64::from(n),
            }
        });
        self.add(handed);
    }
    fn add(&mut self, n: u64) {
        if self.start.is_none() {
            // The first segment fixed the start: it is where the stream stood before it.
            self.start = self.r.next_seq().map(|s| s.wrapping_sub(n as u32));
        }
        self.handed += n;
        self.check();
    }
}

fuzz_target!(|input: Input| {
    let cfg = Config {
        max_out_of_order: usize::from(input.max_pending) * 4,
        max_stream_buffer: usize::from(input.max_stream_buffer).max(64),
        max_handshake_message: usize::from(input.max_hs),
        max_app_records: 8,
        max_events: 32,
        ..Config::default()
    };
    let ip = "10.0.0.1".parse().expect("literal address");
    let client = Endpoint { ip, port: 50000 };
    let server = Endpoint { ip, port: 3389 };
    let mut at = At {
        frame: 1,
        ts: Ts(1_000_000_000),
    };
    let mut conn = Connection::new(1, client, server, at, false);
    let mut bare = Checked {
        r: Reassembler::default(),
        start: None,
        handed: 0,
        max: cfg.max_out_of_order,
    };
    let base = input.base;
    let seq_at = |off: i32| base.wrapping_add(off as u32);
    for op in input.ops.iter().take(4096) {
        let mut h = TcpHeader {
            src_port: 50000,
            dst_port: 3389,
            window: 1024,
            ack_flag: true,
            ..TcpHeader::default()
        };
        let (server_side, payload, missing): (bool, &[u8], u32) = match op {
            Op::Syn { server, isn } => {
                h.syn = true;
                h.ack_flag = *server;
                h.seq = *isn;
                if !*server {
                    bare.r.on_syn(*isn);
                    bare.check();
                }
                (*server, &[], 0)
            }
            Op::Near {
                server,
                off,
                data,
                flags,
                ack_off,
            } => {
                h.seq = seq_at(i32::from(*off));
                h.ack = seq_at(i32::from(*ack_off));
                h.fin = flags & 1 != 0;
                h.rst = flags & 2 != 0;
                h.window = if flags & 4 != 0 { 0 } else { 1024 };
                if !*server {
                    bare.segment(h.seq, data);
                }
                (*server, data.as_slice(), 0)
            }
            Op::Far { server, seq, data } => {
                h.seq = *seq;
                if !*server {
                    bare.segment(*seq, data);
                }
                (*server, data.as_slice(), 0)
            }
            Op::Ack { server, ack_off } => {
                h.ack = seq_at(*ack_off);
                if *server {
                    bare.ack(h.ack);
                }
                (*server, &[], 0)
            }
            Op::Cut {
                server,
                off,
                data,
                missing,
            } => {
                h.seq = seq_at(i32::from(*off));
                (*server, data.as_slice(), u32::from(*missing))
            }
            Op::Wait { secs } => {
                at.ts = Ts(at.ts.0 + i64::from(*secs) * 1_000_000_000);
                continue;
            }
        };
        let side = if server_side { Side::Server } else { Side::Client };
        if server_side {
            h.src_port = 3389;
            h.dst_port = 50000;
        }
        conn.on_tcp(side, at, &h, payload, missing, &cfg, None);
        assert!(
            conn.buffered()
                <= 2 * (cfg.max_out_of_order + cfg.max_stream_buffer + cfg.max_handshake_message) + 2 * 65536
        );
        at.frame += 1;
        at.ts = Ts(at.ts.0 + 1_000);
    }
    let mut flushed = 0u64;
    bare.r.flush(&mut |c| {
        flushed += match c {
            Chunk::Data(d) => d.len() as u64,
            Chunk::Gap(n) => u64::from(n),
        }
    });
    bare.add(flushed);
    assert_eq!(bare.r.pending_bytes(), 0);
    conn.finish(&cfg, None);
    let f = Finished::Tcp(Box::new(conn));
    let r = rdpscope::emit::record(&f, &cfg);
    let _ = serde_json::to_string(&r);
    let mut out = Vec::new();
    let _ = rdpscope::report::text::connection(&mut out, &r, &rdpscope::report::text::Options { timeline: true });
});
