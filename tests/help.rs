//! Help and docs as users of CLI tools expect them (issue 16): every option's default in
//! `--help` (and the same value the analysis uses), `-` for standard input, shell
//! completions (clap_complete) and manual pages (clap_mangen).

use std::process::Command;

use rdpscope::config::Config;

fn rdpscope(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rdpscope"))
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap())
}

/// Each option of a `--help` text with the lines that describe it.
fn options(help: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in help.lines() {
        let t = l.trim_start();
        let indent = l.len() - t.len();
        if (2..=6).contains(&indent) && (t.starts_with("--") || t.starts_with('-')) {
            let name = t
                .split([' ', ','])
                .find(|w| w.starts_with("--"))
                .unwrap_or(t)
                .to_string();
            out.push((name, String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(l);
            text.push('\n');
        }
    }
    out
}

#[test]
fn every_option_shows_its_default() {
    for cmd in ["analyze", "live", "replay"] {
        let (code, help) = rdpscope(&[cmd, "--help"]);
        assert_eq!(code, 0);
        let opts = options(&help);
        assert!(opts.len() > 10, "{cmd}: {opts:?}");
        for (name, text) in &opts {
            // Help has nothing to default; live's interface is required.
            if name == "--help" || name == "--interface" {
                continue;
            }
            assert!(text.contains("[default: "), "{cmd} {name} shows no default:\n{text}");
        }
    }
}

#[test]
fn the_defaults_shown_are_the_ones_used() {
    let (_, help) = rdpscope(&["analyze", "--help"]);
    let opts = options(&help);
    let default = |name: &str| {
        let text = &opts.iter().find(|(n, _)| n == name).unwrap().1;
        let from = text.find("[default: ").unwrap() + "[default: ".len();
        text[from..].split(']').next().unwrap().to_string()
    };
    let c = Config::default();
    assert_eq!(default("--max-flows"), c.max_flows.to_string());
    assert_eq!(default("--max-buffered-bytes"), c.max_buffered_bytes.to_string());
    assert_eq!(default("--high-latency-ms").parse::<f64>().unwrap(), c.high_latency_ms);
    assert_eq!(default("--format"), "text");
    assert_eq!(default("--brute-force"), c.brute_force_attempts.to_string());
    assert_eq!(default("--spray-users"), c.spray_users.to_string());
    assert_eq!(default("--attack-window"), c.attack_window_secs.to_string());
    assert!(help.contains("`-` reads standard input"), "{help}");
}

#[test]
fn completions_for_the_usual_shells() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, script) = rdpscope(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(
            script.contains("analyze") && script.contains("write-evidence"),
            "{shell}: {script}"
        );
    }
    let (code, _) = rdpscope(&["completions", "tcsh"]);
    assert_eq!(code, 2, "an unknown shell is a usage error");
}

#[test]
fn manual_pages() {
    let (code, page) = rdpscope(&["man"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH rdpscope 1"), "{page}");
    assert!(page.contains("analyze") && page.contains("completions"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _) = rdpscope(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    let analyze = std::fs::read_to_string(dir.path().join("rdpscope-analyze.1")).unwrap();
    assert!(
        analyze.contains("write\\-evidence") && analyze.contains("[default: 100000]"),
        "{analyze}"
    );
    for page in ["rdpscope.1", "rdpscope-live.1", "rdpscope-replay.1"] {
        assert!(dir.path().join(page).exists(), "{page}");
    }
}
