//! The decrypted bytes of an HTTPS connection (an RD Gateway leg or a KDC proxy), per
//! side: HTTP/1.1 heads and bodies (proto::http), then after a 101 the WebSocket frames
//! (proto::websocket), whose payloads, or a legacy channel's body, are cut into MS-TSGU
//! packets (proto::tsgu). What each says goes to the gateway facts; DATA packets feed the
//! inner RDP connection (conn::inner); KDC proxy bodies are read as MS-KKDCP messages.
//! HTTP/2 (a KDC proxy's) is cut into frames: DATA payloads are read as MS-KKDCP messages;
//! HPACK header blocks are not decoded, so an HTTP/2 status is not known. Buffers are bounded: a
//! unit beyond the bound, or garbage, ends the side with an anomaly.

use crate::conn::ctx::Ctx;
use crate::conn::event::{EventKind, InsideEvent};
use crate::conn::gateway_facts::{self, GatewayFacts, HttpExchange, LegacyChannel, Role, Step, Transport, MAX_HTTP};
use crate::conn::inner::Inner;
use crate::flow::reassembly::Chunk;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::h2::PREFACE as H2_PREFACE;
use crate::proto::http::{self, Body};
use crate::proto::tsgu::{self, Packet};
use crate::proto::{websocket, ParseError};

mod kdc;
mod rpc;
mod tunnel;

/// A KDC proxy body larger than this is skipped, not read.
const MAX_KDC_BODY: u64 = 64 * 1024;
/// The random seed a gateway sends after its 200 on a legacy OUT channel, before its first
/// packet (MS-TSGU 3.3.5.1: "a random entity body of limited size (100 bytes)"; Windows
/// sends 10): longer than this, the channel is not read further.
const MAX_SEED: usize = 128;
/// Client bytes of a legacy IN channel waiting to be handed to its OUT channel.
const MAX_LEGACY_OUTBOX: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    Head,
    /// A body of this many bytes still to come: read (`read`) or skipped.
    Body {
        left: u64,
        read: Sink,
    },
    /// A chunked body: in a chunk (`left` bytes) or between chunks.
    Chunked {
        left: u64,
        read: Sink,
    },
    /// A body running until the connection closes.
    UntilClose {
        read: Sink,
    },
    WebSocket,
    /// HTTP/2 frames (after the client's preface).
    H2,
    Done,
}

/// Where body bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Skip,
    /// MS-TSGU packets (legacy HTTP transport).
    Tsgu,
    /// The client's MS-TSGU packets on a legacy IN channel: handed to the OUT channel.
    LegacyIn,
    /// A KDC-PROXY-MESSAGE to be read whole.
    Kdc,
    /// DCE/RPC PDUs (RPC over HTTP).
    Rpc,
}

#[derive(Debug, Clone, Default)]
struct SideState {
    mode: Mode,
    buf: Vec<u8>,
    /// The WebSocket frame being read: header and payload bytes still to come.
    frame: Option<(websocket::FrameHeader, u64)>,
    /// MS-TSGU bytes not yet a whole packet.
    tsgu: Vec<u8>,
    /// The body being collected (KDC proxy).
    body: Vec<u8>,
    /// A legacy OUT channel's seed is still to be skipped (server side).
    seed: bool,
}

/// The HTTPS side of a connection, with the inner RDP connection its tunnel carries.
#[derive(Debug, Clone, Default)]
pub struct GatewayStream {
    sides: [SideState; 2],
    inner: Option<Box<Inner>>,
    /// A legacy IN channel's client MS-TSGU bytes, for its OUT channel ([`Self::take_legacy_in`]).
    legacy_in: Vec<(At, Vec<u8>)>,
}

impl GatewayStream {
    pub fn buffered(&self) -> usize {
        self.sides
            .iter()
            .map(|s| s.buf.len() + s.tsgu.len() + s.body.len())
            .sum::<usize>()
            + self.inner.as_ref().map_or(0, |i| i.buffered())
            + self.legacy_in.iter().map(|(_, d)| d.len()).sum::<usize>()
    }

    /// A legacy IN channel's client bytes read since the last call: the caller hands them
    /// to the OUT channel of the same RDG-Connection-Id, or back to this one
    /// ([`Self::legacy_client_bytes`]) when there is none.
    pub fn take_legacy_in(&mut self) -> Vec<(At, Vec<u8>)> {
        std::mem::take(&mut self.legacy_in)
    }

    pub fn has_legacy_in(&self) -> bool {
        !self.legacy_in.is_empty()
    }

    /// The client's MS-TSGU bytes of the legacy transport (its IN channel's body), read
    /// with this connection's packets.
    pub fn legacy_client_bytes(&mut self, at: At, d: &[u8], ctx: &mut Ctx<'_>) {
        if Side::Client.of(&self.sides).mode == Mode::Done {
            return;
        }
        self.tsgu_bytes(Side::Client, at, d, None, ctx);
    }

    /// The inner connection, once the leg is finished.
    pub fn take_inner(&mut self) -> Option<Box<Inner>> {
        self.inner.take()
    }

    pub fn inner_mut(&mut self) -> Option<&mut Inner> {
        self.inner.as_deref_mut()
    }

    /// Decrypted application data of `side`.
    pub fn data(&mut self, side: Side, at: At, d: &[u8], ctx: &mut Ctx<'_>) {
        let st = side.of_mut(&mut self.sides);
        if st.mode == Mode::Done || d.is_empty() {
            return;
        }
        if st.buf.len() + d.len() > ctx.cfg.max_stream_buffer {
            ctx.anomaly(at, side, "decrypted HTTP unit larger than the stream buffer bound");
            *st = SideState {
                mode: Mode::Done,
                ..SideState::default()
            };
            return;
        }
        st.buf.extend_from_slice(d);
        let buf = std::mem::take(&mut side.of_mut(&mut self.sides).buf);
        let used = self.process(side, at, &buf, ctx);
        let st = side.of_mut(&mut self.sides);
        if st.mode != Mode::Done {
            st.buf = buf;
            st.buf.drain(..used.min(st.buf.len()));
        }
    }

    fn process(&mut self, side: Side, at: At, input: &[u8], ctx: &mut Ctx<'_>) -> usize {
        let mut pos = 0;
        while let Some(rest) = input.get(pos..).filter(|r| !r.is_empty()) {
            let step = match side.of(&self.sides).mode {
                Mode::Done => return input.len(),
                Mode::Head => self.head(side, at, rest, ctx),
                Mode::Body { left, read } => Some(self.body(side, at, rest, left, read, ctx)),
                Mode::Chunked { left, read } => self.chunked(side, at, rest, left, read, ctx),
                Mode::UntilClose { read } => Some(self.body(side, at, rest, u64::MAX, read, ctx)),
                Mode::WebSocket => self.ws_frame(side, at, rest, ctx),
                Mode::H2 => self.h2_frame(side, at, rest, ctx),
            };
            match step {
                Some(n) => pos += n,
                None => break,
            }
        }
        pos
    }

    fn set_mode(&mut self, side: Side, m: Mode) {
        side.of_mut(&mut self.sides).mode = m;
    }

    /// Garbage: said once, and this side is read no further.
    fn fail(&mut self, side: Side, at: At, what: &'static str, ctx: &mut Ctx<'_>) -> Option<usize> {
        ctx.anomaly(at, side, what);
        *side.of_mut(&mut self.sides) = SideState {
            mode: Mode::Done,
            ..SideState::default()
        };
        None
    }

    /// An HTTP head (or the HTTP/2 preface); `None` when more bytes are needed.
    fn head(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        let n = H2_PREFACE.len().min(rest.len());
        if side == Side::Client && rest.get(..n) == H2_PREFACE.get(..n) {
            if n < H2_PREFACE.len() {
                return None;
            }
            gw(ctx).h2 = true;
            self.set_mode(Side::Client, Mode::H2);
            return Some(n);
        }
        // The server of an `h2` connection may send its SETTINGS before the client's preface.
        let alpn_h2 =
            ctx.facts.tls.server_hello.as_ref().and_then(|(_, h)| h.alpn) == Some(crate::proto::tls::Alpn::H2);
        if side == Side::Server && (alpn_h2 || gw(ctx).h2) {
            gw(ctx).h2 = true;
            self.set_mode(Side::Server, Mode::H2);
            return Some(0);
        }
        let r = match side {
            Side::Client => http::parse_request(rest).map(|(q, n)| (self.request(at, q, ctx), n)),
            Side::Server => http::parse_response(rest).map(|(r, n)| (self.response(at, r, ctx), n)),
        };
        match r {
            Ok((mode, n)) => {
                self.set_mode(side, mode);
                Some(n)
            }
            Err(ParseError::Incomplete) => None,
            Err(ParseError::Malformed(what)) => self.fail(side, at, what, ctx),
        }
    }

    fn request(&mut self, at: At, q: http::Request, ctx: &mut Ctx<'_>) -> Mode {
        let gw = gw(ctx);
        let method = q.method.to_ascii_uppercase();
        let (role, transport) = match method.as_str() {
            "RDG_OUT_DATA" | "RDG_IN_DATA" if q.websocket => (Role::Gateway, Some(Transport::WebSocket)),
            "RDG_OUT_DATA" | "RDG_IN_DATA" => (Role::Gateway, Some(Transport::Http)),
            "RPC_IN_DATA" | "RPC_OUT_DATA" => (Role::Gateway, Some(Transport::Rpc)),
            "POST" if q.path.to_ascii_lowercase().starts_with("/kdcproxy") => (Role::KdcProxy, None),
            _ => (gw.role, gw.transport),
        };
        gw.role = role;
        gw.transport = transport;
        if transport == Some(Transport::Http) {
            match method.as_str() {
                "RDG_OUT_DATA" => gw.legacy = Some(LegacyChannel::Out),
                "RDG_IN_DATA" => gw.legacy = Some(LegacyChannel::In),
                _ => {}
            }
        }
        if q.connection_id.is_some() {
            gw.connection_id.clone_from(&q.connection_id);
        }
        if let Some(u) = &q.user_id {
            let a = gw.auth.get_or_insert_with(Default::default);
            a.user.get_or_insert_with(|| u.clone());
        }
        if let Some(a) = &q.auth {
            let new = gateway_facts::auth_facts(a);
            let old = gw.auth.take().unwrap_or_default();
            gw.auth = Some(gateway_facts::AuthFacts {
                mechanism: new.mechanism.or(old.mechanism),
                // An NTLM AUTHENTICATE's user is what the gateway checks; RDG-User-Id otherwise.
                user: new.user.or(old.user),
                domain: new.domain.or(old.domain),
                scheme: new.scheme,
            });
        }
        gw.http_count = gw.http_count.saturating_add(1);
        if gw.http.len() < MAX_HTTP {
            gw.http.push(HttpExchange {
                at,
                method: q.method.clone(),
                path: q.path.clone(),
                status: None,
            });
        }
        let sink = match (role, method.as_str()) {
            (Role::KdcProxy, _) => Sink::Kdc,
            (Role::Gateway, "RDG_IN_DATA") if transport == Some(Transport::Http) => Sink::LegacyIn,
            (Role::Gateway, "RPC_IN_DATA") => Sink::Rpc,
            _ => Sink::Skip,
        };
        ctx.event(
            at,
            Side::Client,
            EventKind::Inside(InsideEvent::HttpRequest {
                method: q.method,
                path: q.path,
            }),
        );
        body_mode(q.body, sink)
    }

    fn response(&mut self, at: At, r: http::Response, ctx: &mut Ctx<'_>) -> Mode {
        let gw = gw(ctx);
        let mut method = None;
        if let Some(x) = gw.http.iter_mut().rev().find(|x| x.status.is_none()) {
            x.status = Some((at, r.status, r.reason.clone()));
            method = Some(x.method.to_ascii_uppercase());
        }
        let ok = (200..300).contains(&r.status);
        // A legacy OUT channel's 200: a random seed comes before the gateway's first packet.
        if ok && gw.transport == Some(Transport::Http) && method.as_deref() == Some("RDG_OUT_DATA") {
            Side::Server.of_mut(&mut self.sides).seed = true;
        }
        if gw.role == Role::KdcProxy && !ok {
            gw.kdc_not_answered = gw.kdc_not_answered.saturating_add(1);
            gw.kdc_not_answered_at.get_or_insert(at);
        }
        let sink = match gw.role {
            Role::KdcProxy if ok => Sink::Kdc,
            Role::Gateway if ok && gw.transport == Some(Transport::Http) => Sink::Tsgu,
            Role::Gateway if ok && gw.transport == Some(Transport::Rpc) => Sink::Rpc,
            _ => Sink::Skip,
        };
        let upgraded = r.status == 101;
        if upgraded {
            gw.upgraded.get_or_insert(at);
        }
        ctx.event(
            at,
            Side::Server,
            EventKind::Inside(InsideEvent::HttpResponse {
                status: r.status,
                reason: r.reason,
            }),
        );
        if upgraded {
            // Both directions carry WebSocket frames from here on.
            if side_is_head(Side::Client.of(&self.sides)) {
                self.set_mode(Side::Client, Mode::WebSocket);
            }
            return Mode::WebSocket;
        }
        body_mode(r.body, sink)
    }

    /// Body bytes: `left` more to come (`u64::MAX`: until close).
    fn body(&mut self, side: Side, at: At, rest: &[u8], left: u64, read: Sink, ctx: &mut Ctx<'_>) -> usize {
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
        let chunk = rest.get(..n).unwrap_or_default();
        self.sink(side, at, read, chunk, ctx);
        let remaining = left.saturating_sub(n as u64);
        if left == u64::MAX {
            return n;
        }
        if remaining == 0 {
            self.body_done(side, at, read, ctx);
            self.set_mode(side, Mode::Head);
        } else {
            self.set_mode(side, Mode::Body { left: remaining, read });
        }
        n
    }

    fn chunked(&mut self, side: Side, at: At, rest: &[u8], left: u64, read: Sink, ctx: &mut Ctx<'_>) -> Option<usize> {
        if left > 0 {
            let n = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
            self.sink(side, at, read, rest.get(..n).unwrap_or_default(), ctx);
            self.set_mode(
                side,
                Mode::Chunked {
                    left: left - n as u64,
                    read,
                },
            );
            return Some(n);
        }
        // Between chunks: the CRLF that ends the previous one, then a size line.
        let skip = if rest.starts_with(b"\r\n") { 2 } else { 0 };
        match http::chunk_header(rest.get(skip..).unwrap_or_default()) {
            Ok((h, 0)) => {
                self.body_done(side, at, read, ctx);
                self.set_mode(side, Mode::Head);
                // The last chunk's CRLF (no trailers from a gateway).
                let end = skip + h;
                Some(if rest.get(end..end + 2) == Some(b"\r\n") {
                    end + 2
                } else {
                    end
                })
            }
            Ok((h, size)) => {
                self.set_mode(side, Mode::Chunked { left: size, read });
                Some(skip + h)
            }
            Err(ParseError::Incomplete) => None,
            Err(ParseError::Malformed(what)) => self.fail(side, at, what, ctx),
        }
    }

    fn sink(&mut self, side: Side, at: At, read: Sink, chunk: &[u8], ctx: &mut Ctx<'_>) {
        match read {
            Sink::Skip => {}
            Sink::Tsgu => self.tsgu_bytes(side, at, chunk, None, ctx),
            Sink::LegacyIn => {
                let held: usize = self.legacy_in.iter().map(|(_, d)| d.len()).sum();
                if held + chunk.len() > MAX_LEGACY_OUTBOX {
                    // Nobody takes them (not run by an analyzer): read them here.
                    for (at, d) in std::mem::take(&mut self.legacy_in) {
                        self.tsgu_bytes(side, at, &d, None, ctx);
                    }
                    self.tsgu_bytes(side, at, chunk, None, ctx);
                } else if !chunk.is_empty() {
                    self.legacy_in.push((at, chunk.to_vec()));
                }
            }
            Sink::Rpc => self.rpc_bytes(side, at, chunk, ctx),
            Sink::Kdc => {
                let st = side.of_mut(&mut self.sides);
                if (st.body.len() + chunk.len()) as u64 <= MAX_KDC_BODY {
                    st.body.extend_from_slice(chunk);
                }
            }
        }
    }

    /// One WebSocket frame, or the part of its payload at hand.
    fn ws_frame(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        let (h, left) = match side.of(&self.sides).frame {
            Some(f) => f,
            None => match websocket::parse_header(rest) {
                Ok(h) => {
                    side.of_mut(&mut self.sides).frame = Some((h, h.payload_len));
                    if h.payload_len == 0 {
                        self.frame_end(side, at, h, &[], ctx);
                    }
                    return Some(h.header_len);
                }
                Err(ParseError::Incomplete) => return None,
                Err(ParseError::Malformed(what)) => return self.fail(side, at, what, ctx),
            },
        };
        if h.is_control() && rest.len() < usize::try_from(left).unwrap_or(usize::MAX) {
            // Control payloads (at most 125 bytes) are read whole.
            return None;
        }
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(rest.len());
        let chunk = rest.get(..n).unwrap_or_default();
        let left_after = left - n as u64;
        if h.is_control() {
            side.of_mut(&mut self.sides).frame = None;
            self.frame_end(side, at, h, chunk, ctx);
            return Some(n);
        }
        let offset = h.payload_len - left;
        self.tsgu_bytes(side, at, chunk, h.mask.map(|m| (m, offset)), ctx);
        side.of_mut(&mut self.sides).frame = (left_after > 0).then_some((h, left_after));
        Some(n)
    }

    fn frame_end(&mut self, side: Side, at: At, h: websocket::FrameHeader, payload: &[u8], ctx: &mut Ctx<'_>) {
        if h.payload_len == 0 {
            side.of_mut(&mut self.sides).frame = None;
        }
        if h.opcode == websocket::OP_CLOSE {
            let mut p = payload.to_vec();
            if let Some(m) = h.mask {
                websocket::unmask(&mut p, m, 0);
            }
            let code = websocket::close_code(&p);
            gw(ctx).ws_close.get_or_insert((at, side, code));
            ctx.event(at, side, EventKind::Inside(InsideEvent::WebSocketClose { code }));
        }
    }
}

fn side_is_head(s: &SideState) -> bool {
    s.mode == Mode::Head
}

fn body_mode(b: Body, read: Sink) -> Mode {
    match b {
        Body::None => Mode::Head,
        Body::Length(n) if read == Sink::Kdc && n > MAX_KDC_BODY => Mode::Body {
            left: n,
            read: Sink::Skip,
        },
        Body::Length(n) => Mode::Body { left: n, read },
        Body::Chunked => Mode::Chunked { left: 0, read },
        Body::UntilClose => Mode::UntilClose { read },
    }
}

/// The connection's gateway facts (made when the connection was recognised as HTTPS).
fn gw<'a>(ctx: &'a mut Ctx<'_>) -> &'a mut GatewayFacts {
    ctx.facts.https.get_or_insert_with(Default::default)
}
