//! Command-line interface: commands, arguments and logging setup.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ingest::IngestKind;
use crate::report::{Paper, ReportFormat};

/// Proves, with evidence, how secure a software delivery pipeline is.
///
/// pipeproof collects CI/CD evidence from APIs and files into a DuckDB store, evaluates controls
/// written as SQL, maps them to SOC 2, ISO/IEC 27001:2022, NIST SSDF, SLSA, CIS Supply Chain and OWASP
/// CI/CD, renders HTML, PDF, JSON, CSV, OSCAL and SARIF reports, packages signed evidence bundles that auditors
/// verify offline, and tracks drift between evaluations.
///
/// Exit codes: 0 ok; 1 a gate failed (failing controls, a regression, a bundle that does not verify); 2 usage or
/// input error; 3 runtime failure (network, store, a store locked by another job).
#[derive(Debug, Parser)]
#[command(name = "pipeproof", version, propagate_version = true)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The evidence store: a DuckDB file, created on first use; or a DuckLake many jobs write at once,
    /// `ducklake:postgres:<connection string>` (password in PGPASSWORD; new lakes keep data in $PIPEPROOF_LAKE_DATA).
    #[arg(long, global = true, env = "PIPEPROOF_STORE", default_value = "pipeproof.duckdb", value_name = "PATH")]
    pub store: PathBuf,
    /// The configuration file (YAML): organisation, sources, policy.
    #[arg(long, global = true, default_value = "pipeproof.yaml", value_name = "PATH")]
    pub config: PathBuf,
    /// Print only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (repeat for debug output).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log format on stderr: text for people, json (one object per line) for schedulers and log pipelines.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// When another pipeproof job holds the store, wait this long for it (e.g. 30s, 10m, 1h) instead of failing.
    #[arg(long, global = true, default_value = "0s", value_name = "DURATION", value_parser = crate::time::parse_duration)]
    pub wait: std::time::Duration,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// For scheduled jobs: collect, evaluate, report (and bundle, per the config), compare with the previous
    /// evaluation and notify; exit 1 on regression.
    Run(RunArgs),
    /// Collect evidence from the APIs named in the config (GitHub, GitLab) into the store.
    ///
    /// Per organisation (github.org and github.orgs): settings, people, teams, apps, rulesets, Actions settings,
    /// secrets (names only), runners, alerts and the audit log; per repository: effective branch protection, rulesets,
    /// collaborators, deploy keys, webhooks, Actions settings, environments, workflow files, CODEOWNERS and code
    /// scanning analyses; and, since the last successful collection (or github.operating_days back), merged pull
    /// requests with reviews and checks, workflow runs and deployments. What the token cannot see is recorded with
    /// the permission that would show it; what got no usable answer (rate limits, server errors, a listing cut short)
    /// is recorded as incomplete and the command exits 3 after storing the rest. Unchanged answers cost nothing
    /// against the rate limit (ETags). For the GitLab group (gitlab.group): its projects with each default branch's
    /// protection, approval rules and push rules (by tier), deploy keys, webhooks and members, and merge requests
    /// merged since the last collection (or gitlab.operating_days back) with their dated approvals and pipelines.
    /// Files listed under `files:` are ingested too.
    Collect(CollectArgs),
    /// Check, before a long run, what the configured token can see and whether the rate limit covers a full run.
    ///
    /// Asks each kind of evidence once (repository kinds on the first repository or project) and says which are
    /// visible, which are not and the permission or GitLab role that would fix it; for GitLab also the token's
    /// scopes and expiry and the group's tier. Exit 1 when some evidence is not visible.
    Doctor,
    /// Read evidence files (scanner reports, SBOMs, attestations, VEX, audit logs, deploy events) into the store;
    /// the format is recognised from the content (docs/ingest.md lists them).
    Ingest(IngestArgs),
    /// Evaluate every control against the evidence in the store and record the verdicts.
    Evaluate(EvaluateArgs),
    /// The state-change history of each control and resource: since when, first failed, resolved, waived.
    History(HistoryArgs),
    /// Compare two evaluations (default: the last two); exit 1 on a regression.
    Drift(DriftArgs),
    /// Render the latest (or a given) evaluation as HTML, PDF, JSON, CSV, OSCAL and SARIF.
    Report(ReportArgs),
    /// Package a period's evaluation for auditors: reports, every cited evidence item, the controls evaluated,
    /// populations and a manifest of hashes, optionally signed (minisign-compatible).
    Bundle(BundleArgs),
    /// Check an evidence bundle offline, with no store: every hash, the root hash, the signature (with --pubkey),
    /// and that nothing is missing or extra. Exit 0 only when everything holds, 1 otherwise.
    Verify(VerifyArgs),
    /// Create a minisign-compatible key pair for signing bundles.
    Keygen(KeygenArgs),
    /// Write the store as an open lake other engines read: every fact history table, the evidence metadata and the
    /// evaluations as Hive-partitioned Parquet with a manifest of files and hashes; incremental (docs/lake.md).
    Export(ExportArgs),
    /// Run the whole pipeline on the bundled demo organisation (no network, no token needed).
    Demo(DemoArgs),
    /// Inspect, validate and test the control catalogue.
    Controls(ControlsArgs),
    /// Check the waivers file: which waivers are in force, expiring (30 days), expired or malformed.
    Waivers(WaiversArgs),
    /// Print the JSON Schema of a file pipeproof reads or writes.
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        kind: SchemaKind,
    },
}

/// Arguments of `waivers`.
#[derive(Debug, Args)]
pub struct WaiversArgs {
    /// What to do with the waivers.
    #[command(subcommand)]
    pub command: WaiversCommand,
}

/// Subcommands of `waivers`.
#[derive(Debug, Subcommand)]
pub enum WaiversCommand {
    /// List every waiver's state; exit 1 when any is expired or malformed.
    Check {
        /// The waivers file (default: the one the config names, else waivers.yaml beside it).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Judge the waivers as of this moment (default now).
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// A folder of your own controls that waivers may name (repeatable); the built-in ones always count.
        #[arg(long = "controls", value_name = "DIR")]
        control_dirs: Vec<PathBuf>,
    },
}

/// The schemas `pipeproof schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A control file (`controls/<domain>/<ID>.yaml`).
    Control,
    /// A control's test file (`<ID>.test.yaml`).
    ControlTest,
    /// A framework file (`controls/frameworks/<id>.yaml`).
    Framework,
    /// A crosswalk file (`controls/crosswalks/<id>.yaml`).
    Crosswalk,
    /// The configuration file (`pipeproof.yaml`).
    Config,
    /// The waivers file (`waivers.yaml`): a list of waivers.
    Waivers,
    /// The manual attestations file (`attestations.yaml`): a list of attestations.
    Attestations,
    /// The report model (`report.json`).
    Report,
    /// An evidence bundle's `manifest.json`.
    BundleManifest,
    /// A mapping file for `ingest --kind generic` logs.
    LogMapping,
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The reporting period (as for `evaluate`); default: evidence as of now.
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
    /// The folder to write the reports into.
    #[arg(short, long, default_value = "pipeproof-report", value_name = "DIR")]
    pub output: PathBuf,
    /// What counts as a regression against the previous evaluation (exit 1).
    #[arg(long, value_enum, default_value = "fail")]
    pub fail_on: DriftFailOn,
    /// Skip collection and evaluate what the store already holds.
    #[arg(long)]
    pub no_collect: bool,
    /// Webhooks to tell about the comparison.
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Arguments of `collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {}

/// Arguments of `ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files to read; each is stored as evidence even when it yields no findings.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The format, when it cannot be told from the content.
    #[arg(long, value_enum)]
    pub kind: Option<IngestKind>,
    /// The repository (owner/name) the files describe, when the files do not say.
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// A Sigstore trusted root (trusted_root.json) to check certificate chains of attestations against.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// A signer identity attestations must match (glob over the certificate's SAN; repeatable).
    #[arg(long = "signer", value_name = "PATTERN")]
    pub signers: Vec<String>,
    /// For `--kind generic`: the mapping file saying which field is time, actor, action, … (`pipeproof schema log-mapping`).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// The most a compressed file may expand to, in MiB (default 2048, and at most 250 times its compressed size);
    /// raise it for a genuine file that is refused as a decompression bomb.
    #[arg(long, value_name = "MB")]
    pub max_expanded_mb: Option<u64>,
}

/// Which verdicts make `evaluate` exit with code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any failing control.
    Fail,
    /// Any failing or unknown control.
    Unknown,
}

/// Arguments of `evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The reporting period: a quarter (2026-Q3), a month (2026-07) or days (2026-07-01..2026-09-30), UTC.
    /// State controls read the evidence as of its end; operation controls read the events inside it.
    #[arg(long, value_name = "PERIOD")]
    pub period: Option<String>,
    /// Evaluate the evidence as it stood at this moment (a date means its end, UTC); default: the period's end, or now.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Extra control directories (repeatable); they add to, and may override, the built-in catalogue.
    #[arg(long = "controls", value_name = "DIR")]
    pub control_dirs: Vec<PathBuf>,
    /// Exit with code 1 when a control has this verdict.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

/// Arguments of `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this control.
    #[arg(long, value_name = "ID")]
    pub control: Option<String>,
    /// Only resources matching this pattern (`*` and `?`).
    #[arg(long, value_name = "GLOB")]
    pub resource: Option<String>,
    /// Only findings judged at or after this date or time.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: HistoryFormat,
}

/// Output formats of `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// A table.
    Text,
    /// JSON.
    Json,
}

/// Output formats of `drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftFormat {
    /// Plain text.
    Text,
    /// JSON.
    Json,
    /// Markdown tables.
    Markdown,
}

/// What `drift` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftFailOn {
    /// New failures.
    Fail,
    /// New failures and newly unknown findings.
    Unknown,
    /// Any change for the worse, newly waived findings included.
    Any,
}

/// Arguments of `drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The earlier evaluation: an id, or a date/time (the latest evaluation as of then).
    #[arg(long, value_name = "EVAL|DATE")]
    pub from: Option<String>,
    /// The later evaluation: an id, or a date/time.
    #[arg(long, value_name = "EVAL|DATE")]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DriftFormat,
    /// What counts as a regression (exit 1).
    #[arg(long, value_enum, default_value = "fail")]
    pub fail_on: DriftFailOn,
    /// Only regressions in controls at least this severe count.
    #[arg(long, value_enum, default_value = "low")]
    pub min_severity: crate::controls::Severity,
    /// Ratchet: compare with this accepted baseline instead (a file written by --accept, or an evaluation id or
    /// date), so only findings worse than accepted count as regressions.
    #[arg(long, value_name = "FILE|EVAL", conflicts_with = "from")]
    pub baseline: Option<String>,
    /// Accept the compared evaluation (--to, default the latest) as the new baseline: write it to the --baseline file.
    #[arg(long, requires = "baseline")]
    pub accept: bool,
    /// Webhooks to tell about the comparison.
    #[command(flatten)]
    pub notify: NotifyArgs,
}

/// Webhook notification options, shared by `drift` and `run`.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// POST a JSON summary (Slack/Teams `text` plus the structured diff) to this URL (repeatable; added to the
    /// config's `notify:`). Write secrets as ${ENV_VAR}: they are read from the environment and never logged.
    #[arg(long = "notify", value_name = "URL")]
    pub notify: Vec<String>,
    /// When to notify: only on a regression (default), or after every comparison.
    #[arg(long, value_enum, default_value = "regression")]
    pub notify_on: NotifyOn,
}

/// When `--notify` URLs are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NotifyOn {
    /// Only when something regressed.
    Regression,
    /// After every comparison, as a heartbeat.
    Always,
}

/// How `controls list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Text,
    /// JSON for programs.
    Json,
}

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The evaluation to report on (default: the latest).
    #[arg(long, value_name = "ID")]
    pub evaluation: Option<i64>,
    /// The folder to write the reports into.
    #[arg(short, long, default_value = "pipeproof-report", value_name = "DIR")]
    pub output: PathBuf,
    /// Formats to write (repeatable or comma-separated, e.g. html,pdf; default all).
    #[arg(long = "format", value_enum, value_delimiter = ',')]
    pub formats: Vec<ReportFormat>,
    /// PDF paper size.
    #[arg(long, value_enum, default_value = "a4")]
    pub paper: Paper,
    /// Limit every output to these frameworks (repeatable or comma-separated ids, e.g. osps_baseline); the HTML
    /// and PDF then open with each one's own summary (levels, sections, indicators or releases).
    #[arg(long = "framework", value_name = "ID", value_delimiter = ',')]
    pub frameworks: Vec<String>,
    /// Handlebars templates overriding the built-in ones (files named like those in report-templates/).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Extra control directories, as given to `evaluate`.
    #[arg(long = "controls", value_name = "DIR")]
    pub control_dirs: Vec<PathBuf>,
}

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The format of the lake.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: ExportFormat,
    /// The lake's folder: empty, or one an earlier export wrote (only what is new is added).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

/// Lake formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Apache Parquet, Hive-partitioned by table, organisation and month.
    Parquet,
}

/// Arguments of `bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The period whose latest evaluation to bundle, e.g. 2026-Q3 (default: the latest evaluation).
    #[arg(long, value_name = "PERIOD", conflicts_with = "evaluation")]
    pub period: Option<String>,
    /// The evaluation to bundle.
    #[arg(long, value_name = "ID")]
    pub evaluation: Option<i64>,
    /// Where to write: a path ending in .zip writes one deterministic zip, anything else a folder.
    #[arg(short, long, default_value = "pipeproof-bundle.zip", value_name = "FILE.zip|DIR")]
    pub output: PathBuf,
    /// Sign manifest.json with this minisign secret key (password from --password-env or a prompt).
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
    /// The environment variable holding the secret key's password.
    #[arg(long, default_value = "PIPEPROOF_KEY_PASSWORD", value_name = "VAR")]
    pub password_env: String,
    /// The previous bundle (zip, folder or its manifest.json), whose root hash this bundle records, chaining periods.
    #[arg(long, value_name = "BUNDLE")]
    pub previous: Option<PathBuf>,
    /// PDF paper size.
    #[arg(long, value_enum, default_value = "a4")]
    pub paper: Paper,
    /// Handlebars templates overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle: a .zip file or a folder.
    pub bundle: PathBuf,
    /// The minisign public key (a .pub file, or the key's base64 text) to check the signature with.
    #[arg(long, value_name = "KEY")]
    pub pubkey: Option<String>,
    /// Refuse a zip whose files add up to more than this many bytes uncompressed (zip-bomb guard).
    #[arg(long, default_value_t = crate::bundle::DEFAULT_MAX_UNPACKED_BYTES, value_name = "BYTES")]
    pub max_size: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The secret key file to create (the public key goes beside it, with .pub).
    #[arg(short, long, default_value = "pipeproof.key", value_name = "FILE")]
    pub output: PathBuf,
    /// The environment variable holding the password that encrypts the secret key (else a prompt).
    #[arg(long, default_value = "PIPEPROOF_KEY_PASSWORD", value_name = "VAR")]
    pub password_env: String,
    /// Leave the secret key unencrypted (for throwaway keys in tests; never for real bundles).
    #[arg(long)]
    pub no_password: bool,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The folder to write the demo store and reports into.
    #[arg(short, long, default_value = "pipeproof-demo", value_name = "DIR")]
    pub output: PathBuf,
    /// Use demo fixtures from this folder instead of the built-in ones (same layout as fixtures/demo/).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

/// Arguments of `controls`.
#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// What to do with the catalogue.
    #[command(subcommand)]
    pub command: ControlsCommand,
}

/// Subcommands of `controls`.
#[derive(Debug, Subcommand)]
pub enum ControlsCommand {
    /// List every control with its domain, kind, severity and framework mappings.
    List {
        /// Extra control directories (repeatable).
        #[arg(long = "controls", value_name = "DIR")]
        control_dirs: Vec<PathBuf>,
        /// `text` (a table) or `json` (controls, and every framework with each requirement's deciding and
        /// supporting controls, and the crosswalks).
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Show one control in full: statement, parameters, mappings, SQL and test cases.
    Show {
        /// The control id, e.g. SRC-06.
        id: String,
        /// Extra control directories (repeatable).
        #[arg(long = "controls", value_name = "DIR")]
        control_dirs: Vec<PathBuf>,
    },
    /// Check control, framework and test files (the built-in ones, or those in DIR with the built-ins).
    Validate {
        /// A folder of your own controls.
        dir: Option<PathBuf>,
    },
    /// Run controls' test cases (the built-in ones, or those in DIR), and with --fail-closed the check that every
    /// fact a passing case gives, taken away in turn, turns the pass into something else; exit 1 if any fails.
    Test {
        /// A folder of your own controls.
        dir: Option<PathBuf>,
        /// Also the fail-closed check (every fact a passing case gives, taken away, must end the pass).
        #[arg(long)]
        fail_closed: bool,
    },
}

/// Sets up `tracing` output on stderr according to `-q` / `-v`.
pub fn init_logging(global: &GlobalArgs) {
    let level = if global.quiet {
        "warn"
    } else {
        match global.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PIPEPROOF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("pipeproof={level},warn")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = match global.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => {
            builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).without_time().try_init()
        }
    };
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_work_after_the_command() {
        let cli = Cli::try_parse_from(["pipeproof", "report", "--store", "q3.duckdb", "-q"]).unwrap();
        assert_eq!(cli.global.store, PathBuf::from("q3.duckdb"));
        assert!(cli.global.quiet);
    }
}
