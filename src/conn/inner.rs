//! The RDP connection a gateway tunnel carries: the DATA packets of an MS-TSGU channel are
//! its byte stream, read by the same stream decoders as a connection to port 3389 (X.224,
//! its own TLS with its own keys, CredSSP, the session). When the leg ends it becomes a
//! connection of its own (`transport: rdg`), linked to its leg.

use crate::config::Config;
use crate::conn::ctx::Ctx;
use crate::conn::event::Timeline;
use crate::conn::facts::RdpFacts;
use crate::conn::gateway::GatewayStream;
use crate::conn::inside::DecryptState;
use crate::conn::stream::StreamDecoder;
use crate::decrypt::Keys;
use crate::flow::reassembly::Chunk;
use crate::flow::tcp::At;
use crate::flow::Side;

#[derive(Debug, Clone)]
pub struct Inner {
    pub facts: RdpFacts,
    pub timeline: Timeline,
    decoders: [StreamDecoder; 2],
    decrypt: DecryptState,
    /// Never used: an inner connection is RDP, not HTTPS (the decoders' context needs one).
    gateway: GatewayStream,
    pub first: At,
    pub last: At,
    /// DATA packets carried.
    pub packets: u64,
}

impl Inner {
    pub fn new(at: At) -> Inner {
        Inner {
            facts: RdpFacts::default(),
            timeline: Timeline::default(),
            // The tunnel starts with the RDP bytes: no proxy exchange to look for.
            decoders: [StreamDecoder::midstream(), StreamDecoder::midstream()],
            decrypt: DecryptState::default(),
            gateway: GatewayStream::default(),
            first: at,
            last: at,
            packets: 0,
        }
    }

    pub fn buffered(&self) -> usize {
        self.decoders.iter().map(StreamDecoder::buffered).sum()
    }

    pub fn feed(&mut self, side: Side, at: At, chunk: Chunk<'_>, cfg: &Config, keys: Option<&Keys>) {
        self.last = at;
        self.packets += 1;
        let mut ctx = Ctx {
            facts: &mut self.facts,
            timeline: &mut self.timeline,
            cfg,
            keys,
            decrypt: &mut self.decrypt,
            gateway: &mut self.gateway,
        };
        if let Some(d) = self.decoders.get_mut(side.index()) {
            d.feed(side, at, chunk, &mut ctx);
        }
    }

    /// No more bytes will come: what the decoders hold is released.
    pub fn finish(&mut self) {
        self.decrypt = DecryptState::Unknown;
        for (d, side) in self.decoders.iter_mut().zip([Side::Client, Side::Server]) {
            if d.inside_pdu() {
                self.facts.anomaly(
                    self.last,
                    side,
                    "stream ended inside a PDU: its length promised more bytes",
                );
            }
            d.finish();
        }
    }
}
