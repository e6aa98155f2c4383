//! RPC over HTTP channel bodies (MS-RPCH): DCE/RPC PDUs cut by their fragment length, and
//! a fault's status kept (the gateway's E_PROXY_* codes travel in rpc_fault PDUs, MS-TSGU
//! 3.2.6). Requests and responses themselves (NDR-encoded TsProxy calls) are not decoded.

use super::{gw, GatewayStream, Mode};
use crate::conn::ctx::Ctx;
use crate::conn::event::{EventKind, InsideEvent};
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::{rpch, ParseError};

impl GatewayStream {
    /// Body bytes of an RPC channel; whole PDUs are counted and faults read.
    pub(super) fn rpc_bytes(&mut self, side: Side, at: At, chunk: &[u8], ctx: &mut Ctx<'_>) {
        let st = side.of_mut(&mut self.sides);
        if st.tsgu.len() + chunk.len() > rpch::MAX_FRAG + rpch::HEADER_LEN {
            ctx.anomaly(at, side, "RPC PDU larger than the bound");
            st.tsgu.clear();
            st.mode = Mode::Done;
            return;
        }
        st.tsgu.extend_from_slice(chunk);
        let buf = std::mem::take(&mut st.tsgu);
        let mut pos = 0;
        while let Some(rest) = buf.get(pos..).filter(|r| !r.is_empty()) {
            match rpch::header(rest) {
                Ok(h) if rest.len() >= h.frag_len => {
                    let g = gw(ctx);
                    *side.of_mut(&mut g.rpc_pdus) += 1;
                    if h.ptype == rpch::PTYPE_FAULT {
                        if let Ok(status) = rpch::fault_status(rest.get(..h.frag_len).unwrap_or_default()) {
                            g.rpc_fault.get_or_insert((at, side, status));
                            ctx.event(
                                at,
                                side,
                                EventKind::Inside(InsideEvent::Tsgu {
                                    packet: "RPC fault",
                                    status: Some(status),
                                }),
                            );
                        }
                    }
                    pos += h.frag_len;
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
}
