//! Output formats: thin renderers over connection records and run summaries.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

pub mod ecs;
pub mod json;
pub mod ocsf;
pub mod prometheus;
pub mod text;
pub mod text_rollups;
