//! `--format ocsf`: one OCSF 1.7.0 RDP Activity event (class_uid 4005) per connection, one
//! line each. The activity is the furthest RDP step the wire showed (initial request or
//! response, TLS handshake, connect request or response, disconnect; traffic when no RDP was
//! seen). Every attribute path is one of the class's (tests/ecs_ocsf.rs checks them against
//! the OCSF 1.7.0 schema list); what OCSF has no attribute for goes under `unmapped.rdp`.

use std::io::{self, Write};

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::ecs::{message, prune};
use crate::diagnosis::Outcome;
use crate::flow::Endpoint;
use crate::record::derived::RdpStep;
use crate::record::ConnectionRecord;

pub const OCSF_VERSION: &str = "1.7.0";
pub const CLASS_UID: u32 = 4005;
const CATEGORY_UID: u32 = 4;

/// The activity id and name of RDP Activity for a step.
fn activity(step: RdpStep) -> (u32, &'static str) {
    match step {
        RdpStep::None => (6, "Traffic"),
        RdpStep::InitialRequest => (1, "Initial Request"),
        RdpStep::InitialResponse => (2, "Initial Response"),
        RdpStep::TlsHandshake => (5, "TLS Handshake"),
        RdpStep::ConnectRequest => (3, "Connect Request"),
        RdpStep::ConnectResponse => (4, "Connect Response"),
        RdpStep::Disconnect => (7, "Disconnect"),
    }
}

fn endpoint(e: &Endpoint) -> Value {
    json!({"ip": e.ip.to_string(), "port": e.port})
}

/// Milliseconds since the epoch of an RFC 3339 time (certificate dates).
fn epoch_ms(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn tls(r: &ConnectionRecord) -> Value {
    let Some(t) = &r.tls else { return Value::Null };
    let cert = t.certificate.as_ref().map(|c| {
        json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "created_time": epoch_ms(&c.not_before),
            "expiration_time": epoch_ms(&c.not_after),
            "is_self_signed": c.self_signed,
        })
    });
    json!({
        "version": t.version_name(),
        "cipher": t.cipher.as_ref().and_then(|c| c.name),
        "sni": t.sni,
        "certificate": cert,
        // The first cleartext alert's description code (RFC 8446 §6).
        "alert": t.alerts.iter().find_map(|a| a.description.map(|d| d.0)),
    })
}

/// The OCSF event of one connection.
pub fn event(r: &ConnectionRecord, version: &str) -> Value {
    let (activity_id, activity_name) = activity(r.rdp_step());
    let start_ms = r.start.0.div_euclid(1_000_000);
    let duration = r.duration_ms.round() as i64;
    let (status_id, status) = match r.outcome {
        Outcome::Success => (1, "Success"),
        Outcome::Failed => (2, "Failure"),
        Outcome::Incomplete => (0, "Unknown"),
    };
    let cause = r.cause_finding().filter(|_| r.outcome == Outcome::Failed);
    let neg = serde_json::to_value(&r.negotiation).unwrap_or_default();
    // Through a proxy, the record's server is the proxy; the destination is what the client
    // asked the proxy for.
    let (dst, proxy) = match &r.proxy {
        Some(p) => (
            json!({
                "hostname": p.target_host.as_ref().filter(|h| h.parse::<std::net::IpAddr>().is_err()),
                "ip": p.target_host.as_ref().filter(|h| h.parse::<std::net::IpAddr>().is_ok()),
                "port": p.target_port,
            }),
            endpoint(&r.server),
        ),
        None => (endpoint(&r.server), Value::Null),
    };
    let connection_info = json!({
        "community_uid": r.community_id,
        // A passive sensor cannot tell inbound from outbound.
        "direction_id": 0,
        "direction": "Unknown",
        "protocol_name": r.transport,
        "protocol_num": if r.transport == "udp" { 17 } else { 6 },
        "protocol_ver_id": if r.client.ip.is_ipv4() { 4 } else { 6 },
    });
    let unmapped = json!({"rdp": {
        "id": r.id,
        "file": r.file,
        "frames": r.frames,
        "phase_reached": r.phase_reached,
        "outcome": r.outcome,
        "findings": r.findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        "client_error": r.client_error,
        "user_source": r.user_name().map(|(_, s)| s.name()),
        "retry_of": r.retry_of,
    }});
    let request = json!({"flags": neg.get("requested")});
    let response = json!({
        "flags": neg.get("selected").filter(|v| !v.is_null()).map(|v| vec![v.clone()]),
        "code": r.negotiation.failure.as_ref().map(|f| f.code),
        "error": r.negotiation.failure.as_ref().map(|f| f.name),
    });
    prune(json!({
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": CATEGORY_UID,
        "category_name": "Network Activity",
        "class_uid": CLASS_UID,
        "class_name": "RDP Activity",
        "type_uid": u64::from(CLASS_UID) * 100 + u64::from(activity_id),
        "type_name": format!("RDP Activity: {activity_name}"),
        // Informational, or Low for a connection that failed.
        "severity_id": if cause.is_some() { 2 } else { 1 },
        "severity": if cause.is_some() { "Low" } else { "Informational" },
        "time": start_ms,
        "start_time": start_ms,
        "end_time": start_ms + duration,
        "duration": duration,
        "status_id": status_id,
        "status": status,
        "status_code": cause.map(|f| f.code),
        "status_detail": cause.map(|f| &f.summary),
        "message": message(r),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "rdpscope", "vendor_name": "rdpscope", "version": version},
        },
        "src_endpoint": endpoint(&r.client),
        "dst_endpoint": dst,
        "proxy": proxy,
        "connection_info": connection_info,
        "tls": tls(r),
        "ja4_fingerprint_list": r.tls.as_ref().and_then(|t| t.ja4.as_ref()).map(|j| vec![json!({
            "type_id": 1, "type": "JA4", "value": j,
        })]),
        "traffic": r.tcp.as_ref().map(|t| json!({
            "bytes_out": t.payload_bytes.client,
            "bytes_in": t.payload_bytes.server,
        })),
        "identifier_cookie": r.cookie,
        "user": r.user_name().map(|(u, _)| json!({"name": u})),
        "request": request,
        "response": response,
        "unmapped": unmapped,
    }))
}

/// One event, one line.
pub fn connection(out: &mut dyn Write, r: &ConnectionRecord) -> io::Result<()> {
    super::json::line(out, &event(r, env!("CARGO_PKG_VERSION")))
}
