//! Reading a migrated schema back from the catalogue of each backend, as
//! normalised facts that compare across dialects (see `schema_parity`).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, PgConnection, SqliteConnection};

/// One normalised fact about a table, e.g. `column code text not null` or
/// `unique (id)`.
pub type Fact = String;

/// The schema as a set of facts, grouped by table.
pub type Schema = BTreeMap<String, BTreeSet<Fact>>;

// ---- SQLite ---------------------------------------------------------------

pub async fn sqlite_schema(url: &str) -> Schema {
    let mut conn = SqliteConnection::connect(url).await.expect("open sqlite");
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list sqlite tables");
    let mut schema = Schema::new();
    for (table, sql) in tables {
        let facts = schema.entry(table.clone()).or_default();
        let columns = sqlite_columns(&mut conn, &table, facts).await;
        sqlite_indexes(&mut conn, &table, facts).await;
        for check in check_clauses(&sql) {
            insert_counted(facts, check_fact(&check, &columns));
        }
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut conn)
            .await
            .expect("list sqlite triggers");
    for (table, sql) in triggers {
        let words: Vec<String> = sql
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect();
        let at = words
            .iter()
            .position(|w| matches!(w.as_str(), "BEFORE" | "AFTER" | "INSTEAD"))
            .expect("a trigger has a timing");
        let timing = words[at].to_ascii_lowercase();
        let event = words[at + 1..]
            .iter()
            .find(|w| w.as_str() != "OF")
            .expect("a trigger has an event")
            .to_ascii_lowercase();
        let fact = format!("trigger {timing} {event}");
        insert_counted(schema.entry(table).or_default(), fact);
    }
    schema
}

/// Adds the column facts and returns the column names.
async fn sqlite_columns(
    conn: &mut SqliteConnection,
    table: &str,
    facts: &mut BTreeSet<Fact>,
) -> Vec<String> {
    let rows: Vec<(String, String, bool, i64)> =
        sqlx::query_as("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid")
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .expect("read sqlite columns");
    for (name, declared, not_null, pk) in &rows {
        // An INTEGER PRIMARY KEY is the rowid, never NULL; any other SQLite
        // primary key column is NOT NULL only if declared so (see
        // SQLITE_NULLABLE_PRIMARY_KEYS).
        let rowid = *pk == 1 && declared.eq_ignore_ascii_case("INTEGER");
        let not_null = *not_null || rowid;
        facts.insert(column_fact(name, sqlite_family(declared), not_null));
    }
    rows.into_iter().map(|(name, ..)| name).collect()
}

async fn sqlite_indexes(conn: &mut SqliteConnection, table: &str, facts: &mut BTreeSet<Fact>) {
    let indexes: Vec<(String, bool, bool)> =
        sqlx::query_as("SELECT name, \"unique\", partial FROM pragma_index_list(?)")
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .expect("list sqlite indexes");
    for (index, unique, partial) in indexes {
        let columns: Vec<(Option<String>,)> =
            sqlx::query_as("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                .bind(&index)
                .fetch_all(&mut *conn)
                .await
                .expect("read sqlite index columns");
        let columns = columns.into_iter().map(|(c,)| c).collect();
        facts.insert(index_fact(columns, unique, partial));
    }
    // An INTEGER PRIMARY KEY is the rowid and has no index of its own.
    let rowid_keys: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM pragma_table_info(?) WHERE pk = 1 AND upper(type) = 'INTEGER' \
         AND (SELECT count(*) FROM pragma_table_info(?) WHERE pk > 0) = 1",
    )
    .bind(table)
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .expect("read sqlite rowid key");
    for (column,) in rowid_keys {
        facts.insert(index_fact(vec![Some(column)], true, false));
    }
}

/// The type family of a SQLite declared type, by SQLite's affinity rules
/// (plus BOOLEAN, which the migrations declare for flags).
fn sqlite_family(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t == "BOOLEAN" {
        "boolean"
    } else if t.contains("INT") {
        "integer"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "text"
    } else if t.is_empty() || t.contains("BLOB") {
        "blob"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "real"
    } else {
        "numeric"
    }
}

/// The bodies of the CHECK clauses in a CREATE TABLE statement.
fn check_clauses(sql: &str) -> Vec<String> {
    let upper = sql.to_ascii_uppercase();
    let mut checks = Vec::new();
    let mut from = 0;
    while let Some(at) = upper[from..].find("CHECK") {
        let start = from + at + "CHECK".len();
        from = start;
        let is_word = !upper[..start - 5]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let rest = sql[start..].trim_start();
        if !is_word || !rest.starts_with('(') {
            continue;
        }
        if let Some(body) = balanced(rest) {
            from = start + (sql[start..].len() - rest.len()) + body.len();
            checks.push(body.to_owned());
        }
    }
    checks
}

/// The parenthesised expression at the start of `s`, parentheses included.
fn balanced(s: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut in_string = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[..=i]);
                }
            }
            _ => {}
        }
    }
    None
}

// ---- PostgreSQL -----------------------------------------------------------

pub async fn postgres_schema(url: &str) -> Schema {
    let mut conn = PgConnection::connect(url).await.expect("connect postgres");
    let mut schema = Schema::new();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.is_nullable::text, c.data_type::text \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("read postgres columns");
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column, nullable, data_type) in columns {
        let fact = column_fact(&column, pg_family(&data_type), nullable == "NO");
        schema.entry(table.clone()).or_default().insert(fact);
        names.entry(table).or_default().push(column);
    }
    postgres_indexes(&mut conn, &mut schema).await;
    postgres_checks(&mut conn, &mut schema, &names).await;
    let triggers: Vec<(String, i16)> = sqlx::query_as(
        "SELECT c.relname::text, t.tgtype FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND NOT t.tgisinternal",
    )
    .fetch_all(&mut conn)
    .await
    .expect("read postgres triggers");
    for (table, tgtype) in triggers {
        for fact in pg_trigger_facts(tgtype) {
            insert_counted(schema.entry(table.clone()).or_default(), fact);
        }
    }
    schema
}

async fn postgres_indexes(conn: &mut PgConnection, schema: &mut Schema) {
    let rows: Vec<(String, Vec<Option<String>>, bool, bool)> = sqlx::query_as(
        "SELECT t.relname::text, \
           ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                 LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
                 ORDER BY k.ord), \
           ix.indisunique, ix.indpred IS NOT NULL \
         FROM pg_index ix \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("read postgres indexes");
    for (table, columns, unique, partial) in rows {
        let fact = index_fact(columns, unique, partial);
        schema.entry(table).or_default().insert(fact);
    }
}

async fn postgres_checks(
    conn: &mut PgConnection,
    schema: &mut Schema,
    names: &BTreeMap<String, Vec<String>>,
) {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.relname::text, pg_get_constraintdef(c.oid) \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND c.contype = 'c'",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("read postgres checks");
    for (table, definition) in rows {
        let columns = names.get(&table).cloned().unwrap_or_default();
        let body = definition.trim_start_matches("CHECK").trim_start();
        insert_counted(schema.entry(table).or_default(), check_fact(body, &columns));
    }
}

/// One fact per event of a PostgreSQL trigger (`pg_trigger.tgtype` bits:
/// 2 before, 64 instead of, 4 insert, 8 delete, 16 update, 32 truncate),
/// as SQLite has one trigger per event.
fn pg_trigger_facts(tgtype: i16) -> Vec<Fact> {
    let timing = match (tgtype & 2 != 0, tgtype & 64 != 0) {
        (true, _) => "before",
        (_, true) => "instead",
        _ => "after",
    };
    [
        (4, "insert"),
        (8, "delete"),
        (16, "update"),
        (32, "truncate"),
    ]
    .into_iter()
    .filter(|(bit, _)| tgtype & bit != 0)
    .map(|(_, event)| format!("trigger {timing} {event}"))
    .collect()
}

/// The type family of a PostgreSQL `information_schema` data type.
fn pg_family(data_type: &str) -> &'static str {
    match data_type {
        "text" | "character varying" | "character" => "text",
        "bigint" | "integer" | "smallint" => "integer",
        "boolean" => "boolean",
        "bytea" => "blob",
        "real" | "double precision" => "real",
        "timestamp with time zone" | "timestamp without time zone" => "timestamp",
        "jsonb" | "json" => "json",
        _ => "other",
    }
}

// ---- Normalised facts -----------------------------------------------------

fn column_fact(name: &str, family: &str, not_null: bool) -> Fact {
    let null = if not_null { "not null" } else { "null" };
    format!("column {name} {family} {null}")
}

fn index_fact(columns: Vec<Option<String>>, unique: bool, partial: bool) -> Fact {
    let columns: Vec<String> = columns
        .into_iter()
        .map(|c| c.unwrap_or_else(|| "<expression>".into()))
        .collect();
    let partial = if partial { " where …" } else { "" };
    let kind = if unique { "unique" } else { "index" };
    format!("{kind} ({}){partial}", columns.join(", "))
}

/// Inserts `fact`, numbered if the table already has it (two CHECKs on the
/// same column with the same literals are two facts).
fn insert_counted(facts: &mut BTreeSet<Fact>, fact: Fact) {
    let mut n = 1;
    let mut numbered = fact.clone();
    while facts.contains(&numbered) {
        n += 1;
        numbered = format!("{fact} #{n}");
    }
    facts.insert(numbered);
}

/// A CHECK constraint as the table columns it reads and the literals it
/// mentions: the parts both dialects keep verbatim (PostgreSQL rewrites
/// `IN (…)` to `= ANY (ARRAY[…])` and adds casts; SQLite keeps the source).
fn check_fact(body: &str, columns: &[String]) -> Fact {
    let (idents, literals) = tokens(body);
    let read: BTreeSet<&String> = columns
        .iter()
        .filter(|c| idents.contains(&c.to_ascii_lowercase()))
        .collect();
    let read: Vec<&str> = read.into_iter().map(String::as_str).collect();
    let literals: Vec<String> = literals.into_iter().collect();
    format!("check on ({}) [{}]", read.join(", "), literals.join(", "))
}

/// The lower-cased identifiers and the literals (strings quoted, numbers
/// bare) of an expression.
fn tokens(expr: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut idents = BTreeSet::new();
    let mut literals = BTreeSet::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            let mut literal = String::new();
            while let Some(n) = chars.next() {
                if n == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        break;
                    }
                }
                literal.push(n);
            }
            literals.insert(format!("'{literal}'"));
        } else if c.is_ascii_digit() {
            let mut number = String::from(c);
            while let Some(&n) = chars.peek().filter(|n| n.is_ascii_digit() || **n == '.') {
                number.push(n);
                chars.next();
            }
            literals.insert(number);
        } else if c.is_ascii_alphabetic() || c == '_' || c == '"' {
            let mut ident = String::from(c).replace('"', "");
            while let Some(&n) = chars.peek() {
                if !(n.is_ascii_alphanumeric() || n == '_' || n == '"') {
                    break;
                }
                if n != '"' {
                    ident.push(n);
                }
                chars.next();
            }
            idents.insert(ident.to_ascii_lowercase());
        }
    }
    (idents, literals)
}

#[test]
fn check_clauses_are_found_with_nested_parentheses_and_quotes() {
    let sql = "CREATE TABLE t (a TEXT NOT NULL CHECK (a IN ('x', 'y)')), \
               checked_at TEXT, b BIGINT CHECK(b > (0)), CONSTRAINT c CHECK (a <> 'z'))";
    assert_eq!(
        check_clauses(sql),
        vec!["(a IN ('x', 'y)'))", "(b > (0))", "(a <> 'z')"]
    );
    let columns = vec!["a".to_owned(), "b".to_owned(), "checked_at".to_owned()];
    assert_eq!(
        check_fact("((a = ANY (ARRAY['x'::text, 'y)'::text])))", &columns),
        check_fact("(a IN ('x', 'y)'))", &columns)
    );
    assert_ne!(
        check_fact("(a IN ('x', 'y'))", &columns),
        check_fact("(a IN ('x', 'w'))", &columns)
    );
}
