//! Writes a file's facts into the fact tables through DuckDB's Appender; events are stored once per event key.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use super::rows::Facts;

/// Where the facts came from and what they are about.
pub struct Origin<'a> {
    /// The collect or ingest run.
    pub run_id: i64,
    /// The evidence row of the file.
    pub evidence_id: i64,
    /// When the facts were true: the document's own time, else the ingest time.
    pub observed_at: NaiveDateTime,
    /// What the file is about.
    pub subject: &'a str,
    /// The repository, when known.
    pub repo: Option<&'a str>,
}

/// What was stored: new rows, and events skipped because they were already stored.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stored {
    /// Rows written.
    pub rows: usize,
    /// Events already in the store (same source and event key).
    pub duplicate_events: usize,
}

fn list(items: &[String]) -> duckdb::types::Value {
    crate::store::list_text::text_list(items)
}

/// Stores every fact of one file; the caller holds the transaction.
pub fn store_facts(conn: &Connection, origin: &Origin, facts: &Facts) -> Result<Stored> {
    let Origin { run_id, evidence_id, observed_at, subject, repo } = *origin;
    let mut code_scans = conn.appender("code_scans_history")?;
    let mut scans = conn.appender("scans_history")?;
    for scan in &facts.scans {
        if scan.category == "code" {
            code_scans.append_row(params![
                run_id,
                evidence_id,
                observed_at,
                subject,
                repo,
                scan.tool,
                scan.tool_version,
                scan.result_count as i64,
                scan.completion.as_str(),
                scan.completion_note
            ])?;
        } else {
            scans.append_row(params![
                run_id,
                evidence_id,
                observed_at,
                subject,
                repo,
                scan.category,
                scan.tool,
                scan.tool_version,
                facts.format,
                facts.document_time,
                scan.result_count as i64,
                facts.subject,
                facts.artifact_type,
                scan.completion.as_str(),
                scan.completion_note
            ])?;
        }
    }
    code_scans.flush()?;
    scans.flush()?;
    let mut appender = conn.appender("code_findings_history")?;
    for f in &facts.code_findings {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            subject,
            repo,
            f.tool,
            f.tool_version,
            f.rule_id,
            f.rule_name,
            f.level,
            f.security_severity,
            f.message,
            f.location,
            f.fingerprint,
            f.suppressed
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("vulnerabilities_history")?;
    for v in &facts.vulnerabilities {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            subject,
            repo,
            v.scanner,
            v.target,
            v.package,
            v.version,
            v.purl,
            v.vuln_id,
            list(&v.aliases),
            v.severity,
            v.cvss,
            v.fixed_version,
            v.status,
            v.justification,
            facts.subject
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("secret_findings_history")?;
    for s in &facts.secret_findings {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            subject,
            repo,
            s.scanner,
            s.rule_id,
            s.title,
            s.severity,
            s.file,
            s.line,
            s.commit_sha,
            s.fingerprint
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("dast_findings_history")?;
    for d in &facts.dast_findings {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            subject,
            d.scanner,
            d.rule_id,
            d.title,
            d.severity,
            d.url
        ])?;
    }
    appender.flush()?;
    if let Some(sbom) = &facts.sbom {
        let mut sboms = conn.appender("sboms_history")?;
        sboms.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            subject,
            repo,
            sbom.format,
            sbom.spec_version,
            sbom.document_name,
            sbom.serial_number,
            sbom.created,
            list(&sbom.tools),
            facts.components.len() as i64,
            sbom.relationship_count as i64
        ])?;
        sboms.flush()?;
    }
    let mut appender = conn.appender("sbom_components_history")?;
    for c in &facts.components {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            subject,
            repo,
            c.name,
            c.version,
            c.purl,
            c.component_type,
            c.supplier,
            list(&c.licenses),
            c.sha256
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("attestations_history")?;
    for a in &facts.attestations {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            a.envelope,
            a.statement_type,
            a.predicate_type,
            a.artifact,
            a.artifact_sha256,
            a.builder_id,
            a.build_type,
            a.source_repo,
            a.source_ref,
            a.source_digest,
            a.signer_identity,
            a.signer_issuer,
            a.rekor_log_index,
            a.signature_count as i64,
            a.verified,
            a.verification
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("vex_statements_history")?;
    for v in &facts.vex_statements {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            v.format,
            v.vuln_id,
            v.product,
            v.status,
            v.justification,
            v.stated_at
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("merge_requests_history")?;
    for m in &facts.merge_requests {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            m.source,
            m.repo,
            m.number,
            m.title,
            m.author,
            m.state,
            m.target_branch,
            m.created_at,
            m.merged_at,
            m.merged_by,
            m.url,
            None::<String>,
            None::<String>,
            None::<String>
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("gitops_applications_history")?;
    for a in &facts.gitops_applications {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            a.application,
            a.project,
            a.destination,
            a.source,
            a.target_revision,
            a.automated,
            a.self_heal,
            a.prune,
            a.sync_status,
            a.synced_revision,
            a.health_status,
            a.reconciled_at
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("admission_policies_history")?;
    for p in &facts.admission_policies {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            p.engine,
            p.policy,
            p.rule,
            p.mode,
            p.enforced,
            list(&p.images),
            list(&p.namespaces),
            list(&p.authorities),
            list(&p.attestations),
            p.required
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("rollouts_history")?;
    for r in &facts.rollouts {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            r.controller,
            r.namespace,
            r.name,
            r.target,
            r.strategy,
            r.analysis,
            list(&r.analysis_templates),
            r.auto_rollback,
            r.phase
        ])?;
    }
    appender.flush()?;
    let mut appender = conn.appender("role_bindings_history")?;
    for b in &facts.role_bindings {
        appender.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            b.binding,
            b.namespace,
            b.role,
            b.subject_kind,
            b.subject
        ])?;
    }
    appender.flush()?;
    create_staging(conn)?;
    stage_events(conn, origin, facts)?;
    let (written, duplicates) = commit_staged(conn)?;
    let rows = facts.row_count() - facts.audit_events.len() - facts.deploy_events.len() + written;
    Ok(Stored { rows, duplicate_events: duplicates })
}

/// Creates (empty) staging tables for this connection's events; [`commit_staged`] moves them into history.
///
/// The staging tables are declared column by column from the history tables' own columns. Not `CREATE TABLE AS
/// SELECT * … LIMIT 0`: in DuckDB 2.0 a table made that way lost every row of a large insert (over 204,800 rows,
/// appended or selected) inside a transaction. DuckDB 1.5, which pipeproof now uses, does not, and the tests
/// below hold either way of making the table to keeping every row.
pub fn create_staging(conn: &Connection) -> Result<()> {
    for table in ["audit_events", "deploy_events"] {
        let mut statement = conn.prepare(
            "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
        )?;
        let columns: Vec<String> = statement
            .query_map([format!("{table}_history")], |row| {
                Ok(format!("\"{}\" {}", row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<Result<_, _>>()?;
        conn.execute_batch(&format!("CREATE OR REPLACE TEMP TABLE {table}_staging ({})", columns.join(", ")))?;
    }
    Ok(())
}

fn stage_events(conn: &Connection, origin: &Origin, facts: &Facts) -> Result<()> {
    let Origin { run_id, evidence_id, observed_at, .. } = *origin;
    let mut audit = conn.appender("audit_events_staging")?;
    for e in &facts.audit_events {
        audit.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            e.source,
            e.event_time,
            e.actor,
            e.action,
            e.target,
            e.source_ip,
            e.outcome,
            e.event_key,
            e.line
        ])?;
    }
    audit.flush()?;
    let mut deploy = conn.appender("deploy_events_staging")?;
    for e in &facts.deploy_events {
        deploy.append_row(params![
            run_id,
            evidence_id,
            observed_at,
            e.source,
            e.event_time,
            e.event_type,
            e.environment,
            e.service,
            e.artifact,
            e.revision,
            e.outcome,
            e.actor,
            e.event_key
        ])?;
    }
    deploy.flush()?;
    Ok(())
}

/// Moves staged events that are not already stored (same source and event key) into history, once each; returns
/// (stored, skipped) and drops the staging tables.
pub fn commit_staged(conn: &Connection) -> Result<(usize, usize)> {
    let mut written = 0;
    let mut staged = 0;
    for table in ["audit_events", "deploy_events"] {
        let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}_staging"), [], |row| row.get(0))?;
        staged += rows as usize;
        written += conn.execute(
            &format!(
                "INSERT INTO {table}_history
                 SELECT * FROM {table}_staging s
                 WHERE NOT EXISTS (SELECT 1 FROM {table}_history h
                                   WHERE h.source = s.source AND h.event_key = s.event_key)
                 QUALIFY row_number() OVER (PARTITION BY s.source, s.event_key ORDER BY s.event_time) = 1"
            ),
            [],
        )?;
    }
    conn.execute_batch("DROP TABLE audit_events_staging; DROP TABLE deploy_events_staging;")?;
    Ok((written, staged - written))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows a scan of `copy` sees after a large append inside a transaction.
    fn visible_rows(copy_by_select: bool) -> i64 {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE original (a BIGINT, b VARCHAR); BEGIN TRANSACTION").unwrap();
        let create = if copy_by_select {
            "CREATE TEMP TABLE copy AS SELECT * FROM original LIMIT 0"
        } else {
            "CREATE TEMP TABLE copy (a BIGINT, b VARCHAR)"
        };
        conn.execute_batch(create).unwrap();
        let mut appender = conn.appender("copy").unwrap();
        for row in 0..250_000i64 {
            appender.append_row(params![row, format!("x{row}")]).unwrap();
        }
        appender.flush().unwrap();
        drop(appender);
        conn.query_row("SELECT count(*) FROM (SELECT * FROM copy WHERE b LIKE 'x%')", [], |row| row.get(0)).unwrap()
    }

    #[test]
    fn staging_tables_keep_every_row_of_a_large_append() {
        assert_eq!(visible_rows(false), 250_000);
        assert_eq!(visible_rows(true), 250_000);
    }
}
