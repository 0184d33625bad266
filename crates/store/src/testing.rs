//! Throwaway databases for tests, on both backends.
//!
//! PostgreSQL tests need a server; the URL of its maintenance database comes
//! from `INFLOW_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! If it cannot be reached the test fails loudly: a skipped backend would
//! hide exactly the bugs this suite exists to catch.

use sqlx::{Connection, PgConnection};

use crate::Store;

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
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the test suite and is unreachable at {admin}: {e}")
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let base = admin
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_owned())
                    .unwrap_or(admin);
                let url = format!("{base}/{name}");
                let store = Store::connect(&url)
                    .await
                    .expect("connect to test database");
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

    pub fn backend(&self) -> TestBackend {
        self.backend
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

impl crate::Tx {
    /// Run one SQL statement as is (tests that tamper with the database).
    pub async fn execute_raw(&mut self, sql: &'static str) -> Result<(), crate::StoreError> {
        crate::on_db!(self, conn => sqlx::query(sql).execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
