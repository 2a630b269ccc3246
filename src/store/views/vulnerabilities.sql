-- The `vulnerabilities` view (from migration 026_artifact_snapshots.sql); `{as_of}` is the moment evaluated.
WITH current AS (
    SELECT * FROM vulnerabilities_history h
    WHERE h.run_id = (SELECT x.run_id FROM scans_history x
                      WHERE x.subject = h.subject AND x.artifact IS NOT DISTINCT FROM h.artifact
                        AND x.tool = h.scanner AND x.category = 'vulnerability'
                        AND x.observed_at <= {as_of}
                        ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
),
vex AS (
    SELECT vuln_id, product, status, justification
    FROM vex_statements_history
    WHERE observed_at <= {as_of}
    QUALIFY row_number() OVER (PARTITION BY vuln_id, product ORDER BY coalesce(stated_at, observed_at) DESC, run_id DESC) = 1
)
SELECT c.* EXCLUDE (run_id, status, justification),
       coalesce(v.status, c.status) AS status,
       coalesce(v.justification, c.justification) AS justification,
       c.status AS scanner_status,
       (SELECT min(f.observed_at) FROM vulnerabilities_history f
        WHERE f.subject = c.subject AND f.vuln_id = c.vuln_id AND f.package IS NOT DISTINCT FROM c.package) AS first_seen
FROM current c
LEFT JOIN vex v ON v.vuln_id = c.vuln_id
    AND (v.product IS NULL OR v.product = c.purl OR v.product = split_part(c.purl, '?', 1)
         OR v.product = split_part(c.purl, '@', 1) OR v.product = c.subject)
QUALIFY row_number() OVER (PARTITION BY c.evidence_id, c.target, c.package, c.version, c.vuln_id
                           ORDER BY v.product IS NULL) = 1
