//! The key logs of one run, by where they came from: the capture's own Decryption Secrets
//! Blocks or `--keylog` files. A connection's record says which one unlocked it.

use super::keylog::{KeyLog, Secrets};
use super::server_key::ServerKeys;

/// Where a connection's keys came from (the record's `decryption.keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A pcapng Decryption Secrets Block in the capture itself.
    Capture,
    /// A `--keylog` file.
    Keylog,
    /// A `--server-key`: the premaster secret of an RSA key exchange, decrypted.
    ServerKey,
}

impl KeySource {
    pub fn name(self) -> &'static str {
        match self {
            KeySource::Capture => "capture",
            KeySource::Keylog => "keylog",
            KeySource::ServerKey => "server_key",
        }
    }
}

#[derive(Debug, Default)]
pub struct Keys {
    pub capture: KeyLog,
    pub files: KeyLog,
    /// `--server-key` RSA keys (tried when no key log has the connection).
    pub server: ServerKeys,
}

impl Keys {
    /// The secrets for a client random: the capture's own first, then the key log files.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<(KeySource, &Secrets)> {
        self.capture
            .get(client_random)
            .map(|s| (KeySource::Capture, s))
            .or_else(|| self.files.get(client_random).map(|s| (KeySource::Keylog, s)))
    }

    pub fn is_empty(&self) -> bool {
        self.capture.is_empty() && self.files.is_empty() && self.server.is_empty()
    }
}
