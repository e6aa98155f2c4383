//! What an input is, told by its first bytes, never by its name: a capture libpcap reads, a
//! gzip- or zstd-compressed one (decompressed on the way in), standard input (`-`), or
//! something that is not a capture at all (empty, text, another capture format) with one
//! line saying what it is and, for another format, how to convert it.
//!
//! Whatever libpcap cannot open by name (standard input, a FIFO, a decompressed stream) is
//! handed to it as the read end of a pipe (`/proc/self/fd/N`) that a thread fills.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Bytes looked at to tell the kind: enough for every magic number and to call a file text.
const HEAD: usize = 512;

/// What the first bytes of an input say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// pcap (any byte order or precision) or pcapng: libpcap's.
    Capture,
    Gzip,
    Zstd,
    Empty,
    Text,
    /// A capture format libpcap does not read, which editcap converts: its name.
    Convertible(&'static str),
    /// Compressed with a tool rdpscope does not decompress: its name.
    OtherCompression(&'static str),
    /// Nothing known: libpcap gets it and says what it says.
    Unknown,
}

/// The kind of an input from its first bytes (up to [`HEAD`]).
pub fn sniff(head: &[u8]) -> Kind {
    const PCAP: [[u8; 4]; 5] = [
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    let starts = |m: &[u8]| head.starts_with(m);
    if head.is_empty() {
        Kind::Empty
    } else if PCAP.iter().any(|m| starts(m)) {
        Kind::Capture
    } else if starts(&[0x1f, 0x8b]) {
        Kind::Gzip
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Kind::Zstd
    } else if starts(b"snoop\0\0\0") {
        Kind::Convertible("snoop")
    } else if starts(b"TRSNIFF data    \x1a") {
        Kind::Convertible("Sniffer (NGSniffer)")
    } else if starts(b"BZh") {
        Kind::OtherCompression("bzip2")
    } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Kind::OtherCompression("xz")
    } else if starts(b"PK\x03\x04") {
        Kind::OtherCompression("zip")
    } else if is_text(head) {
        Kind::Text
    } else {
        Kind::Unknown
    }
}

/// Printable UTF-8 with ordinary white space (a cut last character allowed).
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => head
            .get(..e.valid_up_to())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or(""),
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c'))
}

/// The one line for an input that is not a capture rdpscope reads, or None when libpcap
/// should be given it. `name` is how the input is shown; `stdin` words it for `-`.
fn refusal(kind: Kind, name: &str, stdin: bool, compressed: Option<&str>) -> Option<String> {
    let inside = compressed.map(|c| format!("{c}-compressed ")).unwrap_or_default();
    match kind {
        Kind::Capture | Kind::Unknown => None,
        Kind::Empty if compressed.is_some() => Some(format!("empty input ({inside}data with nothing in it)")),
        Kind::Empty if stdin => Some("empty input (nothing was read from standard input)".into()),
        Kind::Empty => Some("empty file".into()),
        Kind::Text => Some(format!("{inside}text, not a capture")),
        Kind::Convertible(format) => {
            let (input, output) = if stdin || compressed.is_some() {
                ("IN".to_string(), "OUT.pcapng".to_string())
            } else {
                (name.to_string(), format!("{}.pcapng", name.trim_end_matches(".snoop")))
            };
            Some(format!(
                "a {inside}{format} capture, which rdpscope does not read; convert it with: editcap -F pcapng {input} {output}"
            ))
        }
        Kind::OtherCompression(tool) => Some(format!(
            "{tool}-compressed; rdpscope reads gzip and zstd: decompress it first, or recompress it with gzip or zstd"
        )),
        Kind::Gzip | Kind::Zstd => Some(format!("{inside}data compressed twice, not a capture")),
    }
}

/// An input ready for libpcap: the path to give it, and what must live until it has opened it.
pub struct Prepared {
    pub path: PathBuf,
    /// The file or pipe end behind `path` when it is `/proc/self/fd/N`: drop it once libpcap
    /// has opened the path (a pipe end kept would keep the feeding thread from ending).
    pub keep: Option<Box<dyn std::any::Any>>,
    /// Why the feeding thread stopped early (a corrupt gzip stream, a read error).
    pub feed_error: Option<Arc<Mutex<Option<String>>>>,
}

/// Read up to [`HEAD`] bytes (fewer only at the end of the input).
fn read_head(r: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD);
    r.take(HEAD as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Prepare `path` (`-` is standard input) for libpcap, or say in one line why it is not a
/// capture rdpscope reads.
pub fn prepare(path: &Path) -> Result<Prepared, String> {
    let stdin = path.as_os_str() == "-";
    let name = path.display().to_string();
    let mut source: Box<dyn Read + Send> = if stdin {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| open_error(path, &e))?)
    };
    let regular = !stdin && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    let head = read_head(&mut source).map_err(|e| read_error(path, &e))?;
    let kind = sniff(&head);
    let (source, head, kind, compressed): (Box<dyn Read + Send>, _, _, _) = match kind {
        Kind::Gzip | Kind::Zstd => {
            let what = if kind == Kind::Gzip { "gzip" } else { "zstd" };
            let mut d = decompressor(kind, Box::new(io::Cursor::new(head).chain(source)))
                .map_err(|e| format!("cannot open: {what}: {e}"))?;
            let inner = read_head(&mut d).map_err(|e| format!("cannot open: {what}: {e}"))?;
            let k = sniff(&inner);
            (d, inner, k, Some(what))
        }
        _ => (source, head, kind, None),
    };
    if let Some(why) = refusal(kind, &name, stdin, compressed) {
        return Err(why);
    }
    if regular && compressed.is_none() {
        // libpcap reads the file itself (by name if it has a UTF-8 one).
        return Ok(match path.to_str() {
            Some(_) => Prepared {
                path: path.to_path_buf(),
                keep: None,
                feed_error: None,
            },
            None => {
                use std::os::fd::AsRawFd;
                let f = File::open(path).map_err(|e| open_error(path, &e))?;
                Prepared {
                    path: fd_path(f.as_raw_fd()),
                    keep: Some(Box::new(f)),
                    feed_error: None,
                }
            }
        });
    }
    feed_through_pipe(Box::new(io::Cursor::new(head).chain(source)), compressed)
}

/// A reader of the decompressed bytes of a gzip (possibly several members, as pigz writes)
/// or zstd stream.
fn decompressor(kind: Kind, r: Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> {
    Ok(match kind {
        Kind::Zstd => Box::new(ruzstd::decoding::StreamingDecoder::new(r).map_err(io::Error::other)?),
        _ => Box::new(flate2::read::MultiGzDecoder::new(r)),
    })
}

/// The bytes of a regular file, decompressed when it is gzip or zstd (for scans that read a
/// capture's blocks beside libpcap, such as its TLS secrets).
pub fn decompressed(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let mut f = File::open(path)?;
    let head = read_head(&mut f)?;
    let kind = sniff(&head);
    let whole: Box<dyn Read + Send> = Box::new(io::Cursor::new(head).chain(f));
    match kind {
        Kind::Gzip | Kind::Zstd => decompressor(kind, whole),
        _ => Ok(whole),
    }
}

/// Whether a regular file is compressed (its size then says nothing of the capture's).
pub fn is_compressed(path: &Path) -> bool {
    let head = File::open(path).and_then(|mut f| read_head(&mut f)).unwrap_or_default();
    matches!(sniff(&head), Kind::Gzip | Kind::Zstd)
}

fn fd_path(fd: i32) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{fd}"))
}

/// Hand `r` to libpcap through a pipe a thread fills; the thread ends at the end of `r`, on
/// an error (kept for the report), or when libpcap closes its end.
fn feed_through_pipe(mut r: Box<dyn Read + Send>, compressed: Option<&str>) -> Result<Prepared, String> {
    use std::os::fd::AsRawFd;
    let (reader, mut writer) = io::pipe().map_err(|e| format!("cannot open: cannot make a pipe: {e}"))?;
    let error = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&error);
    let what = compressed.map(|c| format!("{c}: ")).unwrap_or_default();
    std::thread::Builder::new()
        .name("rdpscope-input".into())
        .spawn(move || {
            if let Err(e) = io::copy(&mut r, &mut writer) {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    if let Ok(mut s) = seen.lock() {
                        *s = Some(format!("{what}{e}"));
                    }
                }
            }
            // The error is set before libpcap sees the end of the pipe.
            drop(writer);
        })
        .map_err(|e| format!("cannot open: cannot start the reading thread: {e}"))?;
    Ok(Prepared {
        path: fd_path(reader.as_raw_fd()),
        keep: Some(Box::new(reader)),
        feed_error: Some(error),
    })
}

fn open_error(path: &Path, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "cannot open: no such file".into(),
        _ => read_error(path, e),
    }
}

fn read_error(path: &Path, e: &io::Error) -> String {
    if path.is_dir() {
        return "cannot open: is a directory, not a capture file".into();
    }
    format!("cannot open: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_first_bytes() {
        assert_eq!(sniff(b""), Kind::Empty);
        assert_eq!(sniff(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]), Kind::Capture);
        assert_eq!(sniff(&[0x0a, 0x0d, 0x0d, 0x0a]), Kind::Capture);
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Kind::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Kind::Zstd);
        assert_eq!(sniff(b"snoop\0\0\0\0\0\0\x02"), Kind::Convertible("snoop"));
        assert_eq!(
            sniff(b"TRSNIFF data    \x1a\x01"),
            Kind::Convertible("Sniffer (NGSniffer)")
        );
        assert_eq!(sniff(b"[package]\nname = \"x\"\n"), Kind::Text);
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00\x80\x00"), Kind::Unknown);
        // A multi-byte character cut at the end of the head is still text.
        assert_eq!(sniff("caf\u{e9}".as_bytes().get(..4).unwrap()), Kind::Text);
    }

    #[test]
    fn conversions_name_the_file() {
        let why = refusal(Kind::Convertible("snoop"), "a.snoop", false, None).unwrap();
        assert!(why.contains("editcap -F pcapng a.snoop a.pcapng"), "{why}");
        let why = refusal(Kind::Convertible("snoop"), "-", true, None).unwrap();
        assert!(why.contains("editcap -F pcapng IN OUT.pcapng"), "{why}");
    }
}
