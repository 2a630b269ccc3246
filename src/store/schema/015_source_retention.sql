-- How long sources keep what the period depends on. GitHub deletes workflow run logs and artifacts after the
-- repository's artifact and log retention (organisation and repository settings, below); the audit log and event
-- logs after their own retention. Each evaluation keeps the evidence it found at risk of deletion before the period
-- can be archived, so its report can say what to archive and by when.

CREATE TABLE actions_retention_history (
    run_id               BIGINT NOT NULL,
    evidence_id          BIGINT NOT NULL,
    observed_at          TIMESTAMP NOT NULL,
    org                  VARCHAR NOT NULL,
    repo                 VARCHAR,              -- owner/name; NULL for organisation-level
    days                 INTEGER,              -- logs and artifacts are deleted this many days after their run
    maximum_allowed_days INTEGER               -- the most the level above allows
);

CREATE VIEW actions_retention AS
SELECT * EXCLUDE (run_id) FROM actions_retention_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'actions_retention' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM actions_retention_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

-- Evidence a source deletes before the evaluated period can be archived, as each evaluation found it.
CREATE TABLE evaluation_retention (
    evaluation_id    BIGINT NOT NULL,
    period_label     VARCHAR NOT NULL,         -- the period at risk (the evaluation's, else the quarter of its as-of)
    source           VARCHAR NOT NULL,         -- github.actions_logs | github.audit_log | an event log's source
    subject          VARCHAR NOT NULL,         -- repository, organisation or log source
    items            BIGINT,                   -- items deleted before the archive date (NULL: not counted)
    expired_items    BIGINT,                   -- of those, already deleted at the evaluation's as-of
    first_item_at    TIMESTAMP,                -- the oldest item at risk (for event logs: where reading stopped)
    retention_days   INTEGER NOT NULL,
    retention_origin VARCHAR NOT NULL,         -- where the retention came from, in words
    expires_from     TIMESTAMP NOT NULL,       -- when the source starts deleting them
    archive_by       TIMESTAMP NOT NULL        -- the period's end plus the configured archive delay
);
