//! The supported cipher suites and thin wrappers over the RustCrypto primitives they use
//! (AES-GCM, ChaCha20-Poly1305, AES-CBC, HMAC). No cryptography is implemented here.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use super::kdf::Hash;

/// The bulk cipher of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bulk {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    Aes128Cbc,
    Aes256Cbc,
}

impl Bulk {
    pub(crate) fn key_len(self) -> usize {
        match self {
            Bulk::Aes128Gcm | Bulk::Aes128Cbc => 16,
            Bulk::Aes256Gcm | Bulk::Aes256Cbc | Bulk::ChaCha20Poly1305 => 32,
        }
    }
}

/// The record MAC of a CBC suite (RFC 5246 §6.2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacAlg {
    Sha1,
    Sha256,
    Sha384,
}

impl MacAlg {
    pub(crate) fn len(self) -> usize {
        match self {
            MacAlg::Sha1 => 20,
            MacAlg::Sha256 => 32,
            MacAlg::Sha384 => 48,
        }
    }
}

/// Which protocol versions a suite is defined for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versions {
    /// TLS 1.0, 1.1 and 1.2 (the SHA-1 CBC suites of RFC 5246 Appendix C / RFC 4492).
    Tls10To12,
    /// TLS 1.2 only (SHA-256/384 CBC suites, AEAD suites: RFC 5246, 5288, 5289, 7905).
    Tls12,
    /// TLS 1.3 only (RFC 8446 §B.4).
    Tls13,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Suite {
    pub(crate) id: u16,
    pub(crate) name: &'static str,
    pub(crate) bulk: Bulk,
    /// `Some` for CBC suites only; AEAD suites authenticate with their tag.
    pub(crate) mac: Option<MacAlg>,
    /// The TLS 1.2 PRF hash, or TLS 1.3's HKDF hash.
    pub(crate) hash: Hash,
    pub(crate) versions: Versions,
}

const fn s(id: u16, name: &'static str, bulk: Bulk, mac: Option<MacAlg>, hash: Hash, versions: Versions) -> Suite {
    Suite {
        id,
        name,
        bulk,
        mac,
        hash,
        versions,
    }
}

use Bulk as B;
use Hash::{Sha256 as H256, Sha384 as H384};
use Versions::{Tls10To12, Tls12, Tls13};

const SUITES: &[Suite] = &[
    s(
        0xC02F,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        B::Aes128Gcm,
        None,
        H256,
        Tls12,
    ),
    s(
        0xC030,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        B::Aes256Gcm,
        None,
        H384,
        Tls12,
    ),
    s(
        0xC02B,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        B::Aes128Gcm,
        None,
        H256,
        Tls12,
    ),
    s(
        0xC02C,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        B::Aes256Gcm,
        None,
        H384,
        Tls12,
    ),
    s(
        0x009C,
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        B::Aes128Gcm,
        None,
        H256,
        Tls12,
    ),
    s(
        0x009D,
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        B::Aes256Gcm,
        None,
        H384,
        Tls12,
    ),
    s(
        0xCCA8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        B::ChaCha20Poly1305,
        None,
        H256,
        Tls12,
    ),
    s(
        0xCCA9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        B::ChaCha20Poly1305,
        None,
        H256,
        Tls12,
    ),
    s(
        0x002F,
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        B::Aes128Cbc,
        Some(MacAlg::Sha1),
        H256,
        Tls10To12,
    ),
    s(
        0x0035,
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        B::Aes256Cbc,
        Some(MacAlg::Sha1),
        H256,
        Tls10To12,
    ),
    s(
        0xC013,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        B::Aes128Cbc,
        Some(MacAlg::Sha1),
        H256,
        Tls10To12,
    ),
    s(
        0xC014,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        B::Aes256Cbc,
        Some(MacAlg::Sha1),
        H256,
        Tls10To12,
    ),
    s(
        0x003C,
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        B::Aes128Cbc,
        Some(MacAlg::Sha256),
        H256,
        Tls12,
    ),
    s(
        0x003D,
        "TLS_RSA_WITH_AES_256_CBC_SHA256",
        B::Aes256Cbc,
        Some(MacAlg::Sha256),
        H256,
        Tls12,
    ),
    s(
        0xC027,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        B::Aes128Cbc,
        Some(MacAlg::Sha256),
        H256,
        Tls12,
    ),
    // RFC 5289 §3.1: the _SHA384 CBC suite uses HMAC-SHA384 and the SHA-384 PRF.
    s(
        0xC028,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        B::Aes256Cbc,
        Some(MacAlg::Sha384),
        H384,
        Tls12,
    ),
    s(0x1301, "TLS_AES_128_GCM_SHA256", B::Aes128Gcm, None, H256, Tls13),
    s(0x1302, "TLS_AES_256_GCM_SHA384", B::Aes256Gcm, None, H384, Tls13),
    s(
        0x1303,
        "TLS_CHACHA20_POLY1305_SHA256",
        B::ChaCha20Poly1305,
        None,
        H256,
        Tls13,
    ),
];

pub(crate) fn suite(id: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.id == id)
}

/// Whether this module can decrypt a connection using this cipher suite (at its version).
pub fn supported(cipher: u16) -> bool {
    suite(cipher).is_some()
}

/// The IANA name of a supported suite.
pub fn suite_name(cipher: u16) -> Option<&'static str> {
    suite(cipher).map(|s| s.name)
}

/// An AEAD key. Boxed: the AES key schedules are large and a connection holds two of them.
pub(crate) enum AeadKey {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

impl AeadKey {
    pub(crate) fn new(bulk: Bulk, key: &[u8]) -> Option<AeadKey> {
        Some(match bulk {
            Bulk::Aes128Gcm => AeadKey::Aes128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            Bulk::Aes256Gcm => AeadKey::Aes256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            Bulk::ChaCha20Poly1305 => AeadKey::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?)),
            Bulk::Aes128Cbc | Bulk::Aes256Cbc => return None,
        })
    }

    /// Opens ciphertext-and-tag; `None` if it does not authenticate.
    pub(crate) fn open(&self, nonce: [u8; 12], aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
        let payload = Payload { msg: ct, aad };
        let nonce = nonce.into();
        match self {
            AeadKey::Aes128(k) => k.decrypt(&nonce, payload).ok(),
            AeadKey::Aes256(k) => k.decrypt(&nonce, payload).ok(),
            AeadKey::ChaCha(k) => k.decrypt(&nonce, payload).ok(),
        }
    }
}

/// An AES-CBC key (RFC 5246 §6.2.3.2).
pub(crate) enum CbcKey {
    Aes128([u8; 16]),
    Aes256([u8; 32]),
}

impl CbcKey {
    pub(crate) fn new(bulk: Bulk, key: &[u8]) -> Option<CbcKey> {
        match bulk {
            Bulk::Aes128Cbc => Some(CbcKey::Aes128(key.try_into().ok()?)),
            Bulk::Aes256Cbc => Some(CbcKey::Aes256(key.try_into().ok()?)),
            _ => None,
        }
    }

    /// Decrypts whole blocks in place (no padding removal: TLS padding is checked by the caller).
    pub(crate) fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> Option<()> {
        match self {
            CbcKey::Aes128(k) => cbc::Decryptor::<aes::Aes128>::new(k.into(), iv.into())
                .decrypt_padded_mut::<NoPadding>(buf)
                .ok()
                .map(|_| ()),
            CbcKey::Aes256(k) => cbc::Decryptor::<aes::Aes256>::new(k.into(), iv.into())
                .decrypt_padded_mut::<NoPadding>(buf)
                .ok()
                .map(|_| ()),
        }
    }
}

/// HMAC over the concatenation of `parts` (RFC 2104).
pub(crate) fn hmac(alg: MacAlg, key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
        let mut m = <M as Mac>::new_from_slice(key).ok()?;
        for p in parts {
            m.update(p);
        }
        Some(m.finalize().into_bytes().to_vec())
    }
    match alg {
        MacAlg::Sha1 => run::<Hmac<Sha1>>(key, parts),
        MacAlg::Sha256 => run::<Hmac<Sha256>>(key, parts),
        MacAlg::Sha384 => run::<Hmac<Sha384>>(key, parts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decrypt::unhex;

    /// RFC 8439 §2.8.2: the AEAD_CHACHA20_POLY1305 example opens through the wrapper (nonce, AAD
    /// and tag placement as the TLS code uses them), and fails with one AAD bit changed.
    #[test]
    fn chacha20_poly1305_rfc8439_vector() {
        let key: Vec<u8> = (0x80..=0x9f).collect();
        let nonce: [u8; 12] = unhex("070000004041424344454647").try_into().unwrap();
        let mut aad = unhex("50515253c0c1c2c3c4c5c6c7");
        let ct = unhex(
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
             3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
             92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
             3ff4def08e4b7a9de576d26586cec64b6116 1ae10b594f09e26a7e902ecbd0600691",
        );
        let k = AeadKey::new(Bulk::ChaCha20Poly1305, &key).unwrap();
        let pt = k.open(nonce, &aad, &ct).unwrap();
        assert_eq!(
            pt,
            b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
        );
        aad[0] ^= 1;
        assert!(k.open(nonce, &aad, &ct).is_none());
    }

    #[test]
    fn suite_table_is_consistent() {
        for id in [
            0xC02F, 0xC030, 0xC02B, 0xC02C, 0x009C, 0x009D, 0xCCA8, 0xCCA9, 0x002F, 0x0035, 0x003C, 0x003D,
        ] {
            assert!(supported(id), "{id:04x}");
        }
        for id in [0xC013, 0xC014, 0xC027, 0xC028, 0x1301, 0x1302, 0x1303] {
            assert!(supported(id), "{id:04x}");
        }
        assert!(!supported(0x000A) && !supported(0x1304) && !supported(0xC09C));
        for s in SUITES {
            // The name tells the hash, the MAC and the key size.
            assert_eq!(s.name.ends_with("SHA384"), s.hash == Hash::Sha384, "{}", s.name);
            assert_eq!(s.name.contains("CBC"), s.mac.is_some(), "{}", s.name);
            assert_eq!(
                s.name.contains("_256_") || s.name.contains("CHACHA"),
                s.bulk.key_len() == 32,
                "{}",
                s.name
            );
        }
        assert_eq!(suite_name(0xC030), Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"));
    }
}
