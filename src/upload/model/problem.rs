use serde::{Deserialize, Serialize};

use super::Extra;
use crate::ApiProblem;

/// An RFC 9457 problem as the API sends it (`status`, `title`, `code`, `detail`, `errors`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProblemDetails {
    /// The HTTP status the problem stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Longer explanation.
    #[serde(default)]
    pub detail: Option<String>,
    /// Short title.
    #[serde(default)]
    pub title: Option<String>,
    /// The API's `NNN-NNN` code.
    #[serde(default)]
    pub code: Option<String>,
    /// Per-field errors, with JSON pointers such as `#/model_id`.
    #[serde(default)]
    pub errors: Vec<ProblemItem>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of [`ProblemDetails::errors`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProblemItem {
    /// JSON pointer to the offending request field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// What is wrong with it.
    #[serde(default)]
    pub detail: Option<String>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ProblemDetails {
    /// Converts to the crate's [`ApiProblem`]; `http_status` is used when the body has none.
    pub fn to_api_problem(&self, http_status: u16) -> ApiProblem {
        ApiProblem {
            status: self.status.unwrap_or(http_status),
            code: self.code.clone(),
            title: self.title.clone(),
            detail: self.detail.clone(),
            pointers: self
                .errors
                .iter()
                .map(|e| {
                    (
                        e.pointer.clone().unwrap_or_default(),
                        e.detail.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }
}

/// The payload a webhook receives when an inference failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedInference {
    /// The inference (= job) ID.
    pub inference_id: String,
    /// The model used.
    #[serde(default)]
    pub model_id: Option<String>,
    /// The file name sent.
    #[serde(default)]
    pub file_name: Option<String>,
    /// The alias sent, if any.
    #[serde(default)]
    pub file_alias: Option<String>,
    /// Why it failed.
    pub error: ProblemDetails,
    /// When the inference was created (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}
