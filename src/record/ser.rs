//! How typed protocol values are written in the JSON contract: by the names docs/json.md
//! gives them. The record keeps the typed values; only serialization turns them to text.

use serde::ser::{SerializeSeq, Serializer};
use tls_parser::{TlsAlertDescription, TlsAlertSeverity, TlsVersion};

use crate::conn::event::EventKind;
use crate::proto::tls;
use crate::proto::x224::{Protocols, RequestFlags, ResponseFlags};

fn names<S: Serializer>(v: Vec<String>, s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for n in &v {
        seq.serialize_element(n)?;
    }
    seq.end()
}

/// `requestedProtocols` as a list of names.
pub fn requested<S: Serializer>(p: &Option<Protocols>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => names(p.names(), s),
        None => s.serialize_none(),
    }
}

/// `selectedProtocol` by name.
pub fn selected<S: Serializer>(p: &Option<Protocols>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(&p.name()),
        None => s.serialize_none(),
    }
}

pub fn request_flags<S: Serializer>(f: &RequestFlags, s: S) -> Result<S::Ok, S::Error> {
    names(f.names(), s)
}

pub fn response_flags<S: Serializer>(f: &ResponseFlags, s: S) -> Result<S::Ok, S::Error> {
    names(f.names(), s)
}

pub fn tls_version<S: Serializer>(v: &Option<TlsVersion>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&tls::version_name(*v)),
        None => s.serialize_none(),
    }
}

pub fn tls_versions<S: Serializer>(v: &[TlsVersion], s: S) -> Result<S::Ok, S::Error> {
    names(v.iter().map(|v| tls::version_name(*v)).collect(), s)
}

pub fn alert_level<S: Serializer>(l: &Option<TlsAlertSeverity>, s: S) -> Result<S::Ok, S::Error> {
    match l {
        Some(l) => s.serialize_str(tls::alert_level_name(*l)),
        None => s.serialize_none(),
    }
}

pub fn alert_description<S: Serializer>(d: &Option<TlsAlertDescription>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&tls::alert_name(*d)),
        None => s.serialize_none(),
    }
}

/// A timeline event as its one-line description.
pub fn event<S: Serializer>(e: &EventKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&e.describe())
}
