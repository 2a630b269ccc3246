//! Lists handed to DuckDB as text. DuckDB 1.5's Rust binding can neither bind nor append a LIST value, so a list
//! travels in DuckDB's own text form (`["a", "b\"c"]`) and DuckDB casts it to the column's or placeholder's list
//! type (`?::VARCHAR[]`, or the column's type when appended). Elements are always quoted and escaped, so any string
//! (commas, brackets, quotes, backslashes, `NULL`, control characters) comes back exactly as it went in.

use duckdb::types::Value;

/// A list of strings as text that `::VARCHAR[]` reads back exactly.
pub fn text_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    let quoted: Vec<String> = items.into_iter().map(|item| quote(item.as_ref())).collect();
    Value::Text(format!("[{}]", quoted.join(", ")))
}

/// A list of integers as text that `::BIGINT[]` reads back.
pub fn integer_list(items: impl IntoIterator<Item = i64>) -> Value {
    let items: Vec<String> = items.into_iter().map(|item| item.to_string()).collect();
    Value::Text(format!("[{}]", items.join(", ")))
}

/// A JSON array (strings, numbers, booleans, nulls, nested arrays) as list text; objects are refused.
pub fn json_list(items: &[serde_json::Value]) -> Result<Value, String> {
    fn element(value: &serde_json::Value) -> Result<String, String> {
        use serde_json::Value as Json;
        Ok(match value {
            Json::Null => "NULL".into(),
            Json::Bool(flag) => flag.to_string(),
            Json::Number(number) => number.to_string(),
            Json::String(text) => quote(text),
            Json::Array(items) => format!("[{}]", items.iter().map(element).collect::<Result<Vec<_>, _>>()?.join(", ")),
            Json::Object(_) => {
                return Err("objects are not fact values; use a string, number, boolean, null or list".into())
            }
        })
    }
    element(&serde_json::Value::Array(items.to_vec())).map(Value::Text)
}

fn quote(item: &str) -> String {
    format!("\"{}\"", item.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(conn: &duckdb::Connection, list: &Value) -> Vec<Option<String>> {
        conn.query_row("SELECT to_json(?::VARCHAR[])::VARCHAR", [list], |row| row.get::<_, String>(0))
            .map(|json| serde_json::from_str(&json).unwrap())
            .unwrap()
    }

    #[test]
    fn any_string_survives_the_cast() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let tricky = [
            "",
            " padded ",
            "a,b",
            "[x]",
            "{k: v}",
            "\"quoted\"",
            "it's",
            "back\\slash",
            "\\\"",
            "NULL",
            "null",
            "tab\tnew\nline\r",
            "\u{0}\u{1}\u{7f}",
            "é😀\u{2028}",
            "'",
            "]",
            "\"",
        ];
        assert_eq!(
            read_back(&conn, &text_list(tricky)),
            tricky.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>()
        );
        assert_eq!(read_back(&conn, &text_list(Vec::<String>::new())), Vec::<Option<String>>::new());
        let mut seed = 7u64;
        for _ in 0..500 {
            let items: Vec<String> = (0..(seed % 4))
                .map(|_| {
                    (0..(seed % 9))
                        .map(|_| {
                            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                            ['a', ' ', '"', '\'', '\\', '[', ']', ',', '\n', 'N', 'U', 'L', '😀']
                                [(seed >> 33) as usize % 13]
                        })
                        .collect()
                })
                .collect();
            seed = seed.wrapping_add(3);
            assert_eq!(read_back(&conn, &text_list(&items)), items.iter().cloned().map(Some).collect::<Vec<_>>());
        }
    }

    #[test]
    fn appended_text_becomes_the_columns_list() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (names VARCHAR[], ids BIGINT[])").unwrap();
        let mut appender = conn.appender("t").unwrap();
        appender.append_row([text_list(["a, b", "NULL", "\"x\""]), integer_list([1, -2])]).unwrap();
        appender.append_row([Value::Null, Value::Null]).unwrap();
        appender.flush().unwrap();
        let rows: Vec<String> = conn
            .prepare("SELECT to_json({n: names, i: ids})::VARCHAR FROM t")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [r#"{"n":["a, b","NULL","\"x\""],"i":[1,-2]}"#, r#"{"n":null,"i":null}"#]);
    }

    #[test]
    fn json_arrays_keep_their_types() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let list = json_list(&serde_json::from_str::<Vec<serde_json::Value>>(r#"[1, null, 3]"#).unwrap()).unwrap();
        let back: String = conn.query_row("SELECT to_json(?::BIGINT[])::VARCHAR", [list], |row| row.get(0)).unwrap();
        assert_eq!(back, "[1,null,3]");
        assert!(json_list(&[serde_json::json!({"a": 1})]).is_err());
    }
}
