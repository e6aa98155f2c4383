//! The live pipeline: a capture thread (interface or replayed file) sends batches over a
//! bounded channel to the analysis thread, which feeds the same `Analyzer` as `analyze`
//! and publishes a `Snapshot` at a fixed tick. Views (the TUI, the JSON printer) only
//! read snapshots and finished records; none of them analyses anything.

pub mod frames;
pub mod snapshot;
pub mod worker;

pub use snapshot::{ConnView, ReplayPosition, Snapshot};
pub use worker::{spawn, Command, Handle, Options, Source, MAX_OPEN_ROWS};
