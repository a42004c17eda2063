use serde::{Deserialize, Serialize};

use super::Extra;

/// The answer of `GET /v2/search/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSearchResponse {
    /// The models found.
    pub models: Vec<ModelInfo>,
    /// Paging information.
    pub pagination: Pagination,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One model of the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model ID.
    pub id: String,
    /// Name given in the platform.
    pub name: String,
    /// `extraction`, `split`, `crop`, …
    pub model_type: String,
    /// Webhooks configured for the model (the key may be missing altogether).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<Vec<ModelWebhook>>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A webhook endpoint configured on a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelWebhook {
    /// Webhook ID, to pass in `webhook_ids`.
    pub id: String,
    /// Name given in the platform.
    pub name: String,
    /// Receiving URL.
    pub url: String,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Paging of a search answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pagination {
    /// Items per page.
    pub per_page: Option<u64>,
    /// Page number (1-based).
    pub page: Option<u64>,
    /// Items matching the filter.
    pub total_items: Option<u64>,
    /// Pages matching the filter.
    pub total_pages: Option<u64>,
    /// Items without the filter.
    pub total_items_unfiltered: Option<u64>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The value of the `data_schema` enqueue parameter: `{"replace": {"fields": [...]}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSchema {
    /// Replaces the model's schema for this inference.
    pub replace: DataSchemaReplace,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// See [`DataSchema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSchemaReplace {
    /// The fields to extract.
    pub fields: Vec<DataSchemaField>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One field of a [`DataSchema`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSchemaField {
    /// Key in the result's `fields`.
    pub name: String,
    /// Human title.
    pub title: String,
    /// Whether the field is a list.
    pub is_array: bool,
    /// `string`, `number`, `date`, `nested_object`, …
    #[serde(rename = "type")]
    pub field_type: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional extraction guidelines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidelines: Option<String>,
    /// Other keys (`classification_values`, `unique_values`, `nested_fields`, …).
    #[serde(flatten)]
    pub extra: Extra,
}
