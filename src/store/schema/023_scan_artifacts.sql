-- What a scanner says it scanned, kept even when `ingest --repo` makes the repository the subject: the artifact's
-- name (an image reference, a path) and its kind (image | filesystem | repository | sbom | cluster | vm; NULL when
-- the report does not say). Lets controls tell an image scan from a dependency scan of the same repository.
ALTER TABLE scans_history ADD COLUMN artifact VARCHAR;
ALTER TABLE scans_history ADD COLUMN artifact_type VARCHAR;

-- A view's columns are fixed when it is made: make it again to carry the new columns.
DROP VIEW scans;
CREATE VIEW scans AS
SELECT * EXCLUDE (run_id) FROM scans_history h
WHERE h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.tool AND x.category = h.category
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);
