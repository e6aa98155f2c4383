//! What the user is looking at: selection, focus, filter, sort, pause, help. Pure state
//! changes, tested without a terminal; the rows come from the current snapshot.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::diagnosis::Outcome;
use crate::live::{ConnView, Snapshot};
use crate::proto::tls;
use crate::proto::x224::Protocols;

use super::keys::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    Detail,
}

/// What the detail pane shows where the ladder does not fit beside the findings (narrow
/// terminals): the verdict, findings and fix, or the handshake ladder; Tab goes from one
/// to the next, so the ladder is one key away instead of below the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailView {
    Findings,
    Ladder,
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
    pub view: DetailView,
    /// The ladder has its own view (set by the renderer: it does not fit beside the findings).
    pub narrow: bool,
    /// No colours at all ($NO_COLOR): focus and state are shown by markers and text only.
    pub no_color: bool,
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
            view: DetailView::Findings,
            narrow: true,
            no_color: false,
        }
    }
}

/// The security a connection used, as one short word.
pub fn security(v: &ConnView) -> String {
    let r = &v.record;
    let n = &r.negotiation;
    let tls = r.tls.as_ref().and_then(|t| t.version).map(tls::version_name);
    match (n.selected, tls) {
        (Some(p), Some(t)) if p.is_nla() => format!("NLA/TLS {t}"),
        (Some(p), None) if p.is_nla() => "NLA".into(),
        (_, Some(t)) => format!("TLS {t}"),
        (Some(Protocols::RDP), None) => "RDP".into(),
        (Some(Protocols::SSL), None) => "TLS".into(),
        (Some(p), None) => p.name().to_uppercase(),
        (None, None) if n.failure.is_some() => "refused".into(),
        (None, None) if r.transport == "udp" => "RDP-UDP".into(),
        (None, None) => "-".into(),
    }
}

/// The code of the connection's cause; empty while it has none.
pub fn cause(v: &ConnView) -> &str {
    match v.record.cause() {
        "unexplained" => "",
        c => c,
    }
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
    let (ra, rb) = (&a.record, &b.record);
    let by = match col {
        SortColumn::Start => ra.start.cmp(&rb.start),
        // Addresses numerically (IPv4 before IPv6), then the port.
        SortColumn::Client => ra.client.cmp(&rb.client),
        SortColumn::Server => ra.server.cmp(&rb.server),
        SortColumn::User => ra.cookie.cmp(&rb.cookie),
        SortColumn::Security => security(a).cmp(&security(b)),
        // In the order a connection goes through the phases.
        SortColumn::Phase => ra.phase_reached.cmp(&rb.phase_reached),
        SortColumn::Outcome => outcome_word(a).cmp(outcome_word(b)),
        SortColumn::Cause => cause(a).cmp(cause(b)),
        SortColumn::Rtt => return rtt(a).unwrap_or(-1.0).total_cmp(&rtt(b).unwrap_or(-1.0)),
    };
    by.then(ra.id.cmp(&rb.id))
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
        under_their_legs(rows)
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
            // Table → findings → ladder (narrow) → table; wide: table ↔ detail.
            (Action::ToggleFocus, _) => {
                self.detail_scroll = 0;
                (self.focus, self.view) = match (self.focus, self.view) {
                    (Focus::Table, _) => (Focus::Detail, DetailView::Findings),
                    (Focus::Detail, DetailView::Findings) if self.narrow => (Focus::Detail, DetailView::Ladder),
                    (Focus::Detail, _) => (Focus::Table, DetailView::Findings),
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

/// A gateway leg's inner RDP connections (`via_gateway`) right after their leg, whatever
/// the sort; an inner connection whose leg is not shown keeps its own place.
fn under_their_legs(rows: Vec<&ConnView>) -> Vec<&ConnView> {
    let shown: std::collections::HashSet<u64> = rows.iter().map(|v| v.record.id).collect();
    let mut inner: std::collections::HashMap<u64, Vec<&ConnView>> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for v in &rows {
        match v.record.via_gateway.as_ref().filter(|g| shown.contains(&g.id)) {
            Some(g) => inner.entry(g.id).or_default().push(*v),
            None => out.push(*v),
        }
    }
    if inner.is_empty() {
        return out;
    }
    let mut grouped = Vec::with_capacity(rows.len());
    for v in out {
        grouped.push(v);
        if let Some(children) = inner.remove(&v.record.id) {
            grouped.extend(children);
        }
    }
    grouped
}
