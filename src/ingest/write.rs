//! Writes a file's facts into the fact tables through DuckDB's Appender; events are stored once per event key.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use super::facts::{AuditEvent, DeployEvent, Facts};

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
    duckdb::types::Value::List(items.iter().map(|item| duckdb::types::Value::Text(item.clone())).collect())
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
                scan.result_count as i64
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
                scan.result_count as i64
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
            v.justification
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
        conn.appender("sboms_history")?.append_row(params![
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
            m.url
        ])?;
    }
    appender.flush()?;
    let mut events = EventWriter::open(conn, run_id, evidence_id, observed_at)?;
    for event in &facts.audit_events {
        events.audit(event)?;
    }
    for event in &facts.deploy_events {
        events.deploy(event)?;
    }
    let (written, duplicates) = events.finish()?;
    let rows = facts.row_count() - facts.audit_events.len() - facts.deploy_events.len() + written;
    Ok(Stored { rows, duplicate_events: duplicates })
}

/// Appends events to staging tables, then moves the ones not already stored into the history tables.
pub struct EventWriter<'c> {
    conn: &'c Connection,
    audit: duckdb::Appender<'c>,
    deploy: duckdb::Appender<'c>,
    run_id: i64,
    evidence_id: i64,
    observed_at: NaiveDateTime,
    staged: usize,
}

impl<'c> EventWriter<'c> {
    /// Creates (empty) staging tables for this connection.
    pub fn open(conn: &'c Connection, run_id: i64, evidence_id: i64, observed_at: NaiveDateTime) -> Result<Self> {
        conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE audit_events_staging AS SELECT * FROM audit_events_history LIMIT 0;
             CREATE OR REPLACE TEMP TABLE deploy_events_staging AS SELECT * FROM deploy_events_history LIMIT 0;",
        )?;
        Ok(EventWriter {
            conn,
            audit: conn.appender("audit_events_staging")?,
            deploy: conn.appender("deploy_events_staging")?,
            run_id,
            evidence_id,
            observed_at,
            staged: 0,
        })
    }

    /// Stages one audit event.
    pub fn audit(&mut self, e: &AuditEvent) -> Result<()> {
        self.staged += 1;
        self.audit.append_row(params![
            self.run_id,
            self.evidence_id,
            self.observed_at,
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
        Ok(())
    }

    /// Stages one deploy event.
    pub fn deploy(&mut self, e: &DeployEvent) -> Result<()> {
        self.staged += 1;
        self.deploy.append_row(params![
            self.run_id,
            self.evidence_id,
            self.observed_at,
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
        Ok(())
    }

    /// Moves new events into history; returns (stored, skipped as already stored or repeated in the file).
    pub fn finish(mut self) -> Result<(usize, usize)> {
        self.audit.flush()?;
        self.deploy.flush()?;
        drop(self.audit);
        drop(self.deploy);
        let mut written = 0;
        for table in ["audit_events", "deploy_events"] {
            written += self.conn.execute(
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
        self.conn.execute_batch("DROP TABLE audit_events_staging; DROP TABLE deploy_events_staging;")?;
        Ok((written, self.staged - written))
    }
}
