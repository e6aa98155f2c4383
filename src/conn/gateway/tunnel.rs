//! The MS-TSGU HTTP transport inside a gateway leg (MS-TSGU 2.2.10): whole packets cut from
//! WebSocket or chunked bodies (a legacy OUT channel's random seed skipped first), each read
//! for its step and status, and DATA handed to the inner RDP connection.

use super::*;

impl GatewayStream {
    /// MS-TSGU bytes (unmasked here when masked); whole packets are handled.
    pub(super) fn tsgu_bytes(
        &mut self,
        side: Side,
        at: At,
        chunk: &[u8],
        mask: Option<([u8; 4], u64)>,
        ctx: &mut Ctx<'_>,
    ) {
        let st = side.of_mut(&mut self.sides);
        let start = st.tsgu.len();
        if start + chunk.len() > tsgu::MAX_PACKET + 8 {
            ctx.anomaly(at, side, "MS-TSGU packet larger than the bound");
            st.tsgu.clear();
            st.mode = Mode::Done;
            return;
        }
        st.tsgu.extend_from_slice(chunk);
        if let (Some((m, off)), Some(tail)) = (mask, st.tsgu.get_mut(start..)) {
            websocket::unmask(tail, m, off);
        }
        let st = side.of_mut(&mut self.sides);
        if st.seed {
            match seed_len(&st.tsgu) {
                Some(n) => {
                    st.tsgu.drain(..n);
                    st.seed = false;
                }
                None if st.tsgu.len() > MAX_SEED + tsgu::HEADER_LEN => {
                    ctx.anomaly(at, side, "legacy OUT channel: no HANDSHAKE_RESPONSE after the seed");
                    st.tsgu.clear();
                    st.mode = Mode::Done;
                    return;
                }
                None => return,
            }
        }
        self.cut_units(side, at, ctx, tsgu::packet_len, |g, unit, ctx| {
            match tsgu::parse(unit) {
                Ok(p) => g.packet(side, at, p, ctx),
                Err(_) => ctx.anomaly(at, side, "MS-TSGU packet does not parse"),
            }
        });
    }

    /// Hand `each` every whole unit (an MS-TSGU packet, a DCE/RPC PDU) of `side`'s buffered
    /// bytes, `len_of` telling a unit's length from its first bytes; the rest stays buffered.
    /// A malformed length ends parsing of that side.
    pub(super) fn cut_units<'c>(
        &mut self,
        side: Side,
        at: At,
        ctx: &mut Ctx<'c>,
        len_of: impl Fn(&[u8]) -> crate::proto::ParseResult<usize>,
        mut each: impl FnMut(&mut Self, &[u8], &mut Ctx<'c>),
    ) {
        let buf = std::mem::take(&mut side.of_mut(&mut self.sides).tsgu);
        let mut pos = 0;
        while let Some(rest) = buf.get(pos..).filter(|r| !r.is_empty()) {
            match len_of(rest) {
                Ok(len) if len > 0 && rest.len() >= len => {
                    each(self, rest.get(..len).unwrap_or_default(), ctx);
                    pos += len;
                }
                Ok(_) | Err(ParseError::Incomplete) => break,
                Err(ParseError::Malformed(what)) => {
                    ctx.anomaly(at, side, what);
                    side.of_mut(&mut self.sides).mode = Mode::Done;
                    return;
                }
            }
        }
        let st = side.of_mut(&mut self.sides);
        st.tsgu = buf;
        st.tsgu.drain(..pos.min(st.tsgu.len()));
    }

    fn packet(&mut self, side: Side, at: At, p: Packet<'_>, ctx: &mut Ctx<'_>) {
        let gw = gw(ctx);
        *side.of_mut(&mut gw.packets) += 1;
        let step = |status| Some(Step { at, status });
        let status = match &p {
            Packet::HandshakeResponse { error, .. } => {
                gw.handshake = step(*error);
                Some(*error)
            }
            Packet::TunnelResponse { status, .. } => {
                gw.tunnel = step(*status);
                Some(*status)
            }
            Packet::TunnelAuthResponse {
                error,
                idle_timeout_min,
                ..
            } => {
                gw.tunnel_auth = step(*error);
                gw.idle_timeout_min = *idle_timeout_min;
                Some(*error)
            }
            Packet::ChannelCreate { resources, port, .. } => {
                gw.channel_create = Some((at, resources.clone(), *port));
                None
            }
            Packet::ChannelResponse { error, .. } => {
                gw.channel = step(*error);
                Some(*error)
            }
            Packet::CloseChannel { status } => {
                gw.close.get_or_insert((at, side, *status));
                Some(*status)
            }
            Packet::CloseChannelResponse { status } => Some(*status),
            Packet::Reauth { .. } => {
                gw.reauth.get_or_insert(at);
                None
            }
            Packet::ServiceMessage { .. } => {
                gw.service_messages = gw.service_messages.saturating_add(1);
                None
            }
            Packet::Keepalive => {
                gw.keepalives = gw.keepalives.saturating_add(1);
                return;
            }
            Packet::Data(d) => {
                *side.of_mut(&mut gw.data_bytes) += d.len() as u64;
                let d: &[u8] = d;
                self.inner_data(side, at, d, ctx);
                return;
            }
            _ => None,
        };
        ctx.event(
            at,
            side,
            EventKind::Inside(InsideEvent::Tsgu {
                packet: p.name(),
                status,
            }),
        );
    }

    fn inner_data(&mut self, side: Side, at: At, d: &[u8], ctx: &mut Ctx<'_>) {
        let inner = self.inner.get_or_insert_with(|| Box::new(Inner::new(at)));
        inner.feed(side, at, Chunk::Data(d), ctx.cfg, ctx.keys);
    }
}

/// Where the gateway's first packet, HANDSHAKE_RESPONSE (2.2.10.11: 18 bytes), starts
/// after a legacy OUT channel's seed; `None` while it is not in `b`.
fn seed_len(b: &[u8]) -> Option<usize> {
    // packetType PKT_TYPE_HANDSHAKE_RESPONSE, reserved 0, then a plausible packetLength
    let head = [0x02, 0x00, 0x00, 0x00];
    (0..=MAX_SEED).find(|&i| {
        b.get(i..i + 4) == Some(&head[..])
            && b.get(i + 4..i + 8)
                .and_then(|l| <[u8; 4]>::try_from(l).ok())
                .map(u32::from_le_bytes)
                .is_some_and(|n| (18..=64).contains(&n))
    })
}
