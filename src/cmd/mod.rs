//! The command line: argument definitions and one file per subcommand, each a thin
//! shell over the library.

pub mod analyze;
pub mod cli;
pub mod docs;
pub mod live;
pub mod metrics;
