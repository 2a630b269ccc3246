-- What GitHub's GraphQL API tells about an organisation's access (judged by SRC-02 and MON-03): its SAML identity
-- provider and its IP allow list. One row per organisation and collection; each field keeps whether the token
-- could read it, since GraphQL answers 200 with an error for a field it may not show.
CREATE TABLE org_identity_history (
    run_id                 BIGINT NOT NULL,
    evidence_id            BIGINT NOT NULL,
    observed_at            TIMESTAMP NOT NULL,
    org                    VARCHAR NOT NULL,
    repo                   VARCHAR,              -- always NULL: organisation-level
    saml                   VARCHAR NOT NULL,     -- configured | none | not_visible
    saml_issuer            VARCHAR,
    saml_sso_url           VARCHAR,
    saml_identities        INTEGER,              -- external identities linked to the provider
    saml_error             VARCHAR,              -- why it is not visible
    ip_allow_list          VARCHAR,              -- ENABLED | DISABLED; NULL when not visible
    ip_allow_list_for_apps VARCHAR,              -- ENABLED | DISABLED: installed apps' allow lists apply too
    ip_allow_list_entries  INTEGER,              -- entries in the list
    ip_allow_list_active   INTEGER,              -- active entries among the first 100
    ip_allow_list_error    VARCHAR               -- why it is not visible
);

CREATE VIEW org_identity AS
SELECT * EXCLUDE (run_id) FROM org_identity_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'org_identity' AND c.org = h.org AND c.subject = h.org AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM org_identity_history y WHERE y.org = h.org) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
