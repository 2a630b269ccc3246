-- Evidence bundles written from this store (`bundle`, `run`, `demo`): one row per bundle, its manifest kept as the
-- evidence item, so the chain of custody of what auditors were handed can itself be judged (GOV-07).
CREATE TABLE bundles_history (
    run_id              BIGINT NOT NULL,
    evidence_id         BIGINT NOT NULL,
    observed_at         TIMESTAMP NOT NULL,   -- when it was written
    organisation        VARCHAR,
    evaluation_id       BIGINT NOT NULL,
    period_label        VARCHAR,              -- NULL for an evaluation without a period
    root_hash           VARCHAR NOT NULL,
    previous_root_hash  VARCHAR,              -- the bundle it is chained to, if any
    signed              BOOLEAN NOT NULL,
    key_id              VARCHAR,              -- the minisign key id, when signed
    files               INTEGER NOT NULL,
    output              VARCHAR NOT NULL      -- the file or folder name written (never its path)
);

-- Bundles are events: every one written at or before the moment evaluated.
CREATE VIEW bundles AS
SELECT * EXCLUDE (run_id) FROM bundles_history
WHERE observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31');
