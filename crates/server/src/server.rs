//! Running the HTTP server and its housekeeping tasks.

use anyhow::Context;
use std::net::SocketAddr;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::state::AppState;

/// A server listening on a socket. Dropping it does not stop it; call [`RunningServer::shutdown`].
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The admin listener serving `/metrics`, when `[metrics] listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
    /// The background loops, aborted if the grace period runs out.
    tasks: Vec<tokio::task::AbortHandle>,
}

impl RunningServer {
    /// Stop accepting, give in-flight requests and background jobs
    /// `shutdown_grace_secs` to finish, abandon whatever is still running
    /// then (transactions roll back; leases and delivery claims lapse and
    /// are taken over), and return.
    pub async fn shutdown(self) {
        self.state
            .draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.stop.send(true);
        let grace = std::time::Duration::from_secs(self.state.config.shutdown_grace_secs);
        let mut handle = self.handle;
        if tokio::time::timeout(grace, &mut handle).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "shutdown grace period over; abandoning in-flight work"
            );
            handle.abort();
            for t in &self.tasks {
                t.abort();
            }
            let _ = handle.await;
        }
    }

    /// Serve until Ctrl-C or SIGTERM.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// Bind `state.config.listen` (port 0 picks a free port) and start serving.
pub async fn spawn(state: AppState) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(state.config.listen)
        .await
        .with_context(|| format!("binding {}", state.config.listen))?;
    let addr = listener.local_addr()?;
    crate::metrics::install();
    let metrics_listener = match state.config.metrics.listen {
        Some(at) if state.config.metrics.enabled => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("binding the metrics listener {at}"))?,
        ),
        _ => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    let (stop, mut stopped) = watch::channel(false);
    let app = crate::api::router(state.clone());
    let housekeeping = tokio::spawn(housekeeping(state.clone(), stop.subscribe()));
    let ach = tokio::spawn(ach_loop(state.clone(), stop.subscribe()));
    let webhooks = tokio::spawn(webhook_loop(state.clone(), stop.subscribe()));
    let admin = metrics_listener.map(|l| {
        tokio::spawn(crate::metrics::serve_admin(
            state.clone(),
            l,
            stop.subscribe(),
        ))
    });
    let mut tasks = vec![
        housekeeping.abort_handle(),
        ach.abort_handle(),
        webhooks.abort_handle(),
    ];
    tasks.extend(admin.as_ref().map(|a| a.abort_handle()));
    let handle = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped with an error");
        }
        // Like a crash for the dispatcher: attempts in flight are dropped,
        // their claims lapse and another pass (here or on another node)
        // retries them — a pass can be long and nothing is lost by stopping it.
        webhooks.abort();
        // The other loops return at their next wait once told to stop: a
        // tick in flight finishes first (within the grace period).
        let _ = housekeeping.await;
        let _ = ach.await;
        let _ = webhooks.await;
        if let Some(a) = admin {
            let _ = a.await;
        }
    });
    Ok(RunningServer {
        addr,
        metrics_addr,
        state,
        stop,
        handle,
        tasks,
    })
}

/// How long a background pass waits for the scheduler lease before
/// leaving the tick to the node that holds it.
const BACKGROUND_SCHEDULER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Cutoffs, settlement, the sandbox bank and the inbound folder, every
/// `scheduler_interval_secs` (0 turns the loop off: tests drive it).
async fn ach_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = state.config.scheduler_interval_secs;
    if every == 0 {
        return;
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = crate::app::sandbox_clock::sync(&state).await {
            tracing::warn!(error = %e, "cannot read the shared sandbox clock");
            continue;
        }
        let now = state.clock.now();
        let from = match inflow_engine::scheduler::last_tick(&state.store).await {
            Ok(Some(t)) if t < now => t,
            Ok(Some(_)) => continue,
            Ok(None) => now - chrono::Duration::seconds(every as i64),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the scheduler position");
                continue;
            }
        };
        let lease = crate::app::ach_jobs::SchedulerLease::Wait(BACKGROUND_SCHEDULER_WAIT);
        let pass = crate::app::ach_jobs::run_due(&state, from, now, lease);
        match pass
            .instrument(tracing::info_span!("jobs", from = %from, to = %now))
            .await
        {
            Ok(r)
                if r.occurrences_created
                    + r.cutoffs_run
                    + r.settled_processing
                    + r.settled_completed
                    + r.inbound_files_processed
                    + r.card_calls_resolved
                    + r.card_authorizations_expired
                    + r.card_batches_closed
                    > 0 =>
            {
                tracing::info!(?r, "ACH jobs ran")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "ACH jobs failed; retrying on the next tick"),
        }
    }
}

/// Webhook delivery: a pass whenever a write commits on this node (new
/// events) and at least every `webhooks.poll_interval_ms` (retries coming
/// due, events written by other nodes). 0 turns the loop off.
async fn webhook_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = state.config.webhooks.poll_interval_ms;
    if every == 0 {
        return;
    }
    let every = std::time::Duration::from_millis(every);
    let signal = state.store.commit_signal().clone();
    loop {
        if let Err(e) = crate::app::sandbox_clock::sync(&state).await {
            tracing::warn!(error = %e, "cannot read the shared sandbox clock");
        }
        let pass = state.webhooks.run_pass(usize::MAX);
        match pass
            .instrument(tracing::info_span!("job_step", step = "webhooks"))
            .await
        {
            Ok(r) if r.attempts > 0 => tracing::debug!(?r, "webhook pass"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook pass failed; retrying on the next tick"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = signal.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Periodic upkeep: every minute, forget request signatures whose window
/// has passed; every ten minutes, purge expired idempotency records and
/// console sessions; every
/// `[alerts] ledger_check_interval_secs` (rounded up to minutes), check the
/// ledger (`ledger.check_failed` when it fails).
async fn housekeeping(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut minutes: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let tolerance = state.config.signature_tolerance_secs;
        let purge = state.replay.purge(state.wall_clock.now(), tolerance);
        let step = tracing::info_span!("job_step", step = "forget_signatures");
        match purge.instrument(step).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(forgotten = n, "expired request signatures forgotten"),
            Err(e) => tracing::warn!(error = %e, "forgetting expired request signatures failed"),
        }
        minutes += 1;
        if minutes % 10 == 1 {
            purge_idempotency_records(&state).await;
            purge_console_sessions(&state).await;
        }
        let every = state.config.alerts.ledger_check_interval_secs.div_ceil(60);
        if every > 0 && minutes.is_multiple_of(every) {
            let check = inflow_engine::alerts::check_ledger(&state.store, state.clock.now());
            let step = tracing::info_span!("job_step", step = "ledger_check");
            match check.instrument(step).await {
                Ok(c) if !c.is_ok() => tracing::error!(
                    unbalanced = c.unbalanced.len(),
                    mismatches = c.balance_mismatches.len(),
                    "the ledger check failed"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the ledger check could not run"),
            }
        }
    }
}

async fn purge_idempotency_records(state: &AppState) {
    let purged = async {
        let mut tx = state.store.begin().await?;
        let n = tx.purge_expired_idempotency_keys(state.clock.now()).await?;
        tx.commit().await?;
        Ok::<_, inflow_store::StoreError>(n)
    }
    .instrument(tracing::info_span!(
        "job_step",
        step = "purge_idempotency_keys"
    ))
    .await;
    match purged {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "expired idempotency records removed"),
        Err(e) => tracing::warn!(error = %e, "idempotency purge failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Forget console sessions past their idle expiry (wall clock).
async fn purge_console_sessions(state: &AppState) {
    let now = state.wall_clock.now();
    let purged = state
        .store
        .write(move |tx| Box::pin(async move { tx.purge_console_sessions(now).await }))
        .await;
    match purged {
        Ok(0) => {}
        Ok(n) => tracing::debug!(purged = n, "expired console sessions forgotten"),
        Err(e) => tracing::warn!(error = %e, "forgetting expired console sessions failed"),
    }
}
