//! Both directions of one connection, built from the handshake and the key log.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::cipher;
use super::direction::{Direction, HandshakeParams, Plain, Stop};
use super::keylog::KeyLog;
use crate::flow::Side;

/// The decryptors of one connection's two directions.
#[derive(Debug)]
pub struct Session {
    client: Direction,
    server: Direction,
}

impl Session {
    /// Looks the connection's secrets up by its client random. Never fails: an unsupported suite
    /// or a missing key leaves both directions stopped, and [`Session::failure`] says why.
    pub fn new(params: &HandshakeParams, keylog: &KeyLog) -> Session {
        let secrets = keylog.get(&params.client_random);
        Session {
            client: Direction::new(params, secrets, Side::Client),
            server: Direction::new(params, secrets, Side::Server),
        }
    }

    /// Whether a connection with this cipher suite can be decrypted (given its key).
    pub fn supported(cipher: u16) -> bool {
        cipher::supported(cipher)
    }

    /// Decrypts the next protected record sent by `side` (see [`Direction::open`]).
    pub fn open(&mut self, side: Side, content_type: u8, record_version: u16, fragment: &[u8]) -> Result<Plain, Stop> {
        self.direction_mut(side).open(content_type, record_version, fragment)
    }

    pub fn direction_mut(&mut self, side: Side) -> &mut Direction {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    pub fn direction(&self, side: Side) -> &Direction {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    /// The first direction's stop reason (client first), if any direction stopped.
    pub fn failure(&self) -> Option<&Stop> {
        self.client.stopped().or(self.server.stopped())
    }

    /// The stop reason's short name (`Stop::kind`), for a report field.
    pub fn failure_name(&self) -> Option<&'static str> {
        self.failure().map(Stop::kind)
    }
}
