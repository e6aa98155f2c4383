//! What each TLS handshake message tells about the connection: the ClientHello's offer,
//! the server's choice, the certificate (summarised at once; only the summary is kept) and
//! the key-exchange steps, into the TLS facts and the timeline.

use crate::conn::ctx::Ctx;
use crate::conn::event::EventKind;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::cert;
use crate::proto::tls::{self, Handshake};

pub fn record(side: Side, at: At, m: Handshake<'_>, ctx: &mut Ctx<'_>) {
    let name = m.name();
    let t = &mut ctx.facts.tls;
    let detail = match m {
        Handshake::ClientHello(ch) => {
            let d = format!(
                "versions={} ciphers={}{}",
                ch.offered_versions()
                    .iter()
                    .map(|v| tls::version_name(*v))
                    .collect::<Vec<_>>()
                    .join(","),
                ch.cipher_suites.len(),
                ch.sni.as_deref().map(|s| format!(" sni={s}")).unwrap_or_default()
            );
            t.client_hello.get_or_insert((at, ch));
            Some(d)
        }
        Handshake::ServerHello(sh) => {
            let d = format!(
                "version={} cipher={}",
                tls::version_name(sh.version),
                tls::cipher_name(sh.cipher).map_or_else(|| format!("0x{:04x}", sh.cipher), str::to_string)
            );
            // After a HelloRetryRequest the real ServerHello follows: it wins.
            if t.server_hello.is_none() || t.server_hello.as_ref().is_some_and(|(_, s)| s.hello_retry_request) {
                t.server_hello = Some((at, sh));
            }
            Some(d)
        }
        Handshake::Certificate(chain) => {
            t.chain_len = chain.len();
            let leaf = chain.first().map(|der| cert::summarize(der));
            let d = match leaf {
                Some(Ok(c)) => {
                    let d = c.subject.clone();
                    t.certificate.get_or_insert((at, c));
                    Some(d)
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
            d
        }
        Handshake::ServerHelloDone => {
            t.server_hello_done.get_or_insert(at);
            None
        }
        Handshake::ClientKeyExchange => {
            t.client_key_exchange.get_or_insert(at);
            None
        }
        _ => None,
    };
    ctx.event(at, side, EventKind::TlsHandshake { name, detail });
}
