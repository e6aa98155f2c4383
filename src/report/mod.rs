//! Output formats: thin renderers over connection records and run summaries.

pub mod json;
pub mod summary;
pub mod text;
