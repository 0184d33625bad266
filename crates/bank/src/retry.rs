//! Bounded retries with exponential backoff. The caller (the delivery job)
//! owns the loop: it asks the policy how long to wait before attempt `n`,
//! and gives up — marking the file `upload_failed`, with an event and an
//! alert — when the policy says so or the error is not retryable.

use std::time::Duration;

/// How many times to try, and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first one included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt.
    pub initial_backoff: Duration,
    /// Upper bound of any single wait.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts over about 2½ minutes: 10 s, 20 s, 40 s, 80 s.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt number `attempt` (1-based; the first attempt
    /// waits nothing), or `None` when no attempt `attempt` is allowed.
    pub fn backoff_before(&self, attempt: u32) -> Option<Duration> {
        if attempt == 0 || attempt > self.max_attempts.max(1) {
            return None;
        }
        if attempt == 1 {
            return Some(Duration::ZERO);
        }
        let factor = 2u32.saturating_pow(attempt - 2);
        Some(
            self.initial_backoff
                .saturating_mul(factor)
                .min(self.max_backoff),
        )
    }

    /// Run `op` until it succeeds, fails with an error that is not
    /// retryable, or the attempts run out; returns the last error and the
    /// number of attempts made. Waits with `tokio::time::sleep`.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, (crate::TransportError, u32)>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T, crate::TransportError>>,
    {
        let mut attempt = 1;
        loop {
            match op(attempt).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let next = self.backoff_before(attempt + 1);
                    match next {
                        Some(wait) if e.is_retryable() => {
                            tracing::warn!(attempt, error = %e, ?wait, "bank transfer failed; retrying");
                            tokio::time::sleep(wait).await;
                            attempt += 1;
                        }
                        _ => return Err((e, attempt)),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransportError;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stops_after_the_last_attempt() {
        let p = RetryPolicy {
            max_attempts: 6,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
        };
        let waits: Vec<_> = (1..=7).map(|n| p.backoff_before(n)).collect();
        let s = Duration::from_secs;
        assert_eq!(
            waits,
            vec![
                Some(s(0)),
                Some(s(1)),
                Some(s(2)),
                Some(s(4)),
                Some(s(5)),
                Some(s(5)),
                None
            ]
        );
        assert_eq!(p.backoff_before(0), None);
    }

    fn down() -> TransportError {
        TransportError::Connect {
            endpoint: "h".into(),
            detail: "refused".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn run_retries_retryable_errors_until_success() {
        let p = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        };
        let out = p
            .run(|n| async move {
                if n < 3 {
                    Err(down())
                } else {
                    Ok(n)
                }
            })
            .await;
        assert_eq!(out.unwrap(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn run_gives_up_at_once_on_a_permanent_error_and_after_the_last_attempt() {
        let p = RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        };
        let (e, n) = p
            .run(|_| async { Err::<(), _>(TransportError::AuthRejected { user: "u".into() }) })
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::AuthRejected { .. }));
        assert_eq!(n, 1);
        let (_, n) = p.run(|_| async { Err::<(), _>(down()) }).await.unwrap_err();
        assert_eq!(n, 3);
    }
}
