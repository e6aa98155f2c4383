//! The TLS records of one direction: ChangeCipherSpec, alerts (cleartext or not),
//! handshake messages (defragmented, bounded) and application data (counted, not kept).

use super::StreamDecoder;
use crate::conn::ctx::Ctx;
use crate::conn::event::EventKind;
use crate::conn::facts::{AlertSeen, AppRecord};
use crate::conn::inside::DecryptState;
use crate::conn::tls_handshake;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::tls::{self, RecordHeader};

impl StreamDecoder {
    pub(super) fn encrypted(&self, side: Side, ctx: &Ctx<'_>) -> bool {
        side.of(&ctx.facts.tls.change_cipher_spec).is_some() || (side == Side::Server && ctx.facts.tls.is_tls13())
    }

    /// Whether `side`'s record of type `ct` is to be decrypted: it is protected, and a key
    /// matched the connection.
    pub(super) fn decrypts(&self, side: Side, ct: u8, ctx: &mut Ctx<'_>) -> bool {
        let t = &ctx.facts.tls;
        let protected = if t.is_tls13() {
            ct == tls::CT_APPLICATION_DATA
        } else {
            ct != tls::CT_CHANGE_CIPHER_SPEC && side.of(&t.change_cipher_spec).is_some()
        };
        let go = protected
            && match ctx.decrypt.get(ctx.keys, &ctx.facts.tls) {
                Some(d) if d.stopped(side) => {
                    d.note_refusal(side, ctx.facts);
                    false
                }
                Some(_) => true,
                None => false,
            };
        if protected && !ctx.facts.tls.rsa.transcript.is_empty() {
            // The decryptor is made (or never will be): the handshake bytes are not needed.
            ctx.facts.tls.rsa.transcript = Vec::new();
        }
        go
    }

    pub(super) fn record(&mut self, side: Side, at: At, h: RecordHeader, body: &[u8], ctx: &mut Ctx<'_>) {
        let encrypted = self.encrypted(side, ctx);
        let decrypt = self.decrypts(side, h.content_type, ctx);
        let t = &mut ctx.facts.tls;
        if side == Side::Client && t.server_hello.is_some() && t.first_client_record_after_server_hello.is_none() {
            t.first_client_record_after_server_hello = Some(at);
        }
        if h.content_type != tls::CT_APPLICATION_DATA {
            self.other_records += 1;
            if self.other_records > ctx.cfg.max_handshake_records {
                ctx.anomaly(at, side, "more TLS handshake records than the bound: parsing stopped");
                self.finish();
                return;
            }
        }
        match h.content_type {
            tls::CT_CHANGE_CIPHER_SPEC => {
                let slot = side.of_mut(&mut ctx.facts.tls.change_cipher_spec);
                if slot.is_none() {
                    *slot = Some(at);
                    ctx.event(at, side, EventKind::ChangeCipherSpec);
                }
            }
            tls::CT_ALERT => {
                // A cleartext alert is exactly two bytes; anything else is protected.
                let alert = if encrypted { None } else { tls::parse_alert(body).ok() };
                let seen = AlertSeen {
                    at,
                    side,
                    encrypted: alert.is_none(),
                    level: alert.map(|a| a.level),
                    description: alert.map(|a| a.description),
                };
                if ctx.facts.tls.alerts.len() < 16 {
                    ctx.facts.tls.alerts.push(seen);
                }
                let kind = match alert {
                    Some(a) => EventKind::Alert {
                        level: a.level,
                        description: a.description,
                    },
                    None => EventKind::EncryptedAlert { len: h.length },
                };
                ctx.event(at, side, kind);
            }
            tls::CT_HANDSHAKE if encrypted => {
                let slot = side.of_mut(&mut ctx.facts.tls.encrypted_handshake);
                if slot.is_none() {
                    *slot = Some(at);
                    ctx.event(at, side, EventKind::EncryptedHandshake { len: h.length });
                }
            }
            tls::CT_HANDSHAKE => self.handshake_fragment(side, at, body, ctx),
            tls::CT_APPLICATION_DATA => {
                let t = &mut ctx.facts.tls;
                *side.of_mut(&mut t.app_bytes) += u64::from(h.length);
                let count = side.of_mut(&mut t.app_count);
                *count += 1;
                if *count <= ctx.cfg.max_app_records as u64 {
                    crate::conn::event::push_in_steps(
                        &mut t.app_records,
                        AppRecord {
                            at,
                            side,
                            len: h.length,
                        },
                    );
                    ctx.event(at, side, EventKind::AppData { len: h.length });
                } else if !decrypt {
                    // Enough to follow CredSSP and see the session start: stop parsing.
                    self.finish();
                }
            }
            _ => {}
        }
        if decrypt {
            self.decrypted(side, at, h, body, ctx);
        }
    }

    /// Decrypt a protected record and read what it carries.
    fn decrypted(&mut self, side: Side, at: At, h: RecordHeader, body: &[u8], ctx: &mut Ctx<'_>) {
        let mut state = std::mem::take(ctx.decrypt);
        let plain = match &mut state {
            DecryptState::Active(d) => d.open(side, at, h.content_type, h.version, body, ctx),
            DecryptState::Unknown => None,
        };
        *ctx.decrypt = state;
        let Some(p) = plain else { return };
        match p.content_type {
            // TLS 1.3: the server's flight (its certificate is visible now); TLS 1.2: Finished.
            tls::CT_HANDSHAKE => self.handshake_fragment(side, at, &p.data, ctx),
            tls::CT_ALERT => {
                let Ok(a) = tls::parse_alert(&p.data) else { return };
                let alerts = &mut ctx.facts.tls.alerts;
                if let Some(x) = alerts.iter_mut().rev().find(|x| x.side == side && x.at == at) {
                    x.level = Some(a.level);
                    x.description = Some(a.description);
                } else if alerts.len() < 16 {
                    // TLS 1.3 hides an alert in an application_data record.
                    alerts.push(AlertSeen {
                        at,
                        side,
                        encrypted: true,
                        level: Some(a.level),
                        description: Some(a.description),
                    });
                }
                ctx.event(
                    at,
                    side,
                    EventKind::Alert {
                        level: a.level,
                        description: a.description,
                    },
                );
            }
            tls::CT_APPLICATION_DATA if ctx.facts.https.is_some() => {
                let mut g = std::mem::take(ctx.gateway);
                g.data(side, at, &p.data, ctx);
                *ctx.gateway = g;
            }
            tls::CT_APPLICATION_DATA => self.inside.data(side, at, &p.data, ctx),
            _ => {}
        }
    }

    pub(super) fn handshake_fragment(&mut self, side: Side, at: At, body: &[u8], ctx: &mut Ctx<'_>) {
        if self.hs_overflow {
            return;
        }
        self.hs.extend_from_slice(body);
        loop {
            let len = match tls::handshake_message_len(&self.hs) {
                Ok(l) => l,
                Err(_) => return,
            };
            if len > ctx.cfg.max_handshake_message {
                ctx.anomaly(at, side, "TLS handshake message larger than the bound");
                self.hs = Vec::new();
                self.hs_overflow = true;
                return;
            }
            if self.hs.len() < len {
                return;
            }
            let msg: Vec<u8> = self.hs.drain(..len).collect();
            let parsed = if msg.first() == Some(&11) && ctx.facts.tls.is_tls13() {
                tls::parse_certificate_13(&msg)
            } else {
                tls::parse_handshake(&msg)
            };
            match parsed {
                Ok(m) => tls_handshake::record(side, at, m, ctx),
                Err(_) => ctx.anomaly(at, side, "TLS handshake message does not parse"),
            }
            if !ctx.cfg.server_keys.is_empty() {
                keep_for_server_key(side, &msg, ctx);
            }
        }
    }
}

/// With `--server-key`: the handshake bytes up to the ClientKeyExchange and its encrypted
/// premaster secret (RFC 5246 §7.4.7.1: a 2-byte length, then the RSA ciphertext).
fn keep_for_server_key(side: Side, msg: &[u8], ctx: &mut Ctx<'_>) {
    const CLIENT_KEY_EXCHANGE: u8 = 16;
    let tls13 = ctx.facts.tls.is_tls13();
    let started = ctx.facts.tls.client_hello.is_some();
    let rsa = &mut ctx.facts.tls.rsa;
    if rsa.encrypted_premaster.is_some() || !started {
        return;
    }
    if tls13 {
        // No RSA key exchange in TLS 1.3: nothing to keep.
        rsa.transcript = Vec::new();
        rsa.transcript_cut = true;
        return;
    }
    if rsa.transcript.len() + msg.len() > crate::decrypt::server_key::MAX_TRANSCRIPT {
        rsa.transcript_cut = true;
        rsa.transcript = Vec::new();
    } else if !rsa.transcript_cut {
        rsa.transcript.extend_from_slice(msg);
    }
    if side == Side::Client && msg.first() == Some(&CLIENT_KEY_EXCHANGE) {
        let epms = msg.get(6..).filter(|e| e.len() <= 2048).unwrap_or_default();
        rsa.encrypted_premaster = Some(epms.to_vec());
    }
}
