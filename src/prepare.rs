//! The pipeline for one file: detect → plan → decode (shrunk on load) → resize → turn upright
//! → encode, or pass the original bytes through.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Serialize;

pub use crate::codec::pdf::PageImage;
use crate::codec::{self, Encoded};
use crate::detect::{detect, Details, Detected};
use crate::encoding::{
    candidates, colours, costly, guard, jpeg_quality, keeps_strokes, legibility_note,
    median_black_run, Content, Encoding, OutputFormat,
};
use crate::error::{Error, Limit, Result};
use crate::format::Format;
use crate::geometry::budget_size;
use crate::memory::{self, Admission};
use crate::options::PrepareOptions;
use crate::orientation::Orientation;
use crate::pixels::Pixels;
use crate::plan::{plan, Action, Plan};
use crate::resize::resize;

/// A file ready to send: the bytes and what was done to get them.
///
/// ```
/// use mindee_prep::{prepare, Action, PrepareOptions};
/// let bytes = std::fs::read("fixtures/jpeg/small_2mp.jpg").unwrap();
/// let prepared = prepare(&bytes, &PrepareOptions::default()).unwrap();
/// assert_eq!(prepared.report().action, Action::Passthrough);
/// assert_eq!(prepared.bytes(), &bytes[..]); // untouched
/// ```
#[derive(Clone)]
pub struct Prepared {
    bytes: Vec<u8>,
    report: Report,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("bytes", &self.bytes.len())
            .field("report", &self.report)
            .finish()
    }
}

/// What preparation found and did; the fields of the CLI's JSON lines.
///
/// Sizes are upright (after EXIF/`irot` orientation), in pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What was done.
    pub action: Action,
    /// The input's format.
    pub format: Format,
    /// The output's format.
    pub output_format: Format,
    /// Pages (1 for single images).
    pub pages: u32,
    /// Upright input width (first page; 0 when unknown, e.g. PDF).
    pub width: u32,
    /// Upright input height.
    pub height: u32,
    /// Upright output width.
    pub out_width: u32,
    /// Upright output height.
    pub out_height: u32,
    /// Input size in bytes.
    pub bytes_in: u64,
    /// Output size in bytes.
    pub bytes_out: u64,
    /// Per-page input sizes, for multi-page inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_sizes: Option<Vec<[u32; 2]>>,
    /// Per-page output sizes, for multi-page inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_page_sizes: Option<Vec<[u32; 2]>>,
    /// PDF: pages in the output, when a page selection changed the count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_pages: Option<u32>,
    /// PDF: for each page that shows raster images, its largest one before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_images: Option<Vec<PageImage>>,
    /// How the output was encoded, when it was (`"jpeg_q72"`, `"png_palette"`, `"tiff_g4"`,
    /// `"tiff_deflate"`, …; see [`Encoding::name`](crate::Encoding::name)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Why the file was converted, repaired or kept in a larger encoding, in a few words
    /// (`"12-bit JPEG is not widely decodable"`); `None` when the action says it all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Prepared {
    /// The bytes to upload.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the bytes out.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// What was done.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The format of [`Prepared::bytes`].
    pub fn output_format(&self) -> Format {
        self.report.output_format
    }
}

/// Prepares one file held in memory.
///
/// Within budget, the result holds a copy of the original bytes (see [`prepare_owned`] to avoid
/// it); over budget, a downscaled, upright re-encoding. Refusals are errors with a stable
/// [`kind`](crate::Error::kind).
///
/// ```
/// use mindee_prep::{prepare, Action, Format, PrepareOptions};
/// let bytes = std::fs::read("fixtures/jpeg/large_24mp.jpg").unwrap();
/// let prepared = prepare(&bytes, &PrepareOptions::default()).unwrap();
/// let report = prepared.report();
/// assert_eq!(report.action, Action::Downscaled);
/// assert_eq!(report.output_format, Format::Jpeg);
/// assert_eq!((report.out_width, report.out_height), (2450, 1633));
/// ```
pub fn prepare(data: &[u8], options: &PrepareOptions) -> Result<Prepared> {
    let (bytes, report) = prepare_inner(data, options, &mut Admission::alone())?;
    Ok(Prepared {
        bytes: bytes.unwrap_or_else(|| data.to_vec()),
        report,
    })
}

/// [`prepare`] for bytes you own: a pass-through hands the same buffer back without a copy.
pub fn prepare_owned(data: Vec<u8>, options: &PrepareOptions) -> Result<Prepared> {
    prepare_admitted(data, options, &mut Admission::alone())
}

/// [`prepare_owned`] under a batch's memory budget: the work is admitted by its estimate.
pub(crate) fn prepare_admitted(
    data: Vec<u8>,
    options: &PrepareOptions,
    admission: &mut Admission<'_>,
) -> Result<Prepared> {
    let (bytes, report) = prepare_inner(&data, options, admission)?;
    Ok(Prepared {
        bytes: bytes.unwrap_or(data),
        report,
    })
}

/// The new bytes (`None`: the original ones) and the report.
fn prepare_inner(
    data: &[u8],
    options: &PrepareOptions,
    admission: &mut Admission<'_>,
) -> Result<(Option<Vec<u8>>, Report)> {
    options.validate()?;
    let detected = detect(data)?;
    let decision = plan(&detected, data.len() as u64, options)?;
    let len = data.len() as u64;
    let mut need = memory::footprint(&detected, &decision);
    if decision == Plan::RewritePdf {
        // lopdf's parsed objects and the saved copy.
        need = need.saturating_add(len.saturating_mul(3));
    }
    // A progressive JPEG's coefficients are bounded by libjpeg itself (`max_memory_to_use`),
    // which counts them exactly: the estimate (every component at full resolution) only
    // sizes the reservation.
    let libjpeg_bounded = streams_jpeg(&detected, &decision, options);
    let limit = memory::file_limit(options);
    if !libjpeg_bounded && need.saturating_add(len) > limit {
        return Err(memory::too_large(need.saturating_add(len), options));
    }
    admission.grow(need.min(limit.saturating_sub(len)));
    let (width, height) = detected
        .orientation
        .displayed_size(detected.width, detected.height);
    let base = Report {
        action: Action::Passthrough,
        format: detected.format,
        output_format: detected.format,
        pages: detected.pages,
        width,
        height,
        out_width: width,
        out_height: height,
        bytes_in: data.len() as u64,
        bytes_out: data.len() as u64,
        page_sizes: None,
        out_page_sizes: None,
        out_pages: None,
        page_images: None,
        encoding: None,
        reason: None,
    };
    let (bytes, report) = match decision {
        Plan::PassThrough => (None, base),
        Plan::Downscale {
            width: w,
            height: h,
            output: _,
        } => {
            let quality = source_quality(data, &detected, options);
            let lossy = Content {
                format: detected.format,
                lossless: false,
                few_colours: false,
                snap_to_source: false,
                jpeg_quality: quality,
            };
            let jpeg_first = matches!(
                candidates(&lossy, options.output_format).first(),
                Some(Encoding::Jpeg(_))
            );
            if detected.format == Format::Jpeg && jpeg_first {
                if let Some(out) = downscale_jpeg(data, &detected, (w, h), quality, options)? {
                    let q = Encoding::Jpeg(quality);
                    let report = guard_report(out.bytes.len(), &[q], q, None, &base);
                    return finish(with_output(out, q, Action::Downscaled, report), options);
                }
            }
            let threads = admission.decoder_threads;
            let decoded = guarded(detected.format, || {
                decode(data, &detected, (w, h), options, threads)
            })?;
            let (pixels, orientation, (tw, th)) = match decoded {
                Decoded::Stored(pixels) => (pixels, detected.orientation, (w, h)),
                // Already upright (and maybe cropped by `clap`): size the budget on what came out.
                Decoded::Upright(pixels) => {
                    let (pw, ph) = (pixels.width(), pixels.height());
                    let size = budget_size(pw, ph, options.max_pixels(), options.target_pixels())
                        .unwrap_or((pw, ph));
                    (pixels, Orientation::Normal, size)
                }
            };
            let (content, palette) = content_of(&detected, &pixels, tw, quality);
            let list = candidates(&content, options.output_format);
            if list.len() == 1
                && matches!(list[0], Encoding::Jpeg(_))
                && orientation == Orientation::Normal
                && !pixels.has_alpha()
            {
                // Resize and encode band by band: no intermediate, no whole result.
                let out = guarded(Format::Jpeg, || {
                    codec::jpeg::encode_scaled(&pixels, (tw, th), quality)
                })?;
                let report = guard_report(out.bytes.len(), &list, list[0], None, &base);
                return finish(
                    with_output(out, list[0], Action::Downscaled, report),
                    options,
                );
            }
            let upright = orientation.apply(resize(pixels, tw, th));
            let choice = (&content, options.output_format);
            encoded(
                upright,
                choice,
                palette.as_deref(),
                Action::Downscaled,
                base,
            )?
        }
        Plan::Convert { output, reason } => {
            let base = Report {
                reason: Some(reason),
                ..base
            };
            if let Details::Tiff(info) = &detected.details {
                // Every page decoded and written again as classic 8-bit TIFF, none scaled.
                let keep = vec![None; info.pages.len()];
                let out = tiff_pages(data, info, &keep, options)?;
                return finish(tiff_report(out, info, Action::Converted, base), options);
            }
            let quality = source_quality(data, &detected, options);
            let size = (detected.width, detected.height);
            if output == Format::Jpeg && options.output_format != OutputFormat::Png {
                // Streamed at full size (12-bit and arithmetic-coded files included).
                if let Some(out) = downscale_jpeg(data, &detected, size, quality, options)? {
                    let q = Encoding::Jpeg(quality);
                    let report = guard_report(out.bytes.len(), &[q], q, None, &base);
                    return finish(with_output(out, q, Action::Converted, report), options);
                }
            }
            let threads = admission.decoder_threads;
            let upright = match guarded(detected.format, || {
                decode(data, &detected, (0, 0), options, threads)
            })? {
                Decoded::Stored(pixels) => detected.orientation.apply(pixels),
                Decoded::Upright(pixels) => pixels,
            };
            let (content, palette) = content_of(&detected, &upright, upright.width(), quality);
            let choice = (&content, options.output_format);
            encoded(upright, choice, palette.as_deref(), Action::Converted, base)?
        }
        Plan::Repair { reason } => {
            let bytes = match &detected.details {
                Details::Jpeg(_) => codec::jpeg::strip_extraneous(data)?,
                Details::Png(_) => codec::png::strip_bombs(data)?,
                _ => {
                    return Err(Error::Internal(format!(
                        "no repair for {} files",
                        detected.format
                    )))
                }
            };
            let report = Report {
                action: Action::Repaired,
                bytes_out: bytes.len() as u64,
                reason: Some(reason),
                ..base
            };
            (Some(bytes), report)
        }
        Plan::DownscalePages { pages: targets } => {
            let Details::Tiff(info) = &detected.details else {
                return Err(Error::Internal("page plan for a non-TIFF file".into()));
            };
            let out = tiff_pages(data, info, &targets, options)?;
            tiff_report(out, info, Action::Downscaled, base)
        }
        Plan::RewritePdf => {
            let offset = match &detected.details {
                Details::Pdf(pdf) => pdf.header_offset,
                _ => 0,
            };
            // Junk before `%PDF-` (mail headers, a BOM) goes: offsets inside the file are
            // relative to the header in practice, and readers are lenient either way.
            let body = &data[offset..];
            let encrypted = matches!(&detected.details, Details::Pdf(pdf) if pdf.encrypted);
            let out = guarded(Format::Pdf, || {
                codec::pdf::rewrite(body, options, &mut *admission)
            })
            .map_err(|e| {
                // The file names an encryption dictionary: whatever else is wrong with it,
                // the API refuses it for that, and that is what the user can act on.
                if encrypted && e.kind() == crate::ErrorKind::Corrupt {
                    Error::EncryptedPdf {
                        hint: "it is also damaged: remove the password and repair it first",
                    }
                } else {
                    e
                }
            })?;
            let action = if out.downscaled {
                Action::Downscaled
            } else if out.repaired || offset > 0 {
                Action::Repaired
            } else if out.bytes.is_some() {
                // Only a page selection changed the file.
                Action::Converted
            } else {
                Action::Passthrough
            };
            let bytes = match out.bytes {
                Some(bytes) => Some(bytes),
                None if offset > 0 => Some(body.to_vec()),
                None => None,
            };
            let report = Report {
                action,
                pages: out.pages,
                bytes_out: bytes.as_ref().map_or(data.len(), Vec::len) as u64,
                out_pages: (out.out_pages != out.pages).then_some(out.out_pages),
                page_images: Some(out.page_images),
                ..base
            };
            (bytes, report)
        }
    };
    finish((bytes, report), options)
}

/// Every page of a TIFF decoded, scaled where `targets` says, written as one classic TIFF.
fn tiff_pages(
    data: &[u8],
    info: &crate::detect::TiffInfo,
    targets: &[Option<(u32, u32)>],
    options: &PrepareOptions,
) -> Result<codec::tiff::PagesOut> {
    let limit = options.max_input_pixels();
    guarded(Format::Tiff, || {
        codec::tiff::prepare_pages(data, &info.pages, targets, limit)
    })
}

/// The bytes and report of a rewritten TIFF.
fn tiff_report(
    out: codec::tiff::PagesOut,
    info: &crate::detect::TiffInfo,
    action: Action,
    base: Report,
) -> (Option<Vec<u8>>, Report) {
    let upright = |p: &crate::detect::TiffPage| {
        let (w, h) = crate::Orientation::from_exif(p.orientation).displayed_size(p.width, p.height);
        [w, h]
    };
    let [out_width, out_height] = out.sizes.first().copied().unwrap_or([0, 0]);
    let bigger = out.bytes.len() as u64 > base.bytes_in;
    let size_reason = bigger.then(|| match &out.rejected {
        Some(why) => format!("{why}; gray kept for legibility"),
        None => format!(
            "{} is the smallest lossless coding of these pages",
            out.encoding
        ),
    });
    let reason = joined(base.reason.clone(), size_reason);
    let report = Report {
        action,
        output_format: Format::Tiff,
        encoding: Some(out.encoding),
        reason,
        out_width,
        out_height,
        bytes_out: out.bytes.len() as u64,
        page_sizes: Some(info.pages.iter().map(upright).collect()),
        out_page_sizes: Some(out.sizes),
        ..base
    };
    (Some(out.bytes), report)
}

/// Applies the output size limit to a finished result.
fn finish(
    (bytes, report): (Option<Vec<u8>>, Report),
    options: &PrepareOptions,
) -> Result<(Option<Vec<u8>>, Report)> {
    if report.bytes_out > options.max_output_bytes {
        return Err(Error::TooLarge {
            limit: Limit::Bytes,
            actual: report.bytes_out,
            max: options.max_output_bytes,
        });
    }
    Ok((bytes, report))
}

/// Encodes `upright` with the first of the [`candidates`] for `content` and the requested
/// format that does not grow the file ([`guard`], which measures the [`costly`] ones when
/// none fits) and fills in the report.
fn encoded(
    upright: Pixels,
    (content, requested): (&Content, OutputFormat),
    source_palette: Option<&[[u8; 4]]>,
    action: Action,
    base: Report,
) -> Result<(Option<Vec<u8>>, Report)> {
    let (width, height) = (upright.width(), upright.height());
    let chosen = guard(
        &candidates(content, requested),
        &costly(content, requested),
        base.bytes_in,
        |encoding| {
            guarded(encoding.format(), || match (encoding, source_palette) {
                (Encoding::PngSourcePalette, Some(palette)) => {
                    codec::png::encode_in_palette(&upright, palette)
                }
                _ => codec::encode(&upright, encoding),
            })
            .map_err(|e| match e {
                // A panic while encoding pixels that decoded fine is our failure, not damage.
                Error::Corrupt { what, .. } => {
                    Error::Internal(format!("the {} encoder: {what}", encoding.format()))
                }
                other => other,
            })
        },
        Vec::len,
    )?;
    let out = Encoded {
        bytes: chosen.output,
        width,
        height,
    };
    let report = Report {
        encoding: Some(chosen.encoding.name()),
        reason: joined(base.reason.clone(), chosen.reason),
        ..base
    };
    Ok(with_output(out, chosen.encoding, action, report))
}

/// Both reasons when there are two (why the file was converted; why the output is bigger).
fn joined(first: Option<String>, second: Option<String>) -> Option<String> {
    match (first, second) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// The report for a single-candidate encoding: its name, and a reason when it grew the file.
fn guard_report(
    bytes: usize,
    list: &[Encoding],
    chosen: Encoding,
    rejected: Option<&str>,
    base: &Report,
) -> Report {
    let reason = (bytes as u64 > base.bytes_in).then(|| {
        let note = rejected
            .map(str::to_string)
            .or_else(|| legibility_note(list));
        match note {
            Some(why) => format!("{why}; {} kept for legibility", chosen.name()),
            None => format!("{} came out bigger than the input", chosen.name()),
        }
    });
    Report {
        encoding: Some(chosen.name()),
        reason: joined(base.reason.clone(), reason),
        ..base.clone()
    }
}

/// The JPEG quality to write: the option, capped by the source JPEG's own (re-saving a q60
/// photo at q85 only spends bytes on its artefacts).
fn source_quality(data: &[u8], detected: &Detected, options: &PrepareOptions) -> u8 {
    match &detected.details {
        // 12-bit tables are on another scale: only 8-bit files are estimated.
        Details::Jpeg(info) if info.precision == 8 => {
            jpeg_quality(data).map_or(options.jpeg_quality, |q| q.min(options.jpeg_quality))
        }
        _ => options.jpeg_quality,
    }
}

/// What the encoding choice needs to know about decoded `pixels` from `detected`, scaled to
/// `width` pixels wide, and the source's colours when there are few.
fn content_of(
    detected: &Detected,
    pixels: &Pixels,
    width: u32,
    quality: u8,
) -> (Content, Option<Vec<[u8; 4]>>) {
    let lossless = match &detected.details {
        Details::Png(_) => true,
        Details::Webp(w) => w.lossless,
        _ => false,
    };
    // Counted only where it can change the choice (lossless inputs), and it stops at 257.
    let palette = if lossless {
        colours(pixels.data(), usize::from(pixels.channels()))
    } else {
        None
    };
    let snap_to_source = palette.is_some() && {
        let scale = f64::from(width) / f64::from(pixels.width().max(1));
        keeps_strokes(
            median_black_run(&luma(pixels), pixels.width() as usize),
            scale,
        )
    };
    let content = Content {
        format: detected.format,
        lossless,
        few_colours: palette.is_some(),
        snap_to_source,
        jpeg_quality: quality,
    };
    (content, palette)
}

/// The luma of `pixels` (alpha composited on white), for stroke measurements.
fn luma(pixels: &Pixels) -> Vec<u8> {
    let n = usize::from(pixels.channels());
    pixels
        .data()
        .chunks_exact(n)
        .map(|px| {
            let (v, a) = match n {
                1 => (u32::from(px[0]), 255),
                2 => (u32::from(px[0]), u32::from(px[1])),
                3 => (
                    (77 * u32::from(px[0]) + 150 * u32::from(px[1]) + 29 * u32::from(px[2])) >> 8,
                    255,
                ),
                _ => (
                    (77 * u32::from(px[0]) + 150 * u32::from(px[1]) + 29 * u32::from(px[2])) >> 8,
                    u32::from(px[3]),
                ),
            };
            ((v * a + 255 * (255 - a)) / 255) as u8
        })
        .collect()
}

/// The new bytes and the report that describes them.
fn with_output(
    out: Encoded,
    encoding: Encoding,
    action: Action,
    base: Report,
) -> (Option<Vec<u8>>, Report) {
    let report = Report {
        action,
        output_format: encoding.format(),
        out_width: out.width,
        out_height: out.height,
        bytes_out: out.bytes.len() as u64,
        ..base
    };
    (Some(out.bytes), report)
}

/// A JPEG → JPEG downscale streamed row by row ([`codec::jpeg::downscale`]); `None` when the
/// file needs the whole-image path (CMYK, YCCK).
fn downscale_jpeg(
    data: &[u8],
    detected: &Detected,
    target: (u32, u32),
    quality: u8,
    options: &PrepareOptions,
) -> Result<Option<Encoded>> {
    let Details::Jpeg(info) = &detected.details else {
        return Ok(None);
    };
    if !libjpeg_streams(info) {
        return Ok(None);
    }
    let size = (detected.width, detected.height);
    // What libjpeg may allocate (a progressive file's coefficients): the file's limit, less
    // the input it reads from.
    let libjpeg_memory = memory::file_limit(options).saturating_sub(data.len() as u64);
    guarded(Format::Jpeg, || {
        codec::jpeg::downscale(
            data,
            size,
            target,
            detected.orientation,
            quality,
            libjpeg_memory,
        )
    })
    .map_err(|e| match e {
        // Say what the file needs, against the limit the user set.
        Error::TooLarge {
            limit: Limit::Memory,
            ..
        } => {
            let coefficients = memory::progressive_jpeg_bytes(size.0, size.1, info.components);
            memory::too_large(coefficients.saturating_add(data.len() as u64), options)
        }
        other => other,
    })
}

/// True when `plan` sends `detected` down the streamed JPEG path ([`downscale_jpeg`]): a JPEG
/// written as JPEG, whatever its precision or coding.
fn streams_jpeg(detected: &Detected, plan: &Plan, options: &PrepareOptions) -> bool {
    let jpeg_out = matches!(
        plan,
        Plan::Downscale {
            output: Format::Jpeg,
            ..
        } | Plan::Convert {
            output: Format::Jpeg,
            ..
        }
    );
    jpeg_out
        && options.output_format != OutputFormat::Png
        && matches!(&detected.details, Details::Jpeg(info) if libjpeg_streams(info))
}

/// libjpeg hands us rows of every JPEG but CMYK ones (those go through the whole-image decoder,
/// which inverts Adobe CMYK).
fn libjpeg_streams(info: &crate::detect::JpegInfo) -> bool {
    info.components != 4
}

/// Decoded pixels, as stored (orientation still to apply) or already upright.
enum Decoded {
    Stored(Pixels),
    Upright(Pixels),
}

/// Decodes at a size that still covers `target` (JPEG shrinks on load; the others decode whole).
fn decode(
    data: &[u8],
    detected: &Detected,
    target: (u32, u32),
    options: &PrepareOptions,
    threads: u32,
) -> Result<Decoded> {
    let (w, h) = (detected.width, detected.height);
    let limit = options.max_input_pixels();
    match &detected.details {
        Details::Jpeg(info) => {
            let target = if target == (0, 0) { (w, h) } else { target };
            codec::jpeg::decode(data, (w, h), info.adobe_transform.is_some(), target)
                .map(Decoded::Stored)
        }
        Details::Png(_) => codec::png::decode(data, w, h, limit).map(Decoded::Stored),
        Details::Webp(_) => codec::webp::decode(data, w, h, limit).map(Decoded::Stored),
        Details::Heif(_) => {
            codec::heif::decode(data, detected.format, limit, threads).map(Decoded::Upright)
        }
        _ => Err(Error::Undecodable {
            format: detected.format,
            detail: format!("{} decoding is not in this build", detected.format),
        }),
    }
}

/// Runs codec work so that a panic inside a decoder (a bug, triggered by hostile bytes)
/// becomes this file's `corrupt` error instead of taking the process or batch down.
fn guarded<T>(format: Format, work: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        Err(Error::corrupt(
            format,
            format!("the decoder failed: {what}"),
        ))
    })
}
