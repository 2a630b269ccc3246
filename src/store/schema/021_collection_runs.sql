-- Every collection that finished and stored its evidence, one row per organisation and run, with its manifest
-- (evidence kind `pipeproof.collection`): when it ran, what it covered and what the token could not see. Rows
-- accumulate; the view shows those at or before the moment evaluated. A failed collection stores nothing.
CREATE TABLE collection_runs_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,     -- github
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP NOT NULL,
    repositories     BIGINT,               -- in scope and collected
    out_of_scope     BIGINT,               -- listed but left out by the config's scope
    not_visible      BIGINT,               -- answers the token could not see
    tool_version     VARCHAR
);

CREATE VIEW collection_runs AS
SELECT * EXCLUDE (run_id) FROM collection_runs_history
WHERE observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31');
