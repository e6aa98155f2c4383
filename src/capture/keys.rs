//! Reading TLS key logs: `--keylog` files, a key log that grows while a live capture runs,
//! and the Decryption Secrets Blocks of a pcapng capture. The parsing is `decrypt`'s.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::decrypt::{dsb, KeyLog, ServerKeys};

/// The key log files of `--keylog`, read whole. An unreadable file is an error naming it.
pub fn read_keylogs(paths: &[std::path::PathBuf]) -> Result<KeyLog, String> {
    let mut k = KeyLog::new();
    for p in paths {
        let text = std::fs::read(p).map_err(|e| format!("{}: cannot read the key log: {e}", p.display()))?;
        k.add_text(&text);
        k.finish();
    }
    Ok(k)
}

/// The RSA keys of `--server-key`. A file that cannot be read, or is no RSA private key, is an
/// error naming it (never its content).
pub fn read_server_keys(paths: &[PathBuf]) -> Result<ServerKeys, String> {
    let mut keys = ServerKeys::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: cannot read the server key: {e}", p.display()))?;
        if meta.len() > crate::decrypt::server_key::MAX_KEY_FILE as u64 {
            return Err(format!(
                "{}: server key: {}",
                p.display(),
                crate::decrypt::server_key::KeyError::TooLarge
            ));
        }
        let bytes = std::fs::read(p).map_err(|e| format!("{}: cannot read the server key: {e}", p.display()))?;
        keys.add(&bytes)
            .map_err(|e| format!("{}: server key: {e}", p.display()))?;
    }
    Ok(keys)
}

/// The TLS key logs a pcapng capture carries in Decryption Secrets Blocks (none for other
/// formats; a damaged block ends the scan, libpcap then says what is wrong with the file).
/// Only a regular file is scanned: a FIFO or stdin can be read once, and libpcap reads it.
pub fn capture_keylog(path: &Path) -> KeyLog {
    let mut k = KeyLog::new();
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return k;
    }
    // A gzip or zstd capture is scanned decompressed, as libpcap reads it.
    let Ok(f) = super::input::decompressed(path) else {
        return k;
    };
    if let Ok(blocks) = dsb::scan_tls_keylogs(std::io::BufReader::new(f)) {
        for b in blocks {
            k.add_text(&b);
            k.finish();
        }
    }
    k
}

/// A key log file read as it grows (a client appends a line per connection): each call to
/// [`Follower::poll`] adds the lines written since the last one. A file that shrank (rotated or
/// rewritten) is read again from the start.
pub struct Follower {
    path: PathBuf,
    offset: u64,
}

impl Follower {
    pub fn new(path: PathBuf) -> Follower {
        Follower { path, offset: 0 }
    }

    /// Add what was appended to `into`; returns the bytes read (0 if the file is missing).
    pub fn poll(&mut self, into: &mut KeyLog) -> u64 {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return 0;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            self.offset = 0;
        }
        if len == self.offset || f.seek(SeekFrom::Start(self.offset)).is_err() {
            return 0;
        }
        // At most 16 MiB per poll: a key log is small; anything larger waits for the next one.
        let mut buf = Vec::new();
        let n = f.take(16 << 20).read_to_end(&mut buf).unwrap_or(0) as u64;
        // Only whole lines: a line still being written is read on the next poll.
        let whole = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if let Some(lines) = buf.get(..whole) {
            into.add_text(lines);
        }
        self.offset += whole as u64;
        n.min(whole as u64)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    const CR: &str = "0101010101010101010101010101010101010101010101010101010101010101";
    const CR2: &str = "0202020202020202020202020202020202020202020202020202020202020202";
    const MS: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";

    fn random(s: &str) -> [u8; 32] {
        let mut r = [0u8; 32];
        for (i, b) in r.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        r
    }

    #[test]
    fn a_growing_key_log_is_followed_line_by_line() {
        let dir = std::env::temp_dir().join(format!("rdpscope-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k.log");
        let mut f = std::fs::File::create(&p).unwrap();
        let mut k = KeyLog::new();
        let mut fol = Follower::new(p.clone());
        assert_eq!(fol.poll(&mut k), 0);
        // Half a line: not read yet.
        write!(f, "CLIENT_RANDOM {CR} ").unwrap();
        f.flush().unwrap();
        fol.poll(&mut k);
        assert!(k.get(&random(CR)).is_none());
        writeln!(f, "{MS}").unwrap();
        f.flush().unwrap();
        fol.poll(&mut k);
        assert!(k.get(&random(CR)).is_some());
        writeln!(f, "CLIENT_RANDOM {CR2} {MS}").unwrap();
        f.flush().unwrap();
        fol.poll(&mut k);
        assert!(k.get(&random(CR2)).is_some());
        // Rewritten shorter: read again from the start.
        std::fs::write(&p, format!("CLIENT_RANDOM {CR} {MS}\n")).unwrap();
        assert!(fol.poll(&mut k) > 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
