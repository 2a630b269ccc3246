-- Schema version 33: `finding_history` without its primary key. The MERGE that folds each evaluation in keeps one
-- row per (control, resource) on its own (a DuckLake store never had the key), and keeping the key's index cost
-- the first evaluation of an enterprise (700,000 verdicts) over a second. DuckDB cannot drop a key in place, so the
-- table is copied.
CREATE TABLE finding_history_unkeyed (
    control_id       VARCHAR NOT NULL,
    resource         VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,
    status_since     TIMESTAMP NOT NULL,
    first_seen       TIMESTAMP NOT NULL,
    last_seen        TIMESTAMP NOT NULL,
    first_failed     TIMESTAMP,
    last_failed      TIMESTAMP,
    resolved_at      TIMESTAMP,
    waived_since     TIMESTAMP,
    last_evaluation  BIGINT NOT NULL
);
INSERT INTO finding_history_unkeyed
SELECT control_id, resource, status, status_since, first_seen, last_seen, first_failed, last_failed, resolved_at,
       waived_since, last_evaluation
FROM finding_history;
DROP TABLE finding_history;
ALTER TABLE finding_history_unkeyed RENAME TO finding_history;
