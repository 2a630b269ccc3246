-- Schema version 6: what each API URL last answered, for conditional requests (If-None-Match).
CREATE TABLE http_cache (
    url         VARCHAR PRIMARY KEY,
    etag        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,   -- the body, in blobs
    next_link   VARCHAR,            -- the page's Link rel="next", to keep paginating after a 304
    stored_at   TIMESTAMP NOT NULL
);
