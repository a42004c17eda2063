//! Pacing: the client spreads its requests so that no sliding window holds more than the API
//! allows (200 enqueues and 1,200 GETs a minute per organisation), instead of learning the
//! limits from 429s.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

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
            return Err(Error::Config("the rate-limit window must be positive".into()));
        }
        Ok(())
    }
}

/// One sliding-window limiter. A request reserves the earliest time at which the window before
/// it holds fewer than `limit` requests, then sleeps until then. Reservations are made under a
/// lock, so concurrent tasks never overbook; the times reserved never decrease.
#[derive(Debug)]
pub(crate) struct Pacer {
    limit: usize,
    // The window plus a margin (1/50 of it): requests do not reach the server in exactly the
    // order and spacing they leave, so the server's count must not see two `window`s collapse.
    span: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Pacer {
    pub(crate) fn new(limit: u32, window: Duration) -> Pacer {
        Pacer {
            limit: limit.max(1) as usize,
            span: window + window / 50,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits for a slot and takes it.
    pub(crate) async fn acquire(&self) {
        let at = {
            let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let at = if sent.len() >= self.limit {
                let oldest = sent[sent.len() - self.limit];
                now.max(oldest + self.span)
            } else {
                now
            };
            sent.push_back(at);
            while sent.len() > self.limit {
                sent.pop_front();
            }
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_limit() {
        let pacer = std::sync::Arc::new(Pacer::new(5, Duration::from_secs(10)));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..23 {
            let p = pacer.clone();
            tasks.spawn(async move {
                p.acquire().await;
                Instant::now()
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
            assert!(in_window <= 5, "{in_window} requests in the window from {t:?}");
        }
        // Not slower than needed: 23 requests at 5 per 10.2 s end in the fifth window.
        assert!(times[22] <= Duration::from_millis(40_800), "{:?}", times[22]);
        assert_eq!(times[4], Duration::ZERO);
    }
}
