//! The `tls` and `standard_security` objects of a record: what the TLS handshake or the
//! cleartext MCS exchange of standard RDP security showed, and the server certificate either
//! carried (docs/json.md).

use serde::Serialize;
use tls_parser::{TlsAlertDescription, TlsAlertSeverity, TlsVersion};

use super::{ser, SideCount};
use crate::conn::facts::RdpFacts;
use crate::flow::tcp::At;
use crate::flow::Side;
use crate::proto::cert::{CertSummary, Validity};
use crate::proto::mcs::{self, ServerCertificate};
use crate::proto::tls;
use crate::ts::Ts;

#[derive(Debug, Clone, Serialize)]
pub struct CipherRecord {
    pub id: u16,
    pub name: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertRecord {
    pub frame: u64,
    pub from: Side,
    pub encrypted: bool,
    #[serde(serialize_with = "ser::alert_level")]
    pub level: Option<TlsAlertSeverity>,
    #[serde(serialize_with = "ser::alert_description")]
    pub description: Option<TlsAlertDescription>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateRecord {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
    /// Judged at the timestamp of the packet that carried the certificate.
    pub valid_at_capture: bool,
    pub key: String,
    pub signature: String,
    pub san: Vec<String>,
    pub frame: Option<u64>,
    pub chain_length: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsRecord {
    #[serde(serialize_with = "ser::tls_versions")]
    pub client_versions: Vec<TlsVersion>,
    #[serde(serialize_with = "ser::tls_version")]
    pub version: Option<TlsVersion>,
    pub cipher: Option<CipherRecord>,
    pub client_cipher_count: Option<usize>,
    pub sni: Option<String>,
    /// ALPN protocols the client offered, and the one the server selected (`h2`,
    /// `http/1.1`, `other`): an RD Gateway's tunnel runs over http/1.1, its KDC proxy over h2.
    pub alpn_offered: Vec<String>,
    pub alpn: Option<&'static str>,
    /// JA4 fingerprint of the ClientHello (null when its extensions could not be parsed).
    pub ja4: Option<String>,
    pub alerts: Vec<AlertRecord>,
    pub certificate: Option<CertificateRecord>,
    pub client_hello_frame: Option<u64>,
    pub server_hello_frame: Option<u64>,
    pub application_data_records: SideCount,
    pub application_data_bytes: SideCount,
}

impl TlsRecord {
    /// The negotiated version by name ("1.2").
    pub fn version_name(&self) -> Option<String> {
        self.version.map(tls::version_name)
    }

    /// The client's offered versions by name.
    pub fn client_version_names(&self) -> Vec<String> {
        self.client_versions.iter().map(|v| tls::version_name(*v)).collect()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StandardSecurityRecord {
    pub encryption_method: Option<String>,
    pub encryption_level: Option<String>,
    pub certificate_type: Option<&'static str>,
    pub client_build: Option<u32>,
    /// The Windows release that sends this build (what the build says, not proof of the OS).
    pub client_version: Option<&'static str>,
    pub client_name: Option<String>,
    /// TS_UD_CS_CORE clientDigProductId: the client machine's product id, when it sends one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_dig_product_id: Option<String>,
    pub desktop: Option<String>,
    pub keyboard_layout: Option<u32>,
    pub client_encryption_methods: Option<u32>,
    pub channels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateRecord>,
}

fn certificate(c: &CertSummary, at: Option<At>, judged_at: Ts, chain_length: usize) -> CertificateRecord {
    CertificateRecord {
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        not_before: Ts::from_parts(c.not_before.unix_timestamp(), 0).rfc3339(),
        not_after: Ts::from_parts(c.not_after.unix_timestamp(), 0).rfc3339(),
        self_signed: c.self_signed,
        valid_at_capture: c.validity_at(judged_at.datetime()) == Validity::Valid,
        key: c.key.clone(),
        signature: c.signature.clone(),
        san: c.san.clone(),
        frame: at.map(|a| a.frame),
        chain_length,
    }
}

pub(super) fn tls_record(f: &RdpFacts) -> Option<TlsRecord> {
    let t = &f.tls;
    if !t.seen() && t.alerts.is_empty() && t.app_count == [0, 0] {
        return None;
    }
    let ch = t.client_hello.as_ref();
    let sh = t.server_hello.as_ref().map(|(_, s)| s);
    Some(TlsRecord {
        client_versions: ch.map(|(_, c)| c.offered_versions()).unwrap_or_default(),
        version: sh.map(|s| s.version),
        cipher: sh.map(|s| CipherRecord {
            id: s.cipher,
            name: tls::cipher_name(s.cipher),
        }),
        client_cipher_count: ch.map(|(_, c)| c.cipher_suites.len()),
        sni: ch.and_then(|(_, c)| c.sni.clone()),
        alpn_offered: ch.map(|(_, c)| c.alpn.clone()).unwrap_or_default(),
        alpn: sh.and_then(|s| s.alpn).map(tls::Alpn::name),
        ja4: ch.and_then(|(_, c)| c.ja4.clone()),
        alerts: t
            .alerts
            .iter()
            .map(|a| AlertRecord {
                frame: a.at.frame,
                from: a.side,
                encrypted: a.encrypted,
                level: a.level,
                description: a.description,
            })
            .collect(),
        certificate: t
            .certificate
            .as_ref()
            .map(|(at, c)| certificate(c, Some(*at), at.ts, t.chain_len)),
        client_hello_frame: ch.map(|(at, _)| at.frame),
        server_hello_frame: t.server_hello.as_ref().map(|(at, _)| at.frame),
        application_data_records: SideCount {
            client: t.app_count[0],
            server: t.app_count[1],
        },
        application_data_bytes: SideCount {
            client: t.app_bytes[0],
            server: t.app_bytes[1],
        },
    })
}

pub(super) fn standard_security(f: &RdpFacts) -> Option<StandardSecurityRecord> {
    if f.connect_initial.is_none() && f.connect_response.is_none() {
        return None;
    }
    let mut s = StandardSecurityRecord::default();
    if let Some((_, ci)) = &f.connect_initial {
        if let Some(core) = &ci.client_core {
            s.client_build = Some(core.client_build);
            s.client_version = mcs::builds::windows_release(core.client_build);
            s.client_name = Some(core.client_name.clone());
            s.client_dig_product_id.clone_from(&core.dig_product_id);
            s.desktop = Some(format!("{}x{}", core.desktop_width, core.desktop_height));
            s.keyboard_layout = Some(core.keyboard_layout);
        }
        s.client_encryption_methods = ci.client_security.map(|c| c.encryption_methods);
        s.channels = ci.channels.clone();
    }
    if let Some((at, cr)) = &f.connect_response {
        if let Some(sec) = &cr.server_security {
            s.encryption_method = Some(mcs::encryption_method_name(sec.encryption_method));
            s.encryption_level = Some(mcs::encryption_level_name(sec.encryption_level));
            s.certificate_type = sec.certificate.as_ref().map(|c| match c {
                ServerCertificate::Proprietary { .. } => "proprietary",
                ServerCertificate::X509Chain { .. } => "x509",
            });
            if let (Some(ServerCertificate::X509Chain { count, .. }), Some(c)) = (&sec.certificate, &f.rdp_certificate)
            {
                s.certificate = Some(certificate(c, Some(*at), at.ts, *count as usize));
            }
        }
    }
    Some(s)
}
