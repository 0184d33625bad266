//! Looking for a secret (an account number, a key) wherever it could leak:
//! in every row of every table, in the raw bytes of SQLite's files, in API
//! bodies and logs. A secret is looked for as itself, as the hex of its
//! ASCII (how PostgreSQL prints a bytea and SQLite's `quote()` a BLOB) and
//! as base64 at each of the three alignments an encoder could meet it at;
//! binary values in a row are decoded and searched too.

use base64::Engine;
use sqlx::{Connection, PgConnection, SqliteConnection};
use std::path::{Path, PathBuf};

/// `(shape name, bytes)` for every form of `secret` a leak could take.
pub fn shapes(secret: &str) -> Vec<(String, Vec<u8>)> {
    let b = secret.as_bytes();
    let mut out = vec![
        ("as is".to_owned(), b.to_vec()),
        ("hex".to_owned(), hex::encode(b).into_bytes()),
        ("HEX".to_owned(), hex::encode_upper(b).into_bytes()),
    ];
    for shift in 0..3 {
        let rest = &b[shift..];
        let whole = &rest[..rest.len() / 3 * 3];
        let encoded = base64::engine::general_purpose::STANDARD.encode(whole);
        out.push((format!("base64+{shift}"), encoded.into_bytes()));
    }
    out
}

fn position(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn context(hay: &[u8], at: usize) -> String {
    let (from, to) = (at.saturating_sub(60), (at + 60).min(hay.len()));
    String::from_utf8_lossy(&hay[from..to])
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect()
}

/// Each of `secrets`, in any shape, found in `hay`, described with `place`.
pub fn leaks(place: &str, hay: &[u8], secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for secret in secrets {
        for (shape, needle) in shapes(secret) {
            if let Some(at) = position(hay, &needle) {
                found.push(format!(
                    "{place}: {secret} ({shape}) in …{}…",
                    context(hay, at)
                ));
            }
        }
    }
    found
}

/// The binary values in a row rendered as text (`\x…` on PostgreSQL,
/// `X'…'` from SQLite's `quote()`), decoded.
pub fn blobs(row: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = row;
    while let Some(i) = rest.find("\\x").or_else(|| rest.find("X'")) {
        let hex_run: String = rest[i + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        let even = &hex_run[..hex_run.len() / 2 * 2];
        if let Ok(bytes) = hex::decode(even) {
            if !bytes.is_empty() {
                out.push(bytes);
            }
        }
        rest = &rest[i + 2 + hex_run.len()..];
    }
    out
}

/// [`leaks`] in a row as text and in its binary values decoded.
pub fn row_leaks(place: &str, row: &str, secrets: &[&str]) -> Vec<String> {
    let mut found = leaks(place, row.as_bytes(), secrets);
    for blob in blobs(row) {
        found.extend(leaks(&format!("{place} (binary)"), &blob, secrets));
    }
    found
}

/// `(table, row as text)` for every row of every table of the database at `url`.
pub async fn every_row(url: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if url.starts_with("sqlite") {
        let mut c = SqliteConnection::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut c)
                .await
                .unwrap();
        for t in tables {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(&t)
                .fetch_all(&mut c)
                .await
                .unwrap();
            let row = columns
                .iter()
                .map(|col| format!("quote(\"{col}\")"))
                .collect::<Vec<_>>()
                .join(" || ',' || ");
            let sql = format!("SELECT {row} FROM \"{t}\"");
            let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.extend(texts.into_iter().map(|r| (t.clone(), r)));
        }
    } else {
        let mut c = PgConnection::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables \
             WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for t in tables {
            let sql = format!("SELECT t::text FROM {t} t");
            let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.extend(texts.into_iter().map(|r| (t.clone(), r)));
        }
    }
    rows
}

/// The SQLite database file at `db` and its `-wal` and `-shm`, as they are.
pub fn sqlite_files(db: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", db.display())))
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect()
}

/// Every entry under `dir` (not `dir` itself), depth first.
pub fn entries_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if p.is_dir() {
            out.extend(entries_under(&p));
        }
    }
    out
}
