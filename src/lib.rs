//! rdpscope: a passive analyzer that explains why Remote Desktop connections fail.
//!
//! The crate is a sans-I/O core (`decode`, `flow`, `proto`, `conn`, `diagnosis`) that turns
//! `(timestamp, frame bytes)` into per-connection records, plus thin shells (`capture`, `report`,
//! the CLI) that read files and print what the core found.
#![forbid(unsafe_code)]

pub mod analyzer;
pub mod capture;
pub mod config;
pub mod conn;
pub mod decode;
pub mod decrypt;
pub mod diagnosis;
pub mod emit;
pub mod flow;
pub mod live;
pub mod pipeline;
pub mod proto;
pub mod record;
pub mod report;
pub mod ts;
pub mod tui;
