//! The key logs of one run, by where they came from: the capture's own Decryption Secrets
//! Blocks or `--keylog` files. A connection's record says which one unlocked it.

use super::keylog::{KeyLog, Secrets};

/// Where a connection's keys came from (the record's `decryption.keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// A pcapng Decryption Secrets Block in the capture itself.
    Capture,
    /// A `--keylog` file.
    Keylog,
}

impl KeySource {
    pub fn name(self) -> &'static str {
        match self {
            KeySource::Capture => "capture",
            KeySource::Keylog => "keylog",
        }
    }
}

#[derive(Debug, Default)]
pub struct Keys {
    pub capture: KeyLog,
    pub files: KeyLog,
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
        self.capture.is_empty() && self.files.is_empty()
    }
}
