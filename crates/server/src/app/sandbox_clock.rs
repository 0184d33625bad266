//! One sandbox clock for every node on a database.
//!
//! The clock is the wall clock plus an offset that only grows. The offset's
//! source of truth is the `settings` row [`OFFSET_SETTING`]: an advance adds
//! to it in one statement (so advances on two nodes both count), and every
//! node brings its in-memory offset up to the stored one before each API
//! request and each background pass ([`sync`]). No timer is involved: the
//! request after an advance on any node sees the new business time.

use chrono::Duration;
use inflow_core::clock::SandboxClock;
use inflow_store::StoreError;

use crate::state::AppState;

/// The `settings` row holding the sandbox clock's offset in milliseconds.
pub const OFFSET_SETTING: &str = "sandbox.clock_offset_ms";

/// Bring this node's sandbox clock up to the stored offset (nothing outside
/// sandbox mode). One primary-key read.
pub async fn sync(state: &AppState) -> Result<(), StoreError> {
    let Some(clock) = &state.sandbox_clock else {
        return Ok(());
    };
    let mut tx = state.store.read().await?;
    let stored = tx.get_setting(OFFSET_SETTING).await?;
    tx.rollback().await?;
    if let Some(v) = stored {
        let ms: i64 = v
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("{OFFSET_SETTING} = {v:?}")))?;
        clock.catch_up(Duration::milliseconds(ms));
    }
    Ok(())
}

/// Move the shared clock forward by `by` (committed before it returns) and
/// this node's `clock` with it; returns the offset now.
pub async fn advance(
    state: &AppState,
    clock: &SandboxClock,
    by: Duration,
) -> Result<Duration, StoreError> {
    // A node that has never stored its offset (an older version kept it in
    // memory only) stores what it has first, so time never runs backwards.
    let local = clock.offset().num_milliseconds();
    let stored = state
        .store
        .write(move |tx| {
            Box::pin(async move {
                let current = tx.add_to_setting(OFFSET_SETTING, 0).await?;
                let base = current.max(local);
                let step = by.num_milliseconds().max(0);
                tx.add_to_setting(OFFSET_SETTING, base - current + step)
                    .await
            })
        })
        .await?;
    Ok(clock.catch_up(Duration::milliseconds(stored)))
}

/// Middleware: sync the sandbox clock before the request is handled.
pub async fn sync_before_request(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Err(e) = sync(&state).await {
        tracing::error!(error = %e, "cannot read the shared sandbox clock");
        return crate::error::ApiError::from(e).into_response();
    }
    next.run(req).await
}
