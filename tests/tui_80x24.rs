//! Every screen of the TUI at 80×24, the size a new user's terminal has (issue 16): insta
//! snapshots (tests/snapshots/tui_80x24__*.snap) of states built from lab captures, and
//! checks that nothing that matters is cut: the footer keeps `q quit`, the table keeps the
//! Server column, ladder labels are whole, the focused pane is marked without colour, and a
//! replay shows its position and speed instead of a packet rate and kernel drops.

mod common;

use std::path::Path;
use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::live::{ReplayPosition, Snapshot};
use rdpscope::pipeline;
use rdpscope::tui::keys::Action;
use rdpscope::tui::render;
use rdpscope::tui::state::UiState;

fn records(names: &[&str], ports: &[u16]) -> Vec<rdpscope::record::ConnectionRecord> {
    let cfg = Config {
        server_ports: ports.to_vec(),
        ..Config::default()
    };
    let mut out = Vec::new();
    let mut id = 1;
    for name in names {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/lab/{name}.pcap"));
        let res = pipeline::analyze_file(&p, &Filter::Ports(ports.to_vec()), &cfg, id, &mut |_| {}).unwrap();
        id = res.next_id;
        out.extend(res.records);
    }
    out
}

fn lab() -> Snapshot {
    Snapshot::from_records(
        "fixtures/lab",
        records(
            &[
                "neg-failure-ssl-required",
                "nla-wrong-password",
                "success-tls12",
                "tcp-port-closed",
                "cert-expired-ca-trusted",
            ],
            &[3389],
        ),
    )
}

/// A replay under way: position and speed known, not ended.
fn replaying() -> Snapshot {
    let mut s = lab();
    s.source = "/var/tmp/captures/office-vpn-2026-04-02.pcap.gz".into();
    s.ended = false;
    let first = s.conns.iter().map(|v| v.record.start).min();
    let at = s.conns.iter().map(|v| v.record.start).max();
    s.replay = Some(ReplayPosition {
        first,
        at,
        speed: Some(2.0),
    });
    s
}

fn live() -> Snapshot {
    let mut s = lab();
    s.source = "enp0s31f6".into();
    s.live = true;
    s.ended = false;
    s.pps = 1234.0;
    s.kernel_dropped = 3;
    s
}

fn draw(snap: &Snapshot, st: &mut UiState, w: u16, h: u16) -> Terminal<TestBackend> {
    let snap = Arc::new(snap.clone());
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render::draw(f, &snap, st)).unwrap();
    t
}

fn screen(snap: &Snapshot, st: &mut UiState) -> String {
    draw(snap, st, 80, 24).backend().to_string()
}

fn press(st: &mut UiState, snap: &Snapshot, actions: &[Action]) {
    let snap = Arc::new(snap.clone());
    for a in actions {
        st.apply(*a, &snap);
    }
}

/// The rows of a screen without the quotes TestBackend puts around them.
fn rows(screen: &str) -> Vec<String> {
    screen.lines().map(|l| l.trim_matches('"').to_string()).collect()
}

fn check(name: &str, screen: &str) {
    let rows = rows(screen);
    assert_eq!(rows.len(), 24, "{screen}");
    insta::assert_snapshot!(name, screen);
}

#[test]
fn table_with_the_server_column() {
    let s = lab();
    let mut st = UiState::default();
    let out = screen(&s, &mut st);
    let r = rows(&out);
    assert!(
        r[3].contains("Server") && r[3].contains("User") && r[3].contains("Result"),
        "{out}"
    );
    assert!(out.contains("10.99.0.1:3389"), "{out}");
    // Every cause whole.
    for cause in ["nla_failed", "tcp_refused", "cert_expired", "negotiation_failure"] {
        assert!(out.contains(cause), "{cause}: {out}");
    }
    assert!(
        r[23].contains("? help") && r[23].trim_end().ends_with("q quit"),
        "{out}"
    );
    assert!(r[2].starts_with("┏▶ Connections"), "the table has the focus: {out}");
    check("table", &out);
}

#[test]
fn detail_findings_focused() {
    let s = lab();
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::ToggleFocus]);
    let out = screen(&s, &mut st);
    let r = rows(&out);
    assert!(
        r[11].starts_with("┏▶ #4") && r[11].contains("[Findings] Ladder"),
        "{out}"
    );
    assert!(r[2].starts_with("┌ Connections"), "{out}");
    // A wrapped line is indented under its text.
    assert!(r.iter().any(|l| l.starts_with("┃        ")), "{out}");
    assert!(
        r[23].contains("Tab ladder") && r[23].trim_end().ends_with("q quit"),
        "{out}"
    );
    check("detail_findings", &out);
}

#[test]
fn detail_findings_scrolled_to_the_fix_and_certificate() {
    let s = lab();
    let mut st = UiState::default();
    press(
        &mut st,
        &s,
        &[Action::Down, Action::Down, Action::Down, Action::Down, Action::Down],
    );
    press(&mut st, &s, &[Action::ToggleFocus, Action::PageDown]);
    let out = screen(&s, &mut st);
    assert!(out.contains("Certificate / security"), "{out}");
    check("detail_findings_scrolled", &out);
}

#[test]
fn ladder_view_with_whole_labels() {
    let s = lab();
    let mut st = UiState::default();
    // The successful TLS 1.2 connection, then Tab twice: findings, ladder.
    press(&mut st, &s, &[Action::Bottom, Action::ToggleFocus, Action::ToggleFocus]);
    let out = screen(&s, &mut st);
    assert!(out.contains("Findings [Ladder]"), "{out}");
    assert!(out.contains("CLIENT") && out.contains("SERVER"), "{out}");
    // The long ClientHello label goes on under its arrow instead of ending in "ciphe".
    assert!(!out.contains("ciphe ") && !out.contains("TLS_ECDHE_R─"), "{out}");
    let mut st2 = st.clone();
    press(&mut st2, &s, &[Action::Down, Action::Down, Action::Down, Action::Down]);
    let scrolled = screen(&s, &mut st2);
    assert!(
        scrolled.contains("cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        "{scrolled}"
    );
    check("ladder", &out);
    check("ladder_scrolled", &scrolled);
}

#[test]
fn help_overlay_whole() {
    let s = lab();
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::ToggleHelp]);
    let out = screen(&s, &mut st);
    assert!(out.contains("(Enter keeps, Esc") && out.contains("clears)"), "{out}");
    assert!(out.contains("quit (Esc closes help first)"), "{out}");
    check("help", &out);
}

#[test]
fn filter_being_typed_and_failed_only() {
    let s = lab();
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::ToggleFailedOnly, Action::StartFilter]);
    for c in "refused".chars() {
        st.filter_key(ratatui::crossterm::event::KeyCode::Char(c));
    }
    let out = screen(&s, &mut st);
    assert!(
        out.contains("filter: refused█") && out.contains("[failed only] [filter: refused]"),
        "{out}"
    );
    check("filter", &out);
}

#[test]
fn replay_shows_position_and_speed() {
    let s = replaying();
    let mut st = UiState::default();
    let out = screen(&s, &mut st);
    let head = &rows(&out)[0];
    assert!(
        head.contains("REPLAY") && head.contains("at 08:58:41.221 (+90.0 s)") && head.contains("x2"),
        "{out}"
    );
    assert!(!out.contains("pkt/s") && !out.contains("kernel"), "{out}");
    // The long file name is abbreviated in the middle, both ends kept.
    assert!(head.contains('…') && head.contains(".pcap.gz"), "{out}");
    check("replay", &out);
    // As fast as possible, and paused.
    let mut fast = replaying();
    fast.replay = fast.replay.map(|r| ReplayPosition { speed: None, ..r });
    press(&mut st, &fast, &[Action::TogglePause]);
    let out = screen(&fast, &mut st);
    assert!(
        rows(&out)[0].contains("fast") && rows(&out)[0].contains("PAUSED"),
        "{out}"
    );
    check("replay_fast_paused", &out);
}

#[test]
fn live_header_fits_80_and_120_columns() {
    let s = live();
    let mut st = UiState::default();
    let out = screen(&s, &mut st);
    let head = &rows(&out)[0];
    assert!(
        head.contains("LIVE enp0s31f6") && head.contains("1234 pkt/s") && head.contains("drops 3"),
        "{out}"
    );
    check("live", &out);
    let wide = draw(&s, &mut st, 120, 30).backend().to_string();
    assert!(
        rows(&wide)[0].contains("drops: 0 rdpscope, 3 kernel, 0 interface"),
        "{wide}"
    );
    let mut long = live();
    long.source = "a-very-long-interface-name-that-goes-on".into();
    let wide = draw(&long, &mut st, 120, 30).backend().to_string();
    assert!(rows(&wide)[0].contains("0 interface"), "{wide}");
}

#[test]
fn nothing_yet() {
    let mut s = live();
    s.conns.clear();
    s.failures_by_cause.clear();
    let mut st = UiState::default();
    let out = screen(&s, &mut st);
    assert!(out.contains("No connection yet"), "{out}");
    check("empty", &out);
}

#[test]
fn proxies_and_a_decrypted_connection() {
    let s = Snapshot::from_records(
        "fixtures/lab",
        records(
            &["socks5-target-refused", "http-connect-forbidden"],
            &[3389, 1080, 8888],
        ),
    );
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::Bottom]);
    let out = screen(&s, &mut st);
    assert!(out.contains("FAILED at socks5 proxy"), "{out}");
    check("proxy", &out);
    let records = common::decrypted_success_nla();
    let s = Snapshot::from_records("fixtures/lab", records);
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::ToggleFocus, Action::Down, Action::Down]);
    let out = screen(&s, &mut st);
    check("decrypted", &out);
}

#[test]
fn a_message_in_the_status_line() {
    let s = lab();
    let mut st = UiState {
        message: Some("exported #4 to rdpscope-4.json".into()),
        ..UiState::default()
    };
    let out = screen(&s, &mut st);
    assert!(rows(&out)[23].contains("exported #4 to rdpscope-4.json"), "{out}");
}

/// NO_COLOR: no colour in any cell, and the focus still shows (marker, thick border).
#[test]
fn no_color_keeps_the_focus_visible() {
    let s = lab();
    let mut st = UiState {
        no_color: true,
        ..UiState::default()
    };
    press(&mut st, &s, &[Action::ToggleFocus]);
    let t = draw(&s, &mut st, 80, 24);
    let buf = t.backend().buffer();
    assert!(buf.content.iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
    let out = t.backend().to_string();
    assert!(out.contains("┏▶ #4"), "{out}");
    // With colour, the same screen has some.
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::ToggleFocus]);
    let t = draw(&s, &mut st, 80, 24);
    assert!(t.backend().buffer().content.iter().any(|c| c.fg != Color::Reset));
}
