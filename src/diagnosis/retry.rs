//! Linking retries: a client that fails and tries again (same client address, same
//! server, seconds later) makes one story, e.g. "negotiation failed
//! (HYBRID_REQUIRED_BY_SERVER), client retried with TLS, succeeded".

use crate::record::ConnectionRecord;
use crate::ts::Ts;

/// How soon after an attempt ends the next one counts as its retry.
pub const RETRY_WINDOW_SECS: i64 = 30;

/// Set `retry_of` on every record that follows an earlier attempt between the same client
/// and server within the window. `times` are each record's (first, last) packet times.
pub fn link(records: &mut [ConnectionRecord], times: &[(Ts, Ts)]) {
    for i in 0..records.len() {
        let (Some(r), Some(&(start, _))) = (records.get(i), times.get(i)) else {
            continue;
        };
        let earlier = records.iter().zip(times).take(i).map(|(p, t)| (p, t.1));
        let prev = find_previous(earlier, r, start);
        if let Some(rec) = records.get_mut(i) {
            rec.retry_of = prev;
        }
    }
}

/// The latest of `earlier` (record, time of its last packet) that `r`, starting at
/// `start`, retries: same client address and server, not a success, ended shortly before.
pub fn find_previous<'a>(
    earlier: impl DoubleEndedIterator<Item = (&'a ConnectionRecord, Ts)>,
    r: &ConnectionRecord,
    start: Ts,
) -> Option<u64> {
    earlier
        .rev()
        .find(|(a, end)| {
            a.transport == r.transport
                && a.client.ip == r.client.ip
                && a.server == r.server
                && a.id != r.id
                && start.0.saturating_sub(end.0) <= RETRY_WINDOW_SECS * 1_000_000_000
                && a.outcome != crate::diagnosis::Outcome::Success
        })
        .map(|(a, _)| a.id)
}

/// One line per chain of attempts, oldest first: "#1 negotiation_failure (...) -> #2 success".
pub fn stories(records: &[ConnectionRecord]) -> Vec<String> {
    let mut out = Vec::new();
    for r in records.iter().filter(|r| r.retry_of.is_none()) {
        let mut chain = vec![r];
        while let Some(next) = chain
            .last()
            .and_then(|last| records.iter().find(|n| n.retry_of == Some(last.id)))
        {
            chain.push(next);
        }
        if chain.len() < 2 {
            continue;
        }
        let steps: Vec<String> = chain.iter().map(|r| format!("#{} {}", r.id, step(r))).collect();
        out.push(format!(
            "{} -> {}: {}",
            r.client.ip,
            r.server.ip,
            steps.join(", client retried: ")
        ));
    }
    out
}

fn step(r: &ConnectionRecord) -> String {
    let how = match (&r.negotiation.selected, &r.negotiation.requested) {
        (Some(s), _) => format!(" with {s}"),
        (None, None) if r.negotiation.request_frame.is_some() => " with standard RDP security".to_string(),
        _ => String::new(),
    };
    match r.outcome {
        crate::diagnosis::Outcome::Success => format!("succeeded{how}"),
        crate::diagnosis::Outcome::Incomplete => format!("outcome unknown{how}"),
        crate::diagnosis::Outcome::Failed => {
            let cause = r.findings.first().map_or("failed".to_string(), |f| f.summary.clone());
            format!("failed: {cause}")
        }
    }
}
