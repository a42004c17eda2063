use std::time::{Duration, SystemTime};

/// How failed requests are retried.
///
/// * 429 waits for `Retry-After` (seconds or an HTTP date; at most [`RetryPolicy::max_retry_after`]),
///   or the back-off when the header is missing.
/// * 5xx, timeouts and connection errors on GET wait a capped exponential back-off with jitter.
/// * The enqueue POST is retried when it surely created no job: 429, 503, or a connection
///   that was never established; after an ambiguous failure (500, 502, 504, a dropped
///   connection, a timeout) only as many times as the caller of
///   [`Client::enqueue_observed`](crate::Client::enqueue_observed) allows.
///
/// After [`RetryPolicy::max_attempts`] requests the last error is returned. The default, 8,
/// rides out a bad minute: with 30 % of requests failing, one request in 15,000 still fails
/// after 8 attempts.
///
/// ```
/// use std::time::Duration;
/// let fast = mindee_prep::RetryPolicy {
///     base_delay: Duration::from_millis(50),
///     ..Default::default()
/// };
/// assert_eq!(fast.max_attempts, 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests sent at most, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Back-off before the first retry; doubles each time.
    pub base_delay: Duration,
    /// Back-off never exceeds this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is shortened to it.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): `base · 2^(retry-1)`, capped, with
    /// "equal jitter" (half fixed, half random) so that parallel uploads do not retry in step.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// The wait asked by a `Retry-After` value, capped; `None` when it cannot be read.
    pub(crate) fn retry_after(&self, value: &str, now: SystemTime) -> Option<Duration> {
        let value = value.trim();
        let wait = if let Ok(secs) = value.parse::<u64>() {
            Duration::from_secs(secs)
        } else {
            let when = httpdate::parse_http_date(value).ok()?;
            when.duration_since(now).unwrap_or(Duration::ZERO)
        };
        Some(wait.min(self.max_retry_after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..Default::default()
        };
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b2 = p.backoff(2);
            assert!(b2 >= Duration::from_millis(100) && b2 <= Duration::from_millis(200));
            assert!(p.backoff(30) <= Duration::from_millis(350));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let p = RetryPolicy::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(p.retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(p.retry_after("3600", now), Some(Duration::from_secs(60)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(p.retry_after(&later, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(p.retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(p.retry_after("soon", now), None);
    }
}
