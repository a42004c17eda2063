use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{tristate, Extra, Fields, Location, Polygon};

/// `{"inference": …}`: a result, as polled or as delivered to a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceResponse {
    /// The inference.
    pub inference: Inference,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The inference envelope shared by every product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inference {
    /// Inference ID (equal to the job ID in production).
    pub id: String,
    /// The job that produced it.
    pub job: IdRef,
    /// The model used.
    pub model: IdRef,
    /// What was sent.
    pub file: InferenceFile,
    /// The product-specific result.
    pub result: InferenceResult,
    /// Options in force (extraction only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_options: Option<ActiveOptions>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `{"id": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdRef {
    /// The ID.
    pub id: String,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The file as the server saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceFile {
    /// File name as sent.
    pub name: String,
    /// Alias as sent.
    #[serde(default)]
    pub alias: Option<String>,
    /// Number of pages.
    pub page_count: u32,
    /// MIME type the server detected.
    pub mime_type: String,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Extraction options in force for an inference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveOptions {
    /// Full text was returned.
    #[serde(default)]
    pub raw_text: bool,
    /// Polygons were computed.
    #[serde(default)]
    pub polygon: bool,
    /// Confidence scores were computed.
    #[serde(default)]
    pub confidence: bool,
    /// Retrieval-augmented generation was used.
    #[serde(default)]
    pub rag: bool,
    /// A text context was given.
    #[serde(default)]
    pub text_context: bool,
    /// Whether a data schema replaced the model's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_schema: Option<DataSchemaActive>,
    /// Keys this version does not know (`multipage_context`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `active_options.data_schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSchemaActive {
    /// The schema was replaced for this inference.
    pub replace: bool,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The product-specific part of an inference, told apart by its keys.
///
/// A result whose shape matches no known product (or is damaged) is kept as [`InferenceResult::Other`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum InferenceResult {
    /// Extraction (`fields`).
    Extraction(ExtractionResult),
    /// Split (`splits`).
    Split(SplitResult),
    /// Crop (`crops`).
    Crop(CropResult),
    /// OCR (`pages`).
    Ocr(OcrResult),
    /// Classification (`classification`).
    Classification(ClassificationResult),
    /// Anything else, verbatim.
    Other(Extra),
}

/// An extraction result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractionResult {
    /// The extracted fields, in the server's order.
    pub fields: Fields,
    #[serde(default, with = "tristate", skip_serializing_if = "Option::is_none")]
    raw_text: Option<Option<RawText>>,
    #[serde(default, with = "tristate", skip_serializing_if = "Option::is_none")]
    rag: Option<Option<Rag>>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ExtractionResult {
    /// The full text, when `raw_text` was requested.
    pub fn raw_text(&self) -> Option<&RawText> {
        self.raw_text.as_ref().and_then(Option::as_ref)
    }
    /// The RAG outcome, when RAG was used.
    pub fn rag(&self) -> Option<&Rag> {
        self.rag.as_ref().and_then(Option::as_ref)
    }
}

/// The full text of the document, page by page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawText {
    /// One entry per page.
    pub pages: Vec<RawTextPage>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl std::fmt::Display for RawText {
    /// The pages joined by a blank line, as the SDKs print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.pages.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            f.write_str(&p.content)?;
        }
        Ok(())
    }
}

/// The text of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawTextPage {
    /// The text.
    pub content: String,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The outcome of retrieval-augmented generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rag {
    /// The matched RAG document, if any.
    pub retrieved_document_id: Option<String>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A split result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitResult {
    /// The documents found.
    pub splits: Vec<Split>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One document found by split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// First and last page, 0-based and inclusive.
    pub page_range: [u32; 2],
    /// The kind of document.
    pub document_type: String,
    /// The chained extraction, when a model is chained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction_response: Option<Box<InferenceResponse>>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A crop result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CropResult {
    /// The objects found.
    pub crops: Vec<Crop>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One object found by crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crop {
    /// The kind of object.
    pub object_type: String,
    /// Where it is.
    pub location: Location,
    /// The chained extraction, when a model is chained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction_response: Option<Box<InferenceResponse>>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An OCR result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrResult {
    /// One entry per page.
    pub pages: Vec<OcrPage>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The words of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrPage {
    /// The words with their polygons.
    pub words: Vec<OcrWord>,
    /// The page's text.
    pub content: String,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One word found by OCR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrWord {
    /// The text.
    pub content: String,
    /// Where it is.
    pub polygon: Polygon,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A classification result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationResult {
    /// The class found.
    pub classification: Classification,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The class of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The kind of document.
    pub document_type: String,
    /// The chained extraction, when a model is chained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction_response: Option<Box<InferenceResponse>>,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InferenceResult {
    /// The extraction result, if this is one.
    pub fn as_extraction(&self) -> Option<&ExtractionResult> {
        match self {
            InferenceResult::Extraction(r) => Some(r),
            _ => None,
        }
    }
    /// The result as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
