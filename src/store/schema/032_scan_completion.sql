-- Whether each scan ran to its end. `complete`; `partial` when it ran but reported errors for parts of what it
-- scanned (CodeQL files it could not extract, Semgrep files it could not parse, Checkov parsing errors); `failed`
-- when the tool says it did not finish (a SARIF run with executionSuccessful false, a GitLab report with status
-- failure). `completion_note` says why, in the tool's words. Rows stored before this migration were ingested by a
-- pipeproof that did not read this and are taken as complete: re-ingest a report to have it judged.
ALTER TABLE code_scans_history ADD COLUMN completion VARCHAR DEFAULT 'complete';
ALTER TABLE code_scans_history ADD COLUMN completion_note VARCHAR;
ALTER TABLE scans_history ADD COLUMN completion VARCHAR DEFAULT 'complete';
ALTER TABLE scans_history ADD COLUMN completion_note VARCHAR;

-- A failed scan is no scan: the latest snapshot is left out of `code_scans` and `scans` when it failed, so a control
-- that reads them sees no scan rather than a clean one. Its findings, partial as they are, stay in the findings views.
DROP VIEW code_scans;
CREATE VIEW code_scans AS
SELECT * EXCLUDE (run_id) FROM code_scans_history h
WHERE h.completion IS DISTINCT FROM 'failed'
  AND h.run_id = (SELECT x.run_id FROM code_scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.tool
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

DROP VIEW scans;
CREATE VIEW scans AS
SELECT * EXCLUDE (run_id) FROM scans_history h
WHERE h.completion IS DISTINCT FROM 'failed'
  AND h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.artifact IS NOT DISTINCT FROM h.artifact
                    AND x.tool = h.tool AND x.category = h.category
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

-- The latest scans that failed, of every category (`code` for static analysis), so controls can say why a subject
-- counts as unscanned.
CREATE VIEW failed_scans AS
SELECT h.subject, h.repo, 'code' AS category, h.tool, h.tool_version, NULL::VARCHAR AS artifact, h.observed_at,
       h.completion_note, h.evidence_id
FROM code_scans_history h
WHERE h.completion = 'failed'
  AND h.run_id = (SELECT x.run_id FROM code_scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.tool
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
UNION ALL
SELECT h.subject, h.repo, h.category, h.tool, h.tool_version, h.artifact, h.observed_at, h.completion_note, h.evidence_id
FROM scans_history h
WHERE h.completion = 'failed'
  AND h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.artifact IS NOT DISTINCT FROM h.artifact
                    AND x.tool = h.tool AND x.category = h.category
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

-- A workflow file GitHub did not hand over readably (over 1 MB, not base64, not text) is not known to parse or not:
-- `parsed` is NULL for it, and BLD-01 says unknown rather than fail.
ALTER TABLE workflows_history ALTER COLUMN parsed DROP NOT NULL;
