//! Helpers for the decryption tests: TCP streams and tshark's own decryption through tshark,
//! TLS records cut from the streams, hello parameters through tls-parser, and a loop feeding
//! `rdpscope::decrypt::Session`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rdpscope::decrypt::{HandshakeParams, KeyLog, Plain, Session, Stop};
use rdpscope::flow::Side;
use tls_parser::{TlsExtension, TlsExtensionType, TlsMessage, TlsMessageHandshake};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpus/keyed` next to the crate (the layout here and in CI), if present.
pub fn keyed_corpus() -> Option<PathBuf> {
    crate::common::keyed_corpus("keyed-capture decryption")
}

pub fn tshark_available() -> bool {
    crate::common::tshark("decryption compared with tshark")
}

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark").args(args).output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// One TCP connection's bytes per direction, as tshark reassembled them.
pub struct Stream {
    pub index: u32,
    pub server_port: u16,
    pub client: Vec<u8>,
    pub server: Vec<u8>,
}

/// Every TCP stream of the capture with one end on one of `ports`.
pub fn streams(pcap: &Path, ports: &[u16]) -> Vec<Stream> {
    let f = pcap.to_str().unwrap();
    let list = tshark(&[
        "-r",
        f,
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.srcport",
        "-e",
        "tcp.dstport",
    ]);
    let mut idx: Vec<(u32, u16)> = Vec::new();
    for l in list.lines() {
        let v: Vec<&str> = l.split('\t').collect();
        let (Some(s), Some(a), Some(b)) = (v.first(), v.get(1), v.get(2)) else {
            continue;
        };
        let (Ok(s), Ok(a), Ok(b)) = (s.parse::<u32>(), a.parse::<u16>(), b.parse::<u16>()) else {
            continue;
        };
        let port = if ports.contains(&b) {
            b
        } else if ports.contains(&a) {
            a
        } else {
            continue;
        };
        if !idx.iter().any(|(i, _)| *i == s) {
            idx.push((s, port));
        }
    }
    idx.into_iter()
        .map(|(index, server_port)| {
            let out = tshark(&["-r", f, "-q", "-z", &format!("follow,tcp,raw,{index}")]);
            let mut node0_is_server = false;
            let (mut n0, mut n1) = (Vec::new(), Vec::new());
            for l in out.lines() {
                if let Some(n) = l.strip_prefix("Node 0: ") {
                    node0_is_server = n.ends_with(&format!(":{server_port}"));
                } else if l.starts_with("Node ") || l.starts_with("===") || l.contains(':') || l.is_empty() {
                    continue;
                } else if let Some(h) = l.strip_prefix('\t') {
                    n1.extend(unhex(h));
                } else {
                    n0.extend(unhex(l));
                }
            }
            let (client, server) = if node0_is_server { (n1, n0) } else { (n0, n1) };
            Stream {
                index,
                server_port,
                client,
                server,
            }
        })
        .collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// A TLS record: header fields and fragment.
#[derive(Clone)]
pub struct Record {
    pub content_type: u8,
    pub version: u16,
    pub fragment: Vec<u8>,
}

/// The TLS records of one direction: from the first record that opens with a hello of `hello`
/// type (1 ClientHello, 2 ServerHello; what precedes is X.224, or a proxy exchange), up to the
/// last complete record.
pub fn records(stream: &[u8], hello: u8) -> Vec<Record> {
    let Some(start) = stream
        .windows(6)
        .position(|w| w[0] == 0x16 && w[1] == 3 && w[2] <= 4 && w[5] == hello)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = &stream[start..];
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if rest.len() < 5 + len {
            break;
        }
        out.push(Record {
            content_type: rest[0],
            version: u16::from_be_bytes([rest[1], rest[2]]),
            fragment: rest[5..5 + len].to_vec(),
        });
        rest = &rest[5 + len..];
    }
    out
}

/// What the hellos negotiated, read with tls-parser.
pub fn params(client: &[Record], server: &[Record]) -> HandshakeParams {
    let hello = |r: &Record| -> TlsMessageHandshake<'static> {
        let mut raw = vec![r.content_type];
        raw.extend(r.version.to_be_bytes());
        raw.extend((r.fragment.len() as u16).to_be_bytes());
        raw.extend(&r.fragment);
        let raw: &'static [u8] = Box::leak(raw.into_boxed_slice());
        let (_, plain) = tls_parser::parse_tls_plaintext(raw).expect("hello record");
        match plain.msg.into_iter().next() {
            Some(TlsMessage::Handshake(h)) => h,
            _ => panic!("not a handshake record"),
        }
    };
    let TlsMessageHandshake::ClientHello(ch) = hello(&client[0]) else {
        panic!("no ClientHello")
    };
    let TlsMessageHandshake::ServerHello(sh) = hello(&server[0]) else {
        panic!("no ServerHello")
    };
    let mut version = sh.version.0;
    let mut encrypt_then_mac = false;
    if let Some(ext) = sh.ext {
        let (_, exts) = tls_parser::parse_tls_server_hello_extensions(ext).expect("extensions");
        for e in exts {
            match e {
                TlsExtension::SupportedVersions(v) => version = v[0].0,
                // tls-parser 0.12's ServerHello parser files extension 21 (padding) as
                // EncryptThenMac and leaves the real encrypt_then_mac, 22 (RFC 7366), Unknown:
                // go by the type number (keyed-tls12-cbc-etm negotiates it).
                TlsExtension::Unknown(t, _) if t == TlsExtensionType::EncryptThenMac => encrypt_then_mac = true,
                _ => {}
            }
        }
    }
    HandshakeParams {
        version,
        cipher: sh.cipher.0,
        client_random: ch.random.try_into().unwrap(),
        server_random: sh.random.try_into().unwrap(),
        encrypt_then_mac,
    }
}

/// The records of one direction a decryptor is fed: TLS ≤ 1.2 everything after the
/// ChangeCipherSpec, TLS 1.3 every application_data record.
pub fn protected(records: &[Record], version: u16) -> Vec<Record> {
    if version == 0x0304 {
        records.iter().filter(|r| r.content_type == 23).cloned().collect()
    } else {
        records
            .iter()
            .skip_while(|r| r.content_type != 20)
            .skip(1)
            .cloned()
            .collect()
    }
}

/// Decrypts one direction's protected records; the first error ends the list.
pub fn decrypt(session: &mut Session, side: Side, records: &[Record]) -> (Vec<Plain>, Option<Stop>) {
    let mut out = Vec::new();
    for r in records {
        match session.open(side, r.content_type, r.version, &r.fragment) {
            Ok(p) => out.push(p),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// A connection's parameters, protected records and a session, from its stream and a key log.
pub struct Conn {
    pub params: HandshakeParams,
    pub client: Vec<Record>,
    pub server: Vec<Record>,
}

/// `None` if the stream has no ClientHello and ServerHello.
pub fn conn(stream: &Stream) -> Option<Conn> {
    let c = records(&stream.client, 1);
    let s = records(&stream.server, 2);
    if c.is_empty() || s.is_empty() {
        return None;
    }
    let params = params(&c, &s);
    Some(Conn {
        client: protected(&c, params.version),
        server: protected(&s, params.version),
        params,
    })
}

pub fn keylog_from(text: &[u8]) -> KeyLog {
    let mut kl = KeyLog::new();
    kl.add_text(text);
    kl.finish();
    kl
}

/// tshark's own decryption of a stream: the "Decrypted TLS" data of every frame, per direction,
/// in frame order (one entry per record).
pub fn tshark_plaintexts(pcap: &Path, keylog: Option<&Path>, stream: &Stream) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut args: Vec<String> = vec!["-r".into(), pcap.to_str().unwrap().into()];
    if let Some(k) = keylog {
        args.extend(["-o".into(), format!("tls.keylog_file:{}", k.display())]);
    }
    args.extend(
        [
            "-d",
            &format!("tcp.port=={},tls", stream.server_port),
            "-Y",
            &format!("tcp.stream=={}", stream.index),
            "-P",
            "-x",
            "-o",
            "gui.column.format:\"No\",\"%m\",\"Sport\",\"%uS\"",
        ]
        .map(String::from),
    );
    let out = tshark(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let (mut client, mut server) = (Vec::new(), Vec::new());
    let mut from_server = false;
    let mut current: Option<(usize, Vec<u8>)> = None;
    let mut flush = |cur: &mut Option<(usize, Vec<u8>)>, from_server: bool| {
        if let Some((n, mut data)) = cur.take() {
            data.truncate(n);
            if from_server {
                server.push(data)
            } else {
                client.push(data)
            }
        }
    };
    for l in out.lines() {
        let fields: Vec<&str> = l.split_whitespace().collect();
        let is_hex_row = l.len() > 6 && l.as_bytes()[..4].iter().all(u8::is_ascii_hexdigit) && &l[4..6] == "  ";
        if is_hex_row {
            if let Some((_, data)) = current.as_mut() {
                let hex = &l[6..l.len().min(6 + 47)];
                data.extend(hex.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()));
            }
        } else if fields.len() == 2 && fields.iter().all(|f| f.parse::<u32>().is_ok()) {
            // The summary line of a frame: number and source port.
            flush(&mut current, from_server);
            from_server = fields[1].parse::<u16>().ok() == Some(stream.server_port);
        } else if let Some(n) = l.strip_prefix("Decrypted TLS (").and_then(|r| r.split(' ').next()) {
            flush(&mut current, from_server);
            current = Some((n.parse().unwrap(), Vec::new()));
        } else {
            flush(&mut current, from_server);
        }
    }
    flush(&mut current, from_server);
    (client, server)
}
