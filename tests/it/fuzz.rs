//! Fuzzing by mutation of real inputs: every ingest parser (each sample family, detected and forced with its
//! `--kind`), the GitHub collector (one recorded answer of the demo mutated, then collected and evaluated),
//! `verify` on mutated bundles, the config and the waivers file. The property: every input is either
//! read or refused with an error; nothing panics, hangs or runs away with memory.
//!
//! A few mutations per input run in every `./x test` (seeded, so the same inputs each time). `./x fuzz SECONDS`
//! (`just fuzz`) runs the same loop for a time budget with a fresh seed. A finding is written to
//! `$CARGO_TARGET_DIR/fuzz-findings/<family>/`; copy it into `tests/fixtures/fuzz/<family>/` with the fix, where
//! `fuzz::every_kept_finding_is_read_or_refused` keeps it as a regression test.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pipeproof::ingest::IngestKind;
use pipeproof::ingest::IngestOptions;

use crate::common;

/// Inputs larger than this are not mutated (a mutation of a large file exercises nothing more, only slower).
const LARGEST_INPUT: u64 = 256 << 10;
/// The largest a mutated input grows.
const LARGEST_MUTATION: usize = 8 << 20;
/// An input still being read after this long is a hang.
const HANG: Duration = Duration::from_secs(120);
/// A process grown past this while reading an input has let that input run away with memory.
const RUNAWAY_BYTES: u64 = 6 << 30;

/// The resident memory of this process, from `/proc/self/status` (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// A family of inputs and what reads them.
#[derive(Clone, Copy)]
enum Reader {
    /// `ingest`, with the format detected, or forced as `--kind` would.
    Ingest(Option<IngestKind>),
    /// `verify` of a bundle zip.
    Verify,
    /// `pipeproof.yaml`.
    Config,
    /// `waivers.yaml`.
    Waivers,
    /// A GitHub collection (then an evaluation) against the demo's recorded answers, one of them replaced by the
    /// input (a hostile or broken server).
    Github,
}

impl Reader {
    /// Reads `bytes`; `Err` is a clean refusal, a panic is a finding.
    fn read(self, bytes: &[u8], scratch: &Path) {
        match self {
            Reader::Ingest(kind) => {
                let options = IngestOptions { kind, repo: Some("acme/repo".into()), ..IngestOptions::default() };
                let _ = pipeproof::ingest::parse(bytes, "fuzzed", &options);
            }
            Reader::Verify => {
                let path = scratch.join("bundle.zip");
                std::fs::write(&path, bytes).unwrap();
                let _ = pipeproof::bundle::verify(&path, None, 1 << 30);
            }
            Reader::Config => {
                if let Ok(text) = std::str::from_utf8(bytes) {
                    let _ = pipeproof::config::Config::parse(text, "fuzzed");
                }
            }
            Reader::Github => collect_with_one_answer(bytes, scratch),
            Reader::Waivers => {
                let path = scratch.join("waivers.yaml");
                std::fs::write(&path, bytes).unwrap();
                let rules = pipeproof::evaluate::waivers::WaiverRules { max_days: Some(365), controls: None };
                let _ = pipeproof::evaluate::waivers::load(&path, pipeproof::time::now_utc(), &rules);
            }
        }
    }
}

/// The demo's answers, with the interaction the input's first line names (its index) answering the rest of it as
/// its body (not JSON is served as it is, as a hostile server would).
fn collect_with_one_answer(bytes: &[u8], scratch: &Path) {
    use pipeproof::collect::replay::{Cassette, ReplayServer};
    let text = String::from_utf8_lossy(bytes);
    let (index, body) = text.split_once('\n').unwrap_or(("0", ""));
    let mut cassette = common::demo_cassette_edited(|_, _| {});
    let interactions = cassette["interactions"].as_array_mut().unwrap();
    let at = index.trim().parse::<usize>().unwrap_or(0) % interactions.len();
    interactions[at]["body"] = serde_json::from_str(body).unwrap_or_else(|_| serde_json::Value::String(body.into()));
    let Ok(cassette) = Cassette::parse(&cassette.to_string(), "fuzzed") else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let path = scratch.join(format!("github-{}.duckdb", fastrand::u64(..)));
    let store = pipeproof::store::Store::open(&path).unwrap();
    let config = pipeproof::collect::github::GithubConfig {
        per_page: 4,
        concurrency: 4,
        ..pipeproof::collect::github::GithubConfig::for_org("acme-demo", &server.base_url())
    };
    let token = pipeproof::collect::http::Token::new("ghs_fuzz".into());
    let collected = pipeproof::collect::github::collect(&store, &config, token, &Default::default());
    drop(store);
    if collected.is_ok() {
        let _ = common::evaluate_now(&path);
    }
}

/// The inputs of the GitHub family: each recorded answer of the demo, as `<index>\n<body>`.
fn github_answers() -> Vec<Vec<u8>> {
    let cassette = common::demo_cassette_edited(|_, _| {});
    let interactions = cassette["interactions"].as_array().unwrap();
    interactions
        .iter()
        .enumerate()
        .filter(|(_, interaction)| interaction["status"] == 200 && !interaction["body"].is_null())
        .map(|(index, interaction)| format!("{index}\n{}", interaction["body"]).into_bytes())
        .collect()
}

/// Byte-level and JSON-aware mutations.
struct Mutator {
    rng: fastrand::Rng,
}

impl Mutator {
    fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..self.rng.usize(1..=4) {
            self.once(&mut out);
            // Growth stays bounded: repeated spans compound, and a mutated input of gigabytes tests the mutator.
            out.truncate(LARGEST_MUTATION);
        }
        out
    }

    fn at(&mut self, bytes: &[u8]) -> usize {
        if bytes.is_empty() {
            0
        } else {
            self.rng.usize(0..bytes.len())
        }
    }

    fn once(&mut self, out: &mut Vec<u8>) {
        const INTERESTING: &[u8] = b"\0\xff\x80\"{}[]\\\n:,-0e";
        const VALUES: &[&str] = &[
            "1e309",
            "-1",
            "18446744073709551616",
            "-9223372036854775809",
            "0.0000001",
            "null",
            "true",
            "{}",
            "[]",
            "\"\"",
            "\"\\ud800\"",
            "\"\\u0000\"",
            "\"9999-12-31T23:59:59Z\"",
            "\"0000-00-00\"",
            "\"../../etc/passwd\"",
        ];
        let at = self.at(out);
        match self.rng.u8(0..10) {
            0 if !out.is_empty() => out[at] ^= 1 << self.rng.u8(0..8),
            1 if !out.is_empty() => out[at] = INTERESTING[self.rng.usize(0..INTERESTING.len())],
            2 if !out.is_empty() => {
                let end = (at + self.rng.usize(1..64)).min(out.len());
                out.drain(at..end);
            }
            3 if !out.is_empty() => {
                let end = (at + self.rng.usize(1..256)).min(out.len());
                let copy = out[at..end].to_vec();
                let to = self.at(out);
                out.splice(to..to, copy);
            }
            4 => out.truncate(at),
            5 => {
                // A JSON value where a scalar was: after a colon.
                if let Some(colon) = out[at..].iter().position(|b| *b == b':').map(|p| at + p + 1) {
                    let end = out[colon..]
                        .iter()
                        .position(|b| matches!(b, b',' | b'}' | b']'))
                        .map_or(out.len(), |p| colon + p);
                    let value = VALUES[self.rng.usize(0..VALUES.len())];
                    out.splice(colon..end, value.bytes());
                }
            }
            6 => {
                let depth = self.rng.usize(100..5000);
                let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
                out.splice(at..at, nested.into_bytes());
            }
            7 => {
                let long = format!("\"{}\"", "A".repeat(self.rng.usize(1000..100_000)));
                out.splice(at..at, long.into_bytes());
            }
            8 if !out.is_empty() => {
                // Repeat a line or record many times (a listing that never ends, a count that is off).
                let start = out[..at].iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                let end = out[at..].iter().position(|b| *b == b'\n').map_or(out.len(), |p| at + p + 1);
                let line = out[start..end.min(start + 4096)].to_vec();
                for _ in 0..self.rng.usize(2..200) {
                    out.splice(end..end, line.iter().copied());
                }
            }
            _ => {
                let count = self.rng.usize(1..16);
                let random: Vec<u8> = (0..count).map(|_| self.rng.u8(..)).collect();
                out.splice(at..at, random);
            }
        }
    }
}

/// Every family: the samples of each folder read as ingest detects them and forced with the kind they are, the demo
/// bundle for `verify`, the demo config and waivers.
fn families() -> Vec<(String, Reader, Vec<PathBuf>)> {
    let samples = common::samples();
    let mut families = Vec::new();
    let forced: &[(&str, IngestKind)] = &[
        ("sarif", IngestKind::Sarif),
        ("trivy-json", IngestKind::Trivy),
        ("grype", IngestKind::Grype),
        ("osv-scanner", IngestKind::OsvScanner),
        ("cyclonedx", IngestKind::Cyclonedx),
        ("spdx", IngestKind::Spdx),
        ("syft-json", IngestKind::Syft),
        ("vex", IngestKind::Openvex),
        ("k8s-audit", IngestKind::K8sAudit),
        ("github-audit-log", IngestKind::GithubAuditLog),
    ];
    let mut folders: Vec<PathBuf> =
        std::fs::read_dir(&samples).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    folders.sort();
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().to_string();
        let mut files: Vec<PathBuf> = walk(&folder)
            .into_iter()
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= LARGEST_INPUT))
            .collect();
        files.sort();
        families.push((format!("ingest-{name}"), Reader::Ingest(None), files.clone()));
        if let Some((_, kind)) = forced.iter().find(|(folder, _)| *folder == name) {
            families.push((format!("ingest-{name}-forced"), Reader::Ingest(Some(*kind)), files));
        }
    }
    let demo = common::demo_fixtures();
    families.push(("config".into(), Reader::Config, vec![demo.join("pipeproof.yaml")]));
    families.push(("waivers".into(), Reader::Waivers, vec![demo.join("waivers.yaml")]));
    families
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Where findings are written.
fn findings_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("fuzz-findings")
}

/// The input being read (family, bytes, since when), for the watchdog.
type Current = Arc<Mutex<(String, Vec<u8>, Option<Instant>)>>;

/// Runs `reader` on each input under a watchdog; returns the findings (panics), written out.
struct Run {
    scratch: tempfile::TempDir,
    current: Current,
    findings: Vec<PathBuf>,
    inputs: usize,
}

impl Run {
    fn new() -> Run {
        let current: Current = Arc::new(Mutex::new((String::new(), Vec::new(), None)));
        let watched = Arc::clone(&current);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let guard = watched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let (family, bytes, Some(started)) = &*guard {
                let resident = resident_bytes();
                if started.elapsed() > HANG || resident > RUNAWAY_BYTES {
                    let path = save(family, bytes);
                    eprintln!(
                        "fuzz: an input of {family} ran away ({:?}, {} MiB resident): {}",
                        started.elapsed(),
                        resident >> 20,
                        path.display()
                    );
                    std::process::abort();
                }
            }
        });
        Run { scratch: tempfile::tempdir().unwrap(), current, findings: Vec::new(), inputs: 0 }
    }

    fn read(&mut self, family: &str, reader: Reader, bytes: &[u8]) {
        *self.current.lock().unwrap() = (family.to_string(), bytes.to_vec(), Some(Instant::now()));
        let scratch = self.scratch.path().to_path_buf();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.read(bytes, &scratch)));
        self.current.lock().unwrap().2 = None;
        self.inputs += 1;
        if outcome.is_err() {
            self.findings.push(save(family, bytes));
        }
    }
}

fn save(family: &str, bytes: &[u8]) -> PathBuf {
    let dir = findings_dir().join(family);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(&pipeproof::store::sha256_hex(bytes)[..16]);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Mutates every input of every family `per_input` times (or until `budget` runs out), from `seed`.
fn fuzz(seed: u64, per_input: usize, budget: Option<Duration>) -> Run {
    let mut run = Run::new();
    let mut mutator = Mutator { rng: fastrand::Rng::with_seed(seed) };
    let started = Instant::now();
    let mut families = families();
    let demo = tempfile::tempdir().unwrap();
    common::run_demo(demo.path(), None);
    families.push(("verify".into(), Reader::Verify, vec![demo.path().join("bundle.zip")]));
    let mut originals: Vec<(String, Reader, Vec<Vec<u8>>)> = families
        .into_iter()
        .map(|(family, reader, files)| {
            (family, reader, files.iter().map(|file| std::fs::read(file).unwrap()).collect::<Vec<_>>())
        })
        .collect();
    originals.push(("github".into(), Reader::Github, github_answers()));
    let only = std::env::var("PIPEPROOF_FUZZ_ONLY").unwrap_or_default();
    originals.retain(|(family, _, _)| family.contains(&only));
    let mut round = 0;
    loop {
        for (family, reader, inputs) in &originals {
            for input in inputs {
                // A bundle is large (a verify of ~3 MB each) and a collection slow (a second or more): they get a
                // tenth of the turns, and a collection one answer in twenty of each round.
                if matches!(reader, Reader::Verify | Reader::Github) && round % 10 != 0 {
                    continue;
                }
                if matches!(reader, Reader::Github) && mutator.rng.usize(0..20) != 0 {
                    continue;
                }
                let mutated = mutator.mutate(input);
                run.read(family, *reader, &mutated);
                if budget.is_some_and(|budget| started.elapsed() > budget) {
                    return run;
                }
            }
        }
        round += 1;
        if budget.is_none() && round >= per_input {
            return run;
        }
    }
}

#[test]
fn mutated_real_inputs_are_read_or_refused_never_a_panic() {
    let run = fuzz(20261207, 2, None);
    assert!(run.inputs > 800, "only {} inputs were tried", run.inputs);
    assert!(
        run.findings.is_empty(),
        "inputs that panicked (keep each under tests/fixtures/fuzz/): {:#?}",
        run.findings
    );
}

/// `./x fuzz SECONDS`: the same loop for a time budget, with a fresh seed.
#[test]
#[ignore = "runs for PIPEPROOF_FUZZ_SECONDS; `./x fuzz` starts it"]
fn fuzz_for_a_time_budget() {
    let seconds: u64 = std::env::var("PIPEPROOF_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed = std::env::var("PIPEPROOF_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    let run = fuzz(seed, usize::MAX, Some(Duration::from_secs(seconds)));
    eprintln!("fuzz: seed {seed}, {} inputs in {seconds}s, {} finding(s)", run.inputs, run.findings.len());
    assert!(
        run.findings.is_empty(),
        "inputs that panicked (keep each under tests/fixtures/fuzz/): {:#?}",
        run.findings
    );
}

#[test]
fn every_kept_finding_is_read_or_refused() {
    let kept = Path::new("tests/fixtures/fuzz");
    let readers: Vec<(String, Reader)> = families().into_iter().map(|(family, reader, _)| (family, reader)).collect();
    let mut run = Run::new();
    let mut count = 0;
    for dir in std::fs::read_dir(kept).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        let family = dir.file_name().unwrap().to_string_lossy().to_string();
        let reader = match family.as_str() {
            "verify" => Reader::Verify,
            "github" => Reader::Github,
            _ => readers.iter().find(|(name, _)| *name == family).map(|(_, r)| *r).expect("a known family"),
        };
        for file in walk(&dir) {
            run.read(&family, reader, &std::fs::read(&file).unwrap());
            count += 1;
        }
    }
    assert!(count > 0, "the kept findings are read");
    assert!(run.findings.is_empty(), "kept findings that panic again: {:#?}", run.findings);
}
