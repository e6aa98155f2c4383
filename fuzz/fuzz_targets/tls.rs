//! The TLS path: records → handshake messages (defragmented across records, bounded as the
//! stream decoder bounds them) → certificates. Also the input as one bare handshake message
//! and as one DER certificate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdpscope::proto::{cert, tls};

const MAX_HS: usize = 64 * 1024;

fn certificate(der: &[u8]) {
    if let Ok(c) = cert::summarize(der) {
        let _ = format!("{c:?}");
        let _ = c.names_host("rdp.example");
        let _ = c.validity_at(time::OffsetDateTime::UNIX_EPOCH);
    }
}

fn message(msg: &[u8]) {
    match tls::parse_handshake(msg) {
        Ok(tls::Handshake::Certificate(chain)) => chain.iter().for_each(|der| certificate(der)),
        Ok(tls::Handshake::ClientHello(ch)) => {
            for v in ch.offered_versions() {
                let _ = tls::version_name(v);
            }
            let _ = format!("{ch:?}");
        }
        Ok(tls::Handshake::ServerHello(sh)) => {
            let _ = tls::version_name(sh.version);
            let _ = tls::cipher_name(sh.cipher);
        }
        Ok(h) => {
            let _ = h.name();
        }
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    message(data);
    certificate(data);
    let mut hs: Vec<u8> = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let h = match tls::parse_record_header(rest) {
            Ok(h) => h,
            Err(_) => {
                rest = &rest[1..];
                continue;
            }
        };
        assert!(tls::plausible_start(rest));
        let total = tls::RECORD_HEADER_LEN + usize::from(h.length);
        let Some(body) = rest.get(tls::RECORD_HEADER_LEN..total) else {
            break;
        };
        rest = &rest[total..];
        match h.content_type {
            tls::CT_ALERT => {
                if let Ok(a) = tls::parse_alert(body) {
                    let _ = tls::alert_name(a.description);
                    let _ = tls::alert_level_name(a.level);
                }
            }
            tls::CT_HANDSHAKE => {
                hs.extend_from_slice(body);
                while let Ok(len) = tls::handshake_message_len(&hs) {
                    if len > MAX_HS {
                        hs.clear();
                        break;
                    }
                    if hs.len() < len {
                        break;
                    }
                    let msg: Vec<u8> = hs.drain(..len).collect();
                    message(&msg);
                }
            }
            _ => {}
        }
    }
});
