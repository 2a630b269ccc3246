-- Where each repository's package managers resolve packages from, as committed in its default branch: the registry
-- settings of .npmrc, .yarnrc.yml, pip.conf/pip.ini, requirements files' index options, nuget.config and Maven's
-- settings.xml (judged by ART-07). Credentials written beside them are never kept. `dependency_files` also gains
-- the role `manifest_only` (pom.xml: a manifest whose ecosystem has no lock file to expect).
CREATE TABLE registry_configs_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name
    path             VARCHAR NOT NULL,     -- the configuration file
    line             INTEGER,              -- where the setting is written (1-based); NULL for YAML and unreadable files
    ecosystem        VARCHAR NOT NULL,     -- npm | python | nuget | maven
    setting          VARCHAR NOT NULL,     -- registry | scope_registry | index | extra_index | find_links | source | clear | source_mapping | mirror | unreadable
    name             VARCHAR,              -- the npm scope (@acme), NuGet source key or mapped package pattern, Maven mirrorOf
    url              VARCHAR,              -- the registry, without credentials written in it
    error            VARCHAR               -- why the file could not be read
);

CREATE VIEW registry_configs AS
SELECT * EXCLUDE (run_id) FROM registry_configs_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'registry_configs' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM registry_configs_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
