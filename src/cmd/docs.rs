//! `completions` and `man`: the command line's own description (clap) as a shell completion
//! script (clap_complete) or manual pages (clap_mangen), so they never drift from `--help`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    // Into memory first: clap_complete panics on a failed write (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rdpscope", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// rdpscope(1) on stdout, or every page (rdpscope.1, rdpscope-analyze.1, ...) into `dir`.
pub fn man(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let cmd = Cli::command();
    match dir {
        None => {
            let mut out = io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            use anyhow::Context;
            std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create directory", dir.display()))?;
            clap_mangen::generate_to(cmd, dir).with_context(|| format!("{}: cannot write the pages", dir.display()))?;
            eprintln!("rdpscope: manual pages written to {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
