//! NSS key log parser (the SSLKEYLOGFILE format, RFC 9850 "The SSLKEYLOGFILE Format for TLS").
//!
//! One line is `LABEL <client random, 64 hex> <secret, hex>`. Only the labels this module can
//! use are kept: `CLIENT_RANDOM` (the TLS ≤ 1.2 master secret, 48 bytes) and the four TLS 1.3
//! traffic secrets (`CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET`, `CLIENT_/SERVER_TRAFFIC_SECRET_0`,
//! 32 or 48 bytes: the hash length of the suite). Other well-formed labels (`EXPORTER_SECRET`,
//! `CLIENT_EARLY_TRAFFIC_SECRET`, `EARLY_EXPORTER_SECRET`, `RSA`, `ECH_*`, future ones) are
//! counted as ignored, anything else as bad. Secrets are kept in fixed arrays and never printed.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;
use std::fmt;

/// At most this many client randoms (connections) are kept. One entry holds five secrets of up to
/// 48 bytes (about 300 bytes with the map overhead), so a full store is about 20 MiB. Lines for
/// new connections beyond it are counted in `KeyLogStats::dropped`; lines for connections
/// already kept are still used.
pub const MAX_KEYLOG_ENTRIES: usize = 65_536;

/// A line longer than this is bad (a real line is at most `CLIENT_HANDSHAKE_TRAFFIC_SECRET` +
/// 64 + 96 hex digits, under 200 bytes). It also bounds the partial trailing line kept between
/// two `add_text` calls.
pub const MAX_LINE_LEN: usize = 1024;

/// The longest secret a key log line carries: the 48-byte master secret, or a SHA-384 traffic
/// secret (RFC 8446 §7.1: secrets are Hash.length bytes).
const MAX_SECRET_LEN: usize = 48;

/// What a chunk of key log text contained (or, from [`KeyLog::stats`], everything so far).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyLogStats {
    /// Complete lines seen, comments and blank lines included.
    pub lines: u64,
    /// Lines whose secret was stored.
    pub used: u64,
    /// Well-formed lines with a label this module does not use (EXPORTER_SECRET, EARLY_*, RSA…).
    pub ignored: u64,
    /// Lines that are not a key log line (wrong field count, bad hex, wrong lengths, too long).
    pub bad: u64,
    /// Usable lines for a new connection refused because the store holds `MAX_KEYLOG_ENTRIES`.
    pub dropped: u64,
}

impl KeyLogStats {
    fn add(&mut self, o: &KeyLogStats) {
        self.lines += o.lines;
        self.used += o.used;
        self.ignored += o.ignored;
        self.bad += o.bad;
        self.dropped += o.dropped;
    }
}

/// One secret: up to 48 bytes, kept inline so the store's size is known from its entry count.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret {
    len: u8,
    bytes: [u8; MAX_SECRET_LEN],
}

impl Secret {
    fn new(v: &[u8]) -> Option<Secret> {
        let mut bytes = [0u8; MAX_SECRET_LEN];
        bytes.get_mut(..v.len())?.copy_from_slice(v);
        Some(Secret {
            len: u8::try_from(v.len()).ok()?,
            bytes,
        })
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// The secrets one connection's key log lines gave. Deliberately not `Serialize`, and its `Debug`
/// prints nothing but the type name: secrets must never reach a report, a log or an error.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub(crate) master: Option<Secret>,
    pub(crate) client_handshake: Option<Secret>,
    pub(crate) server_handshake: Option<Secret>,
    pub(crate) client_traffic0: Option<Secret>,
    pub(crate) server_traffic0: Option<Secret>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// The labels this module stores, in the order `to_keylog_lines` writes them.
const LABELS: [&str; 5] = [
    "CLIENT_RANDOM",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
];

impl Secrets {
    fn slot(&mut self, label: &str) -> Option<&mut Option<Secret>> {
        Some(match label {
            "CLIENT_RANDOM" => &mut self.master,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut self.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut self.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => &mut self.client_traffic0,
            "SERVER_TRAFFIC_SECRET_0" => &mut self.server_traffic0,
            _ => return None,
        })
    }

    fn slots(&self) -> [&Option<Secret>; 5] {
        [
            &self.master,
            &self.client_handshake,
            &self.server_handshake,
            &self.client_traffic0,
            &self.server_traffic0,
        ]
    }

    /// The secrets of a TLS ≤ 1.2 master secret recomputed from the server's key
    /// (`server_key`), as a CLIENT_RANDOM line would give them.
    pub(crate) fn with_master(master: &[u8]) -> Option<Secrets> {
        Some(Secrets {
            master: Some(Secret::new(master)?),
            ..Default::default()
        })
    }

    /// Whether a TLS ≤ 1.2 master secret is present.
    pub fn has_master_secret(&self) -> bool {
        self.master.is_some()
    }

    /// Whether both TLS 1.3 application traffic secrets are present.
    pub fn has_tls13_traffic_secrets(&self) -> bool {
        self.client_traffic0.is_some() && self.server_traffic0.is_some()
    }

    /// This connection's secrets as NSS key log lines (each ending in `\n`), for an evidence
    /// writer that embeds one connection's keys in a pcapng Decryption Secrets Block. The result
    /// holds the secrets in clear: it must go only into that block, never into a report or a log.
    pub fn to_keylog_lines(&self, client_random: &[u8; 32]) -> String {
        let cr = hex(client_random);
        let mut out = String::new();
        for (label, slot) in LABELS.iter().zip(self.slots()) {
            if let Some(s) = slot {
                out.push_str(label);
                out.push(' ');
                out.push_str(&cr);
                out.push(' ');
                out.push_str(&hex(s.as_slice()));
                out.push('\n');
            }
        }
        out
    }
}

fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(*DIGITS.get(usize::from(x >> 4)).unwrap_or(&b'0')));
        s.push(char::from(*DIGITS.get(usize::from(x & 15)).unwrap_or(&b'0')));
    }
    s
}

/// Decodes hex into `out`, which must have exactly the decoded length.
fn unhex_into(s: &[u8], out: &mut [u8]) -> Option<()> {
    if s.len() != out.len() * 2 {
        return None;
    }
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *o = (char::from(*hi).to_digit(16)? as u8) << 4 | char::from(*lo).to_digit(16)? as u8;
    }
    Some(())
}

/// What one line is.
enum Line<'a> {
    Skip,
    Ignored,
    Bad,
    Secret {
        label: &'a str,
        client_random: [u8; 32],
        secret: Secret,
    },
}

fn parse_line(line: &[u8]) -> Line<'_> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Line::Bad;
    };
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Line::Skip;
    }
    let mut fields = text.split_ascii_whitespace();
    let (Some(label), Some(cr), Some(secret), None) = (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Line::Bad;
    };
    let label_ok = label
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let hex_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !label_ok || !hex_ok(cr) || !hex_ok(secret) {
        return Line::Bad;
    }
    let secret_len_ok = match label {
        // RFC 9850 §3: the master secret is 48 bytes (RFC 5246 §8.1).
        "CLIENT_RANDOM" => secret.len() == 96,
        // RFC 8446 §7.1: Hash.length bytes, 32 (SHA-256) or 48 (SHA-384) for the defined suites.
        l if LABELS.contains(&l) => secret.len() == 64 || secret.len() == 96,
        // RSA lines carry the first 8 bytes of the encrypted premaster, not a client random.
        _ => return Line::Ignored,
    };
    let mut client_random = [0u8; 32];
    let mut buf = [0u8; MAX_SECRET_LEN];
    let Some(out) = buf.get_mut(..secret.len() / 2) else {
        return Line::Bad;
    };
    if !secret_len_ok || unhex_into(cr.as_bytes(), &mut client_random).is_none() {
        return Line::Bad;
    }
    if unhex_into(secret.as_bytes(), out).is_none() {
        return Line::Bad;
    }
    match Secret::new(out) {
        Some(secret) => Line::Secret {
            label,
            client_random,
            secret,
        },
        None => Line::Bad,
    }
}

/// The key log: secrets by client random, bounded by [`MAX_KEYLOG_ENTRIES`].
#[derive(Default)]
pub struct KeyLog {
    entries: HashMap<[u8; 32], Secrets>,
    /// The last, unterminated line of the previous chunk (at most `MAX_LINE_LEN + 1` bytes; once
    /// longer, the line is bad and the rest of it is skipped up to its newline).
    partial: Vec<u8>,
    partial_too_long: bool,
    stats: KeyLogStats,
}

impl fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLog")
            .field("connections", &self.entries.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl KeyLog {
    pub fn new() -> KeyLog {
        KeyLog::default()
    }

    /// Feeds a chunk of key log text. Complete lines are parsed now; a trailing line without its
    /// newline is kept and completed by the next chunk, so a file that grows can be fed by
    /// passing only what was appended since the last call. Call [`KeyLog::finish`] at the end of a
    /// text that may lack its final newline (a DSB payload, a file read once). Returns what this
    /// chunk's complete lines contained.
    pub fn add_text(&mut self, chunk: &[u8]) -> KeyLogStats {
        let mut st = KeyLogStats::default();
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = tail.get(1..).unwrap_or(&[]);
            if self.partial.is_empty() && !self.partial_too_long {
                self.line(head, &mut st);
            } else {
                self.push_partial(head);
                let line = std::mem::take(&mut self.partial);
                if std::mem::take(&mut self.partial_too_long) {
                    st.lines += 1;
                    st.bad += 1;
                } else {
                    self.line(&line, &mut st);
                }
            }
        }
        self.push_partial(rest);
        self.stats.add(&st);
        st
    }

    /// Parses the kept partial line, if any, as a complete line (the end of the text).
    pub fn finish(&mut self) -> KeyLogStats {
        let mut st = KeyLogStats::default();
        let line = std::mem::take(&mut self.partial);
        if std::mem::take(&mut self.partial_too_long) {
            st.lines += 1;
            st.bad += 1;
        } else if !line.is_empty() {
            self.line(&line, &mut st);
        }
        self.stats.add(&st);
        st
    }

    fn push_partial(&mut self, bytes: &[u8]) {
        if self.partial_too_long {
            return;
        }
        if self.partial.len() + bytes.len() > MAX_LINE_LEN {
            self.partial.clear();
            self.partial_too_long = true;
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    fn line(&mut self, line: &[u8], st: &mut KeyLogStats) {
        st.lines += 1;
        if line.len() > MAX_LINE_LEN {
            st.bad += 1;
            return;
        }
        match parse_line(line) {
            Line::Skip => {}
            Line::Ignored => st.ignored += 1,
            Line::Bad => st.bad += 1,
            Line::Secret {
                label,
                client_random,
                secret,
            } => {
                if !self.entries.contains_key(&client_random) && self.entries.len() >= MAX_KEYLOG_ENTRIES {
                    st.dropped += 1;
                    return;
                }
                let entry = self.entries.entry(client_random).or_default();
                match entry.slot(label) {
                    Some(slot) => {
                        // A repeated line replaces the earlier one: the latest write of the file wins.
                        *slot = Some(secret);
                        st.used += 1;
                    }
                    None => st.bad += 1,
                }
            }
        }
    }

    /// The secrets logged for the connection whose ClientHello carried this random.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.entries.get(client_random)
    }

    /// Connections with at least one secret.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Everything fed so far.
    pub fn stats(&self) -> KeyLogStats {
        self.stats
    }
}

#[cfg(test)]
#[path = "keylog_tests.rs"]
mod tests;
