//! Upload to the Mindee API V2: the client, its options, typed results, webhook verification,
//! the job journal of batches and (features `mock-server`, `webhook-server`) a local simulator
//! of the API and a webhook receiver.
//!
//! Two flows, as in the API:
//! * polling: [`Client::enqueue_and_wait`] (enqueue → poll the job → fetch the result);
//! * webhooks: [`Client::enqueue`] with [`EnqueueParams::webhook_id`], then
//!   [`webhook::verify_and_parse`] in the receiving endpoint (or the ready-made
//!   `receiver::WebhookReceiver`).
//!
//! Batches ([`batch`]) keep a [`journal`] so that crashes and reruns neither lose a result nor
//! enqueue a file twice without saying so.

pub mod batch;
mod client;
pub mod journal;
mod key;
pub mod model;
mod pacing;
mod params;
mod polling;
mod retry;
mod source;
pub mod webhook;

#[cfg(feature = "mock-server")]
pub mod mock;
#[cfg(feature = "webhook-server")]
pub mod receiver;

pub use client::{
    Client, ClientBuilder, EnqueueEvent, EnqueueOutcome, BASE_URL_ENV, DEFAULT_BASE_URL,
    TIMEOUT_ENV,
};
pub use key::{ApiKey, API_KEY_ENV};
pub use model::Response;
pub use pacing::RateLimits;
pub use params::{EnqueueParams, Product};
pub use polling::PollingOptions;
pub use retry::RetryPolicy;
pub use source::Source;
