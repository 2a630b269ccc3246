-- What a repository's file tree (`GET /repos/{repo}/git/trees/{default branch}?recursive=1`) says about locking its
-- dependencies: package manifests, lock files, container build files (judged by BLD-09).
CREATE TABLE dependency_files_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name
    path             VARCHAR NOT NULL,     -- '' for the tree row
    directory        VARCHAR NOT NULL,     -- the file's folder, '' at the root
    ecosystem        VARCHAR,              -- npm | cargo | go | python | ruby | php | dart | swift | elixir | gradle | nuget | container
    role             VARCHAR NOT NULL,     -- tree (one per tree read) | manifest | lock (its folder) | workspace_lock (its folder and below) | container
    tree_truncated   BOOLEAN NOT NULL      -- GitHub cut the listing short (over 100,000 entries): files may be missing
);

CREATE VIEW dependency_files AS
SELECT * EXCLUDE (run_id) FROM dependency_files_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'dependency_files' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM dependency_files_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));

-- Each FROM of each container build file in the tree, read from its contents.
CREATE TABLE container_bases_history (
    run_id           BIGINT NOT NULL,
    evidence_id      BIGINT NOT NULL,
    observed_at      TIMESTAMP NOT NULL,
    org              VARCHAR NOT NULL,
    repo             VARCHAR,              -- owner/name
    path             VARCHAR NOT NULL,     -- the build file
    line             INTEGER,              -- where the FROM starts (1-based); NULL when unreadable
    stage            VARCHAR,              -- the stage it names (AS build)
    image            VARCHAR,              -- as resolved from global ARG defaults
    base_kind        VARCHAR NOT NULL,     -- image | stage (an earlier stage) | scratch | unresolved (an ARG with no default) | unreadable
    digest           VARCHAR,              -- sha256:… it is pinned to
    error            VARCHAR               -- why the file could not be read
);

CREATE VIEW container_bases AS
SELECT * EXCLUDE (run_id) FROM container_bases_history h
WHERE h.run_id = (SELECT max(x.run_id) FROM (
        SELECT c.run_id, c.observed_at FROM api_coverage_history c
        WHERE c.fact_table = 'container_bases' AND c.org = h.org AND c.subject = coalesce(h.repo, h.org) AND c.part = ''
        UNION ALL
        SELECT y.run_id, y.observed_at FROM container_bases_history y
        WHERE y.org = h.org AND y.repo IS NOT DISTINCT FROM h.repo) x
    WHERE x.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
