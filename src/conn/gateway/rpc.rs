//! RPC over HTTP channel bodies (MS-RPCH): DCE/RPC PDUs cut by their fragment length, and
//! a fault's status kept (the gateway's E_PROXY_* codes travel in rpc_fault PDUs, MS-TSGU
//! 3.2.6). Requests and responses themselves (NDR-encoded TsProxy calls) are not decoded.

use super::{gw, GatewayStream, Mode};
use crate::conn::ctx::Ctx;
use crate::conn::event::{EventKind, InsideEvent};
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::rpch;

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
        let len_of = |b: &[u8]| rpch::header(b).map(|h| h.frag_len);
        self.cut_units(side, at, ctx, len_of, |_, pdu, ctx| {
            let g = gw(ctx);
            *side.of_mut(&mut g.rpc_pdus) += 1;
            let fault = rpch::header(pdu).is_ok_and(|h| h.ptype == rpch::PTYPE_FAULT);
            if let Some(status) = fault.then(|| rpch::fault_status(pdu).ok()).flatten() {
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
        });
    }
}
