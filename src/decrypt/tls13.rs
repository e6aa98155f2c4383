//! TLS 1.3 record protection, one direction (RFC 8446 §5.2–§5.3, §7.1–§7.3): handshake traffic
//! keys first, the first application traffic keys after this direction's Finished, the next
//! generation after each KeyUpdate.
//!
//! Key log without handshake secrets (some tools log only the application secrets; Windows
//! schannel, OpenSSL and FreeRDP log all four): the direction starts with the first application
//! key at sequence 0 and tries every record with it. The handshake records before it cannot be
//! read: each returns the non-final `Stop::HandshakeRecordSkipped`, up to
//! `MAX_SKIPPED_HANDSHAKE_RECORDS`; the first record that authenticates ends the skipping, and
//! from there decryption goes on as usual.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::cipher::{AeadKey, Suite};
use super::direction::{Plain, Stop};
use super::kdf::{expand_label, Hash};
use super::keylog::Secrets;
use crate::flow::Side;

/// Handshake records skipped without a handshake secret before giving up (a handshake needs a
/// handful of records; 64 is the analyzer's own bound on handshake records, docs/limits.md).
pub const MAX_SKIPPED_HANDSHAKE_RECORDS: u64 = 64;

const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;
const HS_FINISHED: u8 = 20;
const HS_KEY_UPDATE: u8 = 24;
const TAG_LEN: usize = 16;
/// RFC 8446 §5.2: TLSCiphertext.length is at most 2^14 + 256.
const MAX_CIPHERTEXT: usize = (1 << 14) + 256;

/// Finds handshake message boundaries in the decrypted handshake stream (RFC 8446 §4: type,
/// 24-bit length, body), across records. Bodies are skipped, never buffered.
#[derive(Default)]
struct HsScanner {
    header: [u8; 4],
    have: usize,
    body_left: usize,
}

impl HsScanner {
    /// Types of the messages that end within `data`, in order.
    fn feed(&mut self, mut data: &[u8]) -> Vec<u8> {
        let mut ended = Vec::new();
        while !data.is_empty() {
            if self.have < 4 {
                let take = (4 - self.have).min(data.len());
                let (h, rest) = data.split_at(take);
                for (d, s) in self.header.iter_mut().skip(self.have).zip(h) {
                    *d = *s;
                }
                self.have += take;
                data = rest;
                if self.have < 4 {
                    break;
                }
                let [_, a, b, c] = self.header;
                self.body_left = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            }
            let take = self.body_left.min(data.len());
            data = data.get(take..).unwrap_or(&[]);
            self.body_left -= take;
            if self.body_left == 0 {
                ended.push(self.header[0]);
                self.have = 0;
            }
        }
        ended
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshake,
    /// No handshake secret: trying the first application key until a record authenticates.
    AwaitingApplication {
        skipped: u64,
    },
    Application,
    /// Finished seen but the key log has no application traffic secret for this side.
    NoApplicationKey,
}

pub(crate) struct Tls13Dir {
    hash: Hash,
    suite: &'static Suite,
    phase: Phase,
    /// The current traffic secret (the next KeyUpdate derives from it).
    secret: Vec<u8>,
    /// The first application traffic secret, kept until the switch.
    app_secret: Option<Vec<u8>>,
    key: AeadKey,
    iv: [u8; 12],
    seq: u64,
    scanner: HsScanner,
    /// The keys were changed by a KeyUpdate and no record has authenticated with them since.
    after_key_update: bool,
}

fn traffic_keys(suite: &Suite, secret: &[u8]) -> Result<(AeadKey, [u8; 12]), Stop> {
    // RFC 8446 §7.3: key = HKDF-Expand-Label(secret, "key", "", key_length),
    // iv = HKDF-Expand-Label(secret, "iv", "", iv_length = 12).
    let key = expand_label(suite.hash, secret, b"key", suite.bulk.key_len()).ok_or(Stop::MissingKey)?;
    let iv = expand_label(suite.hash, secret, b"iv", 12).ok_or(Stop::MissingKey)?;
    let key = AeadKey::new(suite.bulk, &key).ok_or(Stop::UnsupportedCipherSuite(suite.id))?;
    Ok((key, iv.try_into().map_err(|_| Stop::MissingKey)?))
}

impl Tls13Dir {
    pub(crate) fn new(suite: &'static Suite, secrets: &Secrets, side: Side) -> Result<Tls13Dir, Stop> {
        let (hs, app) = match side {
            Side::Client => (&secrets.client_handshake, &secrets.client_traffic0),
            Side::Server => (&secrets.server_handshake, &secrets.server_traffic0),
        };
        let usable = |s: &Option<super::keylog::Secret>| {
            s.as_ref()
                .map(|s| s.as_slice().to_vec())
                .filter(|s| s.len() == suite.hash.len())
        };
        let (phase, secret, app_secret) = match (usable(hs), usable(app)) {
            (Some(hs), app) => (Phase::Handshake, hs, app),
            (None, Some(app)) => (Phase::AwaitingApplication { skipped: 0 }, app, None),
            (None, None) => return Err(Stop::MissingKey),
        };
        let (key, iv) = traffic_keys(suite, &secret)?;
        Ok(Tls13Dir {
            hash: suite.hash,
            suite,
            phase,
            secret,
            app_secret,
            key,
            iv,
            seq: 0,
            scanner: HsScanner::default(),
            after_key_update: false,
        })
    }

    fn rekey(&mut self, secret: Vec<u8>) -> Result<(), Stop> {
        let (key, iv) = traffic_keys(self.suite, &secret)?;
        self.key = key;
        self.iv = iv;
        self.secret = secret;
        self.seq = 0;
        // RFC 8446 §5.1: handshake messages must not span a key change.
        self.scanner = HsScanner::default();
        Ok(())
    }

    pub(crate) fn open(&mut self, record: u64, content_type: u8, version: u16, frag: &[u8]) -> Result<Plain, Stop> {
        if self.phase == Phase::NoApplicationKey {
            return Err(Stop::MissingKey);
        }
        if content_type != CT_APPLICATION_DATA {
            return Err(Stop::UnexpectedContentType { record, content_type });
        }
        if frag.len() < TAG_LEN + 1 {
            return Err(Stop::TooShort {
                record,
                len: frag.len(),
            });
        }
        if frag.len() > MAX_CIPHERTEXT {
            return Err(Stop::TooLong {
                record,
                len: frag.len(),
            });
        }
        // RFC 8446 §5.3: nonce = iv XOR the 64-bit sequence number, left-padded to 12 bytes.
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        // RFC 8446 §5.2: the additional data is the record header.
        let len = u16::try_from(frag.len()).map_err(|_| Stop::TooLong {
            record,
            len: frag.len(),
        })?;
        let [v0, v1] = version.to_be_bytes();
        let [l0, l1] = len.to_be_bytes();
        let Some(mut inner) = self.key.open(nonce, &[content_type, v0, v1, l0, l1], frag) else {
            return Err(match self.phase {
                Phase::AwaitingApplication { skipped } if skipped < MAX_SKIPPED_HANDSHAKE_RECORDS => {
                    self.phase = Phase::AwaitingApplication { skipped: skipped + 1 };
                    Stop::HandshakeRecordSkipped { record }
                }
                Phase::AwaitingApplication { .. } => Stop::MissingKey,
                _ if self.after_key_update => Stop::KeyUpdateNotFollowed { record },
                _ => Stop::BadRecordMac { record },
            });
        };
        self.seq = self.seq.wrapping_add(1);
        self.after_key_update = false;
        if matches!(self.phase, Phase::AwaitingApplication { .. }) {
            self.phase = Phase::Application;
        }
        // RFC 8446 §5.4: TLSInnerPlaintext = content + type + zeros; the type is the last non-zero byte.
        let type_at = inner
            .iter()
            .rposition(|&b| b != 0)
            .ok_or(Stop::NoInnerContentType { record })?;
        let inner_type = inner.get(type_at).copied().unwrap_or(0);
        inner.truncate(type_at);
        if inner_type == CT_HANDSHAKE {
            for msg in self.scanner.feed(&inner) {
                self.after_message(msg)?;
            }
        }
        Ok(Plain {
            content_type: inner_type,
            data: inner,
        })
    }

    fn after_message(&mut self, msg: u8) -> Result<(), Stop> {
        match (self.phase, msg) {
            // RFC 8446 §4.4.4, §7.1: after its Finished a side sends with its application keys.
            (Phase::Handshake, HS_FINISHED) => {
                // Without the application secret the Finished itself is still returned; the next
                // record stops the direction.
                let Some(app) = self.app_secret.take() else {
                    self.phase = Phase::NoApplicationKey;
                    return Ok(());
                };
                self.phase = Phase::Application;
                self.rekey(app)
            }
            // RFC 8446 §4.6.3, §7.2: application_traffic_secret_N+1 =
            // HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length).
            (Phase::Application, HS_KEY_UPDATE) => {
                let next =
                    expand_label(self.hash, &self.secret, b"traffic upd", self.hash.len()).ok_or(Stop::MissingKey)?;
                self.rekey(next)?;
                self.after_key_update = true;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "tls13_tests.rs"]
mod tests;
