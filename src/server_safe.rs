//! What may be handed to the API as it is: the one place that says which variants of the
//! accepted formats mainstream decoders (libjpeg-turbo, libpng, libtiff, libheif, Pillow,
//! browsers) read, judged from what detection found. Pure: no codec, no I/O.
//!
//! A file within the pixel budget passes through only when it is [`Safety::Safe`]; otherwise
//! [`plan`](crate::plan()) converts it to the nearest safe form, repairs it, or refuses it with
//! the error this function returns. Over budget, every file is re-encoded anyway, so only the
//! refusals matter there.

use crate::detect::{Details, Detected, HeifInfo, JpegInfo, PngInfo, TiffInfo, TiffPage};
use crate::error::{Error, Result};
use crate::format::Format;

/// The verdict on a file that decoded as it is: send it, convert it, or repair it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Safety {
    /// Mainstream decoders read it as it is.
    Safe,
    /// Decode and re-encode at the same size as `output` (12-bit JPEG → 8-bit JPEG, float
    /// TIFF → 8-bit TIFF, HEIF with tracks → JPEG of the primary image).
    Convert {
        /// The format to encode.
        output: Format,
        /// Why, for the report (`"12-bit JPEG is not widely decodable"`).
        reason: String,
    },
    /// Drop bytes that decoders skip or refuse and keep everything else byte for byte (junk
    /// between JPEG markers, a PNG text chunk that is a decompression bomb).
    Repair {
        /// Why, for the report.
        reason: String,
    },
}

/// TIFF compressions that libtiff, Pillow and the common viewers all read: none, CCITT RLE,
/// G3, G4, LZW, JPEG, Deflate (both codes), PackBits; and LZMA, Zstandard and WebP, which the
/// libtiff that Pillow and libvips are built on reads (Debian's, the wheels'), so a file within
/// budget passes through although this build cannot decode it.
const SAFE_TIFF_COMPRESSIONS: [u16; 12] = [1, 2, 3, 4, 5, 7, 8, 32946, 32773, 34925, 50000, 50001];
/// Photometric interpretations of the same: WhiteIsZero, BlackIsZero, RGB, palette, CMYK, YCbCr,
/// CIELab (TIFF 6.0; Pillow, libvips and libtiff read it).
const SAFE_TIFF_PHOTOMETRICS: [u16; 7] = [0, 1, 2, 3, 5, 6, 8];

/// Judges `detected`: `Ok` with what to do, or the error to refuse it with (a damaged critical
/// chunk, a variant this build cannot decode).
///
/// ```
/// use mindee_prep::server_safe::{server_safe, Safety};
/// let bytes = std::fs::read("fixtures/jpeg/small_2mp.jpg").unwrap();
/// let found = mindee_prep::detect(&bytes).unwrap();
/// assert_eq!(server_safe(&found).unwrap(), Safety::Safe);
/// ```
pub fn server_safe(detected: &Detected) -> Result<Safety> {
    match &detected.details {
        Details::Jpeg(info) => jpeg(info),
        Details::Png(info) => png(info),
        Details::Heif(info) => heif(detected.format, info),
        Details::Tiff(info) => tiff(info),
        Details::Webp(_) | Details::Pdf(_) => Ok(Safety::Safe),
    }
}

fn convert(output: Format, reason: String) -> Result<Safety> {
    Ok(Safety::Convert { output, reason })
}

fn undecodable(format: Format, detail: impl Into<String>) -> Result<Safety> {
    Err(Error::Undecodable {
        format,
        detail: detail.into(),
    })
}

fn jpeg(info: &JpegInfo) -> Result<Safety> {
    if info.hierarchical {
        return undecodable(Format::Jpeg, "hierarchical (differential) JPEG");
    }
    // The whole-image path (CMYK, YCCK) is 8-bit only; libjpeg reads 2–16-bit lossless and
    // 8/12-bit DCT files.
    let precision_ok = if info.lossless {
        (2..=16).contains(&info.precision)
    } else {
        matches!(info.precision, 8 | 12)
    };
    if !precision_ok || (info.precision != 8 && info.components == 4) {
        let mut words = vec![format!("{}-bit", info.precision)];
        if info.lossless {
            words.push("lossless".into());
        }
        if info.components == 4 {
            words.push("CMYK".into());
        }
        words.push("JPEG".into());
        return undecodable(Format::Jpeg, words.join(" "));
    }
    let mut variant = Vec::new();
    if info.precision != 8 {
        variant.push(format!("{}-bit", info.precision));
    }
    if info.lossless {
        variant.push("lossless".to_string());
    }
    if info.arithmetic {
        variant.push("arithmetic-coded".to_string());
    }
    if !variant.is_empty() {
        return convert(
            Format::Jpeg,
            format!("{} JPEG is not widely decodable", variant.join(" ")),
        );
    }
    if info.extraneous_bytes > 0 {
        return Ok(Safety::Repair {
            reason: format!(
                "{} extraneous bytes between JPEG markers removed (libjpeg skips them with a warning, strict decoders refuse the file)",
                info.extraneous_bytes
            ),
        });
    }
    Ok(Safety::Safe)
}

fn png(info: &PngInfo) -> Result<Safety> {
    if let Some(chunk) = &info.bad_crc {
        return Err(Error::corrupt(
            Format::Png,
            format!("the {chunk} chunk fails its CRC check"),
        ));
    }
    if let Some(bomb) = &info.bomb {
        return Ok(Safety::Repair {
            reason: format!("{bomb} (a decompression bomb that careful decoders refuse); removed"),
        });
    }
    Ok(Safety::Safe)
}

fn heif(format: Format, info: &HeifInfo) -> Result<Safety> {
    let coding = info.primary_item_type.as_deref().unwrap_or("unknown");
    if coding == "unci" {
        return undecodable(format, "uncompressed (unci) HEIF image");
    }
    if format == Format::Heif {
        return convert(
            Format::Jpeg,
            format!("HEIF whose primary image is coded as '{coding}' is not accepted by the API, which takes HEVC"),
        );
    }
    if info.tracks {
        return convert(
            Format::Jpeg,
            "HEIF with an image sequence beside its still image: the API takes a single still image".into(),
        );
    }
    if info.other_images > 0 {
        return convert(
            Format::Jpeg,
            format!(
                "HEIF with {} more image(s) beside the primary one (a burst or collection): the API takes a single still image",
                info.other_images
            ),
        );
    }
    Ok(Safety::Safe)
}

fn tiff(info: &TiffInfo) -> Result<Safety> {
    let mut reasons = Vec::new();
    if info.bigtiff {
        reasons.push("BigTIFF".to_string());
    }
    for (index, page) in info.pages.iter().enumerate() {
        let n = index + 1;
        if !SAFE_TIFF_COMPRESSIONS.contains(&page.compression) {
            // Not widely read, and not by us either: nothing to convert it with.
            return undecodable(
                Format::Tiff,
                format!(
                    "{} compression on page {n}",
                    crate::codec::tiff::compression_name(page.compression)
                ),
            );
        }
        if !SAFE_TIFF_PHOTOMETRICS.contains(&page.photometric) {
            return undecodable(
                Format::Tiff,
                format!(
                    "photometric interpretation {} on page {n}",
                    page.photometric
                ),
            );
        }
        if let Some(why) = unusual_samples(page) {
            reasons.push(format!("{why} on page {n}"));
        }
    }
    if reasons.is_empty() {
        return Ok(Safety::Safe);
    }
    reasons.dedup();
    convert(
        Format::Tiff,
        format!(
            "TIFF with {} is not widely decodable; written as classic 8-bit TIFF",
            reasons.join(", ")
        ),
    )
}

/// What makes a page's samples unreadable for common TIFF readers, if anything: float or
/// signed samples, depths other than 1, 4 (baseline gray and palette), 8 and 16, 16-bit CMYK
/// (Pillow has no such mode), the floating-point predictor.
fn unusual_samples(page: &TiffPage) -> Option<String> {
    let bits = page.bits_per_sample;
    match page.sample_format {
        1 => {}
        2 => return Some(format!("signed {bits}-bit samples")),
        3 => return Some(format!("{bits}-bit floating-point samples")),
        other => return Some(format!("sample format {other}")),
    }
    if !matches!(bits, 1 | 4 | 8 | 16) {
        return Some(format!("{bits}-bit samples"));
    }
    if page.photometric == 5 && bits != 8 {
        return Some(format!("{bits}-bit CMYK"));
    }
    if !matches!(page.predictor, 1 | 2) {
        return Some(format!("predictor {}", page.predictor));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orientation::Orientation;
    use crate::ErrorKind;

    fn jpeg_info() -> JpegInfo {
        JpegInfo::baseline()
    }

    fn detected(format: Format, details: Details) -> Detected {
        Detected {
            format,
            width: 100,
            height: 100,
            pages: 1,
            frames: None,
            animated: false,
            orientation: Orientation::Normal,
            details,
        }
    }

    fn judge_jpeg(info: JpegInfo) -> Result<Safety> {
        server_safe(&detected(Format::Jpeg, Details::Jpeg(info)))
    }

    fn reason(safety: Safety) -> String {
        match safety {
            Safety::Convert { reason, .. } | Safety::Repair { reason } => reason,
            Safety::Safe => "safe".into(),
        }
    }

    #[test]
    fn baseline_and_progressive_huffman_jpeg_are_safe() {
        assert_eq!(judge_jpeg(jpeg_info()).unwrap(), Safety::Safe);
        let progressive = JpegInfo {
            progressive: true,
            ..jpeg_info()
        };
        assert_eq!(judge_jpeg(progressive).unwrap(), Safety::Safe);
    }

    #[test]
    fn jpeg_variants_are_converted_to_8_bit_huffman() {
        let twelve = JpegInfo {
            precision: 12,
            ..jpeg_info()
        };
        let verdict = judge_jpeg(twelve).unwrap();
        assert!(matches!(
            verdict,
            Safety::Convert {
                output: Format::Jpeg,
                ..
            }
        ));
        assert_eq!(reason(verdict), "12-bit JPEG is not widely decodable");
        let arithmetic = JpegInfo {
            arithmetic: true,
            ..jpeg_info()
        };
        assert_eq!(
            reason(judge_jpeg(arithmetic).unwrap()),
            "arithmetic-coded JPEG is not widely decodable"
        );
        let lossless = JpegInfo {
            lossless: true,
            precision: 16,
            ..jpeg_info()
        };
        assert_eq!(
            reason(judge_jpeg(lossless).unwrap()),
            "16-bit lossless JPEG is not widely decodable"
        );
    }

    #[test]
    fn jpeg_variants_nobody_decodes_are_refused_as_undecodable() {
        for info in [
            JpegInfo {
                hierarchical: true,
                ..jpeg_info()
            },
            JpegInfo {
                precision: 16,
                ..jpeg_info()
            },
            JpegInfo {
                precision: 12,
                components: 4,
                ..jpeg_info()
            },
        ] {
            let err = judge_jpeg(info).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Undecodable, "{err}");
        }
    }

    #[test]
    fn junk_between_markers_is_repaired() {
        let junk = JpegInfo {
            extraneous_bytes: 7,
            ..jpeg_info()
        };
        let verdict = judge_jpeg(junk).unwrap();
        assert!(matches!(verdict, Safety::Repair { .. }));
        assert!(reason(verdict).starts_with("7 extraneous bytes"));
    }

    fn png_info(bad_crc: Option<&str>, bomb: Option<&str>) -> Detected {
        detected(
            Format::Png,
            Details::Png(PngInfo {
                bit_depth: 8,
                color_type: 2,
                bad_crc: bad_crc.map(Into::into),
                bomb: bomb.map(Into::into),
            }),
        )
    }

    #[test]
    fn png_crc_errors_are_corrupt_and_bombs_repaired() {
        assert_eq!(server_safe(&png_info(None, None)).unwrap(), Safety::Safe);
        let err = server_safe(&png_info(Some("IHDR"), None)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(
            err.to_string().contains("IHDR chunk fails its CRC"),
            "{err}"
        );
        let bomb = server_safe(&png_info(
            None,
            Some("zTXt chunk inflates to more than 1 MiB"),
        ));
        assert!(matches!(bomb.unwrap(), Safety::Repair { .. }));
    }

    fn heif_info(format: Format, coding: &str, tracks: bool, other_images: u32) -> Detected {
        detected(
            format,
            Details::Heif(HeifInfo {
                major_brand: "heic".into(),
                compatible_brands: vec![],
                primary_item_type: Some(coding.into()),
                has_primary_item: true,
                tracks,
                other_images,
            }),
        )
    }

    #[test]
    fn heif_is_safe_only_as_one_hevc_still_image() {
        let judge = |d: Detected| server_safe(&d);
        assert_eq!(
            judge(heif_info(Format::Heic, "hvc1", false, 0)).unwrap(),
            Safety::Safe
        );
        assert_eq!(
            judge(heif_info(Format::Heic, "grid", false, 0)).unwrap(),
            Safety::Safe
        );
        for (d, words) in [
            (heif_info(Format::Heic, "hvc1", true, 0), "image sequence"),
            (heif_info(Format::Heic, "hvc1", false, 2), "2 more image(s)"),
            (heif_info(Format::Heif, "jpeg", false, 0), "coded as 'jpeg'"),
        ] {
            let verdict = judge(d).unwrap();
            assert!(matches!(
                verdict,
                Safety::Convert {
                    output: Format::Jpeg,
                    ..
                }
            ));
            assert!(reason(verdict).contains(words));
        }
        let err = judge(heif_info(Format::Heif, "unci", false, 0)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Undecodable);
        assert!(err.to_string().contains("uncompressed (unci)"), "{err}");
    }

    fn tiff_page(bits: u16, sample_format: u16, compression: u16) -> TiffPage {
        TiffPage {
            width: 10,
            height: 10,
            compression,
            photometric: 1,
            bits_per_sample: bits,
            samples_per_pixel: 1,
            sample_format,
            predictor: 1,
            orientation: 1,
            ifd_offset: 8,
        }
    }

    fn judge_tiff(bigtiff: bool, pages: Vec<TiffPage>) -> Result<Safety> {
        server_safe(&detected(
            Format::Tiff,
            Details::Tiff(TiffInfo { bigtiff, pages }),
        ))
    }

    #[test]
    fn tiff_is_safe_as_classic_integer_1_8_16_bit() {
        for bits in [1, 8, 16] {
            let verdict = judge_tiff(false, vec![tiff_page(bits, 1, 8)]).unwrap();
            assert_eq!(verdict, Safety::Safe, "{bits}");
        }
        for (bigtiff, page, words) in [
            (true, tiff_page(8, 1, 5), "BigTIFF"),
            (
                false,
                tiff_page(32, 3, 8),
                "32-bit floating-point samples on page 2",
            ),
            (false, tiff_page(8, 2, 1), "signed 8-bit samples on page 2"),
            (false, tiff_page(12, 1, 1), "12-bit samples on page 2"),
        ] {
            let verdict = judge_tiff(bigtiff, vec![tiff_page(8, 1, 1), page]).unwrap();
            assert!(matches!(
                verdict,
                Safety::Convert {
                    output: Format::Tiff,
                    ..
                }
            ));
            assert!(reason(verdict).contains(words), "{words}");
        }
        // LZMA / WebP pages and CIELab: libtiff (hence Pillow, libvips) reads them as they are.
        let lab = TiffPage {
            photometric: 8,
            ..tiff_page(8, 1, 5)
        };
        for page in [tiff_page(8, 1, 34925), tiff_page(8, 1, 50001), lab] {
            assert_eq!(judge_tiff(false, vec![page]).unwrap(), Safety::Safe);
        }
        let err = judge_tiff(false, vec![tiff_page(8, 1, 34712)]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Undecodable);
        assert!(
            err.to_string().contains("JPEG 2000 compression on page 1"),
            "{err}"
        );
    }
}
