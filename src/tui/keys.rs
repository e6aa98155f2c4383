//! Key bindings as data: the help overlay lists this table, and the loop looks keys up
//! in it. Wireshark/htop habits: arrows and j/k, PgUp/PgDn, g/G, Enter/Tab, `/`, `q`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    ToggleFocus,
    StartFilter,
    ToggleFailedOnly,
    NextSortColumn,
    ReverseSort,
    TogglePause,
    WritePcap,
    ExportJson,
    ToggleHelp,
    Quit,
}

/// (keys as shown in the help, what they match, action, description)
pub struct Binding {
    pub keys: &'static str,
    pub codes: &'static [KeyCode],
    pub action: Action,
    pub help: &'static str,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "↑ k",
        codes: &[KeyCode::Up, KeyCode::Char('k')],
        action: Action::Up,
        help: "previous connection / scroll up",
    },
    Binding {
        keys: "↓ j",
        codes: &[KeyCode::Down, KeyCode::Char('j')],
        action: Action::Down,
        help: "next connection / scroll down",
    },
    Binding {
        keys: "PgUp",
        codes: &[KeyCode::PageUp],
        action: Action::PageUp,
        help: "one page up",
    },
    Binding {
        keys: "PgDn",
        codes: &[KeyCode::PageDown],
        action: Action::PageDown,
        help: "one page down",
    },
    Binding {
        keys: "g Home",
        codes: &[KeyCode::Char('g'), KeyCode::Home],
        action: Action::Top,
        help: "first row",
    },
    Binding {
        keys: "G End",
        codes: &[KeyCode::Char('G'), KeyCode::End],
        action: Action::Bottom,
        help: "last row",
    },
    Binding {
        keys: "Enter Tab",
        codes: &[KeyCode::Enter, KeyCode::Tab, KeyCode::BackTab],
        action: Action::ToggleFocus,
        help: "next pane: table, detail, handshake ladder (on narrow screens)",
    },
    Binding {
        keys: "/",
        codes: &[KeyCode::Char('/')],
        action: Action::StartFilter,
        help: "filter on client, server, user or cause (Enter keeps, Esc clears)",
    },
    Binding {
        keys: "f",
        codes: &[KeyCode::Char('f')],
        action: Action::ToggleFailedOnly,
        help: "failed connections only",
    },
    Binding {
        keys: "s",
        codes: &[KeyCode::Char('s')],
        action: Action::NextSortColumn,
        help: "sort by the next column",
    },
    Binding {
        keys: "S",
        codes: &[KeyCode::Char('S')],
        action: Action::ReverseSort,
        help: "reverse the sort direction",
    },
    Binding {
        keys: "space",
        codes: &[KeyCode::Char(' ')],
        action: Action::TogglePause,
        help: "pause / resume the display (capture continues)",
    },
    Binding {
        keys: "w",
        codes: &[KeyCode::Char('w')],
        action: Action::WritePcap,
        help: "write the selected connection's packets to a pcap",
    },
    Binding {
        keys: "e",
        codes: &[KeyCode::Char('e')],
        action: Action::ExportJson,
        help: "export the selected connection as JSON",
    },
    Binding {
        keys: "?",
        codes: &[KeyCode::Char('?'), KeyCode::F(1)],
        action: Action::ToggleHelp,
        help: "this help",
    },
    Binding {
        keys: "q Esc",
        codes: &[KeyCode::Char('q'), KeyCode::Esc],
        action: Action::Quit,
        help: "quit (Esc closes help first)",
    },
];

pub fn action_for(k: KeyEvent) -> Option<Action> {
    if k.modifiers.contains(KeyModifiers::CONTROL) && matches!(k.code, KeyCode::Char('c') | KeyCode::Char('q')) {
        return Some(Action::Quit);
    }
    BINDINGS.iter().find(|b| b.codes.contains(&k.code)).map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_maps_to_one_action() {
        let mut seen = std::collections::HashSet::new();
        for b in BINDINGS {
            for c in b.codes {
                assert!(seen.insert(format!("{c:?}")), "{c:?} bound twice");
            }
        }
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(action_for(k(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(action_for(k(KeyCode::Char('/'))), Some(Action::StartFilter));
        assert_eq!(
            action_for(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(action_for(k(KeyCode::Char('x'))), None);
    }
}
