//! The command line: argument types (`args.rs`) and one file per command, from parsed arguments to an exit code.

mod args;
pub mod bundle;
pub mod collect;
pub mod controls;
pub mod demo;
pub mod doctor;
pub mod drift;
pub mod evaluate;
pub mod export;
pub mod ingest;
pub mod report;
pub mod run;
pub mod waivers;

pub use args::*;

use anyhow::Result;

/// Runs the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let global = &cli.global;
    let _lock = match store_job(&cli.command) {
        // A DuckLake store takes many writers at once: each commits its own transaction, so no lock is taken.
        Some(_) if crate::store::Location::of(&global.store)?.is_lake() => None,
        Some((name, writes)) if writes || global.store.exists() => {
            Some(crate::store::JobLock::acquire(&global.store, name, global.wait)?)
        }
        _ => None,
    };
    match cli.command {
        Command::Collect(_) => collect::collect(&global.store, &global.config),
        Command::Run(args) => run::run_job(&global.store, &global.config, &args),
        Command::Doctor => doctor::doctor(&global.config),
        Command::Ingest(args) => ingest::ingest(&global.store, &args),
        Command::Evaluate(args) => evaluate::evaluate(&global.store, &global.config, &args),
        Command::Report(args) => report::report(&global.store, &global.config, &args),
        Command::Drift(args) => drift::drift(&global.store, &global.config, &args),
        Command::History(args) => drift::history(&global.store, &args),
        Command::Demo(args) => demo::run(&args),
        Command::Bundle(args) => bundle::bundle(&global.store, &global.config, &args),
        Command::Verify(args) => bundle::verify(&args),
        Command::Keygen(args) => bundle::keygen(&args),
        Command::Export(args) => export::export(&global.store, &args),
        Command::Controls(args) => match args.command {
            ControlsCommand::List { control_dirs, format } => controls::controls_list(&control_dirs, format),
            ControlsCommand::Show { id, control_dirs } => controls::show(&id, &control_dirs),
            ControlsCommand::Validate { dir } => controls::validate(dir.as_deref()),
            ControlsCommand::Test { dir, fail_closed } => controls::test(dir.as_deref(), fail_closed),
        },
        Command::Schema { kind } => controls::schema(kind),
        Command::Waivers(args) => match args.command {
            WaiversCommand::Check { file, as_of, control_dirs } => {
                waivers::waivers_check(&global.config, file, as_of.as_deref(), &control_dirs)
            }
        },
    }
}

/// The commands that use the store, by name, and whether they write (and so may create it): each holds the store's
/// job lock while it runs. A reader of a store that does not exist takes no lock, so it leaves no lock file behind.
fn store_job(command: &Command) -> Option<(&'static str, bool)> {
    Some(match command {
        Command::Collect(_) => ("collect", true),
        Command::Run(_) => ("run", true),
        Command::Ingest(_) => ("ingest", true),
        Command::Evaluate(_) => ("evaluate", true),
        Command::Report(_) => ("report", false),
        Command::Drift(_) => ("drift", false),
        Command::History(_) => ("history", false),
        Command::Bundle(_) => ("bundle", false),
        Command::Export(_) => ("export", false),
        _ => return None,
    })
}
