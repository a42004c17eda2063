//! PNG through the `image` crate (which wraps `png`): 16-bit to 8-bit, palette expanded,
//! alpha kept.

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngDecoder, PngEncoder};
use image::ImageEncoder;

use super::decode_with_image;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::pixels::Pixels;

pub(crate) fn decode(data: &[u8], width: u32, height: u32, limit_pixels: u64) -> Result<Pixels> {
    let decoder = PngDecoder::new(Cursor::new(data));
    decode_with_image(Format::Png, decoder, (width, height), limit_pixels)
}

/// Encodes with adaptive filtering and zlib's default level: the balance between size on the
/// wire and encoding time for screenshots and scans.
pub(crate) fn encode(pixels: &Pixels) -> Result<Vec<u8>> {
    let color = match pixels.channels() {
        1 => image::ExtendedColorType::L8,
        2 => image::ExtendedColorType::La8,
        3 => image::ExtendedColorType::Rgb8,
        _ => image::ExtendedColorType::Rgba8,
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(pixels.data(), pixels.width(), pixels.height(), color)
        .map_err(|e| Error::encoder(Format::Png, e))?;
    Ok(out)
}

/// The file without the text and ICC chunks that careful decoders refuse (see
/// [`crate::detect::png`]'s limits); every other chunk, and anything after IEND, byte for byte.
pub(crate) fn strip_bombs(data: &[u8]) -> Result<Vec<u8>> {
    use crate::detect::png::{chunks, TextBudget};
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..8]);
    let mut budget = TextBudget::default();
    let mut end = 8;
    for chunk in chunks(data) {
        let chunk = chunk.map_err(|what| Error::corrupt(Format::Png, what))?;
        end = chunk.end();
        if !budget.take(&chunk) {
            out.extend_from_slice(&data[chunk.start..end]);
        }
    }
    out.extend_from_slice(&data[end..]);
    Ok(out)
}

/// Encodes as an indexed PNG: the exact palette when the image has at most 256 colours,
/// otherwise 256 found by NeuQuant (`color_quant`, MIT). Alpha goes into `tRNS`. Indices use
/// the fewest bits the palette allows (1 bit for a binarised page).
///
/// Screenshots and forms scaled with a smooth filter gain thousands of in-between colours at
/// their edges; 256 well-chosen ones keep the text's anti-aliasing at a third of the bytes of
/// truecolour PNG.
pub(crate) fn encode_palette(pixels: &Pixels) -> Result<Vec<u8>> {
    let n = usize::from(pixels.channels());
    let (palette, indices) = match exact_palette(pixels.data(), n) {
        Some(found) => found,
        None => {
            let all: Vec<u8> = pixels.data().chunks_exact(n).flat_map(rgba).collect();
            let quant = color_quant::NeuQuant::new(10, crate::encoding::PALETTE_COLOURS, &all);
            let palette: Vec<[u8; 4]> = quant
                .color_map_rgba()
                .chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect();
            let indices = all
                .chunks_exact(4)
                .map(|px| quant.index_of(px) as u8)
                .collect();
            (palette, indices)
        }
    };
    write_indexed(pixels.width(), pixels.height(), &palette, &indices)
}

fn rgba(px: &[u8]) -> [u8; 4] {
    match px.len() {
        1 => [px[0], px[0], px[0], 255],
        2 => [px[0], px[0], px[0], px[1]],
        3 => [px[0], px[1], px[2], 255],
        _ => [px[0], px[1], px[2], px[3]],
    }
}

/// Encodes as an indexed PNG in `palette` (at most 256 colours, the source's own): each pixel
/// becomes the nearest colour (squared RGBA distance), so no new colour appears.
pub(crate) fn encode_in_palette(pixels: &Pixels, palette: &[[u8; 4]]) -> Result<Vec<u8>> {
    let n = usize::from(pixels.channels());
    let mut cache: std::collections::HashMap<[u8; 4], u8> = std::collections::HashMap::new();
    let nearest = |c: [u8; 4]| -> u8 {
        let d = |p: &[u8; 4]| -> u32 {
            (0..4)
                .map(|i| (i32::from(p[i]) - i32::from(c[i])).pow(2) as u32)
                .sum()
        };
        (0..palette.len())
            .min_by_key(|&i| d(&palette[i]))
            .unwrap_or(0) as u8
    };
    let indices: Vec<u8> = pixels
        .data()
        .chunks_exact(n)
        .map(|px| {
            let c = rgba(px);
            *cache.entry(c).or_insert_with(|| nearest(c))
        })
        .collect();
    write_indexed(pixels.width(), pixels.height(), palette, &indices)
}

fn write_indexed(width: u32, height: u32, palette: &[[u8; 4]], indices: &[u8]) -> Result<Vec<u8>> {
    let depth = match palette.len() {
        0..=2 => png::BitDepth::One,
        3..=4 => png::BitDepth::Two,
        5..=16 => png::BitDepth::Four,
        _ => png::BitDepth::Eight,
    };
    let bits = depth as usize;
    let (w, h) = (width as usize, height as usize);
    let row_bytes = (w * bits).div_ceil(8);
    let mut packed = vec![0u8; row_bytes * h];
    for (row, out) in indices
        .chunks_exact(w.max(1))
        .zip(packed.chunks_exact_mut(row_bytes))
    {
        for (x, &i) in row.iter().enumerate() {
            let shift = 8 - bits * (x % (8 / bits) + 1);
            out[x * bits / 8] |= i << shift;
        }
    }
    let err = |e: png::EncodingError| Error::ResourceLimit {
        what: format!("PNG encoder: {e}"),
    };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(depth);
    encoder.set_palette(
        palette
            .iter()
            .flat_map(|c| [c[0], c[1], c[2]])
            .collect::<Vec<u8>>(),
    );
    if palette.iter().any(|c| c[3] != 255) {
        encoder.set_trns(palette.iter().map(|c| c[3]).collect::<Vec<u8>>());
    }
    // Indexed data does not predict: filters only cost time (libpng's advice too).
    encoder.set_filter(png::Filter::NoFilter);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&packed).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

/// The image's own colours and each pixel's index, when there are at most 256 of them.
fn exact_palette(data: &[u8], n: usize) -> Option<(Vec<[u8; 4]>, Vec<u8>)> {
    let mut index: std::collections::HashMap<[u8; 4], u8> = std::collections::HashMap::new();
    let mut palette = Vec::new();
    let mut indices = Vec::with_capacity(data.len() / n);
    let mut last: Option<([u8; 4], u8)> = None;
    for px in data.chunks_exact(n) {
        let colour = rgba(px);
        let i = match last {
            Some((c, i)) if c == colour => i,
            _ => match index.get(&colour) {
                Some(&i) => i,
                None => {
                    if palette.len() == crate::encoding::PALETTE_COLOURS {
                        return None;
                    }
                    palette.push(colour);
                    let i = (palette.len() - 1) as u8;
                    index.insert(colour, i);
                    i
                }
            },
        };
        last = Some((colour, i));
        indices.push(i);
    }
    Some((palette, indices))
}
