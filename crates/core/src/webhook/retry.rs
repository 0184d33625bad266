//! When a failed delivery is tried again.
//!
//! Attempt `n` (1-based) that fails waits `base · 2^(n-1)`, capped at
//! `max_delay`, with "equal jitter": half of that delay is fixed and the
//! other half random, so deliveries that failed together do not return
//! together. Retries stop at the end of the retry window (3 days by
//! default, counted from the delivery's creation): the last attempt is made
//! at the window's end, and if it fails the delivery is `failed`.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max_delay: Duration,
    pub window: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::seconds(30),
            max_delay: Duration::hours(6),
            window: Duration::days(3),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(DateTime<Utc>),
    GiveUp,
}

impl RetryPolicy {
    /// The delay after failed attempt `attempt` (1-based); `jitter` is a
    /// uniform random number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(40);
        let base_ms = self.base.num_milliseconds().max(1);
        let full = base_ms
            .saturating_mul(1i64 << exp)
            .min(self.max_delay.num_milliseconds().max(1));
        let jitter = jitter.clamp(0.0, 1.0);
        let half = full / 2;
        Duration::milliseconds(full - half + (half as f64 * jitter) as i64)
    }

    /// After attempt `attempt` failed at `now`, in a window that opened at
    /// `window_start`: retry when, or give up.
    pub fn after_failure(
        &self,
        attempt: u32,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
        jitter: f64,
    ) -> AfterFailure {
        let deadline = window_start + self.window;
        if now >= deadline {
            return AfterFailure::GiveUp;
        }
        AfterFailure::RetryAt((now + self.delay(attempt, jitter)).min(deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn delays_double_up_to_the_cap_and_jitter_stays_within_half() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, 1.0), Duration::seconds(30));
        assert_eq!(p.delay(1, 0.0), Duration::seconds(15));
        assert_eq!(p.delay(3, 1.0), Duration::seconds(120));
        assert_eq!(p.delay(30, 1.0), Duration::hours(6));
        assert_eq!(p.delay(u32::MAX, 0.0), Duration::hours(3));
    }

    #[test]
    fn retries_stop_at_the_end_of_the_window_with_a_last_attempt_there() {
        let p = RetryPolicy::default();
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let late = start + Duration::days(3) - Duration::minutes(1);
        assert_eq!(
            p.after_failure(20, late, start, 0.5),
            AfterFailure::RetryAt(start + Duration::days(3))
        );
        assert_eq!(
            p.after_failure(21, start + Duration::days(3), start, 0.5),
            AfterFailure::GiveUp
        );
        // Over three days the schedule makes a couple of dozen attempts.
        let (mut now, mut n) = (start, 0);
        while let AfterFailure::RetryAt(t) = p.after_failure(n + 1, now, start, 1.0) {
            now = t;
            n += 1;
        }
        assert!((15..40).contains(&n), "{n} attempts");
    }
}
