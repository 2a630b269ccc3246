//! The conditional-request cache kept in the store: each URL's last ETag, body and next link.

use std::collections::HashMap;

use anyhow::Result;
use duckdb::{params, Connection};

use super::http::{ApiResponse, CachedPage};

/// Every cached URL with its ETag, stored body and next link.
pub fn load(conn: &Connection) -> Result<HashMap<String, CachedPage>> {
    let mut statement = conn
        .prepare("SELECT c.url, c.etag, b.body, c.next_link FROM http_cache c JOIN blobs b ON b.sha256 = c.sha256")?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, CachedPage { etag: row.get(1)?, body: row.get(2)?, next: row.get(3)? }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Remembers the successful answers that carried an ETag (their bodies are already stored as evidence).
pub fn remember(conn: &Connection, responses: &[&ApiResponse]) -> Result<()> {
    let mut statement = conn.prepare("INSERT OR REPLACE INTO http_cache VALUES (?, ?, ?, ?, ?)")?;
    for response in responses.iter().filter(|r| r.status == 200) {
        if let Some(etag) = &response.etag {
            statement.execute(params![
                response.url,
                etag,
                crate::store::sha256_hex(&response.body),
                response.next,
                response.received_at
            ])?;
        }
    }
    Ok(())
}
