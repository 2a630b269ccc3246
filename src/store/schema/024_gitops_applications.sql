-- GitOps applications (Argo CD Applications as exported from the cluster): where each deploys from and to, whether
-- Git changes are applied automatically and drift outside Git reverted (selfHeal), and the live sync state.
CREATE TABLE gitops_applications_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    application      VARCHAR NOT NULL,     -- namespace/name
    project          VARCHAR,
    destination      VARCHAR,              -- cluster/namespace
    source           VARCHAR,              -- the Git or chart repository
    target_revision  VARCHAR,              -- HEAD, a branch, a tag, a commit or a chart version
    automated        BOOLEAN NOT NULL,
    self_heal        BOOLEAN NOT NULL,
    prune            BOOLEAN NOT NULL,
    sync_status      VARCHAR,              -- Synced | OutOfSync | Unknown; NULL when the manifest has no status
    synced_revision  VARCHAR,
    health_status    VARCHAR,
    reconciled_at    TIMESTAMP
);

-- The latest export of each application at or before the moment.
CREATE VIEW gitops_applications AS
SELECT * EXCLUDE (run_id) FROM gitops_applications_history h
WHERE h.run_id = (SELECT x.run_id FROM gitops_applications_history x
                  WHERE x.application = h.application
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                  ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);
