use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A Mindee V2 product: the kind of model a file is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Product {
    /// Field extraction (the default).
    #[default]
    Extraction,
    /// Split a file into documents.
    Split,
    /// Find and crop documents in a photo.
    Crop,
    /// Words and their positions.
    Ocr,
    /// Document classification.
    Classification,
}

impl Product {
    /// Every product.
    pub const ALL: [Product; 5] = [
        Product::Extraction,
        Product::Split,
        Product::Crop,
        Product::Ocr,
        Product::Classification,
    ];

    /// The route segment (`/v2/products/{slug}/…`).
    pub fn slug(self) -> &'static str {
        match self {
            Product::Extraction => "extraction",
            Product::Split => "split",
            Product::Crop => "crop",
            Product::Ocr => "ocr",
            Product::Classification => "classification",
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for Product {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Product::ALL
            .into_iter()
            .find(|p| p.slug() == s)
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown product {s:?}; expected extraction, split, crop, ocr or classification"
                ))
            })
    }
}

/// What to send along with a file: the model, the product and the options.
///
/// Extraction options (`rag`, `raw_text`, `polygon`, `confidence`, `text_context`,
/// `data_schema`) are sent only for [`Product::Extraction`], and booleans only when set, so that
/// the model's defaults apply otherwise.
///
/// ```
/// use mindee_prep::{EnqueueParams, Product};
/// let params = EnqueueParams::new("6a5c1c5e-93b0-4b45-a1c8-2e5c0b2f1d10")
///     .product(Product::Extraction)
///     .alias("invoice-42")
///     .raw_text(true);
/// assert_eq!(params.model_id(), "6a5c1c5e-93b0-4b45-a1c8-2e5c0b2f1d10");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnqueueParams {
    pub(crate) model_id: String,
    pub(crate) product: Product,
    pub(crate) alias: Option<String>,
    pub(crate) webhook_ids: Vec<String>,
    pub(crate) rag: Option<bool>,
    pub(crate) raw_text: Option<bool>,
    pub(crate) polygon: Option<bool>,
    pub(crate) confidence: Option<bool>,
    pub(crate) text_context: Option<String>,
    pub(crate) data_schema: Option<String>,
}

impl EnqueueParams {
    /// Parameters for this model (a UUID), product extraction.
    pub fn new(model_id: impl Into<String>) -> Self {
        EnqueueParams {
            model_id: model_id.into(),
            ..Default::default()
        }
    }
    /// The model ID.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }
    /// The product.
    pub fn get_product(&self) -> Product {
        self.product
    }
    /// Sets the product (default: extraction).
    pub fn product(mut self, product: Product) -> Self {
        self.product = product;
        self
    }
    /// A free-text alias, echoed in results.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }
    /// Adds a webhook that will receive the result.
    pub fn webhook_id(mut self, id: impl Into<String>) -> Self {
        self.webhook_ids.push(id.into());
        self
    }
    /// The webhooks that will receive the result.
    pub fn webhook_ids(&self) -> &[String] {
        &self.webhook_ids
    }
    /// Retrieval-augmented generation on or off (extraction).
    pub fn rag(mut self, on: bool) -> Self {
        self.rag = Some(on);
        self
    }
    /// Full text on or off (extraction).
    pub fn raw_text(mut self, on: bool) -> Self {
        self.raw_text = Some(on);
        self
    }
    /// Polygons on or off (extraction).
    pub fn polygon(mut self, on: bool) -> Self {
        self.polygon = Some(on);
        self
    }
    /// Confidence scores on or off (extraction).
    pub fn confidence(mut self, on: bool) -> Self {
        self.confidence = Some(on);
        self
    }
    /// Extra context for the model (extraction).
    pub fn text_context(mut self, text: impl Into<String>) -> Self {
        self.text_context = Some(text.into());
        self
    }
    /// A JSON data schema such as `{"replace":{"fields":[…]}}` (extraction).
    pub fn data_schema(mut self, json: impl Into<String>) -> Self {
        self.data_schema = Some(json.into());
        self
    }

    /// Checks what can be checked locally (a malformed UUID is left to the server, which
    /// answers 422 with a pointer).
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.model_id.trim().is_empty() {
            return Err(Error::Config("model_id is empty".into()));
        }
        if let Some(schema) = &self.data_schema {
            serde_json::from_str::<serde_json::Value>(schema)
                .map_err(|e| Error::Config(format!("data_schema is not valid JSON: {e}")))?;
        }
        Ok(())
    }

    /// The text form fields, in the order sent.
    pub(crate) fn form_fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("model_id", self.model_id.clone())];
        if let Some(a) = &self.alias {
            out.push(("alias", a.clone()));
        }
        if !self.webhook_ids.is_empty() {
            out.push(("webhook_ids", self.webhook_ids.join(",")));
        }
        if self.product == Product::Extraction {
            for (name, v) in [
                ("rag", self.rag),
                ("raw_text", self.raw_text),
                ("polygon", self.polygon),
                ("confidence", self.confidence),
            ] {
                if let Some(v) = v {
                    out.push((name, v.to_string()));
                }
            }
            if let Some(t) = &self.text_context {
                out.push(("text_context", t.clone()));
            }
            if let Some(s) = &self.data_schema {
                out.push(("data_schema", s.clone()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraction_options_only_for_extraction_and_only_when_set() {
        let p = EnqueueParams::new("m")
            .raw_text(false)
            .webhook_id("a")
            .webhook_id("b");
        let f = p.form_fields();
        assert!(f.contains(&("raw_text", "false".into())));
        assert!(f.contains(&("webhook_ids", "a,b".into())));
        assert!(!f.iter().any(|(k, _)| *k == "rag"));
        let f = p.product(Product::Ocr).form_fields();
        assert!(!f.iter().any(|(k, _)| *k == "raw_text"));
    }

    #[test]
    fn products_parse() {
        for p in Product::ALL {
            assert_eq!(p.slug().parse::<Product>().unwrap(), p);
        }
        assert!("invoice".parse::<Product>().is_err());
    }
}
