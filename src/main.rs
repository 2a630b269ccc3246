//! The `pipeproof` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use pipeproof::cli::Cli;
use pipeproof::error::exit_code_for;

fn main() -> ExitCode {
    let cli = Cli::parse();
    pipeproof::cli::init_logging(&cli.global);
    match pipeproof::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", pipeproof::terminal::escaped_lines(&format!("{error:#}")));
            ExitCode::from(exit_code_for(&error))
        }
    }
}
