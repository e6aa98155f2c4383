//! What the rest of a connection shares with its stream decoders while they run: the
//! facts they fill in, the timeline they add to, and the bounds.

use crate::config::Config;
use crate::conn::event::{EventKind, Timeline};
use crate::conn::facts::RdpFacts;
use crate::conn::gateway::GatewayStream;
use crate::conn::inside::DecryptState;
use crate::decrypt::Keys;
use crate::flow::tcp::At;
use crate::flow::Side;

/// What the rest of the connection shares with a stream decoder.
pub struct Ctx<'a> {
    pub facts: &'a mut RdpFacts,
    pub timeline: &'a mut Timeline,
    pub cfg: &'a Config,
    /// The run's key logs, if any.
    pub keys: Option<&'a Keys>,
    /// The connection's decryptor, once a key matched.
    pub decrypt: &'a mut DecryptState,
    /// An HTTPS connection's decrypted HTTP, WebSocket and MS-TSGU state.
    pub gateway: &'a mut GatewayStream,
}

impl Ctx<'_> {
    pub fn event(&mut self, at: At, side: Side, kind: EventKind) {
        self.timeline.push(self.cfg.max_events, at, side, kind);
    }

    pub fn anomaly(&mut self, at: At, side: Side, what: &'static str) {
        self.facts.anomaly(at, side, what);
        self.event(at, side, EventKind::Malformed { what });
    }
}
