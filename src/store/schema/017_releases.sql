-- Releases of each repository read in the collection window, and their assets with the digest GitHub computed for
-- each. The artifact attestations GitHub holds for an asset's digest go to `attestations`; an `api_coverage` row of
-- kind `github.attestations` (subject `owner/repo@sha256:…`) says whether they were looked up and seen.

CREATE TABLE releases_history (
    run_id            BIGINT NOT NULL,
    evidence_id       BIGINT NOT NULL,
    observed_at       TIMESTAMP NOT NULL,
    org               VARCHAR NOT NULL,
    repo              VARCHAR NOT NULL,
    release_id        BIGINT NOT NULL,
    tag_name          VARCHAR,
    name              VARCHAR,
    target_commitish  VARCHAR,
    draft             BOOLEAN,
    prerelease        BOOLEAN,
    immutable         BOOLEAN,              -- NULL when GitHub did not say (servers without immutable releases)
    author            VARCHAR,
    created_at        TIMESTAMP,
    published_at      TIMESTAMP,
    html_url          VARCHAR
);

CREATE TABLE release_assets_history (
    run_id            BIGINT NOT NULL,
    evidence_id       BIGINT NOT NULL,
    observed_at       TIMESTAMP NOT NULL,
    org               VARCHAR NOT NULL,
    repo              VARCHAR NOT NULL,
    release_id        BIGINT NOT NULL,
    asset_id          BIGINT NOT NULL,
    name              VARCHAR,
    content_type      VARCHAR,
    size              BIGINT,
    digest            VARCHAR,              -- sha256:HEX as GitHub computed it; NULL for assets older than digests
    uploader          VARCHAR,
    created_at        TIMESTAMP,
    updated_at        TIMESTAMP
);

-- Each release as last read.
CREATE VIEW releases AS
SELECT * EXCLUDE (run_id) FROM releases_history
WHERE observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31')
QUALIFY row_number() OVER (PARTITION BY repo, release_id ORDER BY observed_at DESC, run_id DESC) = 1;

-- The assets of each release as last read (an asset deleted since is gone).
CREATE VIEW release_assets AS
SELECT * EXCLUDE (run_id) FROM release_assets_history h
WHERE h.run_id = (SELECT max(r.run_id) FROM releases_history r
                  WHERE r.repo = h.repo AND r.release_id = h.release_id
                    AND r.observed_at <= coalesce(getvariable('pp_as_of'), TIMESTAMP '9999-12-31'));
