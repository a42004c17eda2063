//! Which encoding a re-encoded image gets: pure decisions from what the content is (JPEG
//! quality, palette, bilevel, stroke width) and the options, apart from the codecs that
//! carry them out. The codecs only encode; [`guard`] picks among their results.
//!
//! The rules (issue 11: smaller uploads, the same words):
//! - a JPEG is re-encoded at no higher quality than its own ([`jpeg_quality`]): re-saving a
//!   q60 photo at q85 only spends bytes on its artefacts;
//! - bilevel pages (fax, 1-bit scans) stay bilevel (CCITT G4) after scaling, unless their
//!   strokes would get thinner than [`MIN_STROKE_PX`] ([`keeps_strokes`]): then grey;
//! - few-colour images (screenshots, forms) become palette PNGs;
//! - when the preferred encoding comes out bigger than the input, the next one is tried; when
//!   all do, the smaller ones that cost legibility ([`costly`]) are measured, never used, and
//!   named in the report with their cost.
//!
//! Bilevel pages are also scaled less (to just under the maximum, see
//! [`PrepareOptions::target_megapixels`](crate::PrepareOptions::target_megapixels)): G4 makes
//! pixels cheap, and strokes thinner than [`MIN_STROKE_PX`] are what bilevel loses.

use serde::Serialize;

use crate::format::Format;

/// Which output format the user wants for re-encoded single images (`--output-format`).
///
/// Multi-page TIFFs stay TIFF (their pages are G4 or Deflate inside) and PDFs stay PDF
/// whatever this says: one image file cannot hold their pages.
///
/// ```
/// use mindee_prep::OutputFormat;
/// assert_eq!(OutputFormat::default(), OutputFormat::Auto);
/// assert_eq!("png".parse::<OutputFormat>(), Ok(OutputFormat::Png));
/// assert!("gif".parse::<OutputFormat>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// The encoding chosen by content (JPEG for photos, palette PNG for screenshots, G4 for
    /// fax pages), never bigger than the input when a legible smaller one exists.
    #[default]
    Auto,
    /// Always JPEG.
    Jpeg,
    /// Always PNG (palette when the image has few colours).
    Png,
    /// The input's format where we can write it (JPEG, PNG, TIFF); otherwise as `Auto`.
    Keep,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(OutputFormat::Auto),
            "jpeg" | "jpg" => Ok(OutputFormat::Jpeg),
            "png" => Ok(OutputFormat::Png),
            "keep" => Ok(OutputFormat::Keep),
            other => Err(format!(
                "unknown output format {other:?} (auto, jpeg, png or keep)"
            )),
        }
    }
}

/// One way to encode an image, as named in the report's `"encoding"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Baseline JPEG at this quality.
    Jpeg(u8),
    /// Truecolour or grey PNG (adaptive filters, zlib default level).
    Png,
    /// Indexed PNG (up to 256 colours, 1/2/4/8-bit indices).
    PngPalette,
    /// Indexed PNG in the input's own colours, each scaled pixel snapped to the nearest: as
    /// small as the source, at the cost of anti-aliasing.
    PngSourcePalette,
    /// TIFF pages as CCITT G4 bilevel.
    TiffG4,
    /// TIFF pages as 8-bit Deflate.
    TiffDeflate,
}

impl Encoding {
    /// The name in the report: `jpeg_q72`, `png`, `png_palette`, `tiff_g4`, `tiff_deflate`.
    ///
    /// ```
    /// use mindee_prep::Encoding;
    /// assert_eq!(Encoding::Jpeg(72).name(), "jpeg_q72");
    /// assert_eq!(Encoding::TiffG4.name(), "tiff_g4");
    /// ```
    pub fn name(self) -> String {
        match self {
            Encoding::Jpeg(q) => format!("jpeg_q{q}"),
            Encoding::Png => "png".into(),
            Encoding::PngPalette => "png_palette".into(),
            Encoding::PngSourcePalette => "png_source_palette".into(),
            Encoding::TiffG4 => "tiff_g4".into(),
            Encoding::TiffDeflate => "tiff_deflate".into(),
        }
    }

    /// The file format this encoding produces.
    pub fn format(self) -> Format {
        match self {
            Encoding::Jpeg(_) => Format::Jpeg,
            Encoding::Png | Encoding::PngPalette | Encoding::PngSourcePalette => Format::Png,
            Encoding::TiffG4 | Encoding::TiffDeflate => Format::Tiff,
        }
    }
}

/// What the pipeline knows about an image's content when it chooses candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Content {
    /// The input's format.
    pub format: Format,
    /// The input is losslessly coded (PNG, lossless WebP): text and flat colours, not a photo
    /// (unless it has many colours).
    pub lossless: bool,
    /// At most 256 distinct colours in the input (a palette PNG, a screenshot, a form).
    pub few_colours: bool,
    /// The input's own colours may be reused after scaling (each pixel snapped to the nearest
    /// one) without thinning strokes below [`MIN_STROKE_PX`] (see [`keeps_strokes`]).
    pub snap_to_source: bool,
    /// The quality to write JPEGs at: the option, capped by the source's own.
    pub jpeg_quality: u8,
}

/// The encodings to try for a single image, best first (the [`guard`] moves down the list
/// while a result is bigger than the input).
///
/// ```
/// use mindee_prep::{encoding::{candidates, Content}, Encoding, Format, OutputFormat};
/// let screenshot = Content { format: Format::Png, lossless: true, few_colours: true, snap_to_source: false, jpeg_quality: 85 };
/// assert_eq!(candidates(&screenshot, OutputFormat::Auto)[0], Encoding::PngPalette);
/// let photo = Content { format: Format::Jpeg, lossless: false, few_colours: false, snap_to_source: false, jpeg_quality: 60 };
/// assert_eq!(candidates(&photo, OutputFormat::Auto), [Encoding::Jpeg(60)]);
/// let webp = Content { format: Format::Webp, jpeg_quality: 85, ..photo };
/// assert_eq!(candidates(&webp, OutputFormat::Auto), [Encoding::Jpeg(85), Encoding::Jpeg(75), Encoding::Jpeg(65)]);
/// ```
pub fn candidates(content: &Content, requested: OutputFormat) -> Vec<Encoding> {
    let jpeg = Encoding::Jpeg(content.jpeg_quality);
    let png = if content.few_colours && content.snap_to_source {
        vec![
            Encoding::PngPalette,
            Encoding::PngSourcePalette,
            Encoding::Png,
        ]
    } else if content.few_colours {
        vec![Encoding::PngPalette, Encoding::Png]
    } else {
        vec![Encoding::Png]
    };
    let keep_format = match requested {
        OutputFormat::Keep => match content.format {
            Format::Jpeg => Some(Format::Jpeg),
            Format::Png => Some(Format::Png),
            _ => None,
        },
        OutputFormat::Jpeg => Some(Format::Jpeg),
        OutputFormat::Png => Some(Format::Png),
        OutputFormat::Auto => None,
    };
    // Lossy inputs (WebP, HEIC) code better than JPEG: when q85 grows them, lower qualities
    // are tried down to [`JPEG_FLOOR`], under which small text blurs.
    let mut jpegs = vec![jpeg];
    for q in [75, JPEG_FLOOR] {
        if q < content.jpeg_quality {
            jpegs.push(Encoding::Jpeg(q));
        }
    }
    match keep_format {
        Some(Format::Jpeg) => jpegs,
        Some(_) => png,
        // A lossless input is text, drawing or a screenshot until its size says otherwise:
        // (palette) PNG first, JPEG when PNG would grow the file (a photo saved as PNG).
        None if content.lossless => {
            let mut list = png;
            list.push(jpeg);
            list
        }
        None => jpegs,
    }
}

/// The lowest JPEG quality the guard falls back to for lossy inputs.
pub const JPEG_FLOOR: u8 = 65;

/// What the smaller encodings left out of `candidates` would cost, for the report when the
/// output stays bigger than the input.
///
/// ```
/// use mindee_prep::{encoding::legibility_note, Encoding};
/// assert!(legibility_note(&[Encoding::Jpeg(85), Encoding::Jpeg(65)]).unwrap().contains("q65"));
/// assert_eq!(legibility_note(&[Encoding::Png]), None);
/// ```
pub fn legibility_note(candidates: &[Encoding]) -> Option<String> {
    match candidates.last() {
        Some(Encoding::Jpeg(q)) if *q <= JPEG_FLOOR => {
            Some(format!("JPEG below q{JPEG_FLOOR} would blur small text"))
        }
        _ => None,
    }
}

/// Output strokes thinner than this (pixels) break up when binarised: thin serifs and small
/// type vanish. Measured on a 400 dpi G4 fax page scaled to 4 MP: strokes of 1.3 px lost
/// 17 % of words bilevel (OCR F1 0.683 → 0.566), grey kept them.
pub const MIN_STROKE_PX: f64 = 2.0;

/// True when a bilevel page whose black runs have median length `median_run` (source pixels)
/// keeps legible strokes after scaling by `scale` (output / input, ≤ 1) and binarising.
///
/// ```
/// use mindee_prep::encoding::keeps_strokes;
/// assert!(keeps_strokes(4, 0.6));   // 2.4 px strokes: G4
/// assert!(!keeps_strokes(3, 0.5));  // 1.5 px: grey
/// assert!(keeps_strokes(1, 1.0));   // not scaled: bilevel is lossless
/// ```
pub fn keeps_strokes(median_run: u32, scale: f64) -> bool {
    scale >= 1.0 || f64::from(median_run) * scale >= MIN_STROKE_PX
}

/// The median length of the black (value < 128) horizontal runs of an 8-bit grey image, in
/// pixels; 0 when there is no black. A stroke-width estimate for text pages.
///
/// ```
/// use mindee_prep::encoding::median_black_run;
/// // Runs of 2, 3 and 3 black pixels.
/// let row = [255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255];
/// assert_eq!(median_black_run(&row, 12), 3);
/// ```
pub fn median_black_run(gray: &[u8], width: usize) -> u32 {
    // Run lengths beyond 64 are rules and filled areas, not strokes: counted together.
    let mut histogram = [0u64; 65];
    for row in gray.chunks_exact(width.max(1)) {
        let mut run = 0usize;
        for &v in row.iter().chain(std::iter::once(&255)) {
            if v < 128 {
                run += 1;
            } else if run > 0 {
                histogram[run.min(64)] += 1;
                run = 0;
            }
        }
    }
    let total: u64 = histogram.iter().sum();
    let mut seen = 0;
    for (len, &n) in histogram.iter().enumerate() {
        seen += n;
        if total > 0 && seen * 2 >= total {
            return len as u32;
        }
    }
    0
}

/// The threshold (pixels below it become black) that keeps the fraction of black pixels of
/// the source, `black_fraction`, in the scaled grey image whose histogram is `histogram`.
///
/// A fixed 50 % threshold thins strokes that the scaling spread over grey pixels; keeping the
/// ink coverage keeps their weight. Clamped to 64–224 so that noise and blank pages do not
/// pull it to an extreme.
///
/// ```
/// use mindee_prep::encoding::coverage_threshold;
/// let mut histogram = [0u64; 256];
/// histogram[0] = 10; histogram[100] = 10; histogram[200] = 10; histogram[255] = 70;
/// // 20 % black in the source: pixels 0 and 100 become black.
/// assert_eq!(coverage_threshold(&histogram, 0.2), 101);
/// ```
pub fn coverage_threshold(histogram: &[u64; 256], black_fraction: f64) -> u8 {
    let total: u64 = histogram.iter().sum();
    if total == 0 {
        return 128;
    }
    let want = (black_fraction.clamp(0.0, 1.0) * total as f64).round() as u64;
    let mut seen = 0u64;
    let mut threshold = 0usize;
    for (v, &n) in histogram.iter().enumerate() {
        if seen >= want {
            break;
        }
        seen += n;
        threshold = v + 1;
    }
    threshold.clamp(64, 224) as u8
}

/// A smaller encoding the [`guard`] never picks because it costs legibility, and that cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Costly {
    /// The encoding.
    pub encoding: Encoding,
    /// What it does to the text, for the report ("blurs small text").
    pub cost: String,
}

/// The JPEG quality of the last resort the [`guard`] measures (and never uses) when every
/// legible encoding grows the file: on the legibility benchmark it loses words that q85 keeps.
pub const COSTLY_JPEG_QUALITY: u8 = 50;

/// The encodings smaller than [`candidates`] that cost legibility, cheapest first: measured
/// only when every candidate grows the file, so that the report can say what a smaller
/// output would have cost.
///
/// ```
/// use mindee_prep::{encoding::{costly, Content}, Encoding, Format, OutputFormat};
/// let screenshot = Content { format: Format::Png, lossless: true, few_colours: true, snap_to_source: false, jpeg_quality: 85 };
/// let list: Vec<Encoding> = costly(&screenshot, OutputFormat::Auto).iter().map(|c| c.encoding).collect();
/// assert_eq!(list, [Encoding::PngSourcePalette, Encoding::Jpeg(50)]);
/// assert!(costly(&screenshot, OutputFormat::Png).iter().all(|c| c.encoding.format() == Format::Png));
/// ```
pub fn costly(content: &Content, requested: OutputFormat) -> Vec<Costly> {
    let mut list = Vec::new();
    let allowed = |format: Format| match requested {
        OutputFormat::Auto => true,
        OutputFormat::Jpeg => format == Format::Jpeg,
        OutputFormat::Png => format == Format::Png,
        OutputFormat::Keep => match content.format {
            Format::Jpeg | Format::Png => format == content.format,
            _ => true,
        },
    };
    if content.few_colours && !content.snap_to_source && allowed(Format::Png) {
        list.push(Costly {
            encoding: Encoding::PngSourcePalette,
            cost: format!(
                "snapped to the source's colours, strokes get thinner than {MIN_STROKE_PX} px"
            ),
        });
    }
    if content.jpeg_quality > COSTLY_JPEG_QUALITY && allowed(Format::Jpeg) {
        list.push(Costly {
            encoding: Encoding::Jpeg(COSTLY_JPEG_QUALITY),
            cost: "blurs small text".into(),
        });
    }
    list
}

/// One candidate's result, for [`guard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen<T> {
    /// The encoded result.
    pub output: T,
    /// Which encoding made it.
    pub encoding: Encoding,
    /// Set when the result stays bigger than the input: why no smaller candidate was used.
    pub reason: Option<String>,
}

/// Encodes with each candidate in turn until a result is no bigger than `bytes_in`.
///
/// When none is, keeps the smallest and says why in `reason`: it encodes the `costly`
/// encodings too (never chosen) and names the first that would have been smaller than the
/// input with its legibility cost, or, when even those grow the file, lists every size.
/// (A few-colour image scaled with a smooth filter gains anti-aliased colours: it can come
/// out bigger than its source whatever the coding.)
/// `size` tells how many bytes a result has. Errors from `encode` stop the search.
///
/// ```
/// use mindee_prep::{encoding::{guard, Costly}, Encoding};
/// // PNG comes out at 900 bytes for a 500-byte input, JPEG q85 at 700, JPEG q50 at 300.
/// let sizes = |e: Encoding| Ok::<_, ()>(vec![0; match e { Encoding::Png => 900, Encoding::Jpeg(85) => 700, _ => 300 }]);
/// let chosen = guard(&[Encoding::Png, Encoding::Jpeg(85)], &[], 800, sizes, |v| v.len()).unwrap();
/// assert_eq!((chosen.encoding, chosen.reason), (Encoding::Jpeg(85), None));
/// let q50 = Costly { encoding: Encoding::Jpeg(50), cost: "blurs small text".into() };
/// let chosen = guard(&[Encoding::Png, Encoding::Jpeg(85)], &[q50], 500, sizes, |v| v.len()).unwrap();
/// assert_eq!(chosen.encoding, Encoding::Jpeg(85));
/// assert_eq!(chosen.reason.unwrap(), "jpeg_q50 would be smaller than the input (300 bytes) but blurs small text; jpeg_q85 kept for legibility");
/// ```
pub fn guard<T, E>(
    candidates: &[Encoding],
    costly: &[Costly],
    bytes_in: u64,
    mut encode: impl FnMut(Encoding) -> Result<T, E>,
    size: impl Fn(&T) -> usize,
) -> Result<Chosen<T>, E> {
    let mut best: Option<(T, Encoding)> = None;
    let mut tried = Vec::new();
    for &candidate in candidates {
        let output = encode(candidate)?;
        let bytes = size(&output) as u64;
        if bytes <= bytes_in {
            return Ok(Chosen {
                output,
                encoding: candidate,
                reason: None,
            });
        }
        tried.push(format!("{} {bytes}", candidate.name()));
        let smaller = best.as_ref().is_none_or(|(b, _)| bytes < size(b) as u64);
        if smaller {
            best = Some((output, candidate));
        }
    }
    let (output, encoding) = best.expect("at least one candidate");
    let mut worse = Vec::new();
    let mut reason = None;
    for option in costly {
        let bytes = size(&encode(option.encoding)?) as u64;
        if bytes <= bytes_in {
            reason = Some(format!(
                "{} would be smaller than the input ({bytes} bytes) but {}; {} kept for legibility",
                option.encoding.name(),
                option.cost,
                encoding.name()
            ));
            break;
        }
        worse.push(format!(
            "{} {bytes} ({})",
            option.encoding.name(),
            option.cost
        ));
    }
    let reason = reason.unwrap_or_else(|| {
        let mut why = format!(
            "no encoding is smaller than the input ({bytes_in} bytes): {}",
            tried.join(", ")
        );
        if !worse.is_empty() {
            why.push_str(&format!(
                "; nor are those that cost legibility: {}",
                worse.join(", ")
            ));
        }
        why
    });
    Ok(Chosen {
        output,
        encoding,
        reason: Some(reason),
    })
}

/// The quality (1–100) a JPEG was saved at, estimated from its luma quantisation table the
/// way libjpeg's tools and ImageMagick do: the IJG table scaled by quality that matches it
/// best. `None` when the file has no 8-bit luma table (or is not a JPEG).
///
/// ```
/// use mindee_prep::encoding::jpeg_quality;
/// let photo = std::fs::read("fixtures/jpeg/small_2mp.jpg").unwrap();
/// let q = jpeg_quality(&photo).unwrap();
/// assert!((1..=100).contains(&q));
/// ```
pub fn jpeg_quality(data: &[u8]) -> Option<u8> {
    let table = luma_table(data)?;
    // The sum gives a first guess; the exact match is searched around it (tables are
    // rounded and clamped, so the sum alone can be off by one).
    let sum: u32 = table.iter().map(|&v| u32::from(v)).sum();
    let std_sum: u32 = STD_LUMA.iter().map(|&v| u32::from(v)).sum();
    let scale = f64::from(sum) * 100.0 / f64::from(std_sum);
    let guess = if scale <= 100.0 {
        (200.0 - scale) / 2.0
    } else {
        5000.0 / scale
    };
    let guess = guess.round().clamp(1.0, 100.0) as i32;
    let distance = |q: i32| -> u64 {
        let scaled = ijg_table(q as u8);
        table
            .iter()
            .zip(scaled.iter())
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum()
    };
    (guess - 5..=guess + 5)
        .filter(|q| (1..=100).contains(q))
        .min_by_key(|&q| (distance(q), (q - guess).unsigned_abs()))
        .map(|q| q as u8)
}

/// libjpeg's standard luminance quantisation table (natural order), for quality 50.
const STD_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// Where the k-th zig-zag coefficient of a DQT segment sits in natural order.
const NATURAL_ORDER: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The IJG luma table libjpeg writes at `quality` (jcparam.c, baseline-clamped).
fn ijg_table(quality: u8) -> [u16; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    STD_LUMA.map(|v| ((u32::from(v) * scale + 50) / 100).clamp(1, 255) as u16)
}

/// Table 0 (luma) of the first DQT segments before the first scan, in natural order.
fn luma_table(data: &[u8]) -> Option<[u16; 64]> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    loop {
        if *data.get(pos)? != 0xFF {
            return None;
        }
        let mut marker = *data.get(pos + 1)?;
        pos += 1;
        while marker == 0xFF {
            pos += 1;
            marker = *data.get(pos)?;
        }
        pos += 1;
        if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
            continue;
        }
        if matches!(marker, 0xD9 | 0xDA) {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([*data.get(pos)?, *data.get(pos + 1)?]));
        let segment = data.get(pos + 2..pos + length.max(2))?;
        if marker == 0xDB {
            // A DQT segment may hold several tables: Pq/Tq byte, then 64 values of 1 or 2 bytes.
            let mut at = 0;
            while at < segment.len() {
                let (precision, id) = (segment[at] >> 4, segment[at] & 15);
                let size = if precision == 0 { 64 } else { 128 };
                let values = segment.get(at + 1..at + 1 + size)?;
                if id == 0 {
                    let mut table = [0u16; 64];
                    for (k, slot) in NATURAL_ORDER.iter().enumerate() {
                        table[*slot] = if precision == 0 {
                            u16::from(values[k])
                        } else {
                            u16::from_be_bytes([values[2 * k], values[2 * k + 1]])
                        };
                    }
                    return Some(table);
                }
                at += 1 + size;
            }
        }
        pos += length;
    }
}

/// A cap on distinct colours: palette PNGs hold at most 256.
pub const PALETTE_COLOURS: usize = 256;

/// The distinct colours of `pixels` (interleaved, `channels` per pixel) as RGBA, when there
/// are at most [`PALETTE_COLOURS`]; `None` as soon as there are more.
///
/// ```
/// use mindee_prep::encoding::colours;
/// assert_eq!(colours(&[0, 255, 0], 1).unwrap().len(), 2);
/// ```
pub fn colours(pixels: &[u8], channels: usize) -> Option<Vec<[u8; 4]>> {
    let channels = channels.clamp(1, 4);
    let mut seen = std::collections::HashSet::with_capacity(PALETTE_COLOURS + 1);
    let mut last = None;
    for px in pixels.chunks_exact(channels) {
        if last == Some(px) {
            continue;
        }
        last = Some(px);
        let rgba = match channels {
            1 => [px[0], px[0], px[0], 255],
            2 => [px[0], px[0], px[0], px[1]],
            3 => [px[0], px[1], px[2], 255],
            _ => [px[0], px[1], px[2], px[3]],
        };
        if seen.insert(rgba) && seen.len() > PALETTE_COLOURS {
            return None;
        }
    }
    let mut list: Vec<[u8; 4]> = seen.into_iter().collect();
    list.sort_unstable();
    Some(list)
}

/// True when `pixels` (interleaved, `channels` per pixel) has at most
/// [`PALETTE_COLOURS`] distinct colours; stops counting as soon as it has more.
///
/// ```
/// use mindee_prep::encoding::has_few_colours;
/// assert!(has_few_colours(&[0, 0, 0, 255, 255, 255], 3));
/// let gradient: Vec<u8> = (0..300u32).flat_map(|i| [(i % 256) as u8, (i / 256) as u8, 0]).collect();
/// assert!(!has_few_colours(&gradient, 3));
/// ```
pub fn has_few_colours(pixels: &[u8], channels: usize) -> bool {
    let channels = channels.clamp(1, 4);
    let mut seen = std::collections::HashSet::with_capacity(PALETTE_COLOURS + 1);
    let mut last = u32::MAX;
    for px in pixels.chunks_exact(channels) {
        let mut key = [0u8; 4];
        key[..channels].copy_from_slice(px);
        let key = u32::from_le_bytes(key);
        // Runs of one colour are the common case in screenshots: skip the hash.
        if key == last {
            continue;
        }
        last = key;
        if seen.insert(key) && seen.len() > PALETTE_COLOURS {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ijg_tables_are_recognised_exactly() {
        for q in [10u8, 25, 50, 60, 72, 85, 90, 95, 100] {
            // A minimal JPEG head: SOI, one DQT with table 0 in zig-zag order, then SOS.
            let table = ijg_table(q);
            let mut data = vec![0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0];
            for slot in NATURAL_ORDER {
                data.push(table[slot] as u8);
            }
            data.extend_from_slice(&[0xFF, 0xDA]);
            assert_eq!(jpeg_quality(&data), Some(q), "quality {q}");
        }
    }

    #[test]
    fn not_a_jpeg_has_no_quality() {
        assert_eq!(jpeg_quality(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(jpeg_quality(&[0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0]), None);
    }

    #[test]
    fn guard_keeps_the_first_small_enough_and_says_why_when_none_is() {
        let sizes = |e: Encoding| {
            Ok::<_, ()>(match e {
                Encoding::TiffDeflate => 1000usize,
                Encoding::Png => 700,
                Encoding::PngSourcePalette => 650,
                Encoding::Jpeg(50) => 400,
                _ => 800,
            })
        };
        let list = [Encoding::TiffDeflate, Encoding::Png, Encoding::Jpeg(85)];
        let chosen = guard(&list, &[], 750, sizes, |n| *n).unwrap();
        assert_eq!((chosen.encoding, chosen.reason), (Encoding::Png, None));
        let chosen = guard(&list, &[], 100, sizes, |n| *n).unwrap();
        assert_eq!(chosen.encoding, Encoding::Png, "the smallest of the three");
        assert_eq!(
            chosen.reason.as_deref(),
            Some("no encoding is smaller than the input (100 bytes): tiff_deflate 1000, png 700, jpeg_q85 800")
        );
        let costly = [
            Costly {
                encoding: Encoding::PngSourcePalette,
                cost: "thins strokes".into(),
            },
            Costly {
                encoding: Encoding::Jpeg(50),
                cost: "blurs small text".into(),
            },
        ];
        // Both costly ones are smaller than the chosen PNG, neither than the input.
        let chosen = guard(&list, &costly, 300, sizes, |n| *n).unwrap();
        assert_eq!(chosen.encoding, Encoding::Png);
        assert!(chosen.reason.unwrap().ends_with(
            "nor are those that cost legibility: png_source_palette 650 (thins strokes), jpeg_q50 400 (blurs small text)"
        ));
        // The second is smaller than the input: named with its cost.
        let chosen = guard(&list, &costly, 450, sizes, |n| *n).unwrap();
        assert_eq!(
            chosen.reason.as_deref(),
            Some("jpeg_q50 would be smaller than the input (400 bytes) but blurs small text; png kept for legibility")
        );
    }

    #[test]
    fn candidates_follow_the_requested_format() {
        let png = Content {
            format: Format::Png,
            lossless: true,
            few_colours: false,
            snap_to_source: false,
            jpeg_quality: 85,
        };
        assert_eq!(
            candidates(&png, OutputFormat::Auto),
            [Encoding::Png, Encoding::Jpeg(85)]
        );
        assert_eq!(candidates(&png, OutputFormat::Keep), [Encoding::Png]);
        assert_eq!(candidates(&png, OutputFormat::Jpeg)[0], Encoding::Jpeg(85));
        let heic = Content {
            format: Format::Heic,
            lossless: false,
            ..png
        };
        assert_eq!(candidates(&heic, OutputFormat::Keep)[0], Encoding::Jpeg(85));
        assert_eq!(candidates(&heic, OutputFormat::Png), [Encoding::Png]);
    }

    #[test]
    fn coverage_threshold_is_clamped() {
        let mut histogram = [0u64; 256];
        histogram[255] = 100;
        assert_eq!(coverage_threshold(&histogram, 0.0), 64);
        histogram[0] = 100;
        assert_eq!(coverage_threshold(&histogram, 1.0), 224);
    }
}
