-- Kubernetes objects exported from a cluster or a GitOps repository (`ingest` of `kubectl get … -o yaml|json`).
-- Each is a snapshot per object: the latest export of it at or before the moment.

-- Admission rules that verify images: Kyverno ClusterPolicy/Policy verifyImages entries, Sigstore policy-controller
-- ClusterImagePolicies.
CREATE TABLE admission_policies_history (
    run_id        BIGINT NOT NULL,
    evidence_id   BIGINT NOT NULL,
    observed_at   TIMESTAMP NOT NULL,
    engine        VARCHAR NOT NULL,     -- kyverno | sigstore-policy-controller
    policy        VARCHAR NOT NULL,     -- ClusterPolicy/<name> | Policy/<namespace>/<name> | ClusterImagePolicy/<name>
    rule          VARCHAR NOT NULL,
    mode          VARCHAR,              -- as written: Enforce | Audit (Kyverno), enforce | warn (policy-controller)
    enforced      BOOLEAN NOT NULL,     -- a failed verification refuses admission
    images        VARCHAR[],            -- image patterns verified
    namespaces    VARCHAR[],            -- namespaces it is limited to; empty: the policy selects none
    authorities   VARCHAR[],            -- 'keyless <issuer> <subject>' | 'key' | 'certificate' | 'static pass' | …
    attestations  VARCHAR[],            -- predicate types required (https://slsa.dev/provenance/v1, …)
    required      BOOLEAN NOT NULL      -- false: an unsigned image is admitted (Kyverno's required: false)
);

-- The latest export of each rule at or before the moment.
CREATE VIEW admission_policies AS
SELECT * EXCLUDE (run_id) FROM admission_policies_history h
WHERE h.run_id = (SELECT x.run_id FROM admission_policies_history x
                  WHERE x.engine = h.engine AND x.policy = h.policy
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                  ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

-- How workloads roll out: plain Deployments, Argo Rollouts Rollouts, Flagger Canaries.
CREATE TABLE rollouts_history (
    run_id              BIGINT NOT NULL,
    evidence_id         BIGINT NOT NULL,
    observed_at         TIMESTAMP NOT NULL,
    controller          VARCHAR NOT NULL,   -- Deployment | Rollout | Canary
    namespace           VARCHAR,
    name                VARCHAR NOT NULL,
    target              VARCHAR,            -- the Deployment a Rollout (workloadRef) or Canary (targetRef) drives
    strategy            VARCHAR,            -- RollingUpdate | Recreate | canary | blueGreen | ab-testing
    analysis            BOOLEAN NOT NULL,   -- a health analysis decides promotion
    analysis_templates  VARCHAR[],
    auto_rollback       BOOLEAN NOT NULL,   -- a failed analysis rolls back without a person
    phase               VARCHAR
);

-- The latest export of each workload controller at or before the moment.
CREATE VIEW rollouts AS
SELECT * EXCLUDE (run_id) FROM rollouts_history h
WHERE h.run_id = (SELECT x.run_id FROM rollouts_history x
                  WHERE x.controller = h.controller AND x.namespace IS NOT DISTINCT FROM h.namespace AND x.name = h.name
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                  ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

-- Who is bound to which role: one row per subject of a ClusterRoleBinding or RoleBinding.
CREATE TABLE role_bindings_history (
    run_id        BIGINT NOT NULL,
    evidence_id   BIGINT NOT NULL,
    observed_at   TIMESTAMP NOT NULL,
    binding       VARCHAR NOT NULL,     -- ClusterRoleBinding/<name> | RoleBinding/<namespace>/<name>
    namespace     VARCHAR,              -- NULL for a cluster-wide binding
    role          VARCHAR NOT NULL,     -- ClusterRole/<name> | Role/<name>
    subject_kind  VARCHAR NOT NULL,     -- User | Group | ServiceAccount
    subject       VARCHAR NOT NULL      -- the name; namespace/name for a service account
);

-- The latest export of each binding at or before the moment.
CREATE VIEW role_bindings AS
SELECT * EXCLUDE (run_id) FROM role_bindings_history h
WHERE h.run_id = (SELECT x.run_id FROM role_bindings_history x
                  WHERE x.binding = h.binding
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                  ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);
