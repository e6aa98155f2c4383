//! One direction of one TLS connection: fed its protected records in order, gives their plaintext,
//! or stops for good with a reason a human can read.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::fmt;

use super::cipher::{suite, Suite, Versions};
use super::keylog::Secrets;
use super::tls12::Tls12Dir;
use super::tls13::Tls13Dir;
use crate::flow::Side;

/// RFC 5246 §6.2.3: a protected TLS ≤ 1.2 record is at most 2^14 + 2048 bytes (RFC 8446 §5.2
/// allows 2^14 + 256 in TLS 1.3); a longer one is not a record of a working peer.
pub const MAX_FRAGMENT_LEN: usize = (1 << 14) + 2048;

/// What the handshake negotiated, as the connection's parser saw it in the hellos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeParams {
    /// The negotiated version: 0x0301–0x0303, or 0x0304 for TLS 1.3 (from the ServerHello's
    /// supported_versions extension, RFC 8446 §4.2.1, not its legacy_version 0x0303).
    pub version: u16,
    pub cipher: u16,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    /// The ServerHello echoed encrypt_then_mac (RFC 7366 §2); only matters for CBC suites.
    pub encrypt_then_mac: bool,
}

/// A record's plaintext. `Debug` shows its type and length only: decrypted RDP can carry
/// passwords (the Client Info PDU) and must not reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Plain {
    /// The record's content type; in TLS 1.3 the real (inner) type (RFC 8446 §5.2).
    pub content_type: u8,
    pub data: Vec<u8>,
}

impl fmt::Debug for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Plain {{ content_type: {}, len: {} }}",
            self.content_type,
            self.data.len()
        )
    }
}

/// Why a direction can decrypt no further. Records are numbered from 1, the first protected
/// record of the direction. Carries no key material and no record content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error("cipher suite 0x{0:04x} is not supported for decryption")]
    UnsupportedCipherSuite(u16),
    #[error("cipher suite 0x{cipher:04x} is not defined for protocol version 0x{version:04x}")]
    UnsupportedVersion { version: u16, cipher: u16 },
    #[error("the key log has no usable secret for this connection")]
    MissingKey,
    #[error("record {record} failed to authenticate (wrong key, or a record is missing)")]
    BadRecordMac { record: u64 },
    #[error("record {record} failed to authenticate after a KeyUpdate: the key update was not followed")]
    KeyUpdateNotFollowed { record: u64 },
    #[error("record {record} is too short ({len} bytes) for its cipher")]
    TooShort { record: u64, len: usize },
    #[error("record {record} is longer ({len} bytes) than TLS allows")]
    TooLong { record: u64, len: usize },
    #[error("TLS 1.3 record {record} has no inner content type (all padding)")]
    NoInnerContentType { record: u64 },
    #[error("TLS 1.3 record {record} has outer content type {content_type}, not application_data")]
    UnexpectedContentType { record: u64, content_type: u8 },
    /// Not final: with no handshake traffic secret, TLS 1.3 handshake records cannot be read and
    /// are skipped until one authenticates with the first application key (see `tls13`).
    #[error("record {record} skipped: no handshake traffic secret in the key log")]
    HandshakeRecordSkipped { record: u64 },
    /// `--server-key` on an ECDHE/DHE or TLS 1.3 session: its premaster never travelled.
    #[error("ECDHE key exchange (forward secrecy): the server's key cannot decrypt this session; a key log is needed")]
    ForwardSecrecy,
    /// `--server-key` and an RSA key exchange, but no key opens the premaster secret.
    #[error("no --server-key opens this session's premaster secret (another server's key, or a premaster the server replaced by a random one and the handshake failed)")]
    ServerKeyMismatch,
    /// `--server-key`, an RSA key exchange, but no ClientKeyExchange (or not the whole
    /// handshake, with extended_master_secret) was captured.
    #[error("the ClientKeyExchange or the handshake the extended master secret needs was not captured whole")]
    NoPremaster,
}

impl Stop {
    /// A short stable name for reports (snake case).
    pub fn kind(&self) -> &'static str {
        match self {
            Stop::UnsupportedCipherSuite(_) => "unsupported_cipher_suite",
            Stop::UnsupportedVersion { .. } => "unsupported_version",
            Stop::MissingKey => "missing_key",
            Stop::BadRecordMac { .. } => "bad_record_mac",
            Stop::KeyUpdateNotFollowed { .. } => "key_update_not_followed",
            Stop::TooShort { .. } => "record_too_short",
            Stop::TooLong { .. } => "record_too_long",
            Stop::NoInnerContentType { .. } => "no_inner_content_type",
            Stop::UnexpectedContentType { .. } => "unexpected_content_type",
            Stop::HandshakeRecordSkipped { .. } => "handshake_record_skipped",
            Stop::ForwardSecrecy => "forward_secrecy",
            Stop::ServerKeyMismatch => "server_key_mismatch",
            Stop::NoPremaster => "no_premaster",
        }
    }

    /// Whether the direction is stopped for good. Only `HandshakeRecordSkipped` is not final.
    pub fn is_final(&self) -> bool {
        !matches!(self, Stop::HandshakeRecordSkipped { .. })
    }
}

enum State {
    Tls12(Box<Tls12Dir>),
    Tls13(Box<Tls13Dir>),
    Stopped(Stop),
}

/// The decryptor of one direction. Built from the handshake and the key log, fed that direction's
/// records from the first protected one on: TLS ≤ 1.2, every record after the direction's
/// ChangeCipherSpec (the Finished first); TLS 1.3, every application_data (23) record (not the
/// compatibility ChangeCipherSpec records).
pub struct Direction {
    state: State,
    records: u64,
    suite: Option<&'static Suite>,
}

impl fmt::Debug for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Tls12(_) => "tls12",
            State::Tls13(_) => "tls13",
            State::Stopped(_) => "stopped",
        };
        f.debug_struct("Direction")
            .field("suite", &self.suite.map(|s| s.name))
            .field("state", &state)
            .field("records", &self.records)
            .finish()
    }
}

impl Direction {
    /// The decryptor of `side`'s records. Never fails: if the suite, version or key is not
    /// usable, the direction starts stopped and `open` returns why.
    pub fn new(params: &HandshakeParams, secrets: Option<&Secrets>, side: Side) -> Direction {
        let suite = suite(params.cipher);
        let state = match Direction::build(params, suite, secrets, side) {
            Ok(s) => s,
            Err(stop) => State::Stopped(stop),
        };
        Direction {
            state,
            records: 0,
            suite,
        }
    }

    /// A direction that decrypts nothing, for the reason given (a server key that cannot).
    pub fn refused(stop: Stop) -> Direction {
        Direction {
            state: State::Stopped(stop),
            records: 0,
            suite: None,
        }
    }

    fn build(
        p: &HandshakeParams,
        suite: Option<&'static Suite>,
        secrets: Option<&Secrets>,
        side: Side,
    ) -> Result<State, Stop> {
        let suite = suite.ok_or(Stop::UnsupportedCipherSuite(p.cipher))?;
        let version_ok = match suite.versions {
            Versions::Tls10To12 => (0x0301..=0x0303).contains(&p.version),
            Versions::Tls12 => p.version == 0x0303,
            Versions::Tls13 => p.version == 0x0304,
        };
        if !version_ok {
            return Err(Stop::UnsupportedVersion {
                version: p.version,
                cipher: p.cipher,
            });
        }
        let secrets = secrets.ok_or(Stop::MissingKey)?;
        if suite.versions == Versions::Tls13 {
            return Ok(State::Tls13(Box::new(Tls13Dir::new(suite, secrets, side)?)));
        }
        let master = secrets.master.as_ref().ok_or(Stop::MissingKey)?;
        let dir = Tls12Dir::new(
            suite,
            p.version,
            master.as_slice(),
            &p.client_random,
            &p.server_random,
            side,
            p.encrypt_then_mac,
        )?;
        Ok(State::Tls12(Box::new(dir)))
    }

    /// Decrypts the next record of this direction: its header's content type and version, and its
    /// fragment (the bytes after the 5-byte header). After a final [`Stop`] every call returns it.
    pub fn open(&mut self, content_type: u8, record_version: u16, fragment: &[u8]) -> Result<Plain, Stop> {
        self.records += 1;
        let record = self.records;
        if fragment.len() > MAX_FRAGMENT_LEN {
            return Err(self.stop(Stop::TooLong {
                record,
                len: fragment.len(),
            }));
        }
        let res = match &mut self.state {
            State::Stopped(s) => return Err(s.clone()),
            State::Tls12(d) => d
                .open(record, content_type, record_version, fragment)
                .map(|data| Plain { content_type, data }),
            State::Tls13(d) => d.open(record, content_type, record_version, fragment),
        };
        match res {
            Ok(p) => Ok(p),
            Err(stop) if !stop.is_final() => Err(stop),
            Err(stop) => Err(self.stop(stop)),
        }
    }

    fn stop(&mut self, stop: Stop) -> Stop {
        self.state = State::Stopped(stop.clone());
        stop
    }

    /// Why the direction stopped, if it did.
    pub fn stopped(&self) -> Option<&Stop> {
        match &self.state {
            State::Stopped(s) => Some(s),
            _ => None,
        }
    }

    /// Records fed so far.
    pub fn records(&self) -> u64 {
        self.records
    }
}
