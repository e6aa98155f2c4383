//! The server certificate (or why none is visible), standard RDP security facts, and the
//! proxy (SOCKS or HTTP CONNECT) the connection went through.

use ratatui::text::Line;
use tls_parser::TlsVersion;

use crate::live::ConnView;

pub fn lines(v: &ConnView) -> Vec<Line<'static>> {
    let r = &v.record;
    let mut out = Vec::new();
    let cert = r
        .tls
        .as_ref()
        .and_then(|t| t.certificate.as_ref())
        .or_else(|| r.standard_security.as_ref().and_then(|s| s.certificate.as_ref()));
    match cert {
        Some(c) => {
            out.push(Line::raw(format!("subject   {}", super::clean(&c.subject))));
            out.push(Line::raw(format!(
                "issuer    {}{}",
                super::clean(&c.issuer),
                if c.self_signed { " (self-signed)" } else { "" }
            )));
            out.push(Line::raw(format!(
                "valid     {} → {}",
                crate::ts::readable_rfc3339(&c.not_before),
                crate::ts::readable_rfc3339(&c.not_after)
            )));
            out.push(Line::raw(format!(
                "          {} at capture time",
                if c.valid_at_capture { "valid" } else { "NOT VALID" }
            )));
            out.push(Line::raw(format!("key       {}, {}", c.key, c.signature)));
            if !c.san.is_empty() {
                out.push(Line::raw(format!("SAN       {}", super::clean(&c.san.join(", ")))));
            }
        }
        None => match &r.tls {
            Some(t) if t.version == Some(TlsVersion::Tls13) => out.push(Line::raw(
                "TLS 1.3 encrypts the certificate: not visible without the keys (--keylog).",
            )),
            Some(_) => out.push(Line::raw("no certificate seen")),
            None => out.push(Line::raw("no TLS")),
        },
    }
    if let Some(t) = &r.tls {
        let cipher = t.cipher.as_ref().map_or("-".to_string(), |c| {
            c.name.map_or(format!("0x{:04x}", c.id), str::to_string)
        });
        out.push(Line::raw(format!(
            "TLS       offered {} ({} suites), chosen {} {}",
            t.client_version_names().join("/"),
            t.client_cipher_count.unwrap_or(0),
            t.version_name().as_deref().unwrap_or("-"),
            cipher
        )));
    }
    if let Some(p) = &r.proxy {
        out.push(Line::raw(format!("proxy     {}", super::clean(&p.summary()))));
    }
    if let Some(s) = &r.standard_security {
        out.push(Line::raw(format!(
            "RDP sec   {} / {} / {} certificate, client {} build {}",
            s.encryption_method.as_deref().unwrap_or("-"),
            s.encryption_level.as_deref().unwrap_or("-"),
            s.certificate_type.unwrap_or("-"),
            super::clean(s.client_name.as_deref().unwrap_or("-")),
            s.client_build.map_or("-".into(), |b| b.to_string())
        )));
    }
    // Read inside TLS with the session keys.
    for l in crate::report::text::inside_lines(r) {
        let (head, rest) = l.split_once(": ").unwrap_or(("", l.as_str()));
        out.push(Line::raw(format!("{head:<9} {}", super::clean(rest))));
    }
    out
}
