//! `--format ecs`: one Elastic Common Schema document per connection, one line each, so
//! Filebeat, Elastic Agent, Vector or Fluent Bit ship it unchanged. Every field outside `rdp.*`
//! is an ECS field of the right type (tests/ecs_ocsf.rs checks them against the ECS field
//! list); what ECS has no field for goes under the custom `rdp.*` (docs/fleet.md).

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use crate::diagnosis::{Outcome, Phase};
use crate::flow::Endpoint;
use crate::record::ConnectionRecord;

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "9.0.0";

/// Drop nulls, empty arrays and objects left empty, so a document only says what was seen.
pub(crate) fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| match v {
                    Value::Null => false,
                    Value::Object(o) => !o.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(prune).collect()),
        other => other,
    }
}

fn endpoint(e: &Endpoint) -> Value {
    json!({"ip": e.ip.to_string(), "port": e.port, "address": e.ip.to_string()})
}

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "success",
        Outcome::Failed => "failure",
        Outcome::Incomplete => "unknown",
    }
}

/// Nanoseconds from the record's milliseconds (ECS `event.duration`).
fn nanos(ms: f64) -> i64 {
    (ms * 1e6).round() as i64
}

/// The one-line message: what happened, in the words of the text report.
pub(crate) fn message(r: &ConnectionRecord) -> String {
    let head = format!("RDP {} -> {}", r.client, r.server);
    match (r.outcome, r.cause_finding()) {
        (Outcome::Failed, Some(f)) => format!("{head} failed at {}: {}", r.phase_reached.name(), f.summary),
        (Outcome::Failed, None) => format!("{head} failed at {}", r.phase_reached.name()),
        (Outcome::Success, _) => format!("{head} succeeded (reached {})", r.phase_reached.name()),
        (Outcome::Incomplete, _) => format!("{head} incomplete (reached {})", r.phase_reached.name()),
    }
}

fn tls(r: &ConnectionRecord) -> Value {
    let Some(t) = &r.tls else { return Value::Null };
    let cert = t.certificate.as_ref();
    json!({
        "version": t.version_name(),
        "version_protocol": t.version.map(|_| "tls"),
        "cipher": t.cipher.as_ref().and_then(|c| c.name),
        // The handshake completed: the connection went on to what comes after TLS.
        "established": r.phase_reached > Phase::Tls,
        "client": {"server_name": t.sni},
        "server": {
            "not_after": cert.map(|c| &c.not_after),
            "not_before": cert.map(|c| &c.not_before),
            "x509": cert.map(|c| json!({
                "subject": {"distinguished_name": c.subject},
                "issuer": {"distinguished_name": c.issuer},
                "not_before": c.not_before,
                "not_after": c.not_after,
                "alternative_names": c.san,
                "signature_algorithm": c.signature,
            })),
        },
    })
}

/// RDP specifics ECS has no field for (custom `rdp.*`).
fn rdp(r: &ConnectionRecord) -> Value {
    let user = r.user_name();
    let neg = serde_json::to_value(&r.negotiation).unwrap_or_default();
    let client = r
        .session
        .as_ref()
        .and_then(|s| s.client.as_ref())
        .map(|c| json!({"build": c.build, "version": c.version, "name": c.name, "dig_product_id": c.dig_product_id}))
        .or_else(|| {
            r.standard_security.as_ref().map(|s| {
                json!({"build": s.client_build, "version": s.client_version, "name": s.client_name,
                    "dig_product_id": s.client_dig_product_id})
            })
        });
    json!({
        "id": r.id,
        "file": r.file,
        "frames": r.frames,
        "phase_reached": r.phase_reached,
        "outcome": r.outcome,
        "cause": (r.outcome == Outcome::Failed).then(|| r.cause()),
        "findings": r.findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        "inferred": r.cause_finding().map(|f| f.inferred),
        "client_error": r.client_error,
        "cookie": r.cookie,
        "user_source": user.map(|(_, s)| s.name()),
        "requested": neg.get("requested"),
        "selected": neg.get("selected"),
        "negotiation_failure": r.negotiation.failure.as_ref().map(|f| f.name),
        "tls": {"ja4": r.tls.as_ref().and_then(|t| t.ja4.clone())},
        "client": client,
        "proxy": r.proxy.as_ref().map(|p| json!({
            "protocol": p.protocol, "target_host": p.target_host, "target_port": p.target_port,
            "granted": p.granted, "reply": p.reply,
        })),
        "retry_of": r.retry_of,
        "midstream": r.midstream,
        "open_at_end": r.open_at_end,
    })
}

/// The ECS document of one connection.
pub fn document(r: &ConnectionRecord, version: &str) -> Value {
    let failed = r.outcome == Outcome::Failed;
    let cause = r.cause_finding();
    let user = r.user_name().map(|(u, _)| u);
    let mut kinds = vec!["connection", "end"];
    if failed {
        kinds.push("error");
    }
    let ips: Vec<String> = {
        let mut v = vec![r.client.ip.to_string(), r.server.ip.to_string()];
        v.dedup();
        v
    };
    prune(json!({
        "@timestamp": r.first_seen,
        "ecs": {"version": ECS_VERSION},
        "message": message(r),
        "event": {
            "kind": "event",
            "category": ["network"],
            "type": kinds,
            "outcome": outcome(r.outcome),
            "reason": cause.filter(|_| failed).map(|f| &f.summary),
            "start": r.first_seen,
            "end": r.last_seen,
            "duration": nanos(r.duration_ms),
            "dataset": "rdpscope.connection",
            "module": "rdpscope",
        },
        "observer": {"product": "rdpscope", "vendor": "rdpscope", "type": "sensor", "version": version},
        "source": endpoint(&r.client),
        "destination": endpoint(&r.server),
        "client": endpoint(&r.client),
        "server": endpoint(&r.server),
        "network": {
            "transport": r.transport,
            "protocol": "rdp",
            "community_id": r.community_id,
            "type": if r.client.ip.is_ipv4() { "ipv4" } else { "ipv6" },
            "iana_number": if r.transport == "udp" { "17" } else { "6" },
        },
        "tls": tls(r),
        "user": {"name": user},
        "related": {"ip": ips, "user": user.map(|u| vec![u])},
        "error": cause.filter(|_| failed).map(|f| json!({"code": f.code, "message": f.summary})),
        "rdp": rdp(r),
    }))
}

/// One document, one line.
pub fn connection(out: &mut dyn Write, r: &ConnectionRecord) -> io::Result<()> {
    super::json::line(out, &document(r, env!("CARGO_PKG_VERSION")))
}
