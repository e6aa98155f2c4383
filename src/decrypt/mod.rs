//! TLS decryption for a passive analyzer, sans I/O: key logs (NSS format, from a file or from a
//! pcapng Decryption Secrets Block) and record decryption for the suites RDP stacks negotiate.
//!
//! - [`keylog`]: the key log store ([`KeyLog`], [`Secrets`]), bounded, fed incrementally.
//! - [`dsb`]: the key logs a pcapng file carries, and the block an evidence writer embeds.
//! - [`Direction`]: one direction's records in, plaintext out, or a [`Stop`] with the reason.
//! - [`Session`]: both directions of a connection, looked up in a [`KeyLog`].
//!
//! Supported: TLS 1.2 AES-GCM and ChaCha20-Poly1305, TLS 1.0–1.2 AES-CBC with HMAC-SHA1/256/384
//! (and encrypt-then-MAC), TLS 1.3 AES-GCM and ChaCha20-Poly1305 with KeyUpdate. Not supported:
//! SSL 3.0, RC4/3DES/CAMELLIA/CCM suites, TLS 1.3 0-RTT early data, TLS ≤ 1.2
//! renegotiation (a second handshake's keys), compression.
//!
//! Secrets never reach `Debug`, `Display` or an error; decrypted data is not shown by `Debug`.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod cipher;
mod direction;
pub mod dsb;
mod kdf;
pub mod keylog;
mod keys;
pub mod server_key;
mod session;
mod tls12;
mod tls13;

pub use cipher::{suite_name, supported};
pub use direction::{Direction, HandshakeParams, Plain, Stop, MAX_FRAGMENT_LEN};
pub use keylog::{KeyLog, KeyLogStats, Secrets, MAX_KEYLOG_ENTRIES};
pub use keys::{KeySource, Keys};
pub use server_key::{Refusal, RsaExchange, ServerKeys};
pub use session::Session;
pub use tls13::MAX_SKIPPED_HANDSHAKE_RECORDS;

/// Test vectors are written in hex, as the RFCs print them.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[cfg(test)]
mod tests {
    /// docs/limits.md states the bounds the code has.
    #[test]
    fn limits_md_states_the_decrypt_bounds() {
        let doc = include_str!("../../docs/limits.md");
        let section = doc.split("## TLS decryption").nth(1).expect("a TLS decryption section");
        for (name, text) in [
            ("MAX_KEYLOG_ENTRIES", format!("{}", super::MAX_KEYLOG_ENTRIES)),
            ("MAX_LINE_LEN", format!("{} bytes", super::keylog::MAX_LINE_LEN)),
            ("dsb::MAX_BLOCK_LEN", format!("{} MiB", super::dsb::MAX_BLOCK_LEN >> 20)),
            (
                "dsb::MAX_SECRETS_BYTES",
                format!("{} MiB", super::dsb::MAX_SECRETS_BYTES >> 20),
            ),
            (
                "MAX_SKIPPED_HANDSHAKE_RECORDS",
                format!("| {} |", super::MAX_SKIPPED_HANDSHAKE_RECORDS),
            ),
        ] {
            let row = section
                .lines()
                .find(|l| l.contains(&format!("`{name}`")))
                .unwrap_or_else(|| panic!("{name}"));
            assert!(row.replace(',', "").contains(&text), "{name}: {text} not in {row}");
        }
        assert_eq!(super::MAX_FRAGMENT_LEN, (1 << 14) + 2048);
    }
}
