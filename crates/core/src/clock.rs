//! Where Inflow gets the time. Nothing reads the system clock directly: in
//! sandbox mode the operator can move time forward to watch cutoffs,
//! settlement and returns happen.

use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// Real time.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Real time plus an offset that only ever grows.
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset_ms: AtomicI64,
}

impl SandboxClock {
    pub fn with_offset(offset: Duration) -> Self {
        Self {
            offset_ms: AtomicI64::new(offset.num_milliseconds().max(0)),
        }
    }

    /// Move time forward; a negative or zero step is ignored, so time never runs backwards.
    pub fn advance(&self, by: Duration) -> Duration {
        let ms = by.num_milliseconds().max(0);
        Duration::milliseconds(self.offset_ms.fetch_add(ms, Ordering::SeqCst) + ms)
    }

    /// Bring the offset up to `offset` if it is behind (another node moved
    /// the shared clock); never moves it back. Returns the offset now.
    pub fn catch_up(&self, offset: Duration) -> Duration {
        let ms = offset.num_milliseconds().max(0);
        Duration::milliseconds(self.offset_ms.fetch_max(ms, Ordering::SeqCst).max(ms))
    }

    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for SandboxClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_clock_moves_forward_and_never_back() {
        let c = SandboxClock::default();
        let before = c.now();
        c.advance(Duration::days(2));
        assert!(c.now() - before >= Duration::days(2));
        c.advance(Duration::days(-5));
        assert_eq!(c.offset(), Duration::days(2));
        assert_eq!(c.catch_up(Duration::days(1)), Duration::days(2));
        assert_eq!(c.catch_up(Duration::days(3)), Duration::days(3));
        assert_eq!(c.offset(), Duration::days(3));
    }
}
