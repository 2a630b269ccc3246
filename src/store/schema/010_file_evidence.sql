-- Facts read from evidence files: scanner reports, SBOMs, attestations, VEX, audit logs and deploy events.
-- Scanner and SBOM facts are snapshots: the latest run's rows per (subject, tool) are the current state.
-- Attestations, VEX statements, audit and deploy events accumulate; events are stored once per event key and are
-- visible from their own event time, so a log ingested after the period still counts for it.
-- observed_at is the time the document states (scan time, SBOM creation) when it states one, else the ingest time.

-- Every scan whose findings are not code findings (those keep code_scans): vulnerability, secret, dast, posture.
CREATE TABLE scans_history (
    run_id        BIGINT NOT NULL,
    evidence_id   BIGINT NOT NULL,
    observed_at   TIMESTAMP NOT NULL,
    subject       VARCHAR NOT NULL,      -- what was scanned: image, repository, directory, cluster
    repo          VARCHAR,
    category      VARCHAR NOT NULL,      -- vulnerability | secret | dast
    tool          VARCHAR NOT NULL,
    tool_version  VARCHAR,
    format        VARCHAR NOT NULL,      -- e.g. trivy-json-2, grype-json, osv-scanner-json
    scanned_at    TIMESTAMP,             -- when the scanner says it ran
    result_count  INTEGER NOT NULL
);

-- Known vulnerabilities in packages, from any scanner or SBOM.
CREATE TABLE vulnerabilities_history (
    run_id          BIGINT NOT NULL,
    evidence_id     BIGINT NOT NULL,
    observed_at     TIMESTAMP NOT NULL,
    subject         VARCHAR NOT NULL,
    repo            VARCHAR,
    scanner         VARCHAR NOT NULL,
    target          VARCHAR,             -- the file, layer or lock file within the subject
    package         VARCHAR,
    version         VARCHAR,
    purl            VARCHAR,
    vuln_id         VARCHAR NOT NULL,
    aliases         VARCHAR[] NOT NULL,
    severity        VARCHAR NOT NULL,    -- critical | high | medium | low | negligible | unknown
    cvss            DOUBLE,
    fixed_version   VARCHAR,
    status          VARCHAR NOT NULL,    -- affected | fixed | not_affected | under_investigation | suppressed
    justification   VARCHAR
);

-- Leaked credentials found by secret scanners; the secret itself is never stored.
CREATE TABLE secret_findings_history (
    run_id        BIGINT NOT NULL,
    evidence_id   BIGINT NOT NULL,
    observed_at   TIMESTAMP NOT NULL,
    subject       VARCHAR NOT NULL,
    repo          VARCHAR,
    scanner       VARCHAR NOT NULL,
    rule_id       VARCHAR NOT NULL,
    title         VARCHAR,
    severity      VARCHAR NOT NULL,
    file          VARCHAR,
    line          INTEGER,
    commit_sha    VARCHAR,
    fingerprint   VARCHAR
);

-- Findings of dynamic application testing (OWASP ZAP, Nuclei).
CREATE TABLE dast_findings_history (
    run_id        BIGINT NOT NULL,
    evidence_id   BIGINT NOT NULL,
    observed_at   TIMESTAMP NOT NULL,
    subject       VARCHAR NOT NULL,
    scanner       VARCHAR NOT NULL,
    rule_id       VARCHAR NOT NULL,
    title         VARCHAR,
    severity      VARCHAR NOT NULL,
    url           VARCHAR
);

-- Software bills of materials.
CREATE TABLE sboms_history (
    run_id             BIGINT NOT NULL,
    evidence_id        BIGINT NOT NULL,
    observed_at        TIMESTAMP NOT NULL,
    subject            VARCHAR NOT NULL,   -- what the SBOM describes
    repo               VARCHAR,
    format             VARCHAR NOT NULL,   -- cyclonedx | spdx | syft
    spec_version       VARCHAR NOT NULL,
    document_name      VARCHAR,
    serial_number      VARCHAR,
    created            TIMESTAMP,
    tools              VARCHAR[] NOT NULL,
    component_count    INTEGER NOT NULL,
    relationship_count INTEGER NOT NULL
);

-- The components an SBOM lists.
CREATE TABLE sbom_components_history (
    run_id          BIGINT NOT NULL,
    evidence_id     BIGINT NOT NULL,
    observed_at     TIMESTAMP NOT NULL,
    subject         VARCHAR NOT NULL,
    repo            VARCHAR,
    name            VARCHAR NOT NULL,
    version         VARCHAR,
    purl            VARCHAR,
    component_type  VARCHAR,
    supplier        VARCHAR,
    licenses        VARCHAR[] NOT NULL,
    sha256          VARCHAR
);

-- Provenance and other attestations about artifacts, with what was and was not verified.
CREATE TABLE attestations_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    envelope         VARCHAR NOT NULL,   -- statement | dsse | sigstore-bundle-0.1 … 0.3
    statement_type   VARCHAR,
    predicate_type   VARCHAR,
    artifact         VARCHAR,            -- the subject's name
    artifact_sha256  VARCHAR,
    builder_id       VARCHAR,
    build_type       VARCHAR,
    source_repo      VARCHAR,
    source_ref       VARCHAR,
    source_digest    VARCHAR,
    signer_identity  VARCHAR,            -- certificate SAN (workflow, e-mail) when a certificate is present
    signer_issuer    VARCHAR,            -- OIDC issuer from the certificate
    rekor_log_index  BIGINT,
    signature_count  INTEGER NOT NULL,
    verified         BOOLEAN NOT NULL,   -- true only when a signature was checked and held
    verification     VARCHAR NOT NULL    -- what was and was not checked, or why it failed
);

-- VEX statements: a vendor's word on whether a vulnerability affects a product.
CREATE TABLE vex_statements_history (
    run_id         BIGINT NOT NULL,
    evidence_id    BIGINT NOT NULL,
    observed_at    TIMESTAMP NOT NULL,
    format         VARCHAR NOT NULL,     -- openvex | csaf | cyclonedx
    vuln_id        VARCHAR NOT NULL,
    product        VARCHAR,              -- purl or product id; NULL when the statement names none
    status         VARCHAR NOT NULL,     -- not_affected | affected | fixed | under_investigation
    justification  VARCHAR,
    stated_at      TIMESTAMP
);

-- Security-relevant events from audit logs (GitHub, Kubernetes, GitLab, generic).
CREATE TABLE audit_events_history (
    run_id       BIGINT NOT NULL,
    evidence_id  BIGINT NOT NULL,
    observed_at  TIMESTAMP NOT NULL,
    source       VARCHAR NOT NULL,       -- github | kubernetes | gitlab | generic
    event_time   TIMESTAMP,
    actor        VARCHAR,
    action       VARCHAR NOT NULL,
    target       VARCHAR,
    source_ip    VARCHAR,
    outcome      VARCHAR,
    event_key    VARCHAR NOT NULL,       -- the source's own id (_document_id, auditID), else a content hash
    line         BIGINT                  -- 1-based line (or record) in the evidence file
);

-- Deployments and other delivery events (CDEvents, Argo CD).
CREATE TABLE deploy_events_history (
    run_id       BIGINT NOT NULL,
    evidence_id  BIGINT NOT NULL,
    observed_at  TIMESTAMP NOT NULL,
    source       VARCHAR NOT NULL,       -- cdevents | argocd
    event_time   TIMESTAMP,
    event_type   VARCHAR NOT NULL,
    environment  VARCHAR,
    service      VARCHAR,
    artifact     VARCHAR,
    revision     VARCHAR,
    outcome      VARCHAR,
    actor        VARCHAR,
    event_key    VARCHAR NOT NULL
);

-- Merge (pull) requests from API responses or exports.
CREATE TABLE merge_requests_history (
    run_id         BIGINT NOT NULL,
    evidence_id    BIGINT NOT NULL,
    observed_at    TIMESTAMP NOT NULL,
    source         VARCHAR NOT NULL,     -- gitlab | github
    repo           VARCHAR NOT NULL,
    number         BIGINT NOT NULL,
    title          VARCHAR,
    author         VARCHAR,
    state          VARCHAR,
    target_branch  VARCHAR,
    created_at     TIMESTAMP,
    merged_at      TIMESTAMP,
    merged_by      VARCHAR,
    url            VARCHAR
);

-- Code scans are snapshots per (subject, tool), not per subject: a Semgrep scan does not hide a CodeQL scan.
CREATE OR REPLACE VIEW code_scans AS
SELECT * EXCLUDE (run_id) FROM code_scans_history h
WHERE h.run_id = (SELECT x.run_id FROM code_scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.tool
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

CREATE OR REPLACE VIEW code_findings AS
SELECT * EXCLUDE (run_id) FROM code_findings_history h
WHERE h.run_id = (SELECT x.run_id FROM code_scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.tool
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

CREATE VIEW scans AS
SELECT * EXCLUDE (run_id) FROM scans_history h
WHERE h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.tool AND x.category = h.category
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

-- The latest scan's vulnerabilities, with when each was first seen and the latest VEX statement applied.
CREATE VIEW vulnerabilities AS
WITH current AS (
    SELECT * FROM vulnerabilities_history h
    WHERE h.run_id = (SELECT x.run_id FROM scans_history x
                      WHERE x.subject = h.subject AND x.tool = h.scanner AND x.category = 'vulnerability'
                        AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                        ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1)
),
vex AS (
    SELECT vuln_id, product, status, justification
    FROM vex_statements_history
    WHERE observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
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
                           ORDER BY v.product IS NULL) = 1;

CREATE VIEW secret_findings AS
SELECT * EXCLUDE (run_id) FROM secret_findings_history h
WHERE h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.scanner AND x.category = 'secret'
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

CREATE VIEW dast_findings AS
SELECT * EXCLUDE (run_id) FROM dast_findings_history h
WHERE h.run_id = (SELECT x.run_id FROM scans_history x
                  WHERE x.subject = h.subject AND x.tool = h.scanner AND x.category = 'dast'
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

CREATE VIEW sboms AS
SELECT * EXCLUDE (run_id) FROM sboms_history h
WHERE h.run_id = (SELECT x.run_id FROM sboms_history x
                  WHERE x.subject = h.subject
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

CREATE VIEW sbom_components AS
SELECT * EXCLUDE (run_id) FROM sbom_components_history h
WHERE h.run_id = (SELECT x.run_id FROM sboms_history x
                  WHERE x.subject = h.subject
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);

CREATE VIEW attestations AS
SELECT * EXCLUDE (run_id) FROM attestations_history
WHERE observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31');

CREATE VIEW vex_statements AS
SELECT * EXCLUDE (run_id) FROM vex_statements_history
WHERE observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31');

CREATE VIEW audit_events AS
SELECT * EXCLUDE (run_id) FROM audit_events_history
WHERE coalesce(event_time, observed_at) <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31');

CREATE VIEW deploy_events AS
SELECT * EXCLUDE (run_id) FROM deploy_events_history
WHERE coalesce(event_time, observed_at) <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31');

CREATE VIEW merge_requests AS
SELECT * EXCLUDE (run_id) FROM merge_requests_history h
WHERE h.run_id = (SELECT x.run_id FROM merge_requests_history x
                  WHERE x.repo = h.repo AND x.number = h.number
                    AND x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
                    ORDER BY x.observed_at DESC, x.run_id DESC LIMIT 1);
