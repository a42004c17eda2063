//! The decision: from what detection found and the options, what to do with a file.
//! Pure: no codec, no I/O, so every rule is testable on its own.

use serde::Serialize;

use crate::detect::{Details, Detected};
use crate::error::{Error, Limit, Result};
use crate::format::Format;
use crate::geometry::budget_size;
use crate::options::PrepareOptions;
use crate::server_safe::{server_safe, Safety};

/// What preparation did to a file, as reported in `"action"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The original bytes, untouched.
    Passthrough,
    /// Scaled down to the budget (and turned upright).
    Downscaled,
    /// Re-encoded at the same size into a form the API accepts.
    Converted,
    /// Fixed without touching the content (junk before a PDF header, PDF encryption removed).
    Repaired,
}

impl Action {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Passthrough => "passthrough",
            Action::Downscaled => "downscaled",
            Action::Converted => "converted",
            Action::Repaired => "repaired",
        }
    }
}

/// What to do with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Plan {
    /// Send the original bytes.
    PassThrough,
    /// Decode, scale to `width` × `height` (as stored, before turning upright), turn upright,
    /// encode as `output`.
    Downscale {
        /// Target width, in the stored orientation.
        width: u32,
        /// Target height, in the stored orientation.
        height: u32,
        /// The format to encode.
        output: Format,
    },
    /// Within budget, but in a form the API or common decoders do not read (see
    /// [`server_safe`]): decode and re-encode at the same size as `output` (every page, for a
    /// TIFF).
    Convert {
        /// The format to encode.
        output: Format,
        /// Why, for the report.
        reason: String,
    },
    /// Within budget, but with bytes that decoders skip or refuse (junk between JPEG markers,
    /// a PNG text-chunk bomb): drop them, keep every other byte.
    Repair {
        /// Why, for the report.
        reason: String,
    },
    /// Multi-page TIFF: scale the pages over budget, keep the others' pixels.
    DownscalePages {
        /// One entry per page: `Some((w, h))` to scale that page, `None` to keep it.
        pages: Vec<Option<(u32, u32)>>,
    },
    /// PDF: look inside for oversized images and encryption; strip junk before the header.
    RewritePdf,
}

/// The output format for an oversized image of `detected`'s kind (design.md, "Output policy").
pub fn output_format(detected: &Detected) -> Format {
    match (&detected.format, &detected.details) {
        (Format::Webp, Details::Webp(w)) if w.lossless => Format::Png,
        (Format::Webp | Format::Heic | Format::Heif | Format::Jpeg, _) => Format::Jpeg,
        (other, _) => *other,
    }
}

/// Decides what to do with a file of `byte_len` bytes that detection described as `detected`.
///
/// Refusals (animation, limits, damage or variants found by [`server_safe`]) come back as
/// the error to report. Within budget, a file passes through only when [`server_safe`] says
/// so; otherwise it is converted or repaired.
///
/// ```
/// use mindee_prep::{detect, plan, Plan, PrepareOptions};
/// let bytes = std::fs::read("fixtures/jpeg/large_24mp.jpg").unwrap();
/// let found = detect(&bytes).unwrap();
/// let decision = plan(&found, bytes.len() as u64, &PrepareOptions::default()).unwrap();
/// assert!(matches!(decision, Plan::Downscale { width: 2450, height: 1633, .. }));
/// ```
pub fn plan(detected: &Detected, byte_len: u64, options: &PrepareOptions) -> Result<Plan> {
    if let Some(refusal) = detected.refusal() {
        return Err(refusal);
    }
    let max_input = options.max_input_pixels();
    let largest = detected.max_page_pixels();
    if largest > max_input {
        return Err(Error::TooLarge {
            limit: Limit::Pixels,
            actual: largest,
            max: max_input,
        });
    }
    let safety = server_safe(detected)?;
    let within_budget = || match safety.clone() {
        Safety::Safe => Plan::PassThrough,
        Safety::Convert { output, reason } => Plan::Convert { output, reason },
        Safety::Repair { reason } => Plan::Repair { reason },
    };
    let (max, target) = (options.max_pixels(), options.target_pixels());
    // Bilevel pages stay bilevel (G4, 1-bit PNG): cheap in bytes, so they keep more pixels.
    let bilevel = options.bilevel_target_pixels();
    let decision = match &detected.details {
        Details::Pdf(_) => Plan::RewritePdf,
        Details::Tiff(tiff) => {
            let pages: Vec<_> = tiff
                .pages
                .iter()
                .map(|p| {
                    let target = if p.is_bilevel() { bilevel } else { target };
                    budget_size(p.width, p.height, max, target)
                })
                .collect();
            if pages.iter().any(Option::is_some) {
                Plan::DownscalePages { pages }
            } else {
                within_budget()
            }
        }
        _ => match budget_size(
            detected.width,
            detected.height,
            max,
            if is_bilevel_png(detected) {
                bilevel
            } else {
                target
            },
        ) {
            Some((width, height)) => Plan::Downscale {
                width,
                height,
                output: output_format(detected),
            },
            None => within_budget(),
        },
    };
    if decision == Plan::PassThrough && byte_len > options.max_output_bytes {
        return Err(Error::TooLarge {
            limit: Limit::Bytes,
            actual: byte_len,
            max: options.max_output_bytes,
        });
    }
    Ok(decision)
}

/// A 1-bit grey PNG: a bilevel scan.
fn is_bilevel_png(detected: &Detected) -> bool {
    matches!(&detected.details, Details::Png(png) if png.bit_depth == 1 && png.color_type == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{JpegInfo, WebpInfo};
    use crate::orientation::Orientation;
    use crate::ErrorKind;

    fn image(format: Format, width: u32, height: u32, details: Details) -> Detected {
        Detected {
            format,
            width,
            height,
            pages: 1,
            frames: None,
            animated: false,
            orientation: Orientation::Normal,
            details,
        }
    }

    fn jpeg(width: u32, height: u32) -> Detected {
        image(
            Format::Jpeg,
            width,
            height,
            Details::Jpeg(JpegInfo::baseline()),
        )
    }

    fn webp(lossless: bool) -> Detected {
        image(
            Format::Webp,
            3000,
            2000,
            Details::Webp(WebpInfo {
                lossless,
                alpha: false,
                extended: false,
            }),
        )
    }

    #[test]
    fn bilevel_pages_keep_more_pixels_than_grey_ones() {
        let opts = PrepareOptions::default();
        let pixels = |path: &str| {
            let data = std::fs::read(path).unwrap();
            let found = crate::detect(&data).unwrap();
            match plan(&found, data.len() as u64, &opts).unwrap() {
                Plan::DownscalePages { pages } => {
                    let (w, h) = pages[0].unwrap();
                    u64::from(w) * u64::from(h)
                }
                Plan::Downscale { width, height, .. } => u64::from(width) * u64::from(height),
                other => panic!("{path}: {other:?}"),
            }
        };
        // A 300 dpi A4 fax page (8.7 MP): just under the 5 MP maximum, not the 4 MP target.
        let fax = pixels("fixtures/tiff/g4_fillorder2.tif");
        assert!((4_850_000..=5_000_000).contains(&fax), "{fax}");
        // An 8-bit grey page: the target.
        let grey = pixels("fixtures/png/gray8_6mp.png");
        assert!((3_950_000..=4_050_000).contains(&grey), "{grey}");
        // A 1-bit grey PNG is bilevel too; an 8-bit one is not.
        let png = |bit_depth| {
            let info = crate::detect::PngInfo {
                bit_depth,
                color_type: 0,
                bad_crc: None,
                bomb: None,
            };
            match plan(
                &image(Format::Png, 3400, 4400, Details::Png(info)),
                1,
                &opts,
            )
            .unwrap()
            {
                Plan::Downscale { width, height, .. } => u64::from(width) * u64::from(height),
                other => panic!("{other:?}"),
            }
        };
        assert!(png(1) > 4_850_000 && png(8) < 4_050_000);
    }

    #[test]
    fn within_budget_passes_through() {
        let opts = PrepareOptions::default();
        assert_eq!(
            plan(&jpeg(2500, 2000), 1000, &opts).unwrap(),
            Plan::PassThrough
        );
    }

    #[test]
    fn over_budget_downscales_to_jpeg() {
        let opts = PrepareOptions::default();
        assert_eq!(
            plan(&jpeg(4032, 3024), 1000, &opts).unwrap(),
            Plan::Downscale {
                width: 2309,
                height: 1732,
                output: Format::Jpeg
            }
        );
    }

    #[test]
    fn webp_goes_to_jpeg_or_png_by_its_coding() {
        let opts = PrepareOptions::default();
        let out = |lossless| match plan(&webp(lossless), 1, &opts).unwrap() {
            Plan::Downscale { output, .. } => output,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(out(false), Format::Jpeg);
        assert_eq!(out(true), Format::Png);
    }

    #[test]
    fn animation_is_refused() {
        let mut d = webp(false);
        d.animated = true;
        d.frames = Some(12);
        let err = plan(&d, 1, &PrepareOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AnimatedImage);
        assert!(
            err.to_string().contains("animated WebP (12 frames)"),
            "{err}"
        );
    }

    #[test]
    fn declared_size_over_the_input_limit_is_refused_before_decoding() {
        let err = plan(&jpeg(65_000, 65_000), 1, &PrepareOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        assert!(err.to_string().contains("4225.0 MP"), "{err}");
    }

    #[test]
    fn pass_through_over_the_byte_limit_is_refused() {
        let err = plan(&jpeg(100, 100), 200_000_000, &PrepareOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge);
        // But an oversized image is re-encoded, so its input size does not matter yet.
        assert!(plan(&jpeg(6000, 4000), 200_000_000, &PrepareOptions::default()).is_ok());
    }

    #[test]
    fn heif_that_is_not_hevc_is_converted_even_within_budget() {
        let mut d = jpeg(1000, 800);
        d.format = Format::Heif;
        d.details = Details::Heif(crate::detect::HeifInfo {
            major_brand: "mif1".into(),
            compatible_brands: vec![],
            primary_item_type: Some("jpeg".into()),
            has_primary_item: true,
            tracks: false,
            other_images: 0,
        });
        assert!(matches!(
            plan(&d, 1, &PrepareOptions::default()).unwrap(),
            Plan::Convert {
                output: Format::Jpeg,
                ..
            }
        ));
        d.format = Format::Heic;
        assert_eq!(
            plan(&d, 1, &PrepareOptions::default()).unwrap(),
            Plan::PassThrough
        );
    }

    #[test]
    fn within_budget_unsafe_variants_are_converted_and_over_budget_ones_downscaled() {
        let mut d = jpeg(2000, 1500);
        if let Details::Jpeg(info) = &mut d.details {
            info.precision = 12;
        }
        assert_eq!(
            plan(&d, 1, &PrepareOptions::default()).unwrap(),
            Plan::Convert {
                output: Format::Jpeg,
                reason: "12-bit JPEG is not widely decodable".into()
            }
        );
        d.width = 6000;
        d.height = 4000;
        assert!(matches!(
            plan(&d, 1, &PrepareOptions::default()).unwrap(),
            Plan::Downscale { .. }
        ));
    }

    #[test]
    fn custom_budget_is_honoured() {
        let opts = PrepareOptions {
            max_megapixels: 2.0,
            target_megapixels: 1.0,
            ..PrepareOptions::default()
        };
        match plan(&jpeg(2000, 2000), 1, &opts).unwrap() {
            Plan::Downscale { width, height, .. } => assert_eq!((width, height), (1000, 1000)),
            other => panic!("unexpected {other:?}"),
        }
    }
}
