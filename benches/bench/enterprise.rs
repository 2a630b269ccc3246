//! Benchmark: a synthetic enterprise, then every stage users wait on at that size.
//!
//! The enterprise starts from the demo organisation as the real collector and parsers stored it (so every fact table
//! has rows of the shape they write), copied to `repositories` repositories across five organisations (each copy's
//! text renamed, so every control finds its evidence again), and then grown to a year of operating evidence written
//! straight into the same history tables with DuckDB's own set-based SQL: members, merged pull requests with
//! reviews and check runs, workflow runs, deployments with their approvals, audit events, code scans with findings,
//! SBOMs with components, and the coverage row the collector writes for each request behind them (each pull
//! request, its reviews, its head commit's check runs, each deployment's statuses and approvals). At the default (large) size: 2,000 repositories, 20,000 members, 1,000,000 merged pull
//! requests, 2,500,000 reviews, 4,000,000 check runs, 300,000 workflow runs, 50,000 deployments, 10,000,000 audit
//! events, 2,000 scans with 500,000 findings, 20,000 SBOMs with 5,000,000 components.
//!
//! Then, each in its own process (so its peak memory is its own): `evaluate` of every control for the quarter (wall
//! time, peak RSS, the five slowest controls), `report` in each format (time, size), `bundle` and `verify`, a second
//! evaluation a day later, and `drift` and `history` between the two.
//! Size: PIPEPROOF_BENCH_SCALE (default 1.0; 0.01 is the small size CI smokes); PIPEPROOF_BENCH_KEEP=DIR keeps the
//! store. Run with `./x bench enterprise`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use duckdb::Connection;

use crate::measure::{env_number, peak_rss_mb};

/// The organisation the demo collects, whose rows are the template.
const TEMPLATE_ORG: &str = "acme-demo";
/// How many organisations the enterprise has.
const ORGANISATIONS: usize = 5;

/// The enterprise's size.
#[derive(Debug, Clone, Copy)]
struct Size {
    repositories: usize,
    members: usize,
    pull_requests: usize,
    workflow_runs: usize,
    deployments: usize,
    audit_events: usize,
    scans: usize,
    findings: usize,
    sboms: usize,
    components: usize,
}

impl Size {
    fn scaled(scale: f64) -> Size {
        let n = |large: f64, least: usize| ((large * scale) as usize).max(least);
        Size {
            repositories: n(2_000.0, 12),
            members: n(20_000.0, 50),
            pull_requests: n(1_000_000.0, 500),
            workflow_runs: n(300_000.0, 150),
            deployments: n(50_000.0, 25),
            audit_events: n(10_000_000.0, 5_000),
            scans: n(2_000.0, 12),
            findings: n(500_000.0, 500),
            sboms: n(20_000.0, 20),
            components: n(5_000_000.0, 2_000),
        }
    }
}

pub fn run() -> Result<()> {
    let scale: f64 = env_number("PIPEPROOF_BENCH_SCALE", 1.0);
    let size = Size::scaled(scale);
    let dir = tempfile::tempdir()?;
    let keep = std::env::var_os("PIPEPROOF_BENCH_KEEP").map(PathBuf::from);
    let work = keep.clone().unwrap_or_else(|| dir.path().to_path_buf());
    std::fs::create_dir_all(&work)?;
    println!("scale {scale}: {size:?}");

    let start = Instant::now();
    let demo = work.join("demo");
    pipeproof::cli::demo::run(&pipeproof::cli::DemoArgs { output: demo.clone(), fixtures: None })?;
    let store = work.join("enterprise.duckdb");
    std::fs::copy(demo.join("pipeproof-demo.duckdb"), &store)?;
    println!("template: the demo organisation collected and ingested in {:.1} s", start.elapsed().as_secs_f64());

    let start = Instant::now();
    let rows = generate(&store, &size)?;
    println!(
        "generate: {rows} rows in {:.1} s; store {:.0} MB",
        start.elapsed().as_secs_f64(),
        std::fs::metadata(&store)?.len() as f64 / 1e6
    );

    child(&["enterprise-evaluate", &store.display().to_string(), "0"])?;
    let out = work.join("report");
    child(&["enterprise-report", &store.display().to_string(), &out.display().to_string()])?;
    let bundle = work.join("bundle.zip");
    child(&["enterprise-bundle", &store.display().to_string(), &bundle.display().to_string()])?;
    child(&["enterprise-evaluate", &store.display().to_string(), "1"])?;
    child(&["enterprise-drift", &store.display().to_string()])?;
    Ok(())
}

/// Runs this benchmark binary again for one step, so the step's peak memory is its own.
fn child(args: &[&str]) -> Result<()> {
    let status = std::process::Command::new(std::env::current_exe()?).args(args).status()?;
    anyhow::ensure!(status.success(), "{} failed", args[0]);
    Ok(())
}

/// One measured step in a fresh process: `enterprise-evaluate STORE DAYS_LATER`, `enterprise-report STORE DIR`,
/// `enterprise-bundle STORE FILE`, `enterprise-drift STORE`.
pub fn step(name: &str, args: &[String]) -> Result<()> {
    let store = Path::new(&args[0]);
    match name {
        "enterprise-evaluate" => evaluate(store, args[1].parse()?),
        "enterprise-report" => report(store, Path::new(&args[1])),
        "enterprise-bundle" => bundle(store, Path::new(&args[1])),
        "enterprise-drift" => drift(store),
        _ => anyhow::bail!("unknown step {name}"),
    }
}

/// The moment the template was last written (its bundle, after collection and ingest): the enterprise's "now".
fn collected_at(conn: &Connection) -> Result<chrono::NaiveDateTime> {
    Ok(conn.query_row("SELECT max(finished_at) FROM runs", [], |row| row.get(0))?)
}

fn evaluate(store: &Path, days_later: i64) -> Result<()> {
    let as_of = {
        let store = pipeproof::store::Store::open_read_only(store)?;
        collected_at(&store)? + chrono::Duration::days(days_later)
    };
    let period = pipeproof::period::Period::quarter_of(as_of);
    let scope = pipeproof::evaluate::Scope::for_period(period.clone(), Some(as_of), as_of)?;
    let catalogue = pipeproof::controls::Catalogue::load(&[] as &[&Path])?;
    let start = Instant::now();
    let evaluation = pipeproof::evaluate::evaluate(store, &catalogue, &Default::default(), &scope)?;
    let seconds = start.elapsed().as_secs_f64();
    let results: usize = evaluation.outcomes.iter().map(|o| o.results.len()).sum();
    let errors: Vec<String> = evaluation
        .outcomes
        .iter()
        .filter_map(|o| {
            o.error.as_ref().map(|e| format!("{} ({})", o.control_id, e.chars().take(160).collect::<String>()))
        })
        .collect();
    let in_controls: f64 = evaluation.timings.controls.iter().map(|(_, took)| took.as_secs_f64()).sum();
    println!(
        "evaluate {} ({} controls, {results} verdicts): {seconds:.1} s, peak RSS {:.0} MB (goals < 10 s, < 2 GB); \
         preparing {:.1} s, controls {in_controls:.1} s, storing {:.1} s{}",
        period.label,
        evaluation.outcomes.len(),
        peak_rss_mb(),
        evaluation.timings.preparing.as_secs_f64(),
        evaluation.timings.storing.as_secs_f64(),
        if errors.is_empty() { String::new() } else { format!("; controls that could not run: {}", errors.join(", ")) }
    );
    let mut slowest = evaluation.timings.controls.clone();
    slowest.sort_by_key(|(_, took)| std::cmp::Reverse(*took));
    let shown: Vec<String> =
        slowest.iter().take(5).map(|(id, took)| format!("{id} {:.2} s", took.as_secs_f64())).collect();
    println!("  slowest controls: {}", shown.join(", "));
    Ok(())
}

fn report(store: &Path, out: &Path) -> Result<()> {
    use pipeproof::report::{csv, html, oscal, pdf, poam, Paper};
    let conn = pipeproof::store::Store::open_read_only(store)?;
    let start = Instant::now();
    let model = pipeproof::drift::report_with_drift(&conn, None, None)?;
    let findings: usize = model.controls.iter().map(|c| c.findings.len()).sum();
    println!("report model: {findings} findings, {:.1} s", start.elapsed().as_secs_f64());
    std::fs::create_dir_all(out)?;
    type Render<'a> = Box<dyn Fn() -> Result<Vec<u8>> + 'a>;
    let renderers: Vec<(&str, Render)> = vec![
        ("report.html", Box::new(|| Ok(html::render(&model, None)?.into_bytes()))),
        ("report.pdf", Box::new(|| pdf::render(&model, Paper::A4))),
        ("report.json", Box::new(|| Ok(model.to_json()?.into_bytes()))),
        ("findings.csv", Box::new(|| csv::findings(&model))),
        ("assessment-results.json", Box::new(|| oscal::assessment_results(&model))),
        ("poam.json", Box::new(|| poam::plan_of_action(&model))),
    ];
    for (name, render) in renderers {
        let start = Instant::now();
        let bytes = render()?;
        let seconds = start.elapsed().as_secs_f64();
        std::fs::write(out.join(name), &bytes)?;
        println!("  {name}: {seconds:.2} s, {:.1} MB", bytes.len() as f64 / 1e6);
    }
    println!("  peak RSS {:.0} MB", peak_rss_mb());
    Ok(())
}

fn bundle(store_path: &Path, output: &Path) -> Result<()> {
    let store = pipeproof::store::Store::open(store_path)?;
    let options = pipeproof::bundle::RenderOptions {
        paper: pipeproof::report::Paper::A4,
        templates: None,
        organisation: None,
        previous_root_hash: None,
    };
    let start = Instant::now();
    let evaluation_id = pipeproof::evaluate::which::latest(store.conn())?;
    let (manifest, _) = pipeproof::bundle::create(&store, evaluation_id, &options, None, output)?;
    println!(
        "bundle: {} files, {} evidence items, {:.0} MB in {:.1} s, peak RSS {:.0} MB",
        manifest.files.len(),
        manifest.evidence.len(),
        std::fs::metadata(output)?.len() as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
    drop(store);
    let start = Instant::now();
    let verification = pipeproof::bundle::verify(output, None, pipeproof::bundle::DEFAULT_MAX_UNPACKED_BYTES);
    anyhow::ensure!(verification.problems.is_empty(), "{:?}", verification.problems);
    println!("verify: {} files checked in {:.1} s", verification.files_checked, start.elapsed().as_secs_f64());
    Ok(())
}

fn drift(store: &Path) -> Result<()> {
    let conn = pipeproof::store::Store::open_read_only(store)?;
    let latest = pipeproof::evaluate::which::latest(&conn)?;
    let start = Instant::now();
    let drift = pipeproof::drift::compare(&conn, latest - 1, latest)?;
    println!(
        "drift: {} changes between evaluations {} and {latest} in {:.2} s",
        drift.changes.len(),
        latest - 1,
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let rows = pipeproof::evaluate::history::list(&conn, None, None, None)?;
    println!(
        "history: {} rows in {:.2} s, peak RSS {:.0} MB",
        rows.len(),
        start.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
    Ok(())
}

/// Grows the demo store into the enterprise; returns the rows added.
fn generate(store: &Path, size: &Size) -> Result<u64> {
    let conn = Connection::open(store)?;
    conn.execute_batch("SET preserve_insertion_order = false")?;
    let before = total_rows(&conn)?;
    let now = collected_at(&conn)?;
    let copies = size.repositories.div_ceil(6);
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE repo_map AS
           SELECT t.repo AS template_repo, 'org-' || (i % {ORGANISATIONS}) AS new_org,
                  'org-' || (i % {ORGANISATIONS}) || '/' || split_part(t.repo, '/', 2) || '-' || i AS new_repo, i
           FROM (SELECT DISTINCT repo FROM repositories_history WHERE org = '{TEMPLATE_ORG}') t, range({copies}) r(i);
         CREATE TEMP TABLE org_map AS SELECT 'org-' || i AS new_org FROM range({ORGANISATIONS}) r(i);
         CREATE TEMP TABLE active_repos AS
           SELECT row_number() OVER (ORDER BY m.new_repo) - 1 AS idx, m.new_org AS org, m.new_repo AS repo
           FROM repo_map m JOIN repositories_history r ON r.repo = m.template_repo AND NOT coalesce(r.archived, false);"
    ))?;
    copy_collected_tables(&conn)?;
    grow_operations(&conn, size, now)?;
    let after = total_rows(&conn)?;
    conn.execute_batch("CHECKPOINT")?;
    Ok(after - before)
}

/// Rows in every table, for the total written.
fn total_rows(conn: &Connection) -> Result<u64> {
    let tables: Vec<String> = conn
        .prepare("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut total = 0u64;
    for table in tables {
        total += conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |row| row.get::<_, i64>(0))? as u64;
    }
    Ok(total)
}

/// Tables whose rows are grown to the enterprise's size by `grow_operations` rather than copied.
const GROWN: &[&str] = &[
    "merge_requests_history",
    "pr_reviews_history",
    "check_runs_history",
    "workflow_runs_history",
    "deployment_approvals_history",
    "org_people_history",
];

/// Copies every row the collector wrote about the template organisation to each repository copy (rows about a
/// repository) or each organisation (rows about the organisation), renaming the repository and organisation in every
/// text column.
fn copy_collected_tables(conn: &Connection) -> Result<()> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'main' AND column_name = 'org'
             AND table_name LIKE '%\\_history' ESCAPE '\\' ORDER BY 1",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for table in tables.iter().filter(|t| !GROWN.contains(&t.as_str())) {
        let columns: Vec<(String, String)> = conn
            .prepare("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position")?
            .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let key = ["repo", "subject"].into_iter().find(|key| names.contains(key));
        let renamed = |repo_level: bool| -> String {
            columns
                .iter()
                .map(|(name, kind)| match (kind.as_str(), repo_level) {
                    ("VARCHAR", true) => {
                        format!(
                            "replace(replace(t.\"{name}\", m.template_repo, m.new_repo), '{TEMPLATE_ORG}', m.new_org)"
                        )
                    }
                    ("VARCHAR", false) => format!("replace(t.\"{name}\", '{TEMPLATE_ORG}', o.new_org)"),
                    _ => format!("t.\"{name}\""),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let about_repo = match key {
            Some(key) => format!("starts_with(coalesce(t.{key}, ''), m.template_repo)"),
            None => "false".to_string(),
        };
        conn.execute_batch(&format!(
            "INSERT INTO {table} SELECT {} FROM {table} t JOIN repo_map m ON {about_repo} WHERE t.org = '{TEMPLATE_ORG}';
             INSERT INTO {table} SELECT {} FROM {table} t, org_map o WHERE t.org = '{TEMPLATE_ORG}'
               AND NOT EXISTS (SELECT 1 FROM repo_map m WHERE {about_repo});",
            renamed(true),
            renamed(false)
        ))
        .with_context(|| format!("copying {table}"))?;
    }
    conn.execute_batch(&format!(
        "INSERT INTO collection_watermarks
           SELECT w.run_id, m.new_org, replace(w.subject, m.template_repo, m.new_repo), w.kind, w.read_from, w.read_until
           FROM collection_watermarks w JOIN repo_map m ON w.subject = m.template_repo;
         INSERT INTO org_people_history
           SELECT t.* REPLACE (o.new_org AS org) FROM org_people_history t, org_map o WHERE t.org = '{TEMPLATE_ORG}';"
    ))?;
    Ok(())
}

/// A year of operating evidence at the enterprise's size, up to `now`.
fn grow_operations(conn: &Connection, size: &Size, now: chrono::NaiveDateTime) -> Result<()> {
    let active: i64 = conn.query_row("SELECT count(*) FROM active_repos", [], |row| row.get(0))?;
    let per_repo = size.pull_requests.div_ceil(active as usize);
    let evidence = |table: &str| -> Result<i64> {
        Ok(conn.query_row(&format!("SELECT coalesce(min(evidence_id), 1) FROM {table}"), [], |row| row.get(0))?)
    };
    let (mr_ev, review_ev, check_ev, run_ev, deploy_ev, approval_ev, audit_ev) = (
        evidence("merge_requests_history")?,
        evidence("pr_reviews_history")?,
        evidence("check_runs_history")?,
        evidence("workflow_runs_history")?,
        evidence("deploy_events_history")?,
        evidence("deployment_approvals_history")?,
        evidence("audit_events_history")?,
    );
    let code_ev = evidence("code_scans_history")?;
    let now = format!("TIMESTAMP '{}'", now.format("%Y-%m-%d %H:%M:%S"));
    let Size { members, workflow_runs, deployments, audit_events, scans, findings, sboms, components, .. } = *size;
    let year = 365 * 86_400;
    let sql = format!(
        "INSERT INTO org_people_history
           SELECT 1, {mr_ev}, {now}, 'org-' || (i % {ORGANISATIONS}), NULL, 'member', 'user-' || i, 'User', false
           FROM range({members}) r(i);
         CREATE TEMP TABLE prs AS
           SELECT a.org, a.repo, a.idx, 1000 + n AS number,
                  {now} - to_seconds(CAST(((n * {year}) // {per_repo}) + a.idx % 3600 AS BIGINT)) AS merged_at,
                  'user-' || ((a.idx * 31 + n * 7) % {members}) AS author,
                  substr(sha256(a.repo || '#' || n), 1, 40) AS head_sha
           FROM active_repos a, range({per_repo}) r(n);
         INSERT INTO merge_requests_history (run_id, evidence_id, observed_at, source, repo, number, title, author, state,
             target_branch, created_at, merged_at, merged_by, url, org, head_sha, merge_commit_sha)
           SELECT 1, {mr_ev}, {now}, 'github', repo, number, 'Change ' || number, author, 'closed', 'main',
                  merged_at - INTERVAL 6 HOUR, merged_at, 'user-' || ((idx * 17 + number) % {members}),
                  'https://github.com/' || repo || '/pull/' || number, org, head_sha,
                  substr(sha256(head_sha || 'merge'), 1, 40)
           FROM prs;
         INSERT INTO pr_reviews_history (run_id, evidence_id, observed_at, org, repo, number, review_id, reviewer, state,
             submitted_at, commit_id)
           SELECT 1, {review_ev}, {now}, org, repo, number, idx * 10000000 + number * 4 + k,
                  CASE WHEN number % 20 = 0 AND k = 0 THEN author
                       ELSE 'user-' || ((idx * 13 + number * 5 + k + 1) % {members}) END,
                  CASE k WHEN 1 THEN 'COMMENTED' ELSE 'APPROVED' END,
                  merged_at - to_seconds(3600 * (3 - k)), head_sha
           FROM prs, range(3) r(k) WHERE k < 2 OR number % 2 = 0;
         INSERT INTO check_runs_history (run_id, evidence_id, observed_at, org, repo, head_sha, check_run_id, name, status,
             conclusion, app, completed_at)
           SELECT 1, {check_ev}, {now}, org, repo, head_sha, idx * 10000000 + number * 4 + k,
                  ['build', 'test', 'CodeQL', 'lint'][k + 1], 'completed',
                  CASE WHEN number % 50 = 0 AND k = 1 THEN 'failure' ELSE 'success' END, 'github-actions',
                  merged_at - INTERVAL 90 MINUTE
           FROM prs, range(4) r(k);
         INSERT INTO api_coverage_history (run_id, evidence_id, observed_at, org, subject, kind, fact_table, part, state,
             reason, complete)
           SELECT 1, {mr_ev}, {now}, org, subject, kind, fact_table, '', 'visible', NULL, true
           FROM (SELECT org, repo || '#' || number AS subject, 'github.pull_request' AS kind, 'merge_requests' AS fact_table
                 FROM prs
                 UNION ALL SELECT org, repo || '#' || number, 'github.pull_request_reviews', 'pr_reviews' FROM prs
                 UNION ALL SELECT org, repo || '@' || head_sha, 'github.check_runs', 'check_runs' FROM prs);
         INSERT INTO workflow_runs_history (run_id, evidence_id, observed_at, org, repo, workflow_run_id, run_attempt,
             workflow, path, event, status, conclusion, actor, triggering_actor, head_branch, head_sha, created_at,
             run_started_at, updated_at)
           SELECT 1, {run_ev}, {now}, a.org, a.repo, 50000000 + i, 1, 'CI', '.github/workflows/ci.yml',
                  CASE WHEN i % 3 = 0 THEN 'pull_request' ELSE 'push' END, 'completed',
                  CASE WHEN i % 25 = 0 THEN 'failure' ELSE 'success' END,
                  'user-' || (i % {members}), 'user-' || (i % {members}), 'main', substr(sha256('run' || i), 1, 40),
                  {now} - to_seconds(CAST((i * {year}) // {workflow_runs} AS BIGINT)),
                  {now} - to_seconds(CAST((i * {year}) // {workflow_runs} AS BIGINT)),
                  {now} - to_seconds(CAST((i * {year}) // {workflow_runs} AS BIGINT) - 600)
           FROM range({workflow_runs}) r(i) JOIN active_repos a ON a.idx = i % {active};
         CREATE TEMP TABLE deployments AS
           SELECT a.org, a.repo, 70000000 + i AS deployment_id, 50000000 + i AS workflow_run_id,
                  {now} - to_seconds(CAST((i * {year}) // {deployments} AS BIGINT)) AS deployed_at, i
           FROM range({deployments}) r(i) JOIN active_repos a ON a.idx = i % {active};
         INSERT INTO deploy_events_history (run_id, evidence_id, observed_at, source, event_time, event_type, environment,
             service, artifact, revision, outcome, actor, event_key)
           SELECT 1, {deploy_ev}, {now}, 'github', deployed_at + to_seconds(60 * k),
                  CASE k WHEN 0 THEN 'deployment.created' ELSE 'deployment.success' END, 'production', repo, NULL,
                  substr(sha256('deploy' || i), 1, 40), CASE k WHEN 0 THEN NULL ELSE 'success' END,
                  'user-' || (i % {members}),
                  repo || '/deployments/' || deployment_id || CASE k WHEN 0 THEN '' ELSE '/statuses/1' END
           FROM deployments, range(2) r(k);
         INSERT INTO deployment_approvals_history (run_id, evidence_id, observed_at, org, repo, deployment_id,
             workflow_run_id, environment, state, reviewer, comment)
           SELECT 1, {approval_ev}, {now}, org, repo, deployment_id, workflow_run_id, 'production', 'approved',
                  'user-' || ((i + 7) % {members}), 'approved'
           FROM deployments;
         INSERT INTO api_coverage_history (run_id, evidence_id, observed_at, org, subject, kind, fact_table, part, state,
             reason, complete)
           SELECT 1, {deploy_ev}, {now}, org, repo || '/deployments/' || deployment_id, kind, fact_table, '', 'visible',
                  NULL, true
           FROM deployments, (VALUES ('github.deployment_statuses', 'deploy_events'),
                                     ('github.deployment_approvals', 'deployment_approvals')) k(kind, fact_table);
         INSERT INTO audit_events_history (run_id, evidence_id, observed_at, source, event_time, actor, action, target,
             source_ip, outcome, event_key, line)
           SELECT 1, {audit_ev}, {now}, 'github', {now} - to_seconds(CAST((i * {year}) // {audit_events} AS BIGINT)),
                  'user-' || (i % {members}),
                  ['repo.access', 'git.clone', 'user.login', 'workflows.completed_workflow_run',
                   'protected_branch.update', 'org.update_member', 'team.add_repository', 'repo.create'][i % 8 + 1],
                  'org-' || (i % {ORGANISATIONS}) || '/repo-' || (i % 400), '10.0.' || (i % 250) || '.' || (i % 200),
                  NULL, 'audit-' || i, i
           FROM range({audit_events}) r(i);
         CREATE TEMP TABLE scans AS
           SELECT a.repo, i, 2 + (i % 2) AS run_id FROM range({scans}) r(i) JOIN active_repos a ON a.idx = i % {active};
         INSERT INTO code_scans_history (run_id, evidence_id, observed_at, subject, repo, tool, tool_version,
             result_count, completion, completion_note)
           SELECT run_id, {code_ev}, {now} - to_seconds(i), repo, repo, 'CodeQL', '2.19.3', {findings} // {scans},
                  'complete', NULL
           FROM scans;
         INSERT INTO code_findings_history (run_id, evidence_id, observed_at, subject, repo, tool, tool_version, rule_id,
             rule_name, level, security_severity, message, location, fingerprint, suppressed)
           SELECT s.run_id, {code_ev}, {now} - to_seconds(s.i), s.repo, s.repo, 'CodeQL', '2.19.3',
                  'js/rule-' || (f % 40), 'Rule ' || (f % 40), ['error', 'warning', 'note'][f % 3 + 1],
                  CASE WHEN f % 97 = 0 THEN 8.1 ELSE 4.0 END, 'Finding ' || f, 'src/file' || (f % 300) || '.js:' || f,
                  'fp-' || s.i || '-' || f, f % 10 = 0
           FROM scans s, range({findings} // {scans}) r(f);
         CREATE TEMP TABLE sbom_docs AS
           SELECT a.repo, i, 'ghcr.io/' || a.repo || ':' || i AS subject
           FROM range({sboms}) r(i) JOIN active_repos a ON a.idx = i % {active};
         INSERT INTO sboms_history (run_id, evidence_id, observed_at, subject, repo, format, spec_version, document_name,
             serial_number, created, tools, component_count, relationship_count)
           SELECT 2, {code_ev}, {now} - to_seconds(i), subject, repo, 'cyclonedx', '1.6', subject,
                  'urn:uuid:' || md5(subject), {now} - to_seconds(i), ['syft'], {components} // {sboms}, 0
           FROM sbom_docs;
         INSERT INTO sbom_components_history (run_id, evidence_id, observed_at, subject, repo, name, version, purl,
             component_type, supplier, licenses, sha256)
           SELECT 2, {code_ev}, {now} - to_seconds(d.i), d.subject, d.repo, 'package-' || (c % 5000),
                  '1.' || (c % 30) || '.0', 'pkg:npm/package-' || (c % 5000) || '@1.' || (c % 30) || '.0', 'library',
                  NULL, ['MIT'], NULL
           FROM sbom_docs d, range({components} // {sboms}) r(c);"
    );
    conn.execute_batch(&sql).context("growing the operating evidence")?;
    Ok(())
}
