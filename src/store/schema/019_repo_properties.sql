-- The custom properties the organisation set on each repository (owner, criticality tier, ...), read from the
-- organisation's listing of every repository's values. A multi-select value is its options joined by ', '.
CREATE TABLE repo_properties_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR NOT NULL,     -- owner/name
    property_name    VARCHAR NOT NULL,
    value            VARCHAR               -- NULL when the property is not set on the repository
);

-- One organisation-wide listing makes the snapshot: the latest collection that asked for it at or before the
-- moment, so a repository whose properties were all removed shows none (not the older values).
CREATE VIEW repo_properties AS
SELECT * EXCLUDE (run_id) FROM repo_properties_history h
WHERE h.run_id = (SELECT max(c.run_id) FROM api_coverage_history c
    WHERE c.fact_table = 'repo_properties' AND c.org = h.org AND c.subject = h.org
      AND c.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
