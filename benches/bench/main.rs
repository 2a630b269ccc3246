//! The benchmarks, in one binary that prints figures (never asserts a time): `./x bench` runs them all in the
//! release build users run, `./x bench collect ingest` some of them, `./x bench --dev …` in the dev profile.
//! Sizes come from `PIPEPROOF_BENCH_*` variables (see each module).

mod bundle;
mod collect;
mod enterprise;
mod gitlab;
mod history;
mod ingest;
mod measure;
mod report;

/// A benchmark: it prints its own figures.
type Benchmark = fn() -> anyhow::Result<()>;

/// Each benchmark by name, in the order `./x bench` runs them.
const BENCHMARKS: &[(&str, Benchmark)] = &[
    ("collect", collect::run),
    ("gitlab", gitlab::run),
    ("ingest", ingest::run),
    ("bundle", bundle::run),
    ("report", report::run),
    ("history", history::run),
    ("enterprise", enterprise::run),
];

fn main() -> anyhow::Result<()> {
    // cargo passes `--bench` to a benchmark without the standard harness.
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
    // A benchmark that measures a step in a fresh process (so its peak memory is its own) runs this binary again.
    match args.first().map(String::as_str) {
        Some("ingest-child") => return ingest::child(&args[1..]),
        Some("bundle-child") => return bundle::child(&args[1..]),
        Some(step) if step.starts_with("enterprise-") => return enterprise::step(step, &args[1..]),
        _ => {}
    }
    let unknown: Vec<&String> = args.iter().filter(|arg| BENCHMARKS.iter().all(|(name, _)| name != arg)).collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = BENCHMARKS.iter().map(|(name, _)| *name).collect();
        anyhow::bail!("unknown benchmark {unknown:?}; the benchmarks are {}", names.join(", "));
    }
    let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
    for (name, run) in BENCHMARKS.iter().filter(|(name, _)| args.is_empty() || args.iter().any(|arg| arg == name)) {
        println!("== {name} ({profile} build) ==");
        run()?;
    }
    Ok(())
}
