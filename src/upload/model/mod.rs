//! Typed API answers: jobs, inference envelopes, per-product results, problems, searches.
//!
//! Every struct keeps the keys it does not know in an `extra` map, and keys that the API
//! sometimes sends as `null` and sometimes leaves out are kept apart, so that a parsed answer
//! serialises back to the same JSON (checked against every recorded response).

mod field;
mod inference;
mod job;
mod problem;
mod search;

pub use field::{Confidence, Field, FieldKind, Fields, Location, Point, Polygon};
pub use inference::{
    ActiveOptions, Classification, ClassificationResult, Crop, CropResult, DataSchemaActive,
    ExtractionResult, IdRef, Inference, InferenceFile, InferenceResponse, InferenceResult, OcrPage,
    OcrResult, OcrWord, Rag, RawText, RawTextPage, Split, SplitResult,
};
pub use job::{Job, JobResponse, JobStatus, JobWebhook};
pub use problem::{FailedInference, ProblemDetails, ProblemItem};
pub use search::{
    DataSchema, DataSchemaField, DataSchemaReplace, ModelInfo, ModelSearchResponse, ModelWebhook,
    Pagination,
};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Unknown keys, kept so that nothing the server sent is lost on re-serialisation.
pub type Extra = Map<String, Value>;

/// A typed answer together with the JSON it was parsed from.
///
/// Dereferences to the typed value; [`Response::raw`] gives the JSON as the server sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<T> {
    typed: T,
    raw: Value,
}

impl<T: DeserializeOwned> Response<T> {
    /// Parses `body` both as `T` and as raw JSON.
    pub fn from_slice(body: &[u8]) -> Result<Self, serde_json::Error> {
        // Typed from the bytes (not from the `Value`) so that maps keep the server's key order.
        let typed = serde_json::from_slice(body)?;
        let raw = serde_json::from_slice(body)?;
        Ok(Response { typed, raw })
    }
}

impl<T> Response<T> {
    /// The typed view.
    pub fn typed(&self) -> &T {
        &self.typed
    }
    /// The JSON exactly as parsed from the server's answer.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
    /// Both parts, by value.
    pub fn into_parts(self) -> (T, Value) {
        (self.typed, self.raw)
    }
}

impl<T> std::ops::Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.typed
    }
}

/// Serde helper for keys that may be absent, `null`, or set (`Option<Option<T>>`).
pub(crate) mod tristate {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        // Only called when the key is present: `null` becomes `Some(None)`.
        Option::<T>::deserialize(d).map(Some)
    }

    pub fn serialize<S, T>(v: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: Serialize,
    {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }
}
