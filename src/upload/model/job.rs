use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Extra, ProblemDetails};

/// `{"job": …}`, the answer of enqueue and of job polling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResponse {
    /// The job.
    pub job: Job,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A processing job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Job ID (in production, also the inference ID).
    pub id: String,
    /// The model the file was sent to.
    #[serde(default)]
    pub model_id: Option<String>,
    /// The file name as sent.
    #[serde(default)]
    pub filename: Option<String>,
    /// The alias as sent.
    #[serde(default)]
    pub alias: Option<String>,
    /// Creation time, ISO 8601 (sometimes without a time zone: UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Completion time, `null` until the job is done.
    #[serde(default)]
    pub completed_at: Option<String>,
    /// Where the job stands.
    pub status: JobStatus,
    /// Absolute URL to poll.
    #[serde(default)]
    pub polling_url: Option<String>,
    /// Absolute URL of the result, `null` until processed.
    #[serde(default)]
    pub result_url: Option<String>,
    /// Per-webhook delivery status.
    #[serde(default)]
    pub webhooks: Vec<JobWebhook>,
    /// Problem details of a failed job.
    #[serde(default)]
    pub error: Option<ProblemDetails>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Delivery status of one webhook of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobWebhook {
    /// Webhook ID.
    pub id: String,
    /// When the delivery was attempted.
    #[serde(default)]
    pub created_at: Option<String>,
    /// `Processed`, `Failed`, …
    #[serde(default)]
    pub status: Option<String>,
    /// Delivery error, if any.
    #[serde(default)]
    pub error: Option<ProblemDetails>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of a [`Job`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobStatus {
    /// Still working.
    Processing,
    /// Done; the result can be fetched.
    Processed,
    /// Done; `error` says why it failed.
    Failed,
    /// A status this version does not know, kept verbatim.
    Other(String),
}

impl JobStatus {
    /// The word the API uses.
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Processing => "Processing",
            JobStatus::Processed => "Processed",
            JobStatus::Failed => "Failed",
            JobStatus::Other(s) => s,
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JobStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "Processing" => JobStatus::Processing,
            "Processed" => JobStatus::Processed,
            "Failed" => JobStatus::Failed,
            _ => JobStatus::Other(s),
        })
    }
}
