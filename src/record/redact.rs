//! `--redact`: user names (cookie, routing token, SOCKS user, NLA and Client Info users,
//! domains, workstations, Kerberos principals), client names, certificate
//! subjects, issuers, SANs, SNI and proxy target host names (SOCKS, HTTP CONNECT) are
//! replaced by a stable keyed hash everywhere a record shows them (its fields, finding
//! texts and the timeline), so reports can be shared while the same person or host stays
//! recognisable across connections and runs with the same key.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{CertificateRecord, ConnectionRecord};
use crate::conn::event::EventKind;
use crate::proto::socks;

/// The key for the keyed hash: from a file (`--redact-key FILE`), from the environment
/// (`RDPSCOPE_REDACT_KEY`), or else random for this run (hashes then match within one run only).
#[derive(Clone)]
pub struct Redactor {
    key: Vec<u8>,
}

impl std::fmt::Debug for Redactor {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    pub fn new(key: Vec<u8>) -> Redactor {
        Redactor { key }
    }

    pub fn from_env_or_random() -> std::io::Result<(Redactor, bool)> {
        if let Some(k) = std::env::var_os("RDPSCOPE_REDACT_KEY").filter(|k| !k.is_empty()) {
            return Ok((Redactor::new(k.as_encoded_bytes().to_vec()), true));
        }
        let mut key = vec![0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut key)?;
        Ok((Redactor::new(key), false))
    }

    /// `[redacted:0123456789ab]`: the first 6 bytes of HMAC-SHA256(key, value) in hex.
    pub fn token(&self, value: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return "[redacted]".into();
        };
        mac.update(value.as_bytes());
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("[redacted:{hex}]")
    }

    /// Redact the names a timeline event carries.
    fn event(&self, e: &mut EventKind) {
        let tok = |s: &mut String| {
            if !s.is_empty() && !s.starts_with("[redacted") {
                *s = self.token(s);
            }
        };
        match e {
            EventKind::X224Request { cookie: Some(c), .. } => tok(c),
            EventKind::ClientHello { sni: Some(s), .. } => {
                let mut t = s.to_string();
                tok(&mut t);
                *s = t.into();
            }
            EventKind::Certificate { subject: Some(s) } => tok(s),
            EventKind::SocksClient(m) => match &mut **m {
                socks::ClientMsg::Auth { user } => tok(user),
                socks::ClientMsg::Request(r) => {
                    if let Some(u) = r.user.as_mut() {
                        tok(u);
                    }
                    if let socks::Target::Name(h, _) = &mut r.target {
                        tok(h);
                    }
                }
                _ => {}
            },
            EventKind::HttpConnect { authority } => {
                // host:port; an address is no more than the record's own endpoints.
                let (host, port) = authority.rsplit_once(':').unwrap_or((authority.as_str(), ""));
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                if bare.parse::<std::net::IpAddr>().is_err() && !host.starts_with("[redacted") {
                    let mut h = host.to_string();
                    tok(&mut h);
                    *authority = if port.is_empty() { h } else { format!("{h}:{port}") };
                }
            }
            _ => {}
        }
    }

    /// Redact one record in place.
    pub fn record(&self, r: &mut ConnectionRecord) {
        let mut secrets: Vec<String> = Vec::new();
        let mut take = |s: &mut String| {
            if !s.is_empty() && !s.starts_with("[redacted") {
                secrets.push(s.clone());
                *s = self.token(s);
            }
        };
        if let Some(c) = r.cookie.as_mut() {
            take(c);
        }
        if let Some(t) = r.routing_token.as_mut() {
            take(t);
        }
        let cert = |c: &mut CertificateRecord, take: &mut dyn FnMut(&mut String)| {
            take(&mut c.subject);
            take(&mut c.issuer);
            for s in c.san.iter_mut() {
                take(s);
            }
        };
        if let Some(t) = r.tls.as_mut() {
            if let Some(s) = t.sni.as_mut() {
                take(s);
            }
            if let Some(c) = t.certificate.as_mut() {
                cert(c, &mut take);
            }
        }
        if let Some(s) = r.standard_security.as_mut() {
            if let Some(n) = s.client_name.as_mut() {
                take(n);
            }
            if let Some(c) = s.certificate.as_mut() {
                cert(c, &mut take);
            }
        }
        if let Some(n) = r.nla.as_mut() {
            for v in [
                &mut n.user,
                &mut n.domain,
                &mut n.workstation,
                &mut n.service,
                &mut n.realm,
            ] {
                if let Some(v) = v.as_mut() {
                    take(v);
                }
            }
        }
        for k in r.kerberos.iter_mut() {
            for v in [&mut k.user, &mut k.realm, &mut k.service] {
                if let Some(v) = v.as_mut() {
                    take(v);
                }
            }
        }
        if let Some(s) = r.session.as_mut() {
            for v in [&mut s.user, &mut s.domain] {
                if let Some(v) = v.as_mut() {
                    take(v);
                }
            }
            if let Some(n) = s.client.as_mut().and_then(|c| c.name.as_mut()) {
                take(n);
            }
            if let Some(rd) = s.redirect.as_mut() {
                for v in [&mut rd.target, &mut rd.user, &mut rd.domain] {
                    if let Some(v) = v.as_mut() {
                        take(v);
                    }
                }
            }
        }
        if let Some(p) = r.proxy.as_mut() {
            if let Some(u) = p.user.as_mut() {
                take(u);
            }
            // A host name says who; an address is no more than the record's own endpoints.
            if let Some(h) = p
                .target_host
                .as_mut()
                .filter(|h| h.parse::<std::net::IpAddr>().is_err())
            {
                take(h);
            }
        }
        // The same values inside sentences: longest first so a value that contains
        // another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        let scrub = |text: &mut String| {
            for s in &secrets {
                // Cookies often appear cut or padded; match the trimmed value too.
                for v in [s.as_str(), s.trim()] {
                    if !v.is_empty() && text.contains(v) {
                        *text = text.replace(v, &self.token(s));
                    }
                }
            }
        };
        for f in r.findings.iter_mut() {
            scrub(&mut f.summary);
            scrub(&mut f.detail);
        }
        for e in r.timeline.iter_mut() {
            self.event(&mut e.event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_per_key_and_differ_across_keys() {
        let a = Redactor::new(b"k1".to_vec());
        let b = Redactor::new(b"k2".to_vec());
        assert_eq!(a.token("alice"), a.token("alice"));
        assert_ne!(a.token("alice"), a.token("bob"));
        assert_ne!(a.token("alice"), b.token("alice"));
        assert!(a.token("alice").starts_with("[redacted:"));
        assert_eq!(a.token("alice").len(), "[redacted:]".len() + 12);
    }
}
