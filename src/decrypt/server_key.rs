//! Decryption with the server's own RSA key (`--server-key`): in a TLS ≤ 1.2 session with RSA
//! key exchange (TLS_RSA_WITH_*), the client sends the premaster secret encrypted to the
//! certificate's key (RFC 5246 §7.4.7.1); with that key the premaster secret, then the master
//! secret (RFC 5246 §8.1, or RFC 7627 §4 with extended_master_secret), are recomputed and the
//! session decrypts as with a key log. ECDHE/DHE sessions (forward secrecy) cannot be: their
//! premaster never travels.
//!
//! RSA with RustCrypto's `rsa` (PKCS#1 v1.5, RFC 8017 §7.2.2). The keys are read from PEM or
//! DER, PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`). A key never reaches `Debug`, an
//! error or any output.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::fmt;

use md5::Md5;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384};

use super::cipher::{suite, Versions};
use super::kdf::{prf10, prf12, Hash};
use super::keylog::Secrets;

/// Largest key file read (a PEM RSA key of 16384 bits is about 13 KiB).
pub const MAX_KEY_FILE: usize = 64 * 1024;
/// Most `--server-key` keys tried per connection.
pub const MAX_SERVER_KEYS: usize = 64;
/// Handshake bytes kept per connection for the extended master secret's session hash
/// (ClientHello to ClientKeyExchange, certificates included).
pub const MAX_TRANSCRIPT: usize = 256 * 1024;

/// TLS_RSA_WITH_* suites this crate decrypts (RFC 5246 Appendix A.5, RFC 5288 §3): the key
/// exchange whose premaster secret travels encrypted to the server's RSA key.
const RSA_KX: [u16; 6] = [0x002F, 0x0035, 0x003C, 0x003D, 0x009C, 0x009D];

/// Whether a cipher suite exchanges its premaster secret under the server's RSA key.
pub fn is_rsa_key_exchange(cipher: u16) -> bool {
    RSA_KX.contains(&cipher)
}

/// Why a key file is refused (the key itself is never part of it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("larger than {MAX_KEY_FILE} bytes: not a private key file")]
    TooLarge,
    #[error("not an RSA private key (PEM or DER, PKCS#1 or PKCS#8); encrypted keys must be decrypted first (openssl pkey -in KEY -out PLAIN)")]
    NotRsaKey,
    #[error("more than {MAX_SERVER_KEYS} server keys")]
    TooMany,
}

/// The run's server keys. `Debug` says how many, never what.
#[derive(Clone, Default)]
pub struct ServerKeys {
    keys: Vec<RsaPrivateKey>,
}

impl fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerKeys({} keys)", self.keys.len())
    }
}

/// What the handshake showed of an RSA key exchange.
pub struct RsaExchange<'a> {
    pub version: u16,
    pub cipher: u16,
    /// ClientHello.client_version, which the premaster secret starts with (RFC 5246 §7.4.7.1).
    pub client_version: u16,
    pub client_random: &'a [u8; 32],
    pub server_random: &'a [u8; 32],
    /// EncryptedPreMasterSecret from the ClientKeyExchange (without its length prefix).
    pub encrypted_premaster: &'a [u8],
    /// The ServerHello echoed extended_master_secret (RFC 7627 §5.2).
    pub extended_master_secret: bool,
    /// Every handshake message from ClientHello to ClientKeyExchange inclusive (RFC 7627 §3),
    /// `None` when it was not kept whole.
    pub transcript: Option<&'a [u8]>,
}

/// Why the server keys open no premaster secret for a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an RSA key exchange: ECDHE/DHE (forward secrecy) or TLS 1.3.
    ForwardSecrecy,
    /// No key opens the premaster (another server's key, or a premaster the server itself
    /// replaced by a random one, RFC 5246 §7.4.7.1, so the handshake failed).
    NoKeyOpens,
    /// Extended master secret with a handshake not kept whole.
    NoTranscript,
}

impl ServerKeys {
    /// Read one key file's bytes: PEM (PKCS#1 or PKCS#8) or DER (either).
    pub fn add(&mut self, bytes: &[u8]) -> Result<(), KeyError> {
        if bytes.len() > MAX_KEY_FILE {
            return Err(KeyError::TooLarge);
        }
        if self.keys.len() >= MAX_SERVER_KEYS {
            return Err(KeyError::TooMany);
        }
        let key = std::str::from_utf8(bytes)
            .ok()
            .and_then(|pem| {
                RsaPrivateKey::from_pkcs8_pem(pem)
                    .ok()
                    .or_else(|| RsaPrivateKey::from_pkcs1_pem(pem).ok())
            })
            .or_else(|| RsaPrivateKey::from_pkcs8_der(bytes).ok())
            .or_else(|| RsaPrivateKey::from_pkcs1_der(bytes).ok())
            .ok_or(KeyError::NotRsaKey)?;
        self.keys.push(key);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The connection's secrets (its master secret, as a key log's CLIENT_RANDOM line gives
    /// it), or why the keys cannot give them.
    pub fn secrets(&self, x: &RsaExchange<'_>) -> Result<Secrets, Refusal> {
        let suite = suite(x.cipher).filter(|_| is_rsa_key_exchange(x.cipher) && x.version <= 0x0303);
        let suite = suite.ok_or(Refusal::ForwardSecrecy)?;
        let premaster = self.premaster(x).ok_or(Refusal::NoKeyOpens)?;
        // TLS 1.2 runs the suite's PRF hash; 1.0/1.1 the MD5/SHA-1 PRF (RFC 2246 §5).
        let tls12 = x.version == 0x0303 || suite.versions != Versions::Tls10To12;
        let mut master = [0u8; 48];
        if x.extended_master_secret {
            let t = x.transcript.ok_or(Refusal::NoTranscript)?;
            // RFC 7627 §3: session_hash = Hash(handshake_messages), the PRF's hash in TLS 1.2,
            // MD5 || SHA-1 before.
            let session_hash: Vec<u8> = match (tls12, suite.hash) {
                (true, Hash::Sha256) => Sha256::digest(t).to_vec(),
                (true, Hash::Sha384) => Sha384::digest(t).to_vec(),
                (false, _) => [Md5::digest(t).to_vec(), Sha1::digest(t).to_vec()].concat(),
            };
            prf(
                tls12,
                suite.hash,
                &premaster,
                b"extended master secret",
                &[&session_hash],
                &mut master,
            );
        } else {
            let seed: [&[u8]; 2] = [x.client_random, x.server_random];
            prf(tls12, suite.hash, &premaster, b"master secret", &seed, &mut master);
        }
        Secrets::with_master(&master).ok_or(Refusal::NoKeyOpens)
    }

    /// The 48-byte premaster secret, opened by the first key it fits. The checks are the
    /// server's own (RFC 5246 §7.4.7.1): PKCS#1 v1.5 padding, 48 bytes, the ClientHello's
    /// version first. A server that finds any of them wrong goes on with a random premaster
    /// and the handshake fails; so a premaster that fails them is not this session's.
    fn premaster(&self, x: &RsaExchange<'_>) -> Option<Vec<u8>> {
        let version = x.client_version.to_be_bytes();
        self.keys
            .iter()
            .filter(|k| k.size() == x.encrypted_premaster.len())
            .filter_map(|k| k.decrypt(Pkcs1v15Encrypt, x.encrypted_premaster).ok())
            .find(|pms| pms.len() == 48 && pms.get(..2) == Some(&version[..]))
    }
}

fn prf(tls12: bool, hash: Hash, secret: &[u8], label: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    if tls12 {
        prf12(hash, secret, label, seed, out);
    } else {
        prf10(secret, label, seed, out);
    }
}

#[cfg(test)]
#[path = "server_key_tests.rs"]
mod tests;
