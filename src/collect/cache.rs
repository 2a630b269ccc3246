//! The conditional-request cache kept in the store: each URL's last ETag, body and next link.

use std::collections::HashMap;

use anyhow::Result;
use duckdb::{params, Connection};

use super::http::{ApiResponse, CachedPage};

/// Every cached URL with its ETag, stored body and next link.
pub fn load(conn: &Connection) -> Result<HashMap<String, CachedPage>> {
    // A DuckLake keeps every answer remembered (it only appends); the latest per URL counts.
    let mut statement = conn.prepare(
        "SELECT c.url, c.etag, (SELECT any_value(b.body) FROM blobs b WHERE b.sha256 = c.sha256), c.next_link \
         FROM http_cache c WHERE EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = c.sha256) \
         QUALIFY row_number() OVER (PARTITION BY c.url ORDER BY c.stored_at DESC) = 1",
    )?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, CachedPage { etag: row.get(1)?, body: row.get(2)?, next: row.get(3)? }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Remembers the successful answers that carried an ETag (their bodies are already stored as evidence, redacted:
/// a `304` reuses the stored form, from which the same facts are read).
pub fn remember(conn: &Connection, responses: &[&ApiResponse]) -> Result<()> {
    // One row per URL: an answer read twice in a collection (or shared by two follow-ups) is remembered once.
    let mut latest: std::collections::BTreeMap<&str, (&ApiResponse, &String)> = std::collections::BTreeMap::new();
    for response in responses.iter().filter(|r| r.status == 200) {
        if let Some(etag) = response.etag.as_ref() {
            latest.insert(response.url.as_str(), (*response, etag));
        }
    }
    let fresh: Vec<(&ApiResponse, &String)> = latest.into_values().collect();
    let urls = crate::store::list_text::text_list(fresh.iter().map(|(r, _)| &r.url));
    // A DuckLake only appends (deleting what another writer may be writing beside would conflict with it).
    if !crate::store::lake::is_lake(conn)? {
        conn.prepare_cached("DELETE FROM http_cache WHERE list_contains(?::VARCHAR[], url)")?.execute([urls])?;
    }
    let mut appender = conn.appender("http_cache")?;
    for (response, etag) in fresh {
        appender.append_row(params![
            response.url,
            etag,
            crate::store::redact::stored_sha256(&response.body),
            response.next,
            response.received_at
        ])?;
    }
    appender.flush()?;
    Ok(())
}
