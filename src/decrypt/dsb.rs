//! pcapng Decryption Secrets Blocks (draft-ietf-opsawg-pcapng §4.7): find the TLS key log a
//! capture carries with it, and write such a block for evidence files.
//!
//! The scanner walks the blocks of a pcapng file (any number of sections, each in its own byte
//! order) through `std::io::Read`, reading into memory only the bodies of Decryption Secrets
//! Blocks; every other block is skipped unread. A classic pcap file (or anything whose first four
//! bytes are not a Section Header Block type) is not pcapng and yields `Ok(empty)`: it cannot carry
//! secrets. A file that starts as pcapng and then breaks its own framing is an error.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{self, Read};

/// Section Header Block type (§4.1); the same bytes in both byte orders.
const SHB_TYPE: u32 = 0x0A0D_0D0A;
/// Byte-order magic written in the writer's byte order (§4.1).
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Decryption Secrets Block type (§4.7).
pub const DSB_TYPE: u32 = 0x0000_000A;
/// Secrets type "TLSK": NSS key log text (§4.7.1).
pub const SECRETS_TYPE_TLS_KEYLOG: u32 = 0x544C_534B;

/// Any block longer than this is refused (Wireshark refuses blocks of about this size too; a
/// packet block of the largest snapshot length is far smaller). Skipped blocks are never held in
/// memory, so this bounds nothing but nonsense lengths.
pub const MAX_BLOCK_LEN: u32 = 128 * 1024 * 1024;
/// The secrets of all DSBs of one file together may not exceed this (a key log line is under 200
/// bytes: 16 MiB is some 80,000 connections' keys, more than the key log store keeps).
pub const MAX_SECRETS_BYTES: usize = 16 * 1024 * 1024;

/// Room allowed in a DSB body for its options (comments) beyond the secrets.
const MAX_DSB_OPTIONS: usize = 64 * 1024;

/// Smallest block: type, length, trailing length.
const MIN_BLOCK_LEN: u32 = 12;

/// Why a pcapng file's secrets could not be read. Offsets are byte offsets in the file. No
/// variant carries file content.
#[derive(Debug, thiserror::Error)]
pub enum DsbError {
    #[error("reading the capture failed: {0}")]
    Io(#[from] io::Error),
    #[error("pcapng block at offset {offset} is cut short by the end of the file")]
    Truncated { offset: u64 },
    #[error("pcapng section header at offset {offset} has no valid byte-order magic")]
    BadByteOrderMagic { offset: u64 },
    #[error("pcapng block at offset {offset} has an invalid length {len} (not a multiple of 4, or below 12)")]
    BadBlockLength { offset: u64, len: u32 },
    #[error("pcapng block at offset {offset} is {len} bytes, over the {MAX_BLOCK_LEN}-byte bound")]
    BlockTooLarge { offset: u64, len: u32 },
    #[error("pcapng block at offset {offset}: trailing length {trailing} differs from the leading {len}")]
    LengthMismatch { offset: u64, len: u32, trailing: u32 },
    #[error("decryption secrets block at offset {offset} claims {claimed} bytes of secrets, more than it holds")]
    BadSecretsLength { offset: u64, claimed: u32 },
    #[error("the capture's decryption secrets exceed the {MAX_SECRETS_BYTES}-byte bound")]
    SecretsTooLarge,
}

fn read_exact_or_eof<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let Some(dst) = buf.get_mut(got..) else { break };
        match r.read(dst) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn u32_at(b: &[u8], at: usize, le: bool) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        w.copy_from_slice(s);
    }
    if le {
        u32::from_le_bytes(w)
    } else {
        u32::from_be_bytes(w)
    }
}

/// The payloads of every TLS key log DSB in a pcapng file, in file order. Other secrets types
/// (SSH, WireGuard, ZigBee, …) are skipped. Non-pcapng input gives `Ok(vec![])`; see the module
/// comment. Stops at the first framing error.
pub fn scan_tls_keylogs<R: Read>(mut r: R) -> Result<Vec<Vec<u8>>, DsbError> {
    let mut out = Vec::new();
    let mut total = 0usize;
    let mut offset = 0u64;
    let mut le = true;
    let mut head = [0u8; 12];
    loop {
        let got = read_exact_or_eof(&mut r, &mut head[..8])?;
        if got == 0 {
            return Ok(out);
        }
        let block_type = u32_at(&head, 0, le);
        if offset == 0 && (got < 8 || u32_at(&head, 0, true) != SHB_TYPE) {
            return Ok(out);
        }
        if got < 8 {
            return Err(DsbError::Truncated { offset });
        }
        let mut consumed = 8u32;
        if block_type == SHB_TYPE {
            // The SHB's length can only be read once its magic tells the section's byte order.
            if read_exact_or_eof(&mut r, &mut head[8..12])? < 4 {
                return Err(DsbError::Truncated { offset });
            }
            le = match u32_at(&head, 8, true) {
                BYTE_ORDER_MAGIC => true,
                m if m.swap_bytes() == BYTE_ORDER_MAGIC => false,
                _ => return Err(DsbError::BadByteOrderMagic { offset }),
            };
            consumed = 12;
        }
        let len = u32_at(&head, 4, le);
        if len < MIN_BLOCK_LEN.max(consumed + 4) || !len.is_multiple_of(4) {
            return Err(DsbError::BadBlockLength { offset, len });
        }
        if len > MAX_BLOCK_LEN {
            return Err(DsbError::BlockTooLarge { offset, len });
        }
        // Body after what was read, without the trailing length.
        let rest = u64::from(len - consumed - 4);
        if block_type == DSB_TYPE {
            if let Some(secrets) = read_dsb(&mut r, rest, le, offset, &mut total)? {
                out.push(secrets);
            }
        } else {
            let skipped = io::copy(&mut r.by_ref().take(rest), &mut io::sink())?;
            if skipped < rest {
                return Err(DsbError::Truncated { offset });
            }
        }
        let mut tail = [0u8; 4];
        if read_exact_or_eof(&mut r, &mut tail)? < 4 {
            return Err(DsbError::Truncated { offset });
        }
        let trailing = u32_at(&tail, 0, le);
        if trailing != len {
            return Err(DsbError::LengthMismatch { offset, len, trailing });
        }
        offset += u64::from(len);
    }
}

/// Reads a DSB body of `body_len` bytes (§4.7: secrets type, secrets length, secrets, padding,
/// options); returns the secrets if they are a TLS key log.
fn read_dsb<R: Read>(
    r: &mut R,
    body_len: u64,
    le: bool,
    offset: u64,
    total: &mut usize,
) -> Result<Option<Vec<u8>>, DsbError> {
    let body_len = usize::try_from(body_len).map_err(|_| DsbError::SecretsTooLarge)?;
    // The body is the secrets plus 8 bytes of header, padding and options: allow options room.
    if body_len > MAX_SECRETS_BYTES.saturating_sub(*total) + 8 + MAX_DSB_OPTIONS {
        return Err(DsbError::SecretsTooLarge);
    }
    let mut body = vec![0u8; body_len];
    if read_exact_or_eof(r, &mut body)? < body_len {
        return Err(DsbError::Truncated { offset });
    }
    if body_len < 8 {
        return Err(DsbError::BadSecretsLength { offset, claimed: 0 });
    }
    let secrets_type = u32_at(&body, 0, le);
    let claimed = u32_at(&body, 4, le);
    let secrets = usize::try_from(claimed)
        .ok()
        .and_then(|n| body.get(8..8usize.checked_add(n)?))
        .ok_or(DsbError::BadSecretsLength { offset, claimed })?;
    if secrets_type != SECRETS_TYPE_TLS_KEYLOG {
        return Ok(None);
    }
    *total += secrets.len();
    if *total > MAX_SECRETS_BYTES {
        return Err(DsbError::SecretsTooLarge);
    }
    Ok(Some(secrets.to_vec()))
}

/// One Decryption Secrets Block holding `secrets` as a TLS key log, in the byte order of the
/// section it goes into: padded to 4 bytes, no options, trailing length (§4.7). Refuses secrets
/// the scanner would refuse.
pub fn encode_block(little_endian: bool, secrets: &[u8]) -> Result<Vec<u8>, DsbError> {
    if secrets.len() > MAX_SECRETS_BYTES {
        return Err(DsbError::SecretsTooLarge);
    }
    let padded = secrets.len().div_ceil(4) * 4;
    let total = 20 + padded;
    let word = |v: u32| {
        if little_endian {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    };
    let total32 = u32::try_from(total).map_err(|_| DsbError::SecretsTooLarge)?;
    let len32 = u32::try_from(secrets.len()).map_err(|_| DsbError::SecretsTooLarge)?;
    let mut b = Vec::with_capacity(total);
    b.extend_from_slice(&word(DSB_TYPE));
    b.extend_from_slice(&word(total32));
    b.extend_from_slice(&word(SECRETS_TYPE_TLS_KEYLOG));
    b.extend_from_slice(&word(len32));
    b.extend_from_slice(secrets);
    b.resize(16 + padded, 0);
    b.extend_from_slice(&word(total32));
    Ok(b)
}

#[cfg(test)]
#[path = "dsb_tests.rs"]
mod tests;
