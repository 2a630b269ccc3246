//! pipeproof: collect CI/CD evidence, evaluate controls as SQL, and report against compliance frameworks.

pub mod bundle;
pub mod cli;
pub mod collect;
pub mod config;
pub mod controls;
pub mod drift;
pub mod embedded;
pub mod error;
pub mod evaluate;
pub mod facts;
pub mod glob;
pub mod ingest;
pub mod period;
pub mod progress;
pub mod report;
pub mod store;
pub mod terminal;
pub mod time;

/// The tool version recorded in runs, evaluations and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
