//! What each TLS handshake message tells about the connection: the ClientHello's offer,
//! the server's choice, the certificate (summarised at once; only the summary is kept) and
//! the key-exchange steps, into the TLS facts and the timeline.

use crate::conn::ctx::Ctx;
use crate::conn::event::EventKind;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::cert;
use crate::proto::tls::Handshake;

pub fn record(side: Side, at: At, m: Handshake<'_>, ctx: &mut Ctx<'_>) {
    let name = m.name();
    let t = &mut ctx.facts.tls;
    let kind = match m {
        Handshake::ClientHello(ch) => {
            let kind = EventKind::ClientHello {
                versions: ch.offered_versions().into(),
                ciphers: ch.cipher_suites.len(),
                sni: ch.sni.as_deref().map(Box::from),
            };
            t.client_hello.get_or_insert((at, ch));
            kind
        }
        Handshake::ServerHello(sh) => {
            let kind = EventKind::ServerHello {
                version: sh.version,
                cipher: sh.cipher,
            };
            // After a HelloRetryRequest the real ServerHello follows: it wins.
            if t.server_hello.is_none() || t.server_hello.as_ref().is_some_and(|(_, s)| s.hello_retry_request) {
                t.server_hello = Some((at, sh));
            }
            kind
        }
        Handshake::Certificate(chain) => {
            t.chain_len = chain.len();
            let subject = match chain.first().map(|der| cert::summarize(der)) {
                Some(Ok(c)) => {
                    let s = c.subject.clone();
                    t.certificate.get_or_insert((at, c));
                    Some(s)
                }
                Some(Err(_)) => {
                    t.certificate_error = Some("leaf certificate does not parse");
                    None
                }
                None => {
                    t.certificate_error = Some("empty certificate chain");
                    None
                }
            };
            EventKind::Certificate { subject }
        }
        Handshake::ServerHelloDone => {
            t.server_hello_done.get_or_insert(at);
            EventKind::TlsHandshake { name }
        }
        Handshake::ClientKeyExchange => {
            t.client_key_exchange.get_or_insert(at);
            EventKind::TlsHandshake { name }
        }
        _ => EventKind::TlsHandshake { name },
    };
    ctx.event(at, side, kind);
}
