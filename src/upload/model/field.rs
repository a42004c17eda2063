use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use super::{tristate, Extra};

/// How sure the model is of a value; ordered from [`Confidence::Low`] to [`Confidence::Certain`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Confidence {
    /// A word this version does not know (sorts lowest).
    Other(String),
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Certain.
    Certain,
}

impl Confidence {
    /// The word the API uses.
    pub fn as_str(&self) -> &str {
        match self {
            Confidence::Certain => "Certain",
            Confidence::High => "High",
            Confidence::Medium => "Medium",
            Confidence::Low => "Low",
            Confidence::Other(s) => s,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Confidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Confidence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "Certain" => Confidence::Certain,
            "High" => Confidence::High,
            "Medium" => Confidence::Medium,
            "Low" => Confidence::Low,
            _ => Confidence::Other(s),
        })
    }
}

/// A point of a polygon, normalised to 0..1. Coordinates keep their JSON spelling (`0` stays `0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point(pub [Number; 2]);

impl Point {
    /// Horizontal coordinate.
    pub fn x(&self) -> f64 {
        self.0[0].as_f64().unwrap_or(f64::NAN)
    }
    /// Vertical coordinate.
    pub fn y(&self) -> f64 {
        self.0[1].as_f64().unwrap_or(f64::NAN)
    }
}

/// A polygon on a page (usually four points).
pub type Polygon = Vec<Point>;

/// Where something is: a 0-based page and a polygon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// 0-based page index.
    pub page: u32,
    /// The polygon.
    pub polygon: Polygon,
    /// Keys this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What kind of extraction field this is, told apart by key as the SDKs do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldKind {
    /// `value`: a string, number, bool or null.
    Simple(Value),
    /// `items`: a list of fields.
    List(Vec<Field>),
    /// `fields`: named sub-fields.
    Object(Fields),
}

/// One extraction field: simple, list or object, with its confidence and locations.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    kind: FieldKind,
    confidence: Option<Option<Confidence>>,
    locations: Option<Vec<Location>>,
    extra: Extra,
}

impl Field {
    /// The kind and content.
    pub fn kind(&self) -> &FieldKind {
        &self.kind
    }
    /// The value of a simple field (`Some(&Value::Null)` for an empty one).
    pub fn value(&self) -> Option<&Value> {
        match &self.kind {
            FieldKind::Simple(v) => Some(v),
            _ => None,
        }
    }
    /// The items of a list field.
    pub fn items(&self) -> Option<&[Field]> {
        match &self.kind {
            FieldKind::List(v) => Some(v),
            _ => None,
        }
    }
    /// The sub-fields of an object field.
    pub fn fields(&self) -> Option<&Fields> {
        match &self.kind {
            FieldKind::Object(f) => Some(f),
            _ => None,
        }
    }
    /// The confidence, when the server gave one.
    pub fn confidence(&self) -> Option<&Confidence> {
        self.confidence.as_ref().and_then(Option::as_ref)
    }
    /// Where the value was found (empty when not requested).
    pub fn locations(&self) -> &[Location] {
        self.locations.as_deref().unwrap_or(&[])
    }
    /// Keys this version does not know.
    pub fn extra(&self) -> &Extra {
        &self.extra
    }
}

#[derive(Serialize, Deserialize)]
struct RawField {
    #[serde(default, with = "tristate", skip_serializing_if = "Option::is_none")]
    value: Option<Option<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<Vec<Field>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fields: Option<Fields>,
    #[serde(default, with = "tristate", skip_serializing_if = "Option::is_none")]
    confidence: Option<Option<Confidence>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locations: Option<Vec<Location>>,
    #[serde(flatten)]
    extra: Extra,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawField::deserialize(d)?;
        let kind =
            match (raw.items, raw.fields, raw.value) {
                (Some(items), None, None) => FieldKind::List(items),
                (None, Some(fields), None) => FieldKind::Object(fields),
                (None, None, Some(value)) => FieldKind::Simple(value.unwrap_or(Value::Null)),
                _ => return Err(serde::de::Error::custom(
                    "unrecognized field type: expected exactly one of `value`, `items` or `fields`",
                )),
            };
        Ok(Field {
            kind,
            confidence: raw.confidence,
            locations: raw.locations,
            extra: raw.extra,
        })
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (value, items, fields) = match &self.kind {
            FieldKind::Simple(v) => (Some(Some(v.clone())), None, None),
            FieldKind::List(i) => (None, Some(i.clone()), None),
            FieldKind::Object(f) => (None, None, Some(f.clone())),
        };
        RawField {
            value,
            items,
            fields,
            confidence: self.confidence.clone(),
            locations: self.locations.clone(),
            extra: self.extra.clone(),
        }
        .serialize(s)
    }
}

/// Named fields, in the order the server sent them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fields(Vec<(String, Field)>);

impl Fields {
    /// The field with this name.
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, f)| f)
    }
    /// Names and fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Field)> {
        self.0.iter().map(|(k, f)| (k.as_str(), f))
    }
    /// How many fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, Field>()? {
                    // Keep the last value of a duplicated key, as JSON parsers do.
                    out.retain(|(old, _): &(String, Field)| old != &k);
                    out.push((k, v));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(V)
    }
}
