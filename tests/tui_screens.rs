//! Screens of the TUI rendered with ratatui's TestBackend from states built from lab
//! captures, at 80x24 and 200x60, kept as insta snapshots (tests/snapshots/).

mod common;

use std::path::Path;
use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::Terminal;
use rdpscope::capture::Filter;
use rdpscope::config::Config;
use rdpscope::live::Snapshot;
use rdpscope::pipeline;
use rdpscope::tui::keys::Action;
use rdpscope::tui::render;
use rdpscope::tui::state::UiState;

const LAB: &[&str] = &[
    "neg-failure-ssl-required",
    "nla-wrong-password",
    "success-tls12",
    "tcp-port-closed",
    "cert-expired-ca-trusted",
];

fn snapshot() -> Arc<Snapshot> {
    let cfg = Config::default();
    let mut records = Vec::new();
    let mut id = 1;
    for name in LAB {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/lab/{name}.pcap"));
        let res = pipeline::analyze_file(&p, &Filter::Ports(vec![3389]), &cfg, id, &mut |_| {}).unwrap();
        id = res.next_id;
        records.extend(res.records);
    }
    Arc::new(Snapshot::from_records("fixtures/lab", records))
}

fn screen(snap: &Arc<Snapshot>, st: &mut UiState, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render::draw(f, snap, st)).unwrap();
    t.backend().to_string()
}

fn press(st: &mut UiState, snap: &Arc<Snapshot>, actions: &[Action]) {
    for a in actions {
        st.apply(*a, snap);
    }
}

#[test]
fn table_and_detail_80x24() {
    let s = snapshot();
    let mut st = UiState::default();
    insta::assert_snapshot!(screen(&s, &mut st, 80, 24));
}

#[test]
fn table_and_detail_200x60() {
    let s = snapshot();
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::Down, Action::Down]);
    insta::assert_snapshot!(screen(&s, &mut st, 200, 60));
}

#[test]
fn help_overlay_80x24() {
    let s = snapshot();
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::ToggleHelp]);
    insta::assert_snapshot!(screen(&s, &mut st, 80, 24));
}

#[test]
fn failed_only_with_filter_and_sort_120x36() {
    let s = snapshot();
    let mut st = UiState::default();
    press(
        &mut st,
        &s,
        &[Action::ToggleFailedOnly, Action::NextSortColumn, Action::ReverseSort],
    );
    st.filter = "nla".into();
    let out = screen(&s, &mut st, 120, 36);
    assert!(out.contains("[failed only]") && out.contains("[filter: nla]"));
    insta::assert_snapshot!(out);
}

#[test]
fn detail_focus_scrolls_the_ladder_80x24() {
    let s = snapshot();
    let mut st = UiState::default();
    // Tab twice: the findings, then the ladder.
    press(
        &mut st,
        &s,
        &[
            Action::Bottom,
            Action::ToggleFocus,
            Action::ToggleFocus,
            Action::PageDown,
        ],
    );
    insta::assert_snapshot!(screen(&s, &mut st, 80, 24));
}

#[test]
fn selection_follows_the_connection_not_the_row() {
    let s = snapshot();
    let mut st = UiState::default();
    press(&mut st, &s, &[Action::Down]);
    let id = st.selected.unwrap();
    // Reversing the order keeps the same connection selected.
    press(&mut st, &s, &[Action::ReverseSort]);
    let rows = st.rows(&s);
    assert_eq!(rows[st.selected_index(&rows)].record.id, id);
    // Pause freezes the snapshot shown; resume follows the live one again.
    press(&mut st, &s, &[Action::TogglePause]);
    assert!(st.paused.is_some());
    press(&mut st, &s, &[Action::TogglePause]);
    assert!(st.paused.is_none());
}

/// RDP through proxies: the SOCKS5 session and the HTTP proxy's 403, analyzed with the
/// proxies' ports as `--port` gives them; the wide detail shows the proxy under security.
#[test]
fn proxied_connections_200x60() {
    let cfg = Config {
        server_ports: vec![3389, 1080, 8888],
        ..Config::default()
    };
    let mut records = Vec::new();
    let mut id = 1;
    for name in ["socks5-success", "http-connect-forbidden"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/lab/{name}.pcap"));
        let res = pipeline::analyze_file(&p, &Filter::Ports(cfg.server_ports.clone()), &cfg, id, &mut |_| {}).unwrap();
        id = res.next_id;
        records.extend(res.records);
    }
    let s = Arc::new(Snapshot::from_records("fixtures/lab", records));
    let mut st = UiState::default();
    let first = screen(&s, &mut st, 200, 60);
    press(&mut st, &s, &[Action::Down]);
    let second = screen(&s, &mut st, 200, 60);
    assert!(first.contains("proxy") && second.contains("proxy"));
    insta::assert_snapshot!(format!("{first}\n{second}"));
}

#[test]
fn sorting_by_phase_follows_the_phases_and_by_address_is_numeric() {
    use rdpscope::diagnosis::Phase;
    use rdpscope::tui::state::SortColumn;
    let s = snapshot();
    let mut st = UiState {
        sort: SortColumn::Phase,
        descending: false,
        ..UiState::default()
    };
    let phases: Vec<Phase> = st.rows(&s).iter().map(|v| v.record.phase_reached).collect();
    assert!(phases.windows(2).all(|w| w[0] <= w[1]), "{phases:?}");
    // Alphabetically "session" < "tcp" < "tls" < "x224"; in connection order tcp comes first.
    assert_eq!(phases.first(), Some(&Phase::Tcp), "{phases:?}");
    assert!(phases.contains(&Phase::Session));
    // Addresses compare as numbers: 10.x.x.9 before 10.x.x.10 (as text "10" < "9").
    let mut records = s.conns.iter().map(|v| v.record.clone()).collect::<Vec<_>>();
    let mut a = records[0].clone();
    let mut b = records[0].clone();
    a.client.ip = "10.0.0.9".parse().unwrap();
    a.id = 100;
    b.client.ip = "10.0.0.10".parse().unwrap();
    b.id = 101;
    records.extend([b, a]);
    let snap = Snapshot::from_records("t", records);
    st.sort = SortColumn::Client;
    let order: Vec<String> = st.rows(&snap).iter().map(|v| v.record.client.ip.to_string()).collect();
    let nine = order.iter().position(|x| x == "10.0.0.9").unwrap();
    let ten = order.iter().position(|x| x == "10.0.0.10").unwrap();
    assert!(nine < ten, "{order:?}");
}

/// With the session keys, the detail pane shows what was read inside TLS.
#[test]
fn decrypted_connection_detail_200x60() {
    let records = common::decrypted_success_nla();
    assert!(records[0].decryption.is_some());
    let s = Arc::new(Snapshot::from_records("fixtures/lab", records));
    let mut st = UiState::default();
    let screen = screen(&s, &mut st, 200, 60);
    assert!(screen.contains("nla") && screen.contains("labuser"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// An active brute force shows in the header, before the causes, at 80 columns too.
#[test]
fn header_shows_an_active_brute_force_80x24() {
    use rdpscope::emit::spray::{Detector, Thresholds};
    let s = snapshot();
    let mut d = Detector::new(Thresholds {
        brute_force: 2,
        ..Default::default()
    });
    for c in &s.conns {
        d.add(&c.record);
    }
    let mut snap = (*s).clone();
    let active = d.active_sources();
    snap.brute_force_sources = active.len() as u64;
    snap.attacks = active.into_iter().cloned().collect();
    assert_eq!(snap.brute_force_sources, 1);
    let snap = Arc::new(snap);
    let text = screen(&snap, &mut UiState::default(), 80, 24);
    let header = text.lines().nth(1).unwrap_or_default();
    // The brute force comes first; the counts follow without their label, and nothing is
    // cut at 80 columns (the causes give way whole).
    assert!(
        header.starts_with("\" BRUTE FORCE 10.99.0.2: 3 failures │ 0 open  1 ok  7 failed"),
        "{header}"
    );
    assert!(!header.contains("ca\""), "{header}");
    insta::assert_snapshot!(text);
}

/// A live run whose --write pcap lost packets (full disk) says so in the header, in red,
/// at 120 and at 80 columns (issue 13).
#[test]
fn header_shows_write_errors_of_a_live_run() {
    let mut snap = (*snapshot()).clone();
    snap.live = true;
    snap.write_errors = 3;
    let snap = Arc::new(snap);
    for w in [120, 80] {
        let text = screen(&snap, &mut UiState::default(), w, 24);
        let header = text.lines().next().unwrap_or_default();
        assert!(header.contains("3 write errors"), "{w}: {header}");
    }
    snap_without_errors_says_nothing();
}

fn snap_without_errors_says_nothing() {
    let mut snap = (*snapshot()).clone();
    snap.live = true;
    let text = screen(&Arc::new(snap), &mut UiState::default(), 120, 24);
    assert!(!text.contains("write errors"), "{text}");
}
