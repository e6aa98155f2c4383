//! One direction of an RDP connection's byte stream, cut into units: a proxy exchange if
//! the stream opens with one (conn::tunnel), TPKT until the negotiation selects TLS, then
//! TLS records. This file is the framing; what each unit means is in `x224_mcs` and
//! `tls_records`. Buffers are bounded; a gap or garbage makes the decoder resynchronise on
//! the next plausible TPKT or TLS header instead of giving up on the connection.

mod tls_records;
mod x224_mcs;

use crate::conn::ctx::Ctx;
use crate::conn::event::EventKind;
use crate::conn::inside::InsideStream;
use crate::conn::tunnel::{self, Tunnel, Unit};
use crate::flow::reassembly::Chunk;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::tls::{self, RecordHeader};
use crate::proto::{tpkt, ParseError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    /// TPKT expected; a TLS record switches to `Tls` (the client's ClientHello follows the CC).
    #[default]
    Tpkt,
    Tls,
    /// Nothing more to learn: bytes are only counted.
    Done,
}

#[derive(Debug, Clone, Default)]
pub struct StreamDecoder {
    mode: Mode,
    buf: Vec<u8>,
    /// Bytes of the current record body still to skip (application data is counted, not kept).
    skip: usize,
    skipping: Option<RecordHeader>,
    resync: bool,
    /// Defragmentation buffer for TLS handshake messages split across records.
    hs: Vec<u8>,
    /// Gave up on the handshake buffer (a message larger than the bound).
    hs_overflow: bool,
    /// TLS records other than application data seen (handshake, alerts, CCS, ...).
    other_records: usize,
    /// Decrypted application data, when the session keys are known.
    inside: InsideStream,
    tunnel: Tunnel,
}

impl StreamDecoder {
    /// A decoder for a stream whose start was not captured (it cannot tell a proxy
    /// exchange, SOCKS or HTTP CONNECT, from garbage there).
    pub fn midstream() -> StreamDecoder {
        StreamDecoder {
            tunnel: Tunnel::No,
            ..StreamDecoder::default()
        }
    }

    pub fn is_done(&self) -> bool {
        self.mode == Mode::Done
    }

    pub fn finish(&mut self) {
        self.mode = Mode::Done;
        self.buf = Vec::new();
        self.hs = Vec::new();
    }

    pub fn buffered(&self) -> usize {
        self.buf.len() + self.hs.len() + self.inside.buffered()
    }

    /// Whether the stream stopped inside a PDU, record or handshake message: bytes are held
    /// that a complete unit never followed (a length that promised more than came).
    pub fn inside_pdu(&self) -> bool {
        self.mode != Mode::Done && !self.resync && (!self.buf.is_empty() || !self.hs.is_empty())
    }

    pub fn feed(&mut self, side: Side, at: At, chunk: Chunk<'_>, ctx: &mut Ctx<'_>) {
        match chunk {
            Chunk::Gap(n) => self.gap(side, at, n, ctx),
            Chunk::Data(d) => self.data(side, at, d, ctx),
        }
    }

    fn gap(&mut self, side: Side, at: At, n: u32, ctx: &mut Ctx<'_>) {
        ctx.event(at, side, EventKind::Gap { bytes: n });
        self.tunnel = Tunnel::No;
        if self.mode == Mode::Done {
            return;
        }
        let n = n as usize;
        if self.skip >= n && self.buf.is_empty() {
            // The hole lies inside a record we were skipping anyway: still aligned.
            self.skip -= n;
            return;
        }
        self.skip = 0;
        self.skipping = None;
        self.buf.clear();
        self.hs.clear();
        self.resync = true;
    }

    fn data(&mut self, side: Side, at: At, mut d: &[u8], ctx: &mut Ctx<'_>) {
        if self.mode == Mode::Done {
            return;
        }
        if self.skip > 0 {
            let n = self.skip.min(d.len());
            self.skip -= n;
            d = d.get(n..).unwrap_or_default();
            if self.skip == 0 {
                if let Some(h) = self.skipping.take() {
                    self.record(side, at, h, &[], ctx);
                }
            }
        }
        if d.is_empty() {
            return;
        }
        if self.buf.is_empty() {
            let used = self.process(side, at, d, ctx);
            self.keep(side, at, d.get(used..).unwrap_or_default(), ctx);
        } else {
            let mut buf = std::mem::take(&mut self.buf);
            if buf.len() + d.len() > ctx.cfg.max_stream_buffer {
                ctx.anomaly(at, side, "PDU larger than the stream buffer bound");
                buf.clear();
                self.resync = true;
            }
            buf.extend_from_slice(d);
            let used = self.process(side, at, &buf, ctx);
            buf.drain(..used.min(buf.len()));
            if self.mode != Mode::Done {
                self.buf = buf;
            }
        }
    }

    fn keep(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) {
        if rest.is_empty() || self.mode == Mode::Done {
            return;
        }
        if rest.len() > ctx.cfg.max_stream_buffer {
            ctx.anomaly(at, side, "PDU larger than the stream buffer bound");
            self.resync = true;
            return;
        }
        self.buf.extend_from_slice(rest);
    }

    /// Consume as many whole PDUs/records from `input` as possible; returns bytes used.
    fn process(&mut self, side: Side, at: At, input: &[u8], ctx: &mut Ctx<'_>) -> usize {
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            if self.mode == Mode::Done || self.skip > 0 {
                return input.len();
            }
            if self.resync {
                match (0..rest.len()).find(|&o| self.plausible(rest.get(o..).unwrap_or_default())) {
                    Some(o) => {
                        pos += o;
                        self.resync = false;
                        continue;
                    }
                    // Keep a possible partial header for the next segment.
                    None => return input.len().saturating_sub(4).max(pos),
                }
            }
            let step = match (self.mode, rest.first()) {
                _ if self.tunnel != Tunnel::No => self.tunnel_unit(side, at, rest, ctx),
                (Mode::Tpkt, Some(3)) => self.tpkt_unit(side, at, rest, ctx),
                _ => self.tls_unit(side, at, rest, ctx),
            };
            match step {
                Some(n) => pos += n,
                None => break,
            }
        }
        pos
    }

    fn plausible(&self, i: &[u8]) -> bool {
        tls::plausible_start(i) || (self.mode == Mode::Tpkt && tpkt::plausible_start(i))
    }

    /// One proxy message at the start of the stream (or the decision that there is none,
    /// taking no bytes); `None` when more bytes are needed.
    fn tunnel_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        match tunnel::unit(&mut self.tunnel, side, at, rest, ctx) {
            Unit::Took(n) => Some(n),
            Unit::TookAndSkip(n, skip) => {
                self.skip = skip;
                Some(n)
            }
            Unit::Rest => {
                self.finish();
                Some(rest.len())
            }
            Unit::NeedMore => None,
            Unit::Malformed(what) => {
                ctx.anomaly(at, side, what);
                self.resync = true;
                Some(1)
            }
        }
    }

    /// One TPKT PDU; `None` when more bytes are needed.
    fn tpkt_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        match tpkt::split(rest) {
            Ok((payload, n)) => {
                self.tpdu(side, at, payload, ctx);
                Some(n)
            }
            Err(ParseError::Incomplete) => {
                if tpkt::pdu_len(rest).is_ok_and(|l| l > ctx.cfg.max_stream_buffer) {
                    ctx.anomaly(at, side, "TPKT length beyond the stream buffer bound");
                    self.resync = true;
                    return Some(1);
                }
                None
            }
            Err(ParseError::Malformed(what)) => {
                ctx.anomaly(at, side, what);
                self.resync = true;
                Some(1)
            }
        }
    }

    /// One TLS record (or the start of one to skip); `None` when more bytes are needed.
    fn tls_unit(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        let hdr = match tls::parse_record_header(rest) {
            Ok(h) => h,
            Err(ParseError::Incomplete) => return None,
            Err(ParseError::Malformed(what)) => {
                if self.mode == Mode::Tpkt && ctx.facts.connect_response.is_some() {
                    // Standard RDP security: fast-path PDUs from here on. From the server they
                    // mean the session runs.
                    if side == Side::Server && ctx.facts.session_start.is_none() {
                        ctx.facts.session_start = Some(at);
                        ctx.event(
                            at,
                            side,
                            EventKind::RdpStep {
                                what: "fast-path output: session running",
                            },
                        );
                    }
                    self.finish();
                    return Some(rest.len());
                }
                // A TLS-looking header (version 3.x) is named for what is wrong with it.
                let tls_like = self.mode == Mode::Tls || rest.get(1) == Some(&3);
                ctx.anomaly(at, side, if tls_like { what } else { "neither TPKT nor TLS" });
                self.resync = true;
                return Some(1);
            }
        };
        self.mode = Mode::Tls;
        let total = tls::RECORD_HEADER_LEN + usize::from(hdr.length);
        if let Some(body) = rest.get(tls::RECORD_HEADER_LEN..total) {
            self.record(side, at, hdr, body, ctx);
            return Some(total);
        }
        if (hdr.content_type == tls::CT_APPLICATION_DATA || self.encrypted(side, ctx))
            && !self.decrypts(side, hdr.content_type, ctx)
        {
            // Only its size matters: skip the body as it streams past instead of buffering it.
            self.skip = total - rest.len();
            self.skipping = Some(hdr);
            return Some(rest.len());
        }
        None
    }
}
