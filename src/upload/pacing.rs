//! Pacing: the client spreads its requests so that no sliding window holds more than the API
//! allows (200 enqueues and 1,200 GETs a minute per organisation), instead of learning the
//! limits from 429s.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::Error;

/// Request limits per sliding window. Every request counts, retries included; every GET counts
/// as a poll (job and result alike).
///
/// ```
/// use std::time::Duration;
/// use mindee_prep::upload::RateLimits;
/// let limits = RateLimits::default();
/// assert_eq!((limits.enqueues, limits.polls), (200, 1200));
/// assert_eq!(limits.window, Duration::from_secs(60));
/// let gentle = RateLimits { enqueues: 20, ..RateLimits::default() };
/// assert!(gentle.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Enqueue requests per window. Default: `200` (the API's limit per minute).
    pub enqueues: u32,
    /// GET requests per window. Default: `1200` (the API's limit per minute).
    pub polls: u32,
    /// The window. Default: one minute, as the API counts.
    pub window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enqueues: 200,
            polls: 1200,
            window: Duration::from_secs(60),
        }
    }
}

impl RateLimits {
    /// Refuses zero limits and a zero window.
    pub fn validate(&self) -> Result<(), Error> {
        if self.enqueues == 0 || self.polls == 0 {
            return Err(Error::Config(
                "request limits must be at least 1 per window".into(),
            ));
        }
        if self.window.is_zero() {
            return Err(Error::Config(
                "the rate-limit window must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// One sliding-window limiter. A request holds one of `limit` permits from before it leaves
/// until `window` (plus a margin of 1/50) after its answer came back. Whatever the delays on
/// the way, the server then never sees more than `limit` requests in any `window`: of `limit
/// + 1` requests arriving within one window, the last to leave would have found the other
/// `limit` still in flight or answered less than a window before, holding every permit.
#[derive(Debug)]
pub(crate) struct Pacer {
    span: Duration,
    permits: Arc<Semaphore>,
}

/// A taken slot: released a window after it is dropped (when the answer is in).
#[derive(Debug)]
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    span: Duration,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        let span = self.span;
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    tokio::time::sleep(span).await;
                    drop(permit);
                });
            }
            // No runtime left (shutting down): nothing will send again through it.
            Err(_) => drop(permit),
        }
    }
}

impl Pacer {
    pub(crate) fn new(limit: u32, window: Duration) -> Pacer {
        Pacer {
            span: window + window / 50,
            permits: Arc::new(Semaphore::new(limit.max(1) as usize)),
        }
    }

    /// Waits for a slot; hold it until the answer is in.
    pub(crate) async fn acquire(&self) -> Slot {
        let permit = self.permits.clone().acquire_owned().await.ok();
        Slot {
            permit,
            span: self.span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_limit() {
        let pacer = std::sync::Arc::new(Pacer::new(5, Duration::from_secs(10)));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..23 {
            let p = pacer.clone();
            tasks.spawn(async move {
                let slot = p.acquire().await;
                let sent = Instant::now();
                // The answer takes a while.
                tokio::time::sleep(Duration::from_millis(300)).await;
                drop(slot);
                sent
            });
        }
        let mut times = Vec::new();
        while let Some(t) = tasks.join_next().await {
            times.push(t.unwrap() - start);
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(10))
                .count();
            assert!(
                in_window <= 5,
                "{in_window} requests in the window from {t:?}"
            );
        }
        // Not slower than needed: 23 requests, 5 per (0.3 s answer + 10.2 s), start in the fifth.
        assert!(
            times[22] <= Duration::from_millis(42_100),
            "{:?}",
            times[22]
        );
        assert_eq!(times[4], Duration::ZERO);
    }
}
