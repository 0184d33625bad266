//! How long a standard cutoff takes over many pending collections, from the
//! start of the cutoff to the NACHA files fsynced on disk, and the peak
//! resident memory during it (the setup's freed memory is handed back and
//! the peak reset first; the resident memory before the cutoff and the
//! growth are printed too).
//!
//! ```sh
//! cargo run --release -p inflow-engine --example cutoff_bench -- sqlite 100000
//! cargo run --release -p inflow-engine --example cutoff_bench -- postgres 100000
//! ```
//!
//! PostgreSQL comes from `INFLOW_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); a throwaway database is
//! created and dropped. The collections are inserted first (not timed).

mod bench_common;

use std::time::Instant;

use bench_common::{backend_arg, peak_rss_mib, reset_peak_rss, rss_mib, Bench};
use inflow_engine::cutoff::run_cutoff;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let backend = backend_arg(args.next().as_deref());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);

    let bench = Bench::new(backend, "cutoff-bench").await;
    bench
        .insert_pending_debits(count, |i| format!("{:012}", 10_000 + i))
        .await;

    let (cfg, cutoff) = (&bench.cfg, bench.standard_cutoff());
    reset_peak_rss();
    let rss_before = rss_mib().unwrap_or(f64::NAN);
    let started = Instant::now();
    let summary = run_cutoff(&bench.db.store, &bench.vault, cfg, &cutoff, cutoff.at)
        .await
        .expect("cutoff");
    let elapsed = started.elapsed();
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    let size: u64 = summary
        .files
        .iter()
        .map(|f| {
            std::fs::metadata(cfg.outbound_dir.join(&f.file_name))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum();
    let names: Vec<&str> = summary.files.iter().map(|f| f.file_name.as_str()).collect();
    println!(
        "{backend:?}: cutoff of {} collections ({} batches) -> {} ({:.1} MB) in {:.2?}, \
         peak RSS {:.0} MiB (RSS before {:.0} MiB, growth {:.0} MiB)",
        summary.files.iter().map(|f| f.entry_count).sum::<i64>(),
        summary.files.iter().map(|f| f.batch_count).sum::<i64>(),
        names.join(", "),
        size as f64 / 1e6,
        elapsed,
        peak,
        rss_before,
        peak - rss_before
    );
    let _ = std::fs::remove_dir_all(&bench.dir);
}
