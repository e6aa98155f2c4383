//! End to end in a real terminal: `rdpscope replay --fast` on a lab capture inside tmux,
//! driven with keys (filter, select, detail, help, quit), reading the screen, and
//! checking that the terminal is restored afterwards. Needs tmux: in CI a missing tmux
//! is a failure, elsewhere a loud notice.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("run tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screen(session: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", session])
}

fn wait_for(session: &str, what: &str) -> String {
    let start = Instant::now();
    loop {
        let s = screen(session);
        if s.contains(what) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what:?}; screen:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn keys(session: &str, k: &[&str]) {
    let mut args = vec!["send-keys", "-t", session];
    args.extend_from_slice(k);
    tmux(&args);
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn replay_in_tmux_filter_select_help_quit_restores_terminal() {
    if !common::require(
        "tui_tmux: needs tmux; `apt-get install tmux`, then `cargo test --test tui_tmux`",
        common::has_tool("tmux", "-V"),
    ) {
        return;
    }
    let session = format!("rdpscope-e2e-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_rdpscope");
    let dir = env!("CARGO_MANIFEST_DIR");
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "100",
        "-y",
        "30",
        "-c",
        dir,
        "bash --norc --noprofile",
    ]);
    keys(&session, &["stty sane; echo BEFORE-TUI", "Enter"]);
    let cmd = format!("{bin} replay --fast fixtures/lab/nla-wrong-password.pcap; echo EXIT=$?");
    keys(&session, &[&cmd, "Enter"]);
    let s = wait_for(&session, "REPLAY ended");
    assert!(s.contains("Connections (2)"), "{s}");
    // The totals stay once the replay has ended (they went to 0 when the run's summary was taken).
    assert!(s.contains("2 failed") && s.contains("nla_failed 2"), "{s}");
    // Where the replay is in the capture, not a packet rate or kernel drops.
    assert!(
        s.contains("as fast as possible") && s.contains("(+0.3 s)") && !s.contains("pkt/s"),
        "{s}"
    );
    assert!(s.contains("nla_failed"), "{s}");

    // Filter on the cause, then select the second row and look at its detail.
    keys(&session, &["/"]);
    keys(&session, &["-l", "nla"]);
    keys(&session, &["Enter"]);
    let s = wait_for(&session, "[filter: nla]");
    assert!(s.contains("NLA failed: the server ended CredSSP"), "{s}");
    // Newest first: the first row is the retry (#2); j selects the first attempt.
    let s = screen(&session);
    assert!(s.contains("A retry of connection #1."), "{s}");
    keys(&session, &["j"]);
    let s = wait_for(&session, "┌ #1 ");
    assert!(!s.contains("A retry of connection"), "{s}");
    // Tab: the findings; Tab again: the handshake ladder (its own view at 100 columns).
    keys(&session, &["Tab"]);
    let s = wait_for(&session, "[Findings] Ladder");
    assert!(s.contains("┏▶ #1"), "the detail pane does not show its focus:\n{s}");
    keys(&session, &["Tab"]);
    let s = screen(&session);
    assert!(
        s.contains("Findings [Ladder]") && s.contains("TLS ServerHello version=1.3"),
        "Tab did not reach the ladder:\n{s}"
    );
    keys(&session, &["Tab"]);
    let s = screen(&session);
    assert!(s.contains("┏▶ Connections"), "Tab did not go back to the table:\n{s}");

    keys(&session, &["?"]);
    let s = wait_for(&session, "Help");
    assert!(s.contains("write the selected connection's packets to a pcap"), "{s}");
    keys(&session, &["Escape"]);
    keys(&session, &["q"]);
    let s = wait_for(&session, "EXIT=0");
    // The alternate screen is gone and the shell's line discipline is back (canonical mode).
    assert!(!s.contains("Connections ("), "TUI left on screen:\n{s}");
    assert!(s.contains("BEFORE-TUI"), "{s}");
    keys(
        &session,
        &[
            "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo | tr '\\n' ' '; echo STTY-DONE",
            "Enter",
        ],
    );
    let s = wait_for(&session, "STTY-DONE");
    assert!(s.contains("icanon echo"), "terminal not restored:\n{s}");
    tmux(&["kill-session", "-t", &session]);
}
