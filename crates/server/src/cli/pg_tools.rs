//! PostgreSQL's own tools for `inflow backup` / `inflow restore`:
//! `pg_dump --format=custom` and `pg_restore`, found on `PATH`, checked
//! against the server's major version, and given the database URL without
//! its password (which goes in `PGPASSWORD`, not on a command line other
//! users can read).

use anyhow::{bail, Context};
use inflow_store::backup::MigrationMark;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DOCS: &str = "see docs/operations.md, \"Backups and restore\"";

/// One of PostgreSQL's client programs, with its major version.
pub struct PgTool {
    pub path: PathBuf,
    pub major: u32,
}

/// `name` (`pg_dump` or `pg_restore`) from `PATH`, refused clearly when
/// missing or older than the server (`server_version_num`, e.g. 150020).
pub fn find(name: &str, server_version: u32) -> anyhow::Result<PgTool> {
    let Some(path) = super::db_files::on_path(name) else {
        bail!(
            "{name} is not on PATH: install PostgreSQL's client programs (Debian/Ubuntu: \
             `apt-get install postgresql-client`) in a version at least the server's ({}); {DOCS}",
            server_version / 10000
        );
    };
    let out = Command::new(&path)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major = parse_major(&text)
        .with_context(|| format!("cannot read the version of {name} from {text:?}"))?;
    let server_major = server_version / 10000;
    if major < server_major {
        bail!(
            "{name} {major} ({}) cannot handle this PostgreSQL {server_major} server: install the client \
             programs of version {server_major} or newer and put them first on PATH; {DOCS}",
            path.display()
        );
    }
    Ok(PgTool { path, major })
}

/// The major version in `pg_dump (PostgreSQL) 15.20 (Debian …)`.
fn parse_major(text: &str) -> Option<u32> {
    text.split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|w| {
            w.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|m| m.parse().ok())
}

/// The database URL for libpq, and its password (percent-decoded).
pub fn libpq_url(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("the database URL is not a valid URL")?;
    let password = parsed
        .password()
        .map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8()
                .map(|p| p.into_owned())
                .context("the database URL's password is not valid percent-encoded UTF-8")
        })
        .transpose()?;
    let _ = parsed.set_password(None);
    // A password given as a query parameter goes the same way.
    let mut from_query = None;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(k, v)| {
            if k == "password" {
                from_query = Some(v.into_owned());
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    if from_query.is_some() {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
        if parsed.query() == Some("") {
            parsed.set_query(None);
        }
    }
    Ok((parsed.to_string(), password.or(from_query)))
}

/// Run `tool` with `args` against the database `url`; its stderr becomes the error.
pub fn run(tool: &PgTool, url: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<Output> {
    let (url, password) = libpq_url(url)?;
    let mut cmd = Command::new(&tool.path);
    cmd.arg("--no-password").arg(format!("--dbname={url}"));
    cmd.args(args);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd
        .output()
        .with_context(|| format!("running {}", tool.path.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            tool.path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// Check `archive` is a `pg_dump` custom-format archive of an Inflow
/// database and read the migrations it records (no database needed).
pub fn archive_migrations(tool: &PgTool, archive: &Path) -> anyhow::Result<Vec<MigrationMark>> {
    let list = Command::new(&tool.path)
        .arg("--list")
        .arg(archive)
        .output()
        .with_context(|| format!("running {} --list", tool.path.display()))?;
    if !list.status.success() {
        bail!(
            "{} is not a pg_dump archive pg_restore can read: {}",
            archive.display(),
            String::from_utf8_lossy(&list.stderr).trim()
        );
    }
    if !String::from_utf8_lossy(&list.stdout).contains(" TABLE DATA public _sqlx_migrations ") {
        bail!(
            "{} is not a backup of an Inflow database: it has no migrations table (_sqlx_migrations)",
            archive.display()
        );
    }
    let data = Command::new(&tool.path)
        .args(["--data-only", "--table=_sqlx_migrations", "--file=-"])
        .arg(archive)
        .output()
        .with_context(|| format!("running {}", tool.path.display()))?;
    if !data.status.success() {
        bail!(
            "reading the migrations recorded in {}: {}",
            archive.display(),
            String::from_utf8_lossy(&data.stderr).trim()
        );
    }
    parse_copy(&String::from_utf8_lossy(&data.stdout))
}

/// The rows of `COPY public._sqlx_migrations (version, description,
/// installed_on, success, checksum, execution_time) FROM stdin;`.
fn parse_copy(sql: &str) -> anyhow::Result<Vec<MigrationMark>> {
    let mut rows = Vec::new();
    let mut inside = false;
    for line in sql.lines() {
        if !inside {
            inside = line.starts_with("COPY ") && line.contains("_sqlx_migrations");
            continue;
        }
        if line == "\\." {
            break;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(version), Some(success), Some(checksum)) =
            (cols.first(), cols.get(3), cols.get(4))
        else {
            bail!("unexpected migrations row in the archive: {line:?}");
        };
        rows.push(MigrationMark {
            version: version
                .parse()
                .with_context(|| format!("migration version {version:?}"))?,
            checksum: checksum.trim_start_matches("\\\\x").to_ascii_lowercase(),
            success: *success == "t",
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_urls_are_read_as_libpq_wants_them() {
        assert_eq!(
            parse_major("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(parse_major("pg_restore (PostgreSQL) 17beta1"), Some(17));
        let (url, pw) =
            libpq_url("postgres://inflow:p%40ss@db:5432/inflow?sslmode=require").unwrap();
        assert_eq!(url, "postgres://inflow@db:5432/inflow?sslmode=require");
        assert_eq!(pw.as_deref(), Some("p@ss"));
        let (url, pw) =
            libpq_url("postgres://inflow@db/inflow?password=x%26y&sslmode=require").unwrap();
        assert_eq!(url, "postgres://inflow@db/inflow?sslmode=require");
        assert_eq!(pw.as_deref(), Some("x&y"));
        let (url, _) = libpq_url("postgres://inflow@db/inflow?password=z").unwrap();
        assert_eq!(url, "postgres://inflow@db/inflow");
        let rows = parse_copy(
            "SET x;\nCOPY public._sqlx_migrations (version, description, installed_on, success, checksum, execution_time) FROM stdin;\n\
             1\tfoundation\t2026-01-01\tt\t\\\\xABCD\t12\n2\tach\t2026-01-01\tf\t\\\\x00\t3\n\\.\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].version, rows[0].checksum.as_str(), rows[0].success),
            (1, "abcd", true)
        );
        assert!(!rows[1].success);
    }
}
