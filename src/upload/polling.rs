use std::time::Duration;

use crate::Error;

/// How [`Client::enqueue_and_wait`](crate::Client::enqueue_and_wait) polls a job.
///
/// The defaults are the official SDKs': first poll after 2 s, then every 1.5 s, at most 80
/// polls (about two minutes). Delays under one second are refused, as the SDKs do, so that
/// polling stays well within the API's 1200 GET/min.
///
/// ```
/// use std::time::Duration;
/// let polling = mindee_prep::PollingOptions {
///     interval: Duration::from_secs(3),
///     ..Default::default()
/// };
/// assert!(polling.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollingOptions {
    /// Wait before the first poll.
    pub initial_delay: Duration,
    /// Wait between polls.
    pub interval: Duration,
    /// Polls before giving up with a timeout error.
    pub max_polls: u32,
}

impl Default for PollingOptions {
    fn default() -> Self {
        PollingOptions {
            initial_delay: Duration::from_secs(2),
            interval: Duration::from_millis(1500),
            max_polls: 80,
        }
    }
}

impl PollingOptions {
    /// The shortest delay allowed.
    pub const MIN_DELAY: Duration = Duration::from_secs(1);

    /// Refuses delays under one second and zero polls.
    pub fn validate(&self) -> Result<(), Error> {
        if self.initial_delay < Self::MIN_DELAY || self.interval < Self::MIN_DELAY {
            return Err(Error::Config(format!(
                "polling delays must be at least 1 s (initial delay {:?}, interval {:?})",
                self.initial_delay, self.interval
            )));
        }
        if self.max_polls == 0 {
            return Err(Error::Config("max_polls must be at least 1".into()));
        }
        Ok(())
    }
}
