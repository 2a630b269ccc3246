//! What goes into a bundle: the reports rendered from one evaluation, every evidence item its findings cite, the
//! control files it evaluated, waivers and attestations in force, populations for sampling, and the manifest.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Result};
use chrono::NaiveDateTime;
use duckdb::Connection;

use super::manifest::{
    root_hash, Manifest, ManifestCatalogueFile, ManifestEvidence, ManifestFile, ManifestPeriod, FORMAT, FORMAT_VERSION,
};
use crate::evaluate::EvaluatedCatalogue;
use crate::report::model::EvidenceRow;
use crate::report::Paper;
use crate::report::{csv, html, oscal, pdf, poam};
use crate::store::sha256_hex;

/// Where a file's bytes come from when the bundle is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Rendered in memory.
    Bytes(Vec<u8>),
    /// The store's blob with this sha256 (read in batches while writing, so evidence never sits in memory at once).
    Blob,
}

/// One file of the bundle.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path, size and sha256, as the manifest lists it.
    pub file: ManifestFile,
    /// Its bytes.
    pub content: Content,
}

/// Everything a bundle holds, sorted by path, and its manifest.
#[derive(Debug)]
pub struct Contents {
    /// The files (not the manifest or its signature), sorted by path.
    pub entries: Vec<Entry>,
    /// The manifest describing them.
    pub manifest: Manifest,
}

/// How to render the bundle's reports.
pub struct RenderOptions<'a> {
    /// PDF paper size.
    pub paper: Paper,
    /// Handlebars templates overriding the built-in ones.
    pub templates: Option<&'a Path>,
    /// The organisation's display name from the config, if set.
    pub organisation: Option<&'a str>,
    /// The previous bundle's root hash, chaining periods.
    pub previous_root_hash: Option<String>,
}

struct EvaluationRow {
    catalogue: EvaluatedCatalogue,
    waivers: Option<String>,
    attestations: Option<String>,
    period: Option<ManifestPeriod>,
}

/// Gathers the bundle of one evaluation from the store.
pub fn assemble(
    conn: &Connection,
    evaluation_id: i64,
    options: &RenderOptions<'_>,
    key: Option<&super::signature::SigningKey>,
) -> Result<Contents> {
    let model = crate::drift::report_with_drift(conn, Some(evaluation_id), options.organisation)?;
    let evaluation = load_evaluation(conn, evaluation_id)?;
    let mut files: BTreeMap<String, Entry> = BTreeMap::new();
    let mut add_bytes = |path: String, bytes: Vec<u8>| {
        let file = ManifestFile { path: path.clone(), size: bytes.len() as u64, sha256: sha256_hex(&bytes) };
        files.insert(path, Entry { file, content: Content::Bytes(bytes) });
    };
    add_bytes("index.html".into(), html::render_for_bundle(&model, options.templates)?.into_bytes());
    add_bytes("report.pdf".into(), pdf::render(&model, options.paper)?);
    add_bytes("report.json".into(), model.to_json()?.into_bytes());
    add_bytes("findings.csv".into(), csv::findings(&model)?);
    add_bytes("requirements.csv".into(), csv::requirements(&model)?);
    add_bytes("oscal/assessment-results.json".into(), oscal::assessment_results(&model)?);
    add_bytes("oscal/poam.json".into(), poam::plan_of_action(&model)?);
    for (path, bytes) in super::packages::framework_packages(&model)? {
        add_bytes(path, bytes);
    }
    if let Some(key) = key {
        let as_of = chrono::NaiveDateTime::parse_from_str(&model.as_of_iso, "%Y-%m-%dT%H:%M:%SZ")?;
        let revisions = crate::evaluate::subjects::default_branch_revisions(conn, as_of)?;
        for (path, bytes) in super::vsa::attestations(&model, &revisions, key)? {
            add_bytes(path, bytes);
        }
    }
    let evidence_by_id = model.evidence_by_id();
    for control in &model.controls {
        add_bytes(format!("populations/{}.csv", control.id), csv::population(&model, control, &evidence_by_id)?);
    }
    let pretty = |stored: &Option<String>| -> Result<Vec<u8>> {
        let value: serde_json::Value = match stored {
            Some(text) => serde_json::from_str(text)?,
            None => serde_json::Value::Array(Vec::new()),
        };
        Ok((serde_json::to_string_pretty(&value)? + "\n").into_bytes())
    };
    add_bytes("controls/waivers.json".into(), pretty(&evaluation.waivers)?);
    add_bytes("controls/attestations.json".into(), pretty(&evaluation.attestations)?);

    let catalogue = catalogue_files(conn, &evaluation.catalogue)?;
    for (listed, content) in catalogue.iter().map(|(listed, content)| (listed.clone(), content.clone())) {
        let size = match &content {
            Content::Bytes(bytes) => bytes.len() as u64,
            Content::Blob => blob_size(conn, &listed.sha256)?,
        };
        let file = ManifestFile { path: listed.file.clone(), size, sha256: listed.sha256.clone() };
        files.insert(listed.file.clone(), Entry { file, content });
    }

    let evidence = manifest_evidence(conn, &model.evidence)?;
    for (item, size) in &evidence {
        let file = ManifestFile { path: item.file.clone(), size: *size, sha256: item.sha256.clone() };
        files.insert(item.file.clone(), Entry { file, content: Content::Blob });
    }

    let entries: Vec<Entry> = files.into_values().collect();
    if let Some(refusal) = entries.iter().find_map(|entry| super::manifest::path_refusal(&entry.file.path)) {
        anyhow::bail!("cannot bundle evaluation #{evaluation_id}: {refusal} (a control id or control file name)");
    }
    let listed: Vec<ManifestFile> = entries.iter().map(|entry| entry.file.clone()).collect();
    let manifest = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        tool_version: crate::VERSION.to_string(),
        organisation: model.organisation.clone(),
        evaluation_id,
        period: evaluation.period,
        as_of: model.as_of_iso.clone(),
        catalogue_sha256: model.catalogue_sha256.clone(),
        evidence_digest: model.evidence_digest.clone(),
        root_hash: root_hash(&listed, FORMAT_VERSION),
        files: listed,
        evidence: evidence.into_iter().map(|(item, _)| item).collect(),
        catalogue: catalogue.into_iter().map(|(listed, _)| listed).collect(),
        previous_root_hash: options.previous_root_hash.clone(),
    };
    Ok(Contents { entries, manifest })
}

fn load_evaluation(conn: &Connection, evaluation_id: i64) -> Result<EvaluationRow> {
    let stored = crate::evaluate::stored::StoredEvaluation::load(conn, evaluation_id)?;
    let iso = |moment: NaiveDateTime| moment.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Ok(EvaluationRow {
        period: stored.period.map(|p| ManifestPeriod { label: p.label, start: iso(p.start), end: iso(p.end) }),
        catalogue: stored.catalogue,
        waivers: stored.waivers_json,
        attestations: stored.attestations_json,
    })
}

/// Where the bundle keeps a catalogue file: built-in ones under `controls/builtin/`, users' under
/// `controls/custom/` prefixed with their hash (their folders are machine paths, which a bundle never names).
fn catalogue_path(origin: &str, sha256: &str) -> String {
    match origin.strip_prefix("builtin:controls/") {
        Some(relative) => format!("controls/builtin/{relative}"),
        None => {
            let name = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
            let safe: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
                .collect();
            format!("controls/custom/{}-{safe}", &sha256[..12.min(sha256.len())])
        }
    }
}

/// The exact catalogue files evaluated: from the store (kept with each evaluation), else the built-in file if its
/// hash still matches; anything else is an error rather than a bundle that misstates what was evaluated.
fn catalogue_files(conn: &Connection, catalogue: &EvaluatedCatalogue) -> Result<Vec<(ManifestCatalogueFile, Content)>> {
    let mut out = Vec::new();
    for (origin, sha256) in &catalogue.sources {
        let listed = ManifestCatalogueFile {
            origin: origin.clone(),
            file: catalogue_path(origin, sha256),
            sha256: sha256.clone(),
        };
        let stored: i64 = conn.query_row("SELECT count(*) FROM blobs WHERE sha256 = ?", [sha256], |row| row.get(0))?;
        let content = if stored > 0 {
            Content::Blob
        } else {
            let builtin = origin
                .strip_prefix("builtin:controls/")
                .and_then(|relative| crate::embedded::find(crate::embedded::CONTROLS, relative))
                .filter(|text| sha256_hex(text.as_bytes()) == *sha256)
                .ok_or_else(|| {
                    anyhow!(
                        "the control file {origin} (sha256 {sha256}) that this evaluation used is no longer available; \
                         evaluate again to bundle a current evaluation"
                    )
                })?;
            Content::Bytes(builtin.as_bytes().to_vec())
        };
        out.push((listed, content));
    }
    Ok(out)
}

fn blob_size(conn: &Connection, sha256: &str) -> Result<u64> {
    let size: i64 = conn.query_row("SELECT size FROM blobs WHERE sha256 = ?", [sha256], |row| row.get(0))?;
    Ok(size as u64)
}

/// The report's evidence items with what the manifest adds: each item's provenance and the size of its bytes.
fn manifest_evidence(conn: &Connection, cited: &[EvidenceRow]) -> Result<Vec<(ManifestEvidence, u64)>> {
    let ids = crate::store::list_text::integer_list(cited.iter().map(|e| e.id));
    let mut statement = conn.prepare(
        "SELECT e.evidence_id, e.provenance::VARCHAR, b.size FROM evidence e LEFT JOIN blobs b ON b.sha256 = e.sha256 \
         WHERE list_contains(?::BIGINT[], e.evidence_id)",
    )?;
    let mut stored: BTreeMap<i64, (String, Option<i64>)> = BTreeMap::new();
    let mut rows = statement.query([ids])?;
    while let Some(row) = rows.next()? {
        stored.insert(row.get(0)?, (row.get(1)?, row.get(2)?));
    }
    cited
        .iter()
        .map(|e| {
            let (provenance, size) = stored.remove(&e.id).unwrap_or_default();
            let size = size
                .ok_or_else(|| anyhow!("the store has lost the bytes of evidence E{} (sha256 {})", e.id, e.sha256))?;
            let item = ManifestEvidence {
                id: e.id,
                sha256: e.sha256.clone(),
                file: e.file.clone(),
                source: e.source.clone(),
                kind: e.kind.clone(),
                subject: e.subject.clone(),
                collected_at: e.collected_at_iso.clone(),
                provenance: serde_json::from_str(&provenance).unwrap_or(serde_json::Value::String(provenance)),
            };
            Ok((item, size as u64))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_paths_never_name_the_users_machine() {
        let sha = "ab".repeat(32);
        assert_eq!(catalogue_path("builtin:controls/source/SRC-01.yaml", &sha), "controls/builtin/source/SRC-01.yaml");
        assert_eq!(catalogue_path("/home/alice/our controls/X-1.yaml", &sha), "controls/custom/abababababab-X-1.yaml");
        assert_eq!(catalogue_path("C:\\work\\..\\X.yaml", &sha), "controls/custom/abababababab-X.yaml");
    }
}
