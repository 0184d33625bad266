//! Rolling upgrades need migrations that the previous release's code can
//! live with (expand/contract, see docs/operations.md "Upgrading without
//! downtime"). Every migration numbered after [`BASELINE`] is checked: it
//! may add (tables, nullable columns or columns with a default, indexes)
//! but not drop, rename, retype or tighten what the running release uses,
//! unless it carries a `-- contract: <release>` marker naming the release
//! from which no code uses the thing any more (so that release is already
//! everywhere when the contract migration runs).
//!
//! Migrations up to the baseline predate the rule and are not checked.

use std::path::{Path, PathBuf};

/// The newest migration when the rule was introduced.
const BASELINE: u32 = 25;

/// A statement that breaks the release before this migration, and why.
const DESTRUCTIVE: &[(&str, &str)] = &[
    ("DROP TABLE", "drops a table"),
    ("DROP COLUMN", "drops a column"),
    ("DROP VIEW", "drops a view"),
    ("RENAME", "renames a table or column"),
    ("SET DATA TYPE", "changes a column's type"),
    ("SET NOT NULL", "makes an existing column NOT NULL"),
    ("TRUNCATE", "empties a table"),
];

fn migrations_dir(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend)
}

/// `(number, file name, text)` of every migration of `backend`.
fn migrations(backend: &str) -> Vec<(u32, String, String)> {
    let mut all: Vec<_> = std::fs::read_dir(migrations_dir(backend))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .map(|name| {
            let number = name
                .split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{backend}/{name}: not NNNN_name.sql"));
            let text = std::fs::read_to_string(migrations_dir(backend).join(&name)).unwrap();
            (number, name, text)
        })
        .collect();
    all.sort();
    all
}

/// The `-- contract:` marker's text, if the migration has one that names
/// a release (a version number such as `0.4` or `v1.2.0`).
fn contract_marker(sql: &str) -> Option<&str> {
    sql.lines()
        .filter_map(|l| l.trim().strip_prefix("-- contract:"))
        .map(str::trim)
        .find(|t| names_a_release(t))
}

fn names_a_release(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == ')' || c == '(')
        .map(|w| w.trim_start_matches('v'))
        .any(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The SQL without comments, in upper case, whitespace collapsed, split
/// into statements.
fn statements(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    code.split(';')
        .map(|s| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_uppercase()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// What in `sql` the previous release could not live with.
fn destructive(sql: &str) -> Vec<String> {
    let mut found = Vec::new();
    for s in statements(sql) {
        for (pattern, why) in DESTRUCTIVE {
            if s.contains(pattern) {
                found.push(format!("{why}: {s}"));
            }
        }
        // `ALTER COLUMN c TYPE t` (PostgreSQL's short form).
        if s.contains("ALTER COLUMN") && s.contains(" TYPE ") && !s.contains("SET DATA TYPE") {
            found.push(format!("changes a column's type: {s}"));
        }
        // A NOT NULL column without a default: the old code's inserts fail.
        if s.contains("ADD COLUMN") && s.contains("NOT NULL") && !s.contains("DEFAULT") {
            found.push(format!("adds a NOT NULL column without a default: {s}"));
        }
    }
    found
}

/// The problems of `backend`'s migrations after the baseline.
fn violations(backend: &str) -> Vec<String> {
    migrations(backend)
        .into_iter()
        .filter(|(n, _, _)| *n > BASELINE)
        .filter(|(_, _, sql)| contract_marker(sql).is_none())
        .flat_map(|(_, name, sql)| {
            destructive(&sql)
                .into_iter()
                .map(move |d| format!("{backend}/{name} {d}"))
        })
        .collect()
}

#[test]
fn migrations_after_the_baseline_only_expand_unless_marked_contract() {
    let mut problems = violations("postgres");
    problems.extend(violations("sqlite"));
    assert!(
        problems.is_empty(),
        "migrations a node of the previous release cannot run against (add a \
         `-- contract: <release>` marker only once no running release uses the thing):\n{}",
        problems.join("\n")
    );
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |b| -> Vec<String> { migrations(b).into_iter().map(|(_, n, _)| n).collect() };
    assert_eq!(names("sqlite"), names("postgres"));
    assert!(
        migrations("postgres")
            .iter()
            .any(|(n, _, _)| *n == BASELINE),
        "the baseline migration exists"
    );
}

#[test]
fn the_checker_tells_expand_from_contract() {
    for ok in [
        "CREATE TABLE t (a TEXT PRIMARY KEY);",
        "ALTER TABLE t ADD COLUMN b TEXT;",
        "ALTER TABLE t ADD COLUMN c BIGINT NOT NULL DEFAULT 0;",
        "-- we never DROP TABLE here\nCREATE INDEX t_b ON t (b);",
        "ALTER TABLE t ALTER COLUMN b DROP NOT NULL;",
    ] {
        assert!(destructive(ok).is_empty(), "{ok}");
    }
    for bad in [
        "DROP TABLE t;",
        "ALTER TABLE t DROP COLUMN b;",
        "alter table t rename to u;",
        "ALTER TABLE t RENAME COLUMN b TO c;",
        "ALTER TABLE t ALTER COLUMN b TYPE BIGINT;",
        "ALTER TABLE t ALTER COLUMN b SET DATA TYPE BIGINT;",
        "ALTER TABLE t ALTER COLUMN b SET NOT NULL;",
        "ALTER TABLE t ADD COLUMN c TEXT NOT NULL;",
        "CREATE TABLE t2 (a TEXT);\n  DROP\n  TABLE t;",
    ] {
        assert!(!destructive(bad).is_empty(), "{bad}");
    }
    assert!(contract_marker(
        "-- contract: since 0.4 nothing reads t.b\nALTER TABLE t DROP COLUMN b;"
    )
    .is_some());
    assert!(contract_marker("-- contract: v1.2.0\nDROP TABLE t;").is_some());
    assert!(
        contract_marker("-- contract: soon\nDROP TABLE t;").is_none(),
        "names no release"
    );
    assert!(contract_marker("-- contracts are nice\nDROP TABLE t;").is_none());
}
