//! Upload to the Mindee API V2: the client, its options, typed results, webhook verification
//! and (feature `mock-server`) a local simulator of the API.
//!
//! Two flows, as in the API:
//! * polling: [`Client::enqueue_and_wait`] (enqueue → poll the job → fetch the result);
//! * webhooks: [`Client::enqueue`] with [`EnqueueParams::webhook_id`], then
//!   [`webhook::verify_and_parse`] in the receiving endpoint.

pub mod batch;
mod client;
mod key;
pub mod model;
mod params;
mod polling;
mod retry;
mod source;
pub mod webhook;

#[cfg(feature = "mock-server")]
pub mod mock;

pub use client::{Client, ClientBuilder, BASE_URL_ENV, DEFAULT_BASE_URL, TIMEOUT_ENV};
pub use key::{ApiKey, API_KEY_ENV};
pub use model::Response;
pub use params::{EnqueueParams, Product};
pub use polling::PollingOptions;
pub use retry::RetryPolicy;
pub use source::Source;
