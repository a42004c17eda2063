use std::fmt;

use crate::Error;

/// The environment variable that holds the API key.
pub const API_KEY_ENV: &str = "MINDEE_V2_API_KEY";

/// A Mindee API V2 key.
///
/// Its `Debug` and `Display` print `ApiKey(***)`, so a key logged by mistake shows nothing.
///
/// ```
/// let key = mindee_prep::ApiKey::new("md_secret").unwrap();
/// assert_eq!(format!("{key:?} {key}"), "ApiKey(***) ApiKey(***)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key; refuses an empty one and one that cannot travel in an HTTP header.
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        let trimmed = key.trim();
        if trimmed.is_empty() {
            return Err(Error::Config(format!(
                "the API key is empty; set {API_KEY_ENV} to a key from the Mindee platform"
            )));
        }
        // Header values must be visible ASCII; the message names no byte of the key.
        if !trimmed.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return Err(Error::Config(format!(
                "the API key in use contains spaces or non-ASCII characters; check {API_KEY_ENV}"
            )));
        }
        Ok(ApiKey(trimmed.to_string()))
    }

    /// Reads `MINDEE_V2_API_KEY`.
    pub fn from_env() -> Result<Self, Error> {
        match std::env::var(API_KEY_ENV) {
            Ok(v) => ApiKey::new(v),
            Err(_) => Err(Error::Config(format!(
                "no API key: set {API_KEY_ENV} to a key from the Mindee platform"
            ))),
        }
    }

    /// The key itself, for building the `Authorization` header. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}
