use bytes::Bytes;

use crate::{Error, Format, Prepared};

/// What to send: file bytes with a name, or an https URL the server downloads itself.
///
/// ```
/// use mindee_prep::Source;
/// let src = Source::url("https://example.com/invoice.pdf").unwrap();
/// assert!(Source::url("http://example.com/invoice.pdf").is_err());
/// # let _ = src;
/// ```
#[derive(Debug, Clone)]
pub struct Source {
    pub(crate) kind: SourceKind,
}

#[derive(Clone)]
pub(crate) enum SourceKind {
    File {
        bytes: Bytes,
        file_name: String,
        format: Format,
    },
    Url(String),
}

impl std::fmt::Debug for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceKind::File {
                bytes,
                file_name,
                format,
            } => f
                .debug_struct("File")
                .field("file_name", file_name)
                .field("format", format)
                .field("len", &bytes.len())
                .finish(),
            SourceKind::Url(u) => f.debug_tuple("Url").field(u).finish(),
        }
    }
}

impl Source {
    /// A prepared file. `name` gives the stem (a path or a file name); the extension is always
    /// the one of what is actually sent, since the pipeline may have converted it.
    pub fn prepared(prepared: Prepared, name: &str) -> Source {
        let format = prepared.output_format();
        Source {
            kind: SourceKind::File {
                file_name: with_extension(name, format),
                bytes: Bytes::from(prepared.into_bytes()),
                format,
            },
        }
    }

    /// Raw bytes, sent as they are. They are sniffed first: anything the API would refuse is
    /// refused here — empty, unsupported formats, damaged headers, animated images, encrypted
    /// PDFs (even with an empty password), HEIF that is not HEVC, over 100 MB — and the name
    /// gets the right extension. ([`crate::prepare`] repairs or converts most of these.)
    ///
    /// ```
    /// use mindee_prep::{ErrorKind, Source};
    /// let encrypted = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<</Encrypt 2 0 R>>".to_vec();
    /// assert_eq!(Source::bytes(encrypted, "a.pdf").unwrap_err().kind(), ErrorKind::EncryptedPdf);
    /// ```
    pub fn bytes(bytes: impl Into<Bytes>, name: &str) -> Result<Source, Error> {
        let bytes = bytes.into();
        let format = api_refusal(&bytes)?;
        Ok(Source {
            kind: SourceKind::File {
                file_name: with_extension(name, format),
                bytes,
                format,
            },
        })
    }

    /// An https URL the server fetches itself (it does not follow redirects).
    pub fn url(url: impl Into<String>) -> Result<Source, Error> {
        let url = url.into();
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| Error::Config(format!("invalid source URL: {e}")))?;
        if parsed.scheme() != "https" {
            return Err(Error::Config(
                "source URLs must use https (the API refuses anything else)".into(),
            ));
        }
        Ok(Source {
            kind: SourceKind::Url(url),
        })
    }

    /// The file name sent, or the URL.
    pub fn name(&self) -> &str {
        match &self.kind {
            SourceKind::File { file_name, .. } => file_name,
            SourceKind::Url(u) => u,
        }
    }

    /// Bytes to send (`None` for a URL).
    pub fn byte_len(&self) -> Option<usize> {
        match &self.kind {
            SourceKind::File { bytes, .. } => Some(bytes.len()),
            SourceKind::Url(_) => None,
        }
    }
}

impl From<Prepared> for Source {
    /// Named `document.<ext>`; use [`Source::prepared`] to keep the original name.
    fn from(p: Prepared) -> Source {
        Source::prepared(p, "document")
    }
}

/// The API's largest file.
pub(crate) const MAX_API_BYTES: u64 = 100_000_000;

/// What the API refuses in bytes sent as they are, with the reason; the format otherwise.
/// The simulator applies the same rules.
pub(crate) fn api_refusal(bytes: &[u8]) -> Result<Format, Error> {
    let detected = crate::detect(bytes)?;
    if let Some(e) = detected.refusal() {
        return Err(e);
    }
    if bytes.len() as u64 > MAX_API_BYTES {
        return Err(Error::TooLarge {
            limit: crate::Limit::Bytes,
            actual: bytes.len() as u64,
            max: MAX_API_BYTES,
        });
    }
    match &detected.details {
        crate::detect::Details::Pdf(pdf) if pdf.encrypted => {
            return Err(Error::EncryptedPdf {
                hint: "the API refuses them even with an empty password; prepare() saves one that opens without a password unencrypted",
            })
        }
        crate::detect::Details::Heif(heif) => {
            let coding = heif.primary_item_type.as_deref().unwrap_or("hvc1");
            if !matches!(coding, "hvc1" | "grid" | "iden") {
                return Err(Error::UnsupportedFormat {
                    format: format!(
                        "HEIF with {coding} coding (the API takes HEVC only; prepare() converts it to JPEG)"
                    ),
                });
            }
        }
        _ => {}
    }
    Ok(detected.format)
}

/// `dir/a.heic` + JPEG → `a.jpg`. Keeps only the base name: the server needs no path.
fn with_extension(name: &str, format: Format) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = match base.rfind('.') {
        Some(0) | None => base,
        Some(i) => &base[..i],
    };
    let stem = if stem.is_empty() { "document" } else { stem };
    format!("{stem}.{}", format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_follows_what_is_sent() {
        assert_eq!(with_extension("dir/a.heic", Format::Jpeg), "a.jpg");
        assert_eq!(with_extension("scan", Format::Pdf), "scan.pdf");
        assert_eq!(with_extension(".hidden", Format::Png), ".hidden.png");
        assert_eq!(with_extension("", Format::Png), "document.png");
    }

    #[test]
    fn refused_bytes_never_become_a_source() {
        assert!(Source::bytes(Vec::new(), "a.jpg").is_err());
        assert!(Source::bytes(b"GIF89a....".to_vec(), "a.gif").is_err());
        let s = Source::bytes(b"%PDF-1.4 hello".to_vec(), "a.jpg").unwrap();
        assert_eq!(s.name(), "a.pdf");
    }
}
