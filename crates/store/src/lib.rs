//! Inflow's persistence layer.
//!
//! One [`Store`] over either SQLite (embedded, the default) or PostgreSQL
//! (several nodes). All work happens in a [`Tx`]: a database transaction on
//! whichever backend is configured. Repositories are methods on `Tx`, written
//! once: the SQL is portable (`$N` placeholders, which sqlx's SQLite driver
//! maps to positional arguments), and the [`on_db!`] macro compiles each
//! body against both drivers. This keeps one set of queries and one test
//! suite for both backends without a lowest-common-denominator `Any` driver,
//! so SQLite still gets `BEGIN IMMEDIATE`, WAL and `synchronous=FULL`.

pub mod backup;
mod codec;
mod dialect;
mod error;
mod group_commit;
pub mod observe;
pub mod page;
mod pool;
pub mod repo;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::StoreError;
pub use page::{ListQuery, Page};
pub use pool::{Savepoint, Store, Tx, WriteFuture};

/// Run `$body` with `$conn` bound to the transaction's connection, whichever
/// backend it is on. The body is compiled once per driver.
macro_rules! on_db {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::pool::Tx::Sqlite(t, ..) => {
                let $conn = &mut **t;
                $body
            }
            $crate::pool::Tx::Postgres(t, ..) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_db;
