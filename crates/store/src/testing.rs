//! Throwaway databases for tests, on both backends.
//!
//! PostgreSQL tests need a server; the URL of its maintenance database comes
//! from `INFLOW_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! If it cannot be reached the test fails loudly: a skipped backend would
//! hide exactly the bugs this suite exists to catch.
//!
//! Each PostgreSQL test database is a copy of a template migrated once
//! (`CREATE DATABASE … TEMPLATE`), which takes a fraction of the time of
//! running every migration again. The template's name carries a fingerprint
//! of the migrations, so a changed migration gets a new template, and it is
//! built under an advisory lock and renamed into place only when complete,
//! so concurrent test processes never see a half-migrated one.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

use crate::Store;

/// `on_both_backends!(a, b, …)` in a test module: a `mod sqlite` and a
/// `mod postgres`, each with one `#[tokio::test]` per name that calls the
/// module's `async fn name(backend: TestBackend)` with its backend. The
/// calling crate needs `tokio` with the `macros` and multi-thread runtime
/// features (every test crate of the workspace has them).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::testing::TestBackend::Sqlite).await })+
        }
        mod postgres {
            $(#[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::testing::TestBackend::Postgres).await })+
        }
    };
}
pub use crate::on_both_backends;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A freshly created, migrated database that is dropped when the value is.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    backend: TestBackend,
    pg_name: Option<String>,
    dir: Option<std::path::PathBuf>,
}

pub fn pg_admin_url() -> String {
    std::env::var("INFLOW_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn new(backend: TestBackend) -> Self {
        match backend {
            TestBackend::Sqlite => {
                let dir = std::env::temp_dir()
                    .join(format!("inflow-test-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).expect("create temp dir");
                let url = format!("sqlite://{}", dir.join("inflow.db").display());
                let store = Store::connect(&url).await.expect("open sqlite");
                store.migrate().await.expect("migrate sqlite");
                Self {
                    store,
                    url,
                    backend,
                    pg_name: None,
                    dir: Some(dir),
                }
            }
            TestBackend::Postgres => {
                let admin = pg_admin_url();
                let name = format!("inflow_test_{}", uuid::Uuid::new_v4().simple());
                let template = migrated_template(&admin).await;
                create_database_from(&admin, &name, &template).await;
                let url = database_url(&admin, &name);
                let store = Store::connect(&url)
                    .await
                    .expect("connect to test database");
                // A no-op on a clone of the template; kept so a database
                // cloned from a stale template would fail loudly here.
                store.migrate().await.expect("migrate postgres");
                Self {
                    store,
                    url,
                    backend,
                    pg_name: Some(name),
                    dir: None,
                }
            }
        }
    }

    /// An empty PostgreSQL database (no migrations applied), dropped when
    /// the value is: what `inflow restore` fills.
    pub async fn empty_postgres() -> Self {
        let admin = pg_admin_url();
        let name = format!("inflow_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect_admin(&admin).await;
        execute_when_unused(&mut conn, format!("CREATE DATABASE {name}")).await;
        conn.close().await.ok();
        let url = database_url(&admin, &name);
        let store = Store::connect(&url)
            .await
            .expect("connect to the empty test database");
        Self {
            store,
            url,
            backend: TestBackend::Postgres,
            pg_name: Some(name),
            dir: None,
        }
    }

    pub fn backend(&self) -> TestBackend {
        self.backend
    }

    /// Wait until no other session runs a statement in this database (at
    /// most a minute; nothing to wait for on SQLite). PostgreSQL keeps
    /// running a killed client's statement, and may still commit a COMMIT
    /// already sent, until it notices the closed socket: crash tests wait
    /// for that before judging or restarting.
    pub async fn wait_for_orphaned_backends(&self) {
        if self.backend != TestBackend::Postgres {
            return;
        }
        let mut conn = PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let busy: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'",
            )
            .fetch_one(&mut conn)
            .await
            .expect("read pg_stat_activity");
            if busy == 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "orphaned PostgreSQL sessions"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        conn.close().await.ok();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.pg_name.take() {
            // Drop runs inside the test's runtime; clean up on a thread and
            // runtime of its own. FORCE ends the pool's remaining connections.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut conn) = PgConnection::connect(&pg_admin_url()).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Advisory-lock key serialising template builds across test processes.
const TEMPLATE_LOCK: i64 = 0x1f10_7e57;

/// The name of the migrated template for this build's PostgreSQL
/// migrations, built on first use (once per process, and once per server
/// for every process with the same migrations).
async fn migrated_template(admin: &str) -> String {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async { ensure_template(admin).await })
        .await
        .clone()
}

fn migrations_fingerprint(migrator: &sqlx::migrate::Migrator) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for m in migrator.iter() {
        m.version.hash(&mut hasher);
        m.checksum.hash(&mut hasher);
    }
    hasher.finish()
}

async fn ensure_template(admin: &str) -> String {
    let migrator = sqlx::migrate!("./migrations/postgres");
    let name = format!("inflow_tpl_{:016x}", migrations_fingerprint(&migrator));
    let mut conn = connect_admin(admin).await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut conn)
        .await
        .expect("lock the template build");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .expect("look for the test template");
    if !exists {
        let building = format!("inflow_tplbuild_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
            .execute(&mut conn)
            .await
            .expect("create the test template");
        let mut template = PgConnection::connect(&database_url(admin, &building))
            .await
            .expect("connect to the test template");
        migrator
            .run(&mut template)
            .await
            .expect("migrate the test template");
        template.close().await.expect("close the test template");
        execute_when_unused(
            &mut conn,
            format!("ALTER DATABASE {building} RENAME TO {name}"),
        )
        .await;
    }
    // Closing the session releases the advisory lock.
    conn.close().await.ok();
    name
}

async fn connect_admin(admin: &str) -> PgConnection {
    PgConnection::connect(admin).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is required for the test suite and is unreachable at {admin}: {e}")
    })
}

/// `admin`'s URL with its database replaced by `name`.
fn database_url(admin: &str, name: &str) -> String {
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}

/// Copy `template` into a new database `name`.
async fn create_database_from(admin: &str, name: &str, template: &str) {
    let mut conn = connect_admin(admin).await;
    execute_when_unused(
        &mut conn,
        format!("CREATE DATABASE {name} TEMPLATE {template}"),
    )
    .await;
    conn.close().await.ok();
}

/// Run `sql`, which PostgreSQL refuses while another session is connected
/// to the database it copies or renames. None should be, but a connection
/// that was just closed may linger server-side for a moment: retry briefly.
async fn execute_when_unused(conn: &mut PgConnection, sql: String) {
    let mut attempts = 0;
    loop {
        match sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut *conn)
            .await
        {
            Ok(_) => return,
            Err(e) if attempts < 50 && e.to_string().contains("being accessed by other users") => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
}

impl crate::Tx {
    /// Run one SQL statement as is (tests that tamper with the database).
    pub async fn execute_raw(&mut self, sql: &'static str) -> Result<(), crate::StoreError> {
        crate::on_db!(self, conn => sqlx::query(sql).execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
