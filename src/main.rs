//! The `rdpscope` command line: a thin shell over the library.
#![forbid(unsafe_code)]

mod cmd;

use std::io;
use std::process::ExitCode;

use clap::Parser;

use cmd::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(a) => cmd::analyze::analyze(&a),
        Command::Live(a) => cmd::live::live(&a),
        Command::Replay(a) => cmd::live::replay(&a),
        Command::Interfaces => cmd::live::interfaces(),
        Command::Completions { shell } => cmd::docs::completions(shell),
        Command::Man { dir } => cmd::docs::man(dir.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`| head`) is not an error worth a message.
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("rdpscope: {e:#}");
            ExitCode::from(2)
        }
    }
}
