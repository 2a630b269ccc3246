-- The organisation's GitHub Packages, one listing per package type (container, npm, maven, rubygems, nuget): each
-- package's visibility beside that of the repository it is linked to (NULL when linked to none).
CREATE TABLE packages_history (
    run_id                 BIGINT NOT NULL,
    evidence_id            BIGINT NOT NULL,
    observed_at            TIMESTAMP NOT NULL,
    org                    VARCHAR NOT NULL,
    repo                   VARCHAR,            -- the linked repository, owner/name
    package_type           VARCHAR NOT NULL,
    name                   VARCHAR NOT NULL,
    visibility             VARCHAR,            -- public | private | internal
    repository_visibility  VARCHAR,            -- public | private | internal
    version_count          BIGINT,
    updated_at             TIMESTAMP
);

-- A snapshot per organisation and package type (the coverage row's part): a type whose last package was deleted
-- shows none.
CREATE VIEW packages AS
SELECT * EXCLUDE (run_id) FROM packages_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'packages' AND c.org = h.org AND c.subject = h.org AND c.part = h.package_type
        UNION ALL
        SELECT y.run_id, y.observed_at FROM packages_history y
        WHERE y.org = h.org AND y.package_type = h.package_type) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
