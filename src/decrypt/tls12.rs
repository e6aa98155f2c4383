//! TLS 1.0–1.2 record protection, one direction: AEAD (RFC 5246 §6.2.3.3 with RFC 5288 AES-GCM
//! and RFC 7905 ChaCha20-Poly1305) and CBC with HMAC (RFC 5246 §6.2.3.2, RFC 2246 §6.2.3.2 for
//! TLS 1.0's chained IV, RFC 7366 encrypt-then-MAC).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use super::cipher::{hmac, AeadKey, Bulk, CbcKey, MacAlg, Suite, Versions};
use super::direction::Stop;
use super::kdf;
use crate::flow::Side;

const TLS10: u16 = 0x0301;
const TAG_LEN: usize = 16;
const BLOCK: usize = 16;
/// RFC 5288 §3: the nonce_explicit carried in each GCM record.
const GCM_EXPLICIT_NONCE: usize = 8;

enum Protection {
    /// `fixed_iv` is the 4-byte GCM salt (RFC 5288 §3) or ChaCha's 12-byte IV (RFC 7905 §2).
    Aead {
        key: AeadKey,
        fixed_iv: Vec<u8>,
        explicit_nonce: bool,
    },
    Cbc {
        key: CbcKey,
        mac: MacAlg,
        mac_key: Vec<u8>,
        /// TLS 1.0 only: the IV of the next record, the last ciphertext block of the previous one
        /// (initially the key block's write IV). `None` from TLS 1.1 on: the IV is in each record.
        chained_iv: Option<[u8; BLOCK]>,
        encrypt_then_mac: bool,
    },
}

pub(crate) struct Tls12Dir {
    seq: u64,
    prot: Protection,
}

impl Tls12Dir {
    pub(crate) fn new(
        suite: &Suite,
        version: u16,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        side: Side,
        encrypt_then_mac: bool,
    ) -> Result<Tls12Dir, Stop> {
        let mac_len = suite.mac.map_or(0, MacAlg::len);
        let key_len = suite.bulk.key_len();
        let iv_len = match suite.bulk {
            Bulk::Aes128Gcm | Bulk::Aes256Gcm => 4,
            Bulk::ChaCha20Poly1305 => 12,
            Bulk::Aes128Cbc | Bulk::Aes256Cbc => BLOCK,
        };
        // RFC 5246 §6.3: client MAC key, server MAC key, client key, server key, client IV, server IV.
        // TLS 1.0/1.1 use the MD5/SHA-1 PRF (RFC 2246 §5); TLS 1.2 the suite's PRF hash.
        let prf_hash = (version > 0x0302 || suite.versions != Versions::Tls10To12).then_some(suite.hash);
        let kb = kdf::key_block(
            prf_hash,
            master,
            client_random,
            server_random,
            2 * (mac_len + key_len + iv_len),
        );
        let pick = |start: usize, len: usize| -> Result<&[u8], Stop> {
            let own = if side == Side::Client { start } else { start + len };
            kb.get(own..own + len).ok_or(Stop::MissingKey)
        };
        let mac_key = pick(0, mac_len)?;
        let key = pick(2 * mac_len, key_len)?;
        let iv = pick(2 * (mac_len + key_len), iv_len)?;
        let prot = match suite.mac {
            None => Protection::Aead {
                key: AeadKey::new(suite.bulk, key).ok_or(Stop::UnsupportedCipherSuite(suite.id))?,
                fixed_iv: iv.to_vec(),
                explicit_nonce: suite.bulk != Bulk::ChaCha20Poly1305,
            },
            Some(mac) => Protection::Cbc {
                key: CbcKey::new(suite.bulk, key).ok_or(Stop::UnsupportedCipherSuite(suite.id))?,
                mac,
                mac_key: mac_key.to_vec(),
                chained_iv: if version <= TLS10 { iv.try_into().ok() } else { None },
                encrypt_then_mac,
            },
        };
        Ok(Tls12Dir { seq: 0, prot })
    }

    /// The record's plaintext. `record` numbers the record in errors.
    pub(crate) fn open(&mut self, record: u64, content_type: u8, version: u16, frag: &[u8]) -> Result<Vec<u8>, Stop> {
        let seq = self.seq.to_be_bytes();
        let too_short = Stop::TooShort {
            record,
            len: frag.len(),
        };
        let bad = Stop::BadRecordMac { record };
        // The MAC/AAD header (RFC 5246 §6.2.3.1, §6.2.3.3): seq_num + type + version + length.
        let header = |len: usize| -> [u8; 13] {
            let mut h = [0u8; 13];
            h[..8].copy_from_slice(&seq);
            h[8] = content_type;
            h[9..11].copy_from_slice(&version.to_be_bytes());
            h[11..].copy_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
            h
        };
        let plain = match &mut self.prot {
            Protection::Aead {
                key,
                fixed_iv,
                explicit_nonce,
            } => {
                let mut nonce = [0u8; 12];
                let ct = if *explicit_nonce {
                    // RFC 5288 §3: nonce = salt (4, from the key block) + nonce_explicit (8, in the record).
                    let (explicit, ct) = frag.split_at_checked(GCM_EXPLICIT_NONCE).ok_or(too_short.clone())?;
                    for (n, b) in nonce.iter_mut().zip(fixed_iv.iter().chain(explicit)) {
                        *n = *b;
                    }
                    ct
                } else {
                    // RFC 7905 §2: nonce = the 12-byte IV XOR the sequence number, left-padded.
                    for (i, n) in nonce.iter_mut().enumerate() {
                        let s = i.checked_sub(4).and_then(|j| seq.get(j)).copied().unwrap_or(0);
                        *n = fixed_iv.get(i).copied().unwrap_or(0) ^ s;
                    }
                    frag
                };
                let plen = ct.len().checked_sub(TAG_LEN).ok_or(too_short)?;
                key.open(nonce, &header(plen), ct).ok_or(bad)?
            }
            Protection::Cbc {
                key,
                mac,
                mac_key,
                chained_iv,
                encrypt_then_mac,
            } => {
                let mac_len = mac.len();
                let (iv, body) = match chained_iv {
                    Some(iv) => (*iv, frag),
                    None => {
                        let (iv, body) = frag.split_at_checked(BLOCK).ok_or(too_short.clone())?;
                        (iv.try_into().map_err(|_| too_short.clone())?, body)
                    }
                };
                let (mut ct, tag) = if *encrypt_then_mac {
                    // RFC 7366 §3: the MAC covers the IV and the ciphertext, and comes after them.
                    let ct_len = body.len().checked_sub(mac_len).ok_or(too_short.clone())?;
                    let (ct, tag) = body.split_at(ct_len);
                    let protected = frag.len() - mac_len;
                    let iv_part = frag.get(..frag.len() - body.len()).unwrap_or(&[]);
                    let want = hmac(*mac, mac_key, &[&header(protected), iv_part, ct]).ok_or(bad.clone())?;
                    if want != tag {
                        return Err(bad);
                    }
                    (ct.to_vec(), Some(()))
                } else {
                    (body.to_vec(), None)
                };
                if ct.is_empty() || ct.len() % BLOCK != 0 {
                    return Err(too_short);
                }
                let next_iv: Option<[u8; BLOCK]> = ct.get(ct.len() - BLOCK..).and_then(|b| b.try_into().ok());
                key.decrypt(&iv, &mut ct).ok_or(bad.clone())?;
                // RFC 5246 §6.2.3.2: padding_length as last byte, preceded by that many copies of it.
                let pad = usize::from(*ct.last().ok_or(bad.clone())?);
                let min = pad + 1 + if tag.is_some() { 0 } else { mac_len };
                if ct.len() < min || !ct.iter().rev().take(pad + 1).all(|&b| usize::from(b) == pad) {
                    return Err(bad);
                }
                ct.truncate(ct.len() - pad - 1);
                if tag.is_none() {
                    let content_len = ct.len() - mac_len;
                    let (content, got) = ct.split_at(content_len);
                    let want = hmac(*mac, mac_key, &[&header(content_len), content]).ok_or(bad.clone())?;
                    if want != got {
                        return Err(bad);
                    }
                    ct.truncate(content_len);
                }
                if chained_iv.is_some() {
                    *chained_iv = next_iv;
                }
                ct
            }
        };
        self.seq = self.seq.wrapping_add(1);
        Ok(plain)
    }
}

#[cfg(test)]
#[path = "tls12_tests.rs"]
mod tests;
