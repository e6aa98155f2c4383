//! JA4 TLS client fingerprint (FoxIO, BSD-3-Clause; JA4 only, technical_details/JA4.md),
//! computed from `tls-parser`'s ClientHello and its parsed extensions. GREASE values
//! (draft-davidben-tls-grease-01) are ignored everywhere, as the spec says.

use sha2::{Digest, Sha256};
use tls_parser::{TlsClientHelloContents, TlsExtension, TlsExtensionType};

/// The twelve zeros JA4 writes for an empty cipher or extension list.
const EMPTY: &str = "000000000000";
/// Extensions left out of the hashed list: SNI and ALPN are in JA4_a already.
const EXT_SNI: u16 = 0x0000;
const EXT_ALPN: u16 = 0x0010;

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// JA4_a's two-character version (JA4.md "TLS and DTLS Version").
fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4.md "ALPN Extension Value": first and last character of the first value, or of its
/// hex form when either end byte is not alphanumeric; "00" without one.
fn alpn_code(first: Option<&[u8]>) -> String {
    let Some(v) = first.filter(|v| !v.is_empty()) else {
        return "00".into();
    };
    let (Some(&a), Some(&z)) = (v.first(), v.last()) else {
        return "00".into();
    };
    if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
        format!("{}{}", char::from(a), char::from(z))
    } else {
        let hex = format!("{a:02x}{z:02x}");
        let mut c = hex.chars();
        format!("{}{}", c.next().unwrap_or('0'), c.last().unwrap_or('0'))
    }
}

/// The first 12 hex digits of SHA-256 over `s`, or twelve zeros when `s` is empty.
fn hash12(s: &str) -> String {
    if s.is_empty() {
        return EMPTY.into();
    }
    Sha256::digest(s.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex_list(v: &[u16]) -> String {
    v.iter().map(|x| format!("{x:04x}")).collect::<Vec<_>>().join(",")
}

/// Two digits, at most 99 (JA4.md "Number of Ciphers").
fn count(n: usize) -> String {
    format!("{:02}", n.min(99))
}

/// The JA4 of a ClientHello sent over TCP, given its extensions as `tls-parser` parsed them
/// (empty when it has none).
pub fn ja4(ch: &TlsClientHelloContents, exts: &[TlsExtension]) -> String {
    let mut ciphers: Vec<u16> = ch.ciphers.iter().map(|c| c.0).filter(|c| !is_grease(*c)).collect();
    let mut types: Vec<u16> = Vec::with_capacity(exts.len());
    let mut version = ch.version.0;
    let mut sni = false;
    let mut alpn: Option<&[u8]> = None;
    let mut sig_algs: &[u16] = &[];
    for e in exts {
        let ty = match e {
            // tls-parser keeps the real value of a GREASE extension here.
            TlsExtension::Grease(t, _) => *t,
            other => TlsExtensionType::from(other).0,
        };
        if is_grease(ty) {
            continue;
        }
        types.push(ty);
        match e {
            TlsExtension::SNI(_) => sni = true,
            TlsExtension::ALPN(v) => alpn = v.first().copied(),
            TlsExtension::SignatureAlgorithms(v) => sig_algs = v,
            TlsExtension::SupportedVersions(v) => {
                if let Some(max) = v.iter().map(|v| v.0).filter(|v| !is_grease(*v)).max() {
                    version = max;
                }
            }
            _ => {}
        }
    }
    let a = format!(
        "t{}{}{}{}{}",
        version_code(version),
        if sni { 'd' } else { 'i' },
        count(ciphers.len()),
        count(types.len()),
        alpn_code(alpn)
    );
    ciphers.sort_unstable();
    let mut hashed: Vec<u16> = types.into_iter().filter(|t| *t != EXT_SNI && *t != EXT_ALPN).collect();
    hashed.sort_unstable();
    let c = if hashed.is_empty() {
        EMPTY.to_string()
    } else if sig_algs.is_empty() {
        hash12(&hex_list(&hashed))
    } else {
        hash12(&format!("{}_{}", hex_list(&hashed), hex_list(sig_algs)))
    };
    format!("{a}_{}_{c}", hash12(&hex_list(&ciphers)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::proto::tls::{parse_handshake, Handshake};

    fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
        let mut v = ty.to_be_bytes().to_vec();
        v.extend((data.len() as u16).to_be_bytes());
        v.extend(data);
        v
    }

    fn u16s(v: &[u16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    /// A ClientHello handshake message (RFC 8446 §4.1.2) with these ciphers, extensions
    /// (type, data) in order.
    fn client_hello(ciphers: &[u16], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(0); // session id
        body.extend(((ciphers.len() * 2) as u16).to_be_bytes());
        body.extend(u16s(ciphers));
        body.extend([1, 0]); // compression: null
        let e: Vec<u8> = exts.iter().flat_map(|(t, d)| ext(*t, d)).collect();
        body.extend((e.len() as u16).to_be_bytes());
        body.extend(e);
        let mut msg = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
        msg.extend(body);
        msg
    }

    fn with_len16(v: Vec<u8>) -> Vec<u8> {
        let mut out = (v.len() as u16).to_be_bytes().to_vec();
        out.extend(v);
        out
    }

    /// The spec's example (JA4.md "Cipher hash", "Extension hash", "Example"): ciphers and
    /// extensions in the client's order, GREASE added, which must not count.
    fn spec_example(sig_algs: bool) -> Vec<u8> {
        let ciphers = [
            0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
            0x009d, 0x002f, 0x0035,
        ];
        let sni = with_len16([vec![0], with_len16(b"example.com".to_vec())].concat());
        let alpn = with_len16([vec![2], b"h2".to_vec(), vec![8], b"http/1.1".to_vec()].concat());
        let sigs = with_len16(u16s(&[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]));
        let versions = [vec![6], u16s(&[0x3a3a, 0x0304, 0x0303])].concat();
        let mut exts: Vec<(u16, Vec<u8>)> = vec![
            (0x2a2a, vec![]),
            (0x001b, vec![2, 0, 2]),
            (0x0000, sni),
            (0x0033, with_len16(vec![])),
            (0x0010, alpn),
            (0x4469, vec![0, 3, 2, b'h', b'2']),
            (0x0017, vec![]),
            (0x002d, vec![1, 1]),
            (0x000d, sigs),
            (0x0005, vec![1, 0, 0, 0, 0]),
            (0x0023, vec![]),
            (0x0012, vec![]),
            (0x002b, versions),
            (0xff01, vec![0]),
            (0x000b, vec![1, 0]),
            (0x000a, with_len16(u16s(&[0x001d, 0x0017]))),
            (0x0015, vec![0; 4]),
        ];
        if !sig_algs {
            // signature_algorithms present with an empty list: nothing to append.
            for (t, d) in &mut exts {
                if *t == 0x000d {
                    *d = with_len16(vec![]);
                }
            }
        }
        client_hello(&ciphers, &exts)
    }

    fn ja4_of(msg: &[u8]) -> String {
        match parse_handshake(msg).unwrap() {
            Handshake::ClientHello(ch) => ch.ja4.unwrap(),
            other => panic!("not a ClientHello: {other:?}"),
        }
    }

    #[test]
    fn the_spec_example_gives_the_spec_fingerprint() {
        assert_eq!(ja4_of(&spec_example(true)), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    }

    #[test]
    fn without_signature_algorithms_the_list_is_hashed_without_underscore() {
        // JA4.md: "0005,000a,…,4469,ff01 = 6d807ffa2a79".
        assert_eq!(ja4_of(&spec_example(false)), "t13d1516h2_8daaf6152771_6d807ffa2a79");
    }

    #[test]
    fn the_spec_cipher_list_hashes_to_the_spec_value() {
        assert_eq!(
            hash12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"),
            "8daaf6152771"
        );
    }

    #[test]
    fn an_ip_address_hello_without_extensions_has_zero_hashes() {
        // TLS 1.0 legacy hello, as old RDP clients send: no SNI, no ALPN, no extensions.
        let mut body = vec![3, 1];
        body.extend([7u8; 32]);
        body.extend([0, 0, 4, 0x00, 0x2f, 0x00, 0x35, 1, 0]);
        let mut msg = vec![1, 0, 0, body.len() as u8];
        msg.extend(body);
        assert_eq!(ja4_of(&msg), format!("t10i020000_{}_000000000000", hash12("002f,0035")));
        let none = client_hello(&[], &[]);
        assert!(ja4_of(&none).starts_with("t12i000000_000000000000_"));
    }

    #[test]
    fn alpn_values_follow_the_spec_examples() {
        assert_eq!(alpn_code(Some(b"http/1.1")), "h1");
        assert_eq!(alpn_code(Some(b"h")), "hh");
        assert_eq!(alpn_code(Some(&[0xab])), "ab");
        assert_eq!(alpn_code(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(alpn_code(Some(&[0x30, 0xab])), "3b");
        assert_eq!(alpn_code(Some(&[0x30, 0x31, 0xab, 0xcd])), "3d");
        assert_eq!(alpn_code(Some(&[0x30, 0xab, 0xcd, 0x31])), "01");
        assert_eq!(alpn_code(Some(b"")), "00");
        assert_eq!(alpn_code(None), "00");
    }
}
