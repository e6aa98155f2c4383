//! The text views of a big run: the summary's rollups (failures by server, by cause and
//! server, clients, user names), brute-force and spraying lines, and `--group-by`.

use std::io::{self, Write};

use crate::emit::groups::{GroupBy, Groups};
use crate::emit::spray::Detection;
use crate::emit::summary::Summary;

use super::text::clean;

/// `12.3%` of `total`.
fn share(n: u64, total: u64) -> String {
    if total == 0 {
        return String::new();
    }
    format!("{:>5.1}%", n as f64 * 100.0 / total as f64)
}

/// The rollups of failed connections, when there is more than one way they went.
pub fn rollups(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let tables: [(&str, &[crate::emit::rollup::Row]); 4] = [
        ("failures by server", &s.failures_by_server),
        ("failures by cause and server", &s.failures_by_cause_server),
        ("clients with the most failures", &s.top_clients),
        ("user names with the most failures", &s.top_users),
    ];
    for (title, rows) in tables {
        // One row says nothing a reader does not see already.
        if rows.len() < 2 && s.failed < 2 {
            continue;
        }
        if rows.is_empty() {
            continue;
        }
        // Only a table whose shown counts may include an evicted key's is marked: another
        // table overflowing (thousands of clients) does not make the server counts inexact.
        let approx = if rows.iter().any(|r| r.error > 0) {
            " (approximate: more keys than kept)"
        } else {
            ""
        };
        writeln!(out, "  {title}{approx}:")?;
        for r in rows {
            let cause = r.cause.map(|c| format!("{c:<28} ")).unwrap_or_default();
            writeln!(
                out,
                "  {:>5} {}  {cause}{}",
                r.failures,
                share(r.failures, s.failed),
                clean(&r.key)
            )?;
        }
    }
    Ok(())
}

/// `--group-by`: one line per group, the groups with the most connections first.
pub fn groups(out: &mut dyn Write, g: &Groups, top: usize, failed_total: u64) -> io::Result<()> {
    let (what, detail) = match g.by() {
        GroupBy::Server => ("server", "commonest causes"),
        GroupBy::Client => ("client", "commonest causes"),
        GroupBy::Cause => ("cause", "servers"),
    };
    let approx = if g.approximate() {
        " (approximate: more groups than kept)"
    } else {
        ""
    };
    writeln!(out, "Connections by {what} (the {top} with the most){approx}:")?;
    writeln!(
        out,
        "  {:>11} {:>7} {:>6}  {what:<28} {detail}",
        "connections", "failed", "share"
    )?;
    for r in g.top(top) {
        let details: Vec<String> = r.top.iter().map(|(d, n)| format!("{d} {n}")).collect();
        writeln!(
            out,
            "  {:>11} {:>7} {:>6}  {:<28} {}",
            r.connections,
            r.failed,
            share(r.failed, failed_total),
            clean(&r.key),
            details.join(", ")
        )?;
    }
    Ok(())
}

/// One line per brute-force or spraying detection, with its evidence and remedy key.
pub fn attack_line(d: &Detection) -> String {
    let what = match d.code {
        // The detector tells apart as many names as its threshold needs.
        "password_spray" => format!(
            "{} failures for at least {} distinct user names",
            d.failures, d.distinct_users
        ),
        _ => format!("{} failed attempts", d.failures),
    };
    let users: Vec<String> = d.users.iter().map(|u| clean(u)).collect();
    let servers: Vec<String> = d.servers.iter().map(ToString::to_string).collect();
    let ids: Vec<String> = d.connections.iter().map(|i| format!("#{i}")).collect();
    format!(
        "{}: {} from {} to {} between {} and {} (window {} s){}; connections {}",
        d.code.to_uppercase().replace('_', " "),
        what,
        d.source,
        servers.join(", "),
        d.first_seen,
        d.last_seen,
        d.window_secs,
        if users.is_empty() {
            String::new()
        } else {
            format!("; users {}", users.join(", "))
        },
        ids.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::rollup::Row;

    fn row(key: &str, failures: u64, error: u64) -> Row {
        Row {
            key: key.into(),
            cause: None,
            failures,
            error,
        }
    }

    #[test]
    fn only_a_table_with_inexact_counts_is_marked_approximate() {
        let s = Summary {
            failed: 10,
            rollups_approximate: true,
            failures_by_server: vec![row("10.0.0.1", 6, 0), row("10.0.0.2", 4, 0)],
            top_clients: vec![row("10.1.0.1", 3, 1), row("10.1.0.2", 2, 0)],
            ..Summary::default()
        };
        let mut out = Vec::new();
        rollups(&mut out, &s).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("  failures by server:\n"), "{text}");
        assert!(
            text.contains("  clients with the most failures (approximate: more keys than kept):\n"),
            "{text}"
        );
    }
}
