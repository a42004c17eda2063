//! Webhook flow: verify the `X-Signature` of a delivery and parse its payload.
//!
//! The server POSTs the same `{"inference": …}` JSON the polling flow returns (or a
//! failed-inference notice) to each webhook listed at enqueue, signed with HMAC-SHA256 of the
//! body under the webhook's signing secret, as lowercase hex.
//!
//! ```
//! use mindee_prep::upload::webhook;
//! let body = br#"{"inference_id":"x","error":{"status":500,"detail":"d","title":"t","code":"500-012","errors":[]}}"#;
//! let signature = webhook::sign("secret", body);
//! assert!(webhook::verify("secret", body, &signature));
//! assert!(!webhook::verify("other secret", body, &signature));
//! match webhook::verify_and_parse("secret", body, &signature).unwrap() {
//!     webhook::Payload::Failed(f) => assert_eq!(f.error.code.as_deref(), Some("500-012")),
//!     other => panic!("unexpected payload {other:?}"),
//! }
//! ```

use std::borrow::Cow;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::model::{FailedInference, InferenceResponse, Response};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Signature";

/// The environment variable that holds a webhook's signing secret.
pub const WEBHOOK_SECRET_ENV: &str = "MINDEE_V2_WEBHOOK_SECRET";

/// A webhook signing secret. Its `Debug` and `Display` print `WebhookSecret(***)`.
///
/// ```
/// let s = mindee_prep::upload::webhook::WebhookSecret::new("whsec_abc").unwrap();
/// assert_eq!(format!("{s:?} {s}"), "WebhookSecret(***) WebhookSecret(***)");
/// assert!(mindee_prep::upload::webhook::WebhookSecret::new(" ").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps a secret; refuses an empty one.
    pub fn new(secret: impl Into<String>) -> Result<Self, crate::Error> {
        let secret = secret.into();
        if secret.trim().is_empty() {
            return Err(crate::Error::Config(format!(
                "the webhook signing secret is empty; set {WEBHOOK_SECRET_ENV} to the webhook's secret from the Mindee platform"
            )));
        }
        Ok(WebhookSecret(secret.trim().to_string()))
    }

    /// Reads `MINDEE_V2_WEBHOOK_SECRET`.
    pub fn from_env() -> Result<Self, crate::Error> {
        match std::env::var(WEBHOOK_SECRET_ENV) {
            Ok(v) => WebhookSecret::new(v),
            Err(_) => Err(crate::Error::Config(format!(
                "no webhook signing secret: set {WEBHOOK_SECRET_ENV} to the webhook's secret from the Mindee platform"
            ))),
        }
    }

    /// The secret itself, for computing signatures. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for WebhookSecret {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

impl std::fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// What a webhook delivers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Payload {
    /// A result, with its raw JSON.
    Inference(Box<Response<InferenceResponse>>),
    /// A failed-inference notice.
    Failed(Box<FailedInference>),
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The signature is missing, malformed or does not match: the body may not come from Mindee.
    #[error(
        "the webhook signature does not match the body (wrong secret, or the body was altered)"
    )]
    BadSignature,
    /// The body is signed correctly but is neither an inference nor a failed-inference notice.
    #[error("the webhook body is not an inference nor a failed-inference notice: {0}")]
    Malformed(String),
}

/// The bytes that are signed: the body without CR and LF.
///
/// The server signs compact JSON, in which raw newlines cannot occur, so removing them changes
/// nothing there; every official SDK removes them, which is what lets a pretty-printed copy of a
/// payload (such as the SDKs' shared test vector) verify too.
fn signed_bytes(body: &[u8]) -> Cow<'_, [u8]> {
    if body.iter().any(|&b| b == b'\r' || b == b'\n') {
        Cow::Owned(
            body.iter()
                .copied()
                .filter(|&b| b != b'\r' && b != b'\n')
                .collect(),
        )
    } else {
        Cow::Borrowed(body)
    }
}

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(&signed_bytes(body));
    mac
}

/// The signature of `body` under `secret`, as lowercase hex (what the server sends).
pub fn sign(secret: impl AsRef<[u8]>, body: &[u8]) -> String {
    let digest = mac(secret.as_ref(), body).finalize().into_bytes();
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `signature` (the `X-Signature` header, hex in either case) is the HMAC-SHA256 of
/// `body` under `secret`. The comparison takes the same time wherever the first difference is.
pub fn verify(secret: impl AsRef<[u8]>, body: &[u8], signature: &str) -> bool {
    let Some(expected) = decode_hex(signature.trim()) else {
        return false;
    };
    mac(secret.as_ref(), body).verify_slice(&expected).is_ok()
}

/// Parses a delivery without checking its signature (for saved payloads).
pub fn parse(body: &[u8]) -> Result<Payload, WebhookError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    if value.get("inference").is_some() {
        Response::from_slice(body)
            .map(|r| Payload::Inference(Box::new(r)))
            .map_err(|e| WebhookError::Malformed(e.to_string()))
    } else if value.get("inference_id").is_some() && value.get("error").is_some() {
        serde_json::from_value(value)
            .map(|f| Payload::Failed(Box::new(f)))
            .map_err(|e| WebhookError::Malformed(e.to_string()))
    } else {
        Err(WebhookError::Malformed(
            "neither an `inference` nor an `inference_id` with an `error`".into(),
        ))
    }
}

/// Checks the signature, then parses the body. Nothing is parsed from an unsigned body.
pub fn verify_and_parse(
    secret: impl AsRef<[u8]>,
    body: &[u8],
    signature: &str,
) -> Result<Payload, WebhookError> {
    if !verify(secret, body, signature) {
        return Err(WebhookError::BadSignature);
    }
    parse(body)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    // A SHA-256 digest is 32 bytes; anything else cannot match.
    if s.len() != 64 {
        return None;
    }
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decoding() {
        let sig = sign("k", b"body");
        assert!(verify("k", b"body", &sig.to_uppercase()));
        assert!(verify("k", b"body", &format!(" {sig}\n")));
        assert!(!verify("k", b"body", &sig[..62]));
        assert!(!verify("k", b"body", &format!("{}zz", &sig[..62])));
        assert!(!verify("k", b"body", ""));
        assert!(!verify("k", b"body2", &sig));
    }
}
