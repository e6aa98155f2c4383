//! The KDC proxy side of an HTTPS connection (MS-KKDCP): a collected body read as a
//! KDC-PROXY-MESSAGE, and HTTP/2 frames cut so their DATA payloads can be (HPACK header
//! blocks are not decoded: an HTTP/2 status is not known).

use super::{gw, GatewayStream, Sink};
use crate::conn::ctx::Ctx;
use crate::conn::event::{EventKind, InsideEvent};
use crate::conn::gateway_facts::{KdcMessage, Role, MAX_KDC};
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::{h2, kkdcp, ParseError};

impl GatewayStream {
    pub(super) fn body_done(&mut self, side: Side, at: At, read: Sink, ctx: &mut Ctx<'_>) {
        if read != Sink::Kdc {
            return;
        }
        let body = std::mem::take(&mut side.of_mut(&mut self.sides).body);
        match kkdcp::parse(&body) {
            Ok(m) => {
                let error = match &m.message {
                    crate::proto::kerberos::KrbMessage::Error(e) => Some(e.error_code),
                    _ => None,
                };
                let gw = gw(ctx);
                if gw.kdc.len() < MAX_KDC {
                    gw.kdc.push(KdcMessage {
                        at,
                        side,
                        message: m.message.name(),
                        error,
                    });
                }
                ctx.event(
                    at,
                    side,
                    EventKind::Inside(InsideEvent::KdcProxy {
                        message: m.message.name(),
                        error,
                    }),
                );
            }
            Err(_) => ctx.anomaly(at, side, "KDC proxy body is not a KDC-PROXY-MESSAGE"),
        }
    }
}

impl GatewayStream {
    /// One HTTP/2 frame: DATA payloads are collected per side until END_STREAM, then read
    /// as a KDC-PROXY-MESSAGE; other frames are skipped.
    pub(super) fn h2_frame(&mut self, side: Side, at: At, rest: &[u8], ctx: &mut Ctx<'_>) -> Option<usize> {
        let h = match h2::parse_header(rest) {
            Ok(h) => h,
            Err(ParseError::Incomplete) => return None,
            Err(ParseError::Malformed(what)) => return self.fail(side, at, what, ctx),
        };
        let total = h2::FRAME_HEADER_LEN + h.length;
        let payload = rest.get(h2::FRAME_HEADER_LEN..total)?;
        if h.frame_type == h2::TYPE_DATA {
            let Ok(data) = h2::data_payload(&h, payload) else {
                return self.fail(side, at, "HTTP/2 DATA padding longer than the frame", ctx);
            };
            self.sink(side, at, Sink::Kdc, data, ctx);
        }
        if h.frame_type <= h2::TYPE_HEADERS && h.flags & h2::FLAG_END_STREAM != 0 {
            if side.of(&self.sides).body.is_empty() {
                return Some(total);
            }
            let body = std::mem::take(&mut side.of_mut(&mut self.sides).body);
            match kkdcp::parse(&body) {
                Ok(_) => {
                    gw(ctx).role = Role::KdcProxy;
                    side.of_mut(&mut self.sides).body = body;
                    self.body_done(side, at, Sink::Kdc, ctx);
                }
                // Not Kerberos: from the server of a KDC proxy, an error page.
                Err(_) if side == Side::Server && gw(ctx).role == Role::KdcProxy => {
                    let g = gw(ctx);
                    g.kdc_not_answered = g.kdc_not_answered.saturating_add(1);
                    g.kdc_not_answered_at.get_or_insert(at);
                }
                Err(_) => {}
            }
        }
        Some(total)
    }
}
