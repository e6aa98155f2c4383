//! The readable report: per connection, the verdict in plain words first, then the facts
//! (endpoints, cookie, security, TLS and certificate, TCP), then the handshake timeline.

use std::io::{self, Write};

use crate::diagnosis::{Outcome, Phase, Severity};
use crate::emit::summary::{Summary, DEFAULT_TOP};

use super::text_rollups::{attack_line, rollups};
use crate::flow::Side;
use crate::proto::tls;
use crate::record::ConnectionRecord;

pub struct Options {
    pub timeline: bool,
}

/// Strings from the wire may hold control characters (terminal escapes): show them escaped.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Success => "SUCCESS",
        Outcome::Failed => "FAILED",
        Outcome::Incomplete => "INCOMPLETE",
    }
}

pub fn connection(out: &mut dyn Write, r: &ConnectionRecord, opt: &Options) -> io::Result<()> {
    let proto = r.transport.to_uppercase();
    writeln!(
        out,
        "#{} {} {} -> {}  {}  {:.1} ms  frames {}-{}",
        r.id, proto, r.client, r.server, r.first_seen, r.duration_ms, r.frames[0], r.frames[1]
    )?;
    if let Some(file) = &r.file {
        writeln!(out, "  file: {file}")?;
    }
    let cause = r.findings.iter().find(|f| f.severity == Severity::Error);
    let frames = |f: &crate::diagnosis::Finding| f.frames.iter().map(|n| format!("#{n}")).collect::<Vec<_>>().join(" ");
    match cause {
        Some(f) => {
            let inferred = if f.inferred { " (inferred)" } else { "" };
            writeln!(
                out,
                "  {} at {}: {}{inferred}",
                outcome_word(r.outcome),
                r.phase_label(),
                clean(&f.summary)
            )?;
            if !f.detail.is_empty() {
                writeln!(out, "    why: {}", clean(&f.detail))?;
            }
            match &r.client_error {
                Some(e) if !e.inferred => writeln!(
                    out,
                    "    the server told the client: {} (extended error {})",
                    clean(&e.meaning),
                    e.code
                )?,
                Some(e) => writeln!(
                    out,
                    "    the user most likely saw: error {} ({}; inferred)",
                    e.code, e.meaning
                )?,
                None => {}
            }
            if f.inferred && r.decryption.is_none() && r.phase_reached >= Phase::Nla {
                writeln!(out, "    {KEYS_HINT}")?;
            }
            writeln!(out, "    evidence: frames {} [{}]", frames(f), f.code)?;
            if !f.remedy.is_empty() {
                writeln!(out, "    fix: {}", f.remedy)?;
            }
        }
        None => writeln!(out, "  {} (reached {})", outcome_word(r.outcome), r.phase_label())?,
    }
    for f in r
        .findings
        .iter()
        .filter(|f| !cause.is_some_and(|c| std::ptr::eq(c, *f)))
    {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let inferred = if f.inferred { " (inferred)" } else { "" };
        let cited = if f.frames.is_empty() {
            String::new()
        } else {
            format!("  frames {}", frames(f))
        };
        writeln!(out, "  [{sev}] {}: {}{inferred}{cited}", f.code, clean(&f.summary))?;
        if f.severity == Severity::Warning && !f.remedy.is_empty() {
            writeln!(out, "      fix: {}", f.remedy)?;
        }
    }
    if let Some(p) = r.retry_of {
        writeln!(out, "  retry of #{p}")?;
    }
    facts(out, r)?;
    if opt.timeline && !r.timeline.is_empty() {
        writeln!(out, "  timeline:")?;
        // The frame before the event, in a column as wide as the largest: a long event
        // cannot push it out of line.
        let width = r
            .timeline
            .iter()
            .map(|e| e.frame.to_string().len() + 1)
            .max()
            .unwrap_or(2);
        for e in &r.timeline {
            let arrow = match e.from {
                Side::Client => "C -> S",
                Side::Server => "C <- S",
            };
            writeln!(
                out,
                "    {:>11.3} ms  {:>width$}  {arrow}  {}",
                e.t_ms,
                format!("#{}", e.frame),
                clean(&e.event.describe())
            )?;
        }
        if r.timeline_dropped > 0 {
            writeln!(out, "    ... {} more events not kept", r.timeline_dropped)?;
        }
    }
    writeln!(out)
}

/// One line on how to see inside TLS, for a failure that happened there without keys.
const KEYS_HINT: &str = "to read the reason itself: give rdpscope the client's TLS key log (--keylog FILE; FreeRDP: /tls:secrets-file:FILE; OpenSSL-based clients: SSLKEYLOGFILE=FILE; Windows: a pcapng with its secrets, see README \"See inside TLS\")";

/// What was read inside TLS: decryption, CredSSP, the RDP connection sequence, one line each
/// (`decrypted: ...`, `nla: ...`, `session: ...`); shared with the TUI's detail pane.
pub fn inside_lines(r: &ConnectionRecord) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(d) = r
        .decryption
        .as_ref()
        .filter(|d| d.keys == "server_key" && d.records.client + d.records.server == 0)
    {
        // The server key could not open this session: one line saying why and what would.
        let why = d.stopped.as_deref().unwrap_or_default();
        lines.push(if why.starts_with("forward_secrecy") {
            "not decrypted: ECDHE key exchange (forward secrecy): the server's key cannot decrypt it; a key log of the client is needed (--keylog)".to_string()
        } else if why.starts_with("server_key_mismatch") {
            "not decrypted: no --server-key opens this session's premaster secret (another server's key, or the server refused the premaster)".to_string()
        } else {
            format!("not decrypted with the server key: {why}")
        });
    } else if let Some(d) = &r.decryption {
        lines.push(format!(
            "decrypted: keys from the {}, {} client / {} server records{}",
            match d.keys {
                "capture" => "capture",
                "server_key" => "server's key (RSA key exchange)",
                _ => "key log",
            },
            d.records.client,
            d.records.server,
            d.stopped
                .as_deref()
                .map(|s| format!(", stopped: {s}"))
                .unwrap_or_default()
        ));
    }
    if let Some(n) = &r.nla {
        let mut s = vec![
            format!("CredSSP v{}", n.credssp_version.unwrap_or(0)),
            n.mechanism.to_string(),
        ];
        if let Some(u) = &n.user {
            let d = n.domain.as_deref().unwrap_or("");
            s.push(format!(
                "user {}",
                clean(&if d.is_empty() { u.clone() } else { format!("{d}\\{u}") })
            ));
        }
        if let Some(w) = n.workstation.as_deref().filter(|w| !w.is_empty()) {
            s.push(format!("workstation {}", clean(w)));
        }
        if let Some(sv) = &n.service {
            s.push(format!("service {}", clean(sv)));
        }
        if let Some(e) = &n.error {
            s.push(format!("errorCode {} {} #{}", e.code, e.name.unwrap_or(""), e.frame));
        }
        if let Some(e) = &n.early_user_auth {
            s.push(format!("early user authorization {} #{}", e.result, e.frame));
        }
        lines.push(format!("nla: {}", s.join(", ")));
    }
    if let Some(ss) = &r.session {
        let mut s = Vec::new();
        if let Some(c) = &ss.client {
            s.push(format!(
                "client {} build {}{}",
                clean(c.name.as_deref().unwrap_or("?")),
                c.build.unwrap_or(0),
                c.version.map(|v| format!(" ({v})")).unwrap_or_default()
            ));
        }
        if let Some(u) = &ss.user {
            s.push(format!("user {}", clean(u)));
        }
        if let Some(l) = &ss.license {
            s.push(format!(
                "license {}{}",
                l.result,
                l.name.map(|n| format!(" {n}")).unwrap_or_default()
            ));
        }
        if let Some(l) = &ss.logon {
            s.push(format!("logon {} #{}", l.kind, l.frame));
        }
        for e in &ss.logon_errors {
            s.push(format!("logon error {} {} #{}", e.kind, e.data, e.frame));
        }
        for e in &ss.error_info {
            s.push(format!("error info {} {} #{}", e.code, e.name.unwrap_or(""), e.frame));
        }
        if let Some(d) = &ss.disconnect {
            s.push(format!("disconnect ({}) #{}", d.reason, d.frame));
        }
        lines.push(format!("session: {}", s.join(", ")));
    }
    lines
}

fn facts(out: &mut dyn Write, r: &ConnectionRecord) -> io::Result<()> {
    if let Some(p) = &r.proxy {
        writeln!(out, "  proxy: {}", clean(&p.summary()))?;
    }
    if let Some(g) = &r.gateway {
        writeln!(out, "  https: {}", clean(&g.summary()))?;
    }
    if let Some(v) = &r.via_gateway {
        writeln!(out, "  via: {}", clean(&v.summary()))?;
    }
    let n = &r.negotiation;
    let mut line = Vec::new();
    if let Some(c) = &r.cookie {
        // Quoted, as on the wire: `FTBCO\A70` is one backslash, written as in the timeline.
        line.push(format!("cookie \"{}\"", clean(c)));
    }
    if let Some(t) = &r.routing_token {
        line.push(format!("routing token \"{}\"", clean(t)));
    }
    match &n.requested {
        Some(p) => line.push(format!("requested {}", p.names().join("|"))),
        None if n.request_frame.is_some() => line.push("no RDP_NEG_REQ (legacy client)".into()),
        None => {}
    }
    if let Some(s) = &n.selected {
        line.push(format!("selected {s}"));
    }
    if let Some(f) = &n.failure {
        line.push(format!("RDP_NEG_FAILURE {} ({})", f.name, f.code));
    }
    if !line.is_empty() {
        writeln!(out, "  rdp: {}", line.join(", "))?;
    }
    if let Some(t) = &r.tls {
        let mut s = Vec::new();
        if !t.client_versions.is_empty() {
            s.push(format!("client offers {}", t.client_version_names().join("/")));
        }
        if let Some(n) = t.client_cipher_count {
            s.push(format!("{n} cipher suites"));
        }
        if let Some(v) = t.version_name() {
            s.push(format!("server chose TLS {v}"));
        }
        if let Some(c) = &t.cipher {
            s.push(c.name.map_or_else(|| format!("0x{:04x}", c.id), str::to_string));
        }
        if let Some(sni) = &t.sni {
            s.push(format!("SNI {}", clean(sni)));
        }
        // A server that selected TLS may see no ClientHello at all: then there is nothing to say.
        if !s.is_empty() {
            writeln!(out, "  tls: {}", s.join(", "))?;
        }
        for a in &t.alerts {
            let who = a.from.name();
            match (a.level, a.description) {
                (Some(l), Some(d)) => writeln!(
                    out,
                    "  tls alert from {who}: {} {}  #{}",
                    tls::alert_level_name(l),
                    tls::alert_name(d),
                    a.frame
                )?,
                _ => writeln!(
                    out,
                    "  tls alert from {who}: encrypted (content not visible)  #{}",
                    a.frame
                )?,
            }
        }
        if let Some(c) = &t.certificate {
            certificate(out, c)?;
        }
        writeln!(
            out,
            "  tls application data: client {} records / {} B, server {} records / {} B",
            t.application_data_records.client,
            t.application_data_bytes.client,
            t.application_data_records.server,
            t.application_data_bytes.server
        )?;
    }
    if let Some(s) = &r.standard_security {
        let mut v = Vec::new();
        if let Some(m) = &s.encryption_method {
            v.push(format!("encryption {m}"));
        }
        if let Some(l) = &s.encryption_level {
            v.push(format!("level {l}"));
        }
        if let Some(c) = s.certificate_type {
            v.push(format!("{c} certificate"));
        }
        if let Some(n) = &s.client_name {
            v.push(format!("client \"{}\"", clean(n)));
        }
        if let Some(b) = s.client_build {
            v.push(format!("build {b}"));
        }
        if let Some(d) = &s.desktop {
            v.push(format!("desktop {d}"));
        }
        writeln!(out, "  standard RDP security: {}", v.join(", "))?;
        if let Some(c) = &s.certificate {
            certificate(out, c)?;
        }
    }
    for l in inside_lines(r) {
        writeln!(out, "  {l}")?;
    }
    if let Some(t) = &r.tcp {
        let rtt = t
            .handshake_rtt_ms
            .map_or("handshake not seen".into(), |r| format!("handshake RTT {r:.3} ms"));
        let closes: Vec<String> = t
            .fin
            .iter()
            .map(|c| (c, "FIN"))
            .chain(t.rst.iter().map(|c| (c, "RST")))
            .map(|(c, k)| {
                format!(
                    "{} {k} #{}",
                    if c.side == Side::Client { "client" } else { "server" },
                    c.frame
                )
            })
            .collect();
        writeln!(
            out,
            "  tcp: {rtt}, retransmissions client {} / server {}{}{}",
            t.retransmissions.client,
            t.retransmissions.server,
            if t.gaps > 0 {
                format!(", {} capture gaps ({} B)", t.gaps, t.gap_bytes)
            } else {
                String::new()
            },
            if closes.is_empty() {
                String::new()
            } else {
                format!(", {}", closes.join(", "))
            }
        )?;
    }
    if let Some(u) = &r.udp {
        // A flow seen from its middle: no handshake to count, only what went each way.
        let handshake = if r.midstream && u.syns == 0 && u.syn_ack_frame.is_none() {
            "handshake before the capture began".to_string()
        } else {
            format!(
                "{} SYN, {}",
                u.syns,
                u.syn_ack_frame.map_or("no SYN+ACK".into(), |f| format!("SYN+ACK #{f}"))
            )
        };
        writeln!(
            out,
            "  rdp-udp: {handshake}, datagrams client {} / server {}",
            u.datagrams.client, u.datagrams.server
        )?;
    }
    if r.midstream {
        writeln!(out, "  note: the capture began after this connection started")?;
    }
    if r.open_at_end {
        writeln!(out, "  note: {}", open_at_end(r))?;
    }
    for a in &r.anomalies {
        writeln!(out, "  anomaly #{}: {}", a.frame, a.what)?;
    }
    Ok(())
}

/// What was still open when the capture ended: the whole connection, or one side of it
/// when the other had closed (a FIN beside "still open" reads as a contradiction).
fn open_at_end(r: &ConnectionRecord) -> String {
    let fin = |side: Side| {
        r.tcp
            .as_ref()
            .and_then(|t| t.fin.iter().find(|c| c.side == side))
            .map(|c| c.frame)
    };
    match (fin(Side::Client), fin(Side::Server)) {
        (Some(f), None) => format!(
            "half open when the capture ended: the client closed its side (FIN #{f}), the server never closed its own"
        ),
        (None, Some(f)) => format!(
            "half open when the capture ended: the server closed its side (FIN #{f}), the client never closed its own"
        ),
        _ => "still open when the capture ended".into(),
    }
}

fn certificate(out: &mut dyn Write, c: &crate::record::CertificateRecord) -> io::Result<()> {
    writeln!(
        out,
        "  certificate: {} (issuer {}), valid {} to {} ({} at capture time){}, {}, {}",
        clean(&c.subject),
        if c.self_signed {
            "itself: self-signed".to_string()
        } else {
            clean(&c.issuer)
        },
        crate::ts::readable_rfc3339(&c.not_before),
        crate::ts::readable_rfc3339(&c.not_after),
        if c.valid_at_capture { "valid" } else { "NOT valid" },
        if c.san.is_empty() {
            String::new()
        } else {
            format!(", SAN {}", clean(&c.san.join(" ")))
        },
        c.key,
        c.signature
    )
}

/// What the frames of a file that were not analyzed were, e.g. `; not analyzed: 6 on other
/// ports`, or nothing when every frame was.
fn not_analyzed(f: &crate::emit::summary::FileSummary) -> String {
    let st = &f.stats;
    // Copies, NetMon metadata records and frames of an unsupported media type are named
    // after this part of the line, not counted here again.
    let outside = f
        .frames
        .saturating_sub(st.frames)
        .saturating_sub(st.component_copies)
        .saturating_sub(st.metadata_records)
        .saturating_sub(st.unsupported_link_frames);
    let rest = st
        .frames
        .saturating_sub(st.frames_analyzed)
        .saturating_sub(st.undecodable);
    let mut parts = Vec::new();
    if outside > 0 {
        parts.push(format!("{outside} not on an RDP port"));
    }
    if st.undecodable > 0 {
        parts.push(format!("{} undecodable", st.undecodable));
    }
    if rest > 0 {
        parts.push(format!(
            "{rest} Kerberos (port 88, read for KDC errors) or let through by --filter"
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; not analyzed: {}", parts.join(", "))
    }
}

pub fn summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    writeln!(
        out,
        "Summary: {} connection{}: {} succeeded, {} failed, {} incomplete",
        s.connections,
        if s.connections == 1 { "" } else { "s" },
        s.success,
        s.failed,
        s.incomplete
    )?;
    if !s.failures_by_cause.is_empty() {
        writeln!(out, "  failures by cause:")?;
    }
    for (cause, n) in &s.failures_by_cause {
        writeln!(out, "  {n:>5}  {cause}")?;
    }
    rollups(out, s)?;
    for d in &s.attacks {
        writeln!(out, "  {}", attack_line(d))?;
        writeln!(out, "    fix: {}", d.remedy)?;
    }
    if s.attack_sources_evicted > 0 {
        writeln!(
            out,
            "  note: {} client addresses were let go of by the brute-force detector (more sources at once than it follows)",
            s.attack_sources_evicted
        )?;
    }
    // The stories with the most attempts come first.
    let shown = if s.top == 0 { DEFAULT_TOP } else { s.top };
    for story in s.stories.iter().take(shown) {
        writeln!(out, "  retries: {}", clean(story))?;
    }
    if s.stories.len() > shown {
        writeln!(
            out,
            "  … {} more retry stories (--top N shows more; they are in --format json)",
            s.stories.len() - shown
        )?;
    }
    if s.stories_omitted > 0 {
        writeln!(
            out,
            "  … and {} shorter retry stories not kept (at most {} are, the longest)",
            s.stories_omitted,
            crate::emit::retry::MAX_STORIES
        )?;
    }
    for f in &s.files {
        let mut line = format!("  {}: {} frames, {} analyzed", f.file, f.frames, f.frames_analyzed);
        line.push_str(&not_analyzed(f));
        if f.stats.evicted > 0 {
            line.push_str(&format!(", {} flows evicted (flow table full)", f.stats.evicted));
            if f.stats.evicted_for_memory > 0 {
                line.push_str(&format!(
                    ", {} of them to keep buffered bytes bounded",
                    f.stats.evicted_for_memory
                ));
            }
        }
        if f.stats.snaplen_cut_frames > 0 {
            line.push_str(&format!(", {} frames cut by the snaplen", f.stats.snaplen_cut_frames));
        }
        if f.stats.metadata_records > 0 {
            line.push_str(&format!(
                ", {} Network Monitor metadata records skipped",
                f.stats.metadata_records
            ));
        }
        if f.stats.component_copies > 0 {
            line.push_str(&format!(
                ", {} copies of packets logged again by other networking components (pktmon) analyzed once",
                f.stats.component_copies
            ));
        }
        if f.stats.pktmon_drops > 0 {
            line.push_str(&format!(
                ", {} packets marked dropped by pktmon (frames {})",
                f.stats.pktmon_drops,
                f.stats
                    .pktmon_drop_frames
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if f.stats.unsupported_link_frames > 0 {
            line.push_str(&format!(
                ", {} frames of an unsupported media type skipped",
                f.stats.unsupported_link_frames
            ));
        }
        writeln!(out, "{line}")?;
        for flood in &f.stats.syn_floods {
            writeln!(out, "  {}", flood.describe())?;
        }
        if let Some(w) = &f.warning {
            writeln!(out, "  warning: {}: reading stopped early: {w}", f.file)?;
        }
        if let Some(e) = &f.error {
            writeln!(out, "  error: {e}")?;
        }
    }
    Ok(())
}
