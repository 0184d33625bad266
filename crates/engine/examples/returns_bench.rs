//! How long applying a bank's return file takes: N pending debits are filed
//! through the real cutoff, the sandbox bank answers the outbound file with
//! one R01 return per entry (every account is `9999000101`), and the return
//! file, written to disk, is ingested through the engine's inbound path
//! (`ingest_inbound_file`, the code behind `POST /v1/ach/inbound` and the
//! watched folder). Prints the
//! time of the ingestion alone and the peak resident memory during it (the
//! setup's freed memory is handed back first; the resident memory before the
//! ingestion and the growth are printed too).
//!
//! ```sh
//! cargo run --release -p inflow-engine --example returns_bench -- sqlite 100000
//! cargo run --release -p inflow-engine --example returns_bench -- postgres 100000
//! cargo run --release -p inflow-engine --example returns_bench -- postgres 100000 analyze
//! ```
//!
//! `analyze` runs `ANALYZE` on the PostgreSQL database (through `psql`)
//! after the cutoff, as autovacuum would eventually; without it the
//! planner sees the tables as just written. PostgreSQL comes from
//! `INFLOW_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! a throwaway database is created and dropped.

mod bench_common;

use std::time::Instant;

use bench_common::{backend_arg, peak_rss_mib, reset_peak_rss, rss_mib, Bench};
use chrono::{TimeZone, Utc};
use inflow_engine::cutoff::run_cutoff;
use inflow_engine::inbound::ingest_inbound_file;
use inflow_store::testing::TestBackend;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let backend = backend_arg(args.next().as_deref());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let analyze = args.next().as_deref() == Some("analyze");

    let bench = Bench::new(backend, "returns-bench").await;
    bench
        .insert_pending_debits(count, |_| "9999000101".into())
        .await;
    let (cfg, cutoff) = (&bench.cfg, bench.standard_cutoff());
    let started = Instant::now();
    let summary = run_cutoff(&bench.db.store, &bench.vault, cfg, &cutoff, cutoff.at)
        .await
        .expect("cutoff");
    eprintln!("cutoff filed {count} debits in {:.1?}", started.elapsed());

    // The return files go to disk and are ingested from there, as an
    // upload's temp file or a picked-up file is.
    let returns_dir = bench.dir.join("returns");
    std::fs::create_dir_all(&returns_dir).expect("returns dir");
    let mut returns = Vec::new();
    let mut bytes = 0;
    for f in &summary.files {
        let outbound = std::fs::read(cfg.outbound_dir.join(&f.file_name)).expect("outbound file");
        for a in inflow_engine::sandbox_bank::answer(&outbound, cfg).expect("answer") {
            let (name, file) = (a.file_name(), a.file.to_bytes());
            bytes += file.len();
            std::fs::write(returns_dir.join(&name), file).expect("write return file");
            returns.push(name);
        }
    }
    drop(summary);
    if analyze && backend == TestBackend::Postgres {
        let status = std::process::Command::new("psql")
            .args([bench.db.url.as_str(), "-q", "-c", "ANALYZE"])
            .status()
            .expect("psql");
        assert!(status.success(), "ANALYZE failed");
        eprintln!("ran ANALYZE");
    }

    // The day after settlement (2026-12-02): one banking day later.
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 15, 0, 0).unwrap();
    reset_peak_rss();
    let rss_before = rss_mib().unwrap_or(f64::NAN);
    let started = Instant::now();
    let mut matched = 0;
    for name in &returns {
        let path = returns_dir.join(name);
        let report = ingest_inbound_file(&bench.db.store, &bench.vault, cfg, &path, name, now)
            .await
            .expect("ingest");
        matched += report.returns_matched as usize;
    }
    let elapsed = started.elapsed();
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    assert_eq!(matched, count, "every return matched");

    let mut tx = bench.db.store.read().await.expect("read");
    let check = tx.check_ledger().await.expect("ledger check");
    tx.rollback().await.expect("rollback");
    assert!(check.is_ok(), "ledger check: {check:?}");
    println!(
        "{backend:?}{}: {matched} returns ({} file(s), {:.1} MB) applied in {:.2?} ({:.0} returns/s), \
         peak RSS {:.0} MiB (RSS before {:.0} MiB, growth {:.0} MiB)",
        if analyze { " after ANALYZE" } else { "" },
        returns.len(),
        bytes as f64 / 1e6,
        elapsed,
        matched as f64 / elapsed.as_secs_f64(),
        peak,
        rss_before,
        peak - rss_before
    );
    let _ = std::fs::remove_dir_all(&bench.dir);
}
