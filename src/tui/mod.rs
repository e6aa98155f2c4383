//! The terminal UI (ratatui + crossterm). It reads snapshots of the analysis at a fixed
//! tick and never analyses anything itself; keys change only the view, except `w`,
//! which asks the analysis thread to write a pcap, and `e`, which writes a record it has.

pub mod keys;
pub mod render;
pub mod state;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseEventKind};
use ratatui::crossterm::execute;

use crate::live::{Command, Handle};
use keys::Action;
use state::{Effect, UiState};

/// How often the screen is redrawn from the latest snapshot (5 Hz).
pub const TICK: Duration = Duration::from_millis(200);

fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// Run the UI until the user quits or `stop` is set (SIGINT/SIGTERM). The terminal is
/// restored on every way out, panics included.
pub fn run(handle: &Handle, stop: &Arc<AtomicBool>) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        prev(info);
    }));
    execute!(io::stdout(), EnableMouseCapture)?;
    let result = ui_loop(&mut terminal, handle, stop);
    restore();
    result
}

fn ui_loop(terminal: &mut ratatui::DefaultTerminal, handle: &Handle, stop: &Arc<AtomicBool>) -> io::Result<()> {
    let mut st = UiState {
        // https://no-color.org: set and not empty.
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        ..UiState::default()
    };
    // Redraw only when the snapshot or the view changed: an idle TUI costs nothing.
    let mut drawn: Option<Arc<crate::live::Snapshot>> = None;
    let mut dirty = true;
    loop {
        let live = handle.snapshot();
        let shown = Arc::clone(st.shown(&live));
        if dirty || !drawn.as_ref().is_some_and(|d| Arc::ptr_eq(d, &shown)) {
            terminal.draw(|f| render::draw(f, &shown, &mut st))?;
            drawn = Some(shown);
            dirty = false;
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if !event::poll(TICK)? {
            continue;
        }
        // Any event (key, mouse, resize) may change what is shown.
        dirty = true;
        let action = match event::read()? {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                if st.editing_filter {
                    st.filter_key(k.code);
                    None
                } else {
                    st.message = None;
                    keys::action_for(k)
                }
            }
            Event::Mouse(m) => match m.kind {
                MouseEventKind::ScrollDown => Some(Action::Down),
                MouseEventKind::ScrollUp => Some(Action::Up),
                _ => None,
            },
            // Resize: the next draw uses the new size.
            _ => None,
        };
        let Some(a) = action else { continue };
        match st.apply(a, &live) {
            Some(Effect::Quit) => return Ok(()),
            Some(Effect::WritePcap(id)) => {
                let path = std::path::PathBuf::from(format!("rdpscope-{id}.pcap"));
                st.message = Some(
                    match handle.commands.try_send(Command::WritePcap { id, path: path.clone() }) {
                        Ok(()) => format!("writing {} ...", path.display()),
                        Err(_) => "busy, try again".into(),
                    },
                );
            }
            Some(Effect::ExportJson(id)) => {
                let shown = Arc::clone(st.shown(&live));
                st.message = Some(match shown.conns.iter().find(|v| v.record.id == id) {
                    Some(v) => {
                        let path = format!("rdpscope-{id}.json");
                        match serde_json::to_string_pretty(&v.record)
                            .map_err(io::Error::other)
                            .and_then(|s| std::fs::write(&path, s + "\n"))
                        {
                            Ok(()) => format!("exported #{id} to {path}"),
                            Err(e) => format!("cannot write {path}: {e}"),
                        }
                    }
                    None => format!("connection #{id} is no longer kept"),
                });
            }
            None => {}
        }
    }
}
