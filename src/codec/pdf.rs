//! PDF through lopdf: decryption (the API refuses every encrypted PDF), page selection, and
//! oversized embedded raster images re-encoded as smaller JPEGs. Text, vectors, fonts, content
//! streams and CCITT/JBIG2/JPX images are left as they are; a page's layout cannot change
//! because an image always fills its unit square, whatever its pixel size.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId, Stream};
use rayon::prelude::*;
use serde::Serialize;

use crate::detect::{detect, Details};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::geometry::budget_size;
use crate::memory::{self, Admission};
use crate::options::PrepareOptions;
use crate::pixels::Pixels;
use crate::resize::resize;

/// Form XObjects nest; real files go a few levels deep. Deeper is a loop or an attack.
const MAX_FORM_DEPTH: usize = 32;

/// The largest raster image drawn on one page, before and after preparation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageImage {
    /// 1-based page number in the output document.
    pub page: u32,
    /// Width of the page's largest image, in pixels, as found.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// Its width in the output.
    pub out_width: u32,
    /// Its height in the output.
    pub out_height: u32,
}

/// What [`rewrite`] did.
pub(crate) struct PdfOut {
    /// New bytes, or `None` when the input can be sent as it is.
    pub bytes: Option<Vec<u8>>,
    /// Pages in the input document.
    pub pages: u32,
    /// Pages in the output document (differs only after a page selection).
    pub out_pages: u32,
    /// The input was encrypted and was saved without encryption, or its damaged
    /// cross-reference data was rebuilt.
    pub repaired: bool,
    /// At least one image was scaled down.
    pub downscaled: bool,
    /// Per page that shows raster images, its largest one.
    pub page_images: Vec<PageImage>,
}

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::corrupt(Format::Pdf, what.to_string())
}

/// Loads `data` (starting at `%PDF-`), decrypts, applies the page selection and shrinks
/// oversized images. The original bytes are kept (`bytes: None`) when none of that changed
/// anything.
///
/// Images are inflated under `admission`'s share of memory: as many at once as fit in
/// [`PrepareOptions::max_memory`] (less the document itself), one at a time when they do not
/// fit together; one that needs more than that alone refuses the file with `too_large`.
pub(crate) fn rewrite(
    data: &[u8],
    options: &PrepareOptions,
    admission: &mut Admission<'_>,
) -> Result<PdfOut> {
    let load = LoadOptions {
        password: options.pdf_password.clone(),
        ..LoadOptions::default()
    };
    let mut doc = Document::load_mem_with_options(data, load).map_err(|e| match e {
        lopdf::Error::InvalidPassword => Error::EncryptedPdf {
            hint: "the password given does not open it",
        },
        other => corrupt(format!("lopdf cannot read it ({other})")),
    })?;
    if doc.is_encrypted() {
        return Err(Error::EncryptedPdf {
            hint: "remove the password first (or pass it with --pdf-password)",
        });
    }
    // Saving again writes a fresh cross-reference table: that is the repair.
    let repaired = doc.was_encrypted() || doc.xref_recovery.is_some();
    let pages = doc.get_pages();
    let count = pages.len() as u32;
    if count == 0 {
        return Err(corrupt("the document has no pages"));
    }
    let mut selected = false;
    if let Some(selection) = &options.pdf_pages {
        if let Some(keep) = selection.select(count)? {
            let keep: HashSet<u32> = keep.into_iter().map(|i| i + 1).collect();
            let remove: Vec<u32> = (1..=count).filter(|n| !keep.contains(n)).collect();
            doc.delete_pages(&remove);
            doc.prune_objects();
            selected = true;
        }
    }
    let pages = doc.get_pages();
    let out_pages = pages.len() as u32;

    // Every image each page draws, directly or through Form XObjects.
    let mut page_images = Vec::with_capacity(pages.len());
    for (&number, &page_id) in &pages {
        let found = images_on_page(&doc, page_id);
        // lopdf rebuilds what it can of a damaged file; a page that points at objects that
        // are not there (a truncated file) would reach the API broken.
        if let Some((n, g)) = found.missing {
            return Err(corrupt(format!(
                "page {number} refers to object {n} {g} R, which is missing (truncated or damaged file)"
            )));
        }
        page_images.push((number, found.images));
    }
    let unique: BTreeSet<ObjectId> = page_images
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    let sizes: BTreeMap<ObjectId, (u32, u32)> = unique
        .iter()
        .filter_map(|&id| Some((id, image_size(&doc, id)?)))
        .collect();

    let (max, target) = (options.max_pixels(), options.target_pixels());
    let jobs: Vec<(ObjectId, (u32, u32))> = sizes
        .iter()
        .filter(|(_, &(w, h))| u64::from(w) * u64::from(h) <= options.max_input_pixels())
        .filter_map(|(&id, &(w, h))| Some((id, budget_size(w, h, max, target)?)))
        .collect();
    let quality = options.jpeg_quality;
    // The document (parsed objects, the saved copy) is counted by the caller; the images
    // share what is left of the file's limit.
    let allowance =
        memory::file_limit(options).saturating_sub((data.len() as u64).saturating_mul(4));
    let costs: Vec<u64> = jobs
        .iter()
        .map(|&(id, target)| image_cost(&doc, id, target))
        .collect();
    if let Some(&worst) = costs.iter().max() {
        if worst > allowance {
            let document = (data.len() as u64).saturating_mul(4);
            return Err(memory::too_large(worst.saturating_add(document), options));
        }
    }
    let groups = memory::groups_within(&costs, allowance);
    admission.grow(
        groups
            .iter()
            .map(|g| g.iter().map(|&i| costs[i]).sum::<u64>())
            .max()
            .unwrap_or(0),
    );
    let mut replaced: Vec<(ObjectId, Replacement)> = Vec::new();
    for group in groups {
        replaced.par_extend(group.par_iter().filter_map(|&i| {
            let (id, size) = jobs[i];
            let stream = doc.get_object(id).ok()?.as_stream().ok()?;
            // An image we cannot decode is left as it is: the page still renders.
            shrink_image(&doc, stream, size, quality, allowance).map(|r| (id, r))
        }));
    }
    let mut out_sizes = sizes.clone();
    for (id, replacement) in &replaced {
        out_sizes.insert(*id, (replacement.width, replacement.height));
    }
    let report = page_images
        .iter()
        .filter_map(|(number, ids)| {
            let largest = ids
                .iter()
                .filter_map(|id| Some((*id, *sizes.get(id)?)))
                .max_by_key(|(_, (w, h))| u64::from(*w) * u64::from(*h))?;
            let (out_width, out_height) = out_sizes.get(&largest.0).copied().unwrap_or(largest.1);
            Some(PageImage {
                page: *number,
                width: largest.1 .0,
                height: largest.1 .1,
                out_width,
                out_height,
            })
        })
        .collect();

    let downscaled = !replaced.is_empty();
    for (id, replacement) in replaced {
        if let Ok(Object::Stream(stream)) = doc.get_object_mut(id) {
            replacement.apply(stream);
        }
    }
    let bytes = if repaired || selected || downscaled {
        let mut out = Vec::with_capacity(data.len());
        doc.save_to(&mut out)
            .map_err(|e| Error::encoder(Format::Pdf, format!("cannot save it again ({e})")))?;
        Some(out)
    } else {
        None
    };
    Ok(PdfOut {
        bytes,
        pages: count,
        out_pages,
        repaired,
        downscaled,
        page_images: report,
    })
}

/// What a page draws: image XObjects, and the first object it refers to that does not exist.
struct PageObjects {
    images: BTreeSet<ObjectId>,
    missing: Option<ObjectId>,
}

/// The image XObjects a page draws: its own resources (inherited ones included) and those of
/// the Form XObjects it uses, recursively.
fn images_on_page(doc: &Document, page_id: ObjectId) -> PageObjects {
    let mut found = PageObjects {
        images: BTreeSet::new(),
        missing: doc
            .get_page_contents(page_id)
            .into_iter()
            .find(|id| doc.get_object(*id).is_err()),
    };
    let mut seen_forms = HashSet::new();
    if let Ok((direct, ids)) = doc.get_page_resources(page_id) {
        if let Some(&id) = ids.iter().find(|&&id| doc.get_object(id).is_err()) {
            found.missing.get_or_insert(id);
        }
        let dicts = direct
            .into_iter()
            .chain(ids.iter().filter_map(|&id| doc.get_dictionary(id).ok()));
        for resources in dicts {
            collect_images(doc, resources, &mut found, &mut seen_forms, 0);
        }
    }
    found
}

fn collect_images(
    doc: &Document,
    resources: &Dictionary,
    found: &mut PageObjects,
    seen_forms: &mut HashSet<ObjectId>,
    depth: usize,
) {
    if depth > MAX_FORM_DEPTH {
        return;
    }
    let Ok(xobjects) = resources
        .get(b"XObject")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, o)| o.as_dict())
    else {
        return;
    };
    for (_, value) in xobjects.iter() {
        // Only indirect objects can be shared and replaced; streams are always indirect.
        let Ok(id) = value.as_reference() else {
            continue;
        };
        let Ok(object) = doc.get_object(id) else {
            found.missing.get_or_insert(id);
            continue;
        };
        let Ok(stream) = object.as_stream() else {
            continue;
        };
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => {
                found.images.insert(id);
            }
            Ok(b"Form") if seen_forms.insert(id) => {
                if let Ok((_, Object::Dictionary(inner))) = stream
                    .dict
                    .get(b"Resources")
                    .and_then(|o| doc.dereference(o))
                {
                    collect_images(doc, inner, found, seen_forms, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn integer(dict: &Dictionary, key: &[u8]) -> Option<i64> {
    dict.get(key).ok()?.as_i64().ok()
}

fn image_size(doc: &Document, id: ObjectId) -> Option<(u32, u32)> {
    let stream = doc.get_object(id).ok()?.as_stream().ok()?;
    let w = u32::try_from(integer(&stream.dict, b"Width")?).ok()?;
    let h = u32::try_from(integer(&stream.dict, b"Height")?).ok()?;
    (w > 0 && h > 0).then_some((w, h))
}

/// The rows of an 8-bit Flate-only image, inflated on demand (`None` for other filters, TIFF
/// predictors and parameters that do not match the image, which lopdf's whole-image path
/// reads). A zlib header that does not check out is read as raw deflate, as lopdf does.
fn flate_rows<'s>(
    stream: &'s Stream,
    filters: &[Vec<u8>],
    width: u32,
    channels: usize,
) -> Option<Rows<'s>> {
    if filters.len() != 1 || filters[0] != b"FlateDecode" {
        return None;
    }
    let mut png = false;
    if let Ok(params) = stream.dict.get(b"DecodeParms") {
        // Indirect or per-filter parameters: left to lopdf.
        let params = params.as_dict().ok()?;
        match integer(params, b"Predictor").unwrap_or(1) {
            1 => {}
            10..=15 => {
                let matches = integer(params, b"Colors").unwrap_or(1) == channels as i64
                    && integer(params, b"BitsPerComponent").unwrap_or(8) == 8
                    && integer(params, b"Columns").unwrap_or(1) == i64::from(width);
                if !matches {
                    return None;
                }
                png = true;
            }
            _ => return None,
        }
    }
    let content = stream.content.as_slice();
    let zlib = content.len() >= 2
        && content[0] & 0x0f == 8
        && (u16::from(content[0]) << 8 | u16::from(content[1])) % 31 == 0;
    let reader: Box<dyn Read + 's> = if zlib {
        Box::new(flate2::read::ZlibDecoder::new(content))
    } else {
        Box::new(flate2::read::DeflateDecoder::new(content.get(2..)?))
    };
    let stride = (width as usize).checked_mul(channels)?;
    Some(Rows {
        reader,
        png,
        bpp: channels,
        previous: if png { vec![0; stride] } else { Vec::new() },
    })
}

/// Inflated rows, with PNG predictors (PDF `Predictor` 10-15) undone row by row: each row
/// needs only the one above it.
struct Rows<'s> {
    reader: Box<dyn Read + 's>,
    png: bool,
    bpp: usize,
    previous: Vec<u8>,
}

impl Rows<'_> {
    /// Fills `out` with whole rows.
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<()> {
        if !self.png {
            return self.reader.read_exact(out);
        }
        let stride = self.previous.len();
        for row in out.chunks_exact_mut(stride) {
            let mut tag = [0u8];
            self.reader.read_exact(&mut tag)?;
            self.reader.read_exact(row)?;
            unfilter(tag[0], row, &self.previous, self.bpp)?;
            self.previous.copy_from_slice(row);
        }
        Ok(())
    }
}

/// Undoes one PNG filter on `row`, given the row above (zeros for the first).
fn unfilter(kind: u8, row: &mut [u8], up: &[u8], bpp: usize) -> std::io::Result<()> {
    match kind {
        0 => {}
        1 => {
            for i in bpp..row.len() {
                row[i] = row[i].wrapping_add(row[i - bpp]);
            }
        }
        2 => row
            .iter_mut()
            .zip(up)
            .for_each(|(v, u)| *v = v.wrapping_add(*u)),
        3 => {
            for i in 0..row.len() {
                let left = if i >= bpp { row[i - bpp] } else { 0 };
                row[i] = row[i].wrapping_add(((u16::from(left) + u16::from(up[i])) / 2) as u8);
            }
        }
        4 => {
            for i in 0..row.len() {
                let (a, c) = if i >= bpp {
                    (row[i - bpp], up[i - bpp])
                } else {
                    (0, 0)
                };
                let b = up[i];
                let p = i16::from(a) + i16::from(b) - i16::from(c);
                let (pa, pb, pc) = (
                    (p - i16::from(a)).abs(),
                    (p - i16::from(b)).abs(),
                    (p - i16::from(c)).abs(),
                );
                let predicted = if pa <= pb && pa <= pc {
                    a
                } else if pb <= pc {
                    b
                } else {
                    c
                };
                row[i] = row[i].wrapping_add(predicted);
            }
        }
        other => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unknown PNG filter {other}"),
            ))
        }
    }
    Ok(())
}

/// Inflates, scales and encodes an image row band by row band: the inflated image never
/// exists whole (a bomb of zeros costs a window of rows, whatever its declared size).
fn shrink_streamed(
    mut samples: Rows<'_>,
    (w, h): (u32, u32),
    kind: Colours,
    decode_inverted: bool,
    target: (u32, u32),
    quality: u8,
) -> Option<Replacement> {
    let in_channels = match kind {
        Colours::Gray => 1usize,
        Colours::Rgb => 3,
        Colours::Cmyk => 4,
    };
    let stride = (w as usize).checked_mul(in_channels)?;
    let mut raw = Vec::new();
    let read = |buffer: &mut [u8], rows: u32| -> Result<()> {
        let short = |e: std::io::Error| corrupt(format!("image data: {e}"));
        let len = stride * rows as usize;
        if kind != Colours::Cmyk {
            return samples.read(&mut buffer[..len]).map_err(short);
        }
        raw.resize(len, 0);
        samples.read(&mut raw).map_err(short)?;
        if !decode_inverted {
            raw.iter_mut().for_each(|v| *v = 255 - *v);
        }
        let rgb = crate::codec::jpeg::cmyk_to_rgb(&raw, true);
        buffer[..rgb.len()].copy_from_slice(&rgb);
        Ok(())
    };
    let channels = if kind == Colours::Cmyk {
        3
    } else {
        in_channels as u8
    };
    // A short or broken stream leaves the image as it is, like the whole-image path.
    let jpeg =
        crate::codec::jpeg::resize_and_encode((w, h), target, channels, quality, read).ok()?;
    Some(Replacement {
        jpeg,
        width: target.0.min(w),
        height: target.1.min(h),
        rgb_from_cmyk: kind == Colours::Cmyk,
    })
}

/// Bytes that shrinking image `id` to `target` holds at its peak ([`shrink_image`]'s paths).
fn image_cost(doc: &Document, id: ObjectId, target: (u32, u32)) -> u64 {
    let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
        return 0;
    };
    let Some((w, h)) = image_size(doc, id) else {
        return 0;
    };
    let filters = stream.filters().unwrap_or_default();
    if filters.last() == Some(&b"DCTDecode".as_slice()) {
        // Filters before the DCT are undone into a copy of (at most) four times the content.
        let outer = if filters.len() > 1 {
            (stream.content.len() as u64).saturating_mul(4) + (1 << 20)
        } else {
            0
        };
        let baseline = detect(&stream.content).ok().is_some_and(|found| {
            matches!(&found.details, Details::Jpeg(j) if !j.progressive && j.components != 4)
        });
        let decode = if baseline && filters.len() == 1 {
            // Streams rows (see codec::jpeg::downscale).
            u64::from(w) * 3 * 512 + memory::pdf_image_bytes(0, 0, 3, target)
        } else {
            memory::progressive_jpeg_bytes(w, h, 4) + memory::pdf_image_bytes(w, h, 4, target)
        };
        return outer + decode;
    }
    let channels = match colours(doc, &stream.dict) {
        Some(Colours::Gray) => 1,
        Some(Colours::Rgb) => 3,
        _ => 4,
    };
    let filters: Vec<Vec<u8>> = filters.into_iter().map(<[u8]>::to_vec).collect();
    let bits = integer(&stream.dict, b"BitsPerComponent");
    if bits == Some(8) && flate_rows(stream, &filters, w, usize::from(channels)).is_some() {
        return memory::streamed_bytes((w, h), channels, target);
    }
    memory::pdf_image_bytes(w, h, channels, target)
}

/// How an image's samples are coloured, as far as re-encoding cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colours {
    Gray,
    Rgb,
    Cmyk,
}

/// How the samples of an image's colour space are coloured, for the spaces whose samples can be
/// re-encoded as they are (device, calibrated and ICC-based ones).
fn colours(doc: &Document, dict: &Dictionary) -> Option<Colours> {
    let (_, space) = doc.dereference(dict.get(b"ColorSpace").ok()?).ok()?;
    let name = match space {
        Object::Name(name) => name.as_slice(),
        Object::Array(items) => items.first()?.as_name().ok()?,
        _ => return None,
    };
    match name {
        b"DeviceGray" | b"CalGray" => Some(Colours::Gray),
        b"DeviceRGB" | b"CalRGB" => Some(Colours::Rgb),
        b"DeviceCMYK" => Some(Colours::Cmyk),
        b"ICCBased" => {
            let Object::Array(items) = space else {
                return None;
            };
            let (_, profile) = doc.dereference(items.get(1)?).ok()?;
            match profile
                .as_stream()
                .ok()?
                .dict
                .get(b"N")
                .ok()?
                .as_i64()
                .ok()?
            {
                1 => Some(Colours::Gray),
                3 => Some(Colours::Rgb),
                4 => Some(Colours::Cmyk),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The new content and dictionary entries for one image.
struct Replacement {
    jpeg: Vec<u8>,
    width: u32,
    height: u32,
    /// Set when the colours were converted (CMYK → RGB): the new colour space, and the old
    /// Decode array no longer applies.
    rgb_from_cmyk: bool,
}

impl Replacement {
    fn apply(self, stream: &mut Stream) {
        let dict = &mut stream.dict;
        dict.set("Width", i64::from(self.width));
        dict.set("Height", i64::from(self.height));
        dict.set("BitsPerComponent", 8i64);
        dict.set("Filter", Object::Name(b"DCTDecode".to_vec()));
        dict.remove(b"DecodeParms");
        if self.rgb_from_cmyk {
            dict.set("ColorSpace", Object::Name(b"DeviceRGB".to_vec()));
            dict.remove(b"Decode");
        }
        stream.set_content(self.jpeg);
    }
}

/// Decodes, scales and re-encodes one image XObject, or `None` when it is of a kind we leave
/// alone (CCITT, JBIG2, JPX, masks, indexed or 16-bit samples, colour-key masks, damage).
fn shrink_image(
    doc: &Document,
    stream: &Stream,
    target: (u32, u32),
    quality: u8,
    max_memory: u64,
) -> Option<Replacement> {
    let dict = &stream.dict;
    if matches!(dict.get(b"ImageMask").and_then(Object::as_bool), Ok(true)) {
        return None;
    }
    // A colour-key mask matches exact sample values, which lossy JPEG would not keep.
    if matches!(dict.get(b"Mask"), Ok(Object::Array(_))) {
        return None;
    }
    let (w, h) = (
        u32::try_from(integer(dict, b"Width")?).ok()?,
        u32::try_from(integer(dict, b"Height")?).ok()?,
    );
    let filters: Vec<Vec<u8>> = match stream.filters() {
        Ok(list) => list.into_iter().map(<[u8]>::to_vec).collect(),
        Err(_) => Vec::new(),
    };
    let decode_inverted = matches!(
        dict.get(b"Decode"),
        Ok(Object::Array(a)) if a.first().and_then(|v| v.as_float().ok()) == Some(1.0)
    );
    let (pixels, cmyk) = if filters.last().map(Vec::as_slice) == Some(b"DCTDecode") {
        // Filters before DCT (ASCII85, Flate, …) are undone first.
        let jpeg: std::borrow::Cow<'_, [u8]> = if filters.len() == 1 {
            std::borrow::Cow::Borrowed(&stream.content)
        } else {
            let mut outer = stream.clone();
            let pre: Vec<Object> = filters[..filters.len() - 1]
                .iter()
                .map(|f| Object::Name(f.clone()))
                .collect();
            outer.dict.set("Filter", Object::Array(pre));
            outer
                .decompressed_content_with_limit(stream.content.len().saturating_mul(4) + (1 << 20))
                .ok()?
                .into()
        };
        let found = detect(&jpeg).ok()?;
        let Details::Jpeg(info) = &found.details else {
            return None;
        };
        if (found.width, found.height) != (w, h) || info.precision != 8 {
            return None;
        }
        let cmyk = info.components == 4;
        if !cmyk {
            // Gray and colour stream row by row; a PDF shows the stored pixels (no EXIF turn).
            let orientation = crate::orientation::Orientation::Normal;
            if let Some(out) = crate::codec::jpeg::downscale(
                &jpeg,
                (w, h),
                target,
                orientation,
                quality,
                max_memory,
            )
            .ok()?
            {
                return Some(Replacement {
                    jpeg: out.bytes,
                    width: out.width,
                    height: out.height,
                    rgb_from_cmyk: false,
                });
            }
        }
        // In a PDF the Decode array, not the Adobe marker, says whether CMYK is inverted.
        let pixels =
            crate::codec::jpeg::decode(&jpeg, (w, h), cmyk && decode_inverted, target).ok()?;
        (pixels, cmyk)
    } else {
        // Only generic compression filters; CCITT, JBIG2, JPX and friends stay as they are.
        let generic = filters.iter().all(|f| {
            matches!(
                f.as_slice(),
                b"FlateDecode"
                    | b"LZWDecode"
                    | b"RunLengthDecode"
                    | b"ASCII85Decode"
                    | b"ASCIIHexDecode"
            )
        });
        if !generic || integer(dict, b"BitsPerComponent")? != 8 {
            return None;
        }
        let kind = colours(doc, dict)?;
        let channels = match kind {
            Colours::Gray => 1usize,
            Colours::Rgb => 3,
            Colours::Cmyk => 4,
        };
        if let Some(rows) = flate_rows(stream, &filters, w, channels) {
            return shrink_streamed(rows, (w, h), kind, decode_inverted, target, quality);
        }
        let expected = (w as usize)
            .checked_mul(h as usize)?
            .checked_mul(channels)?;
        // A PNG predictor adds one filter byte per row before it is undone.
        let mut samples = stream
            .decompressed_content_with_limit(expected.checked_add(h as usize)?)
            .ok()?;
        if samples.len() < expected {
            return None;
        }
        samples.truncate(expected);
        let pixels = match kind {
            Colours::Cmyk => {
                let plain = if decode_inverted {
                    samples
                } else {
                    samples.iter().map(|v| 255 - v).collect()
                };
                // cmyk_to_rgb with `inverted` takes samples already as 1 − ink.
                Pixels::from_parts(w, h, 3, crate::codec::jpeg::cmyk_to_rgb(&plain, true))
            }
            _ => Pixels::from_parts(w, h, channels as u8, samples),
        };
        (pixels, kind == Colours::Cmyk)
    };
    let scaled = resize(pixels, target.0, target.1);
    let jpeg = crate::codec::jpeg::encode(scaled, quality).ok()?;
    Some(Replacement {
        jpeg,
        width: target.0,
        height: target.1,
        rgb_from_cmyk: cmyk,
    })
}
