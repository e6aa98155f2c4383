//! What the user is looking at: selection, focus, filter, sort, pause, help. Pure state
//! changes, tested without a terminal; the rows come from the current snapshot.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::diagnosis::{Outcome, Severity};
use crate::live::{ConnView, Snapshot};

use super::keys::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    Detail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Start,
    Client,
    Server,
    User,
    Security,
    Phase,
    Outcome,
    Cause,
    Rtt,
}

impl SortColumn {
    pub const ALL: [SortColumn; 9] = [
        SortColumn::Start,
        SortColumn::Client,
        SortColumn::Server,
        SortColumn::User,
        SortColumn::Security,
        SortColumn::Phase,
        SortColumn::Outcome,
        SortColumn::Cause,
        SortColumn::Rtt,
    ];

    pub fn title(self) -> &'static str {
        match self {
            SortColumn::Start => "Start",
            SortColumn::Client => "Client",
            SortColumn::Server => "Server",
            SortColumn::User => "User",
            SortColumn::Security => "Security",
            SortColumn::Phase => "Phase",
            SortColumn::Outcome => "Outcome",
            SortColumn::Cause => "Cause",
            SortColumn::Rtt => "RTT",
        }
    }

    fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL
            .get((i + 1) % SortColumn::ALL.len())
            .copied()
            .unwrap_or(SortColumn::Start)
    }
}

/// Something the loop must do outside the state (it has the I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    WritePcap(u64),
    ExportJson(u64),
}

#[derive(Debug, Clone)]
pub struct UiState {
    /// The selected connection, by id, so it stays put while rows come and go.
    pub selected: Option<u64>,
    pub focus: Focus,
    pub detail_scroll: u16,
    pub filter: String,
    pub editing_filter: bool,
    pub failed_only: bool,
    pub sort: SortColumn,
    /// Newest first by default.
    pub descending: bool,
    /// The snapshot frozen by pause.
    pub paused: Option<Arc<Snapshot>>,
    pub help: bool,
    /// Rows that fit in the table (set by the renderer, used for paging).
    pub page: usize,
    pub message: Option<String>,
}

impl Default for UiState {
    fn default() -> Self {
        UiState {
            selected: None,
            focus: Focus::Table,
            detail_scroll: 0,
            filter: String::new(),
            editing_filter: false,
            failed_only: false,
            sort: SortColumn::Start,
            descending: true,
            paused: None,
            help: false,
            page: 10,
            message: None,
        }
    }
}

/// The security a connection used, as one short word.
pub fn security(v: &ConnView) -> String {
    let r = &v.record;
    let n = &r.negotiation;
    let tls = r.tls.as_ref().and_then(|t| t.version.clone());
    match (n.selected.as_deref(), tls) {
        (Some("hybrid") | Some("hybrid_ex"), Some(t)) => format!("NLA/TLS {t}"),
        (Some("hybrid") | Some("hybrid_ex"), None) => "NLA".into(),
        (_, Some(t)) => format!("TLS {t}"),
        (Some("rdp"), None) => "RDP".into(),
        (Some("ssl"), None) => "TLS".into(),
        (Some(s), None) => s.to_uppercase(),
        (None, None) if n.failure.is_some() => "refused".into(),
        (None, None) if r.transport == "udp" => "RDP-UDP".into(),
        (None, None) => "-".into(),
    }
}

pub fn cause(v: &ConnView) -> &str {
    v.record
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .map_or("", |f| f.code)
}

pub fn outcome_word(v: &ConnView) -> &'static str {
    match (v.open, v.record.outcome) {
        (_, Outcome::Failed) => "failed",
        (true, _) => "open",
        (false, Outcome::Success) => "ok",
        (false, Outcome::Incomplete) => "incomplete",
    }
}

fn rtt(v: &ConnView) -> Option<f64> {
    v.record.tcp.as_ref().and_then(|t| t.handshake_rtt_ms)
}

fn compare(a: &ConnView, b: &ConnView, col: SortColumn) -> Ordering {
    let s = |x: &ConnView| match col {
        SortColumn::Client => format!("{:?}", x.record.client),
        SortColumn::Server => format!("{:?}", x.record.server),
        SortColumn::User => x.record.cookie.clone().unwrap_or_default(),
        SortColumn::Security => security(x),
        SortColumn::Phase => format!("{:?}", x.record.phase_reached),
        SortColumn::Outcome => outcome_word(x).to_string(),
        SortColumn::Cause => cause(x).to_string(),
        SortColumn::Start | SortColumn::Rtt => String::new(),
    };
    match col {
        SortColumn::Start => a
            .record
            .first_seen
            .cmp(&b.record.first_seen)
            .then(a.record.id.cmp(&b.record.id)),
        SortColumn::Rtt => rtt(a).unwrap_or(-1.0).total_cmp(&rtt(b).unwrap_or(-1.0)),
        _ => s(a).cmp(&s(b)).then(a.record.id.cmp(&b.record.id)),
    }
}

impl UiState {
    /// The snapshot on screen: the frozen one while paused.
    pub fn shown<'a>(&'a self, live: &'a Arc<Snapshot>) -> &'a Arc<Snapshot> {
        self.paused.as_ref().unwrap_or(live)
    }

    /// Rows after filter and sort.
    pub fn rows<'a>(&self, snap: &'a Snapshot) -> Vec<&'a ConnView> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&ConnView> = snap
            .conns
            .iter()
            .filter(|v| !self.failed_only || v.record.outcome == Outcome::Failed)
            .filter(|v| {
                if needle.is_empty() {
                    return true;
                }
                let r = &v.record;
                let hay = format!(
                    "{}:{} {}:{} {} {} {}",
                    r.client.ip,
                    r.client.port,
                    r.server.ip,
                    r.server.port,
                    r.cookie.as_deref().unwrap_or(""),
                    cause(v),
                    r.findings.first().map_or("", |f| f.summary.as_str())
                )
                .to_lowercase();
                hay.contains(&needle)
            })
            .collect();
        rows.sort_by(|a, b| {
            let o = compare(a, b, self.sort);
            if self.descending {
                o.reverse()
            } else {
                o
            }
        });
        rows
    }

    /// Index of the selected row, defaulting to the first.
    pub fn selected_index(&self, rows: &[&ConnView]) -> usize {
        self.selected
            .and_then(|id| rows.iter().position(|v| v.record.id == id))
            .unwrap_or(0)
    }

    fn select_index(&mut self, rows: &[&ConnView], i: usize) {
        if let Some(v) = rows.get(i.min(rows.len().saturating_sub(1))) {
            if self.selected != Some(v.record.id) {
                self.detail_scroll = 0;
            }
            self.selected = Some(v.record.id);
        }
    }

    /// Apply one action against the rows currently shown.
    pub fn apply(&mut self, a: Action, snap: &Arc<Snapshot>) -> Option<Effect> {
        let shown = Arc::clone(self.shown(snap));
        let rows = self.rows(&shown);
        let i = self.selected_index(&rows);
        let page = self.page.max(1);
        match (a, self.focus) {
            (Action::Quit, _) if self.help => self.help = false,
            (Action::Quit, _) => return Some(Effect::Quit),
            (Action::ToggleHelp, _) => self.help = !self.help,
            (Action::Up, Focus::Table) => self.select_index(&rows, i.saturating_sub(1)),
            (Action::Down, Focus::Table) => self.select_index(&rows, i + 1),
            (Action::PageUp, Focus::Table) => self.select_index(&rows, i.saturating_sub(page)),
            (Action::PageDown, Focus::Table) => self.select_index(&rows, i + page),
            (Action::Top, Focus::Table) => self.select_index(&rows, 0),
            (Action::Bottom, Focus::Table) => self.select_index(&rows, usize::MAX),
            (Action::Up, Focus::Detail) => self.detail_scroll = self.detail_scroll.saturating_sub(1),
            (Action::Down, Focus::Detail) => self.detail_scroll = self.detail_scroll.saturating_add(1),
            (Action::PageUp, Focus::Detail) => self.detail_scroll = self.detail_scroll.saturating_sub(10),
            (Action::PageDown, Focus::Detail) => self.detail_scroll = self.detail_scroll.saturating_add(10),
            (Action::Top, Focus::Detail) => self.detail_scroll = 0,
            (Action::Bottom, Focus::Detail) => self.detail_scroll = u16::MAX / 2,
            (Action::ToggleFocus, _) => {
                self.focus = if self.focus == Focus::Table {
                    Focus::Detail
                } else {
                    Focus::Table
                };
            }
            (Action::StartFilter, _) => self.editing_filter = true,
            (Action::ToggleFailedOnly, _) => self.failed_only = !self.failed_only,
            (Action::NextSortColumn, _) => self.sort = self.sort.next(),
            (Action::ReverseSort, _) => self.descending = !self.descending,
            (Action::TogglePause, _) => {
                self.paused = match self.paused.take() {
                    Some(_) => None,
                    None => Some(Arc::clone(snap)),
                };
            }
            (Action::WritePcap, _) => return rows.get(i).map(|v| Effect::WritePcap(v.record.id)),
            (Action::ExportJson, _) => return rows.get(i).map(|v| Effect::ExportJson(v.record.id)),
        }
        None
    }

    /// A key typed while editing the filter.
    pub fn filter_key(&mut self, code: ratatui::crossterm::event::KeyCode) {
        use ratatui::crossterm::event::KeyCode;
        match code {
            KeyCode::Enter => self.editing_filter = false,
            KeyCode::Esc => {
                self.filter.clear();
                self.editing_filter = false;
            }
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char(c) if !c.is_control() && self.filter.len() < 64 => self.filter.push(c),
            _ => {}
        }
    }
}
