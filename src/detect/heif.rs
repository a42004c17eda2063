//! HEIF / HEIC / AVIF (ISO base media file format): `ftyp` brands decide the family, the `meta`
//! box gives the primary item, its coding, size (`ispe`) and transformations (`irot`, `imir`).

use super::bytes::{be_u16, be_u32, be_u64, slice, u8_at};
use super::{Details, Detected, HeifInfo};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::orientation::Orientation;

/// The family a HEIF-like file belongs to, from its `ftyp` brands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeifBrand {
    /// HEVC-coded image (`heic`, `heix`, `heim`, `heis`).
    Heic,
    /// Structural HEIF image, no codec implied (`mif1`).
    Heif,
    /// AV1-coded (`avif`, `avis`).
    Avif,
    /// Some other ISO media file (MP4, QuickTime, CR3…).
    Other,
}

const HEIC_BRANDS: [&[u8; 4]; 4] = [b"heic", b"heix", b"heim", b"heis"];
const SEQUENCE_BRANDS: [&[u8; 4]; 6] = [b"msf1", b"hevc", b"hevx", b"hevm", b"hevs", b"avis"];

/// A box header: type, payload range.
struct BoxRef<'a> {
    kind: &'a [u8],
    payload: &'a [u8],
}

/// Iterates the boxes in `data`; stops (with `Err`) at the first malformed header.
fn boxes(data: &[u8]) -> impl Iterator<Item = std::result::Result<BoxRef<'_>, &'static str>> {
    let mut pos = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= data.len() {
            return None;
        }
        let parsed = (|| {
            let size32 = be_u32(data, pos).ok_or("truncated box header")?;
            let kind = slice(data, pos + 4, 4).ok_or("truncated box header")?;
            let (header, size) = match size32 {
                0 => (8, (data.len() - pos) as u64),
                1 => (16, be_u64(data, pos + 8).ok_or("truncated box header")?),
                n => (8, u64::from(n)),
            };
            if size < header as u64 {
                return Err("box size smaller than its header");
            }
            let size = usize::try_from(size).map_err(|_| "box size overflows")?;
            let end = pos.checked_add(size).ok_or("box size overflows")?;
            // A box cut short by truncation: keep what there is (ftyp/meta come first).
            let payload = data
                .get(pos + header..end.min(data.len()))
                .ok_or("truncated box")?;
            pos = end;
            Ok(BoxRef { kind, payload })
        })();
        failed = parsed.is_err();
        Some(parsed)
    })
}

fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data)
        .map_while(|b| b.ok())
        .find(|b| b.kind == kind)
        .map(|b| b.payload)
}

/// What the `meta` box says about the primary item.
#[derive(Default)]
struct Primary {
    id: Option<u32>,
    item_type: Option<[u8; 4]>,
    size: Option<(u32, u32)>,
    orientation: Orientation,
    /// Top-level images besides the primary.
    other_images: u32,
}

fn parse_meta(meta: &[u8]) -> Primary {
    let mut primary = Primary::default();
    // meta is a FullBox: 4 bytes of version and flags before the children.
    let Some(children) = meta.get(4..) else {
        return primary;
    };
    primary.id = find(children, b"pitm").and_then(|p| match u8_at(p, 0)? {
        0 => be_u16(p, 4).map(u32::from),
        _ => be_u32(p, 4),
    });
    let Some(id) = primary.id else {
        return primary;
    };
    let items = find(children, b"iinf").map(items).unwrap_or_default();
    primary.item_type = items.iter().find(|i| i.id == id).map(|i| i.kind);
    let references = find(children, b"iref").map(references).unwrap_or_default();
    primary.other_images = items
        .iter()
        .filter(|i| i.id != id && !i.hidden && IMAGE_ITEMS.contains(&&i.kind))
        .filter(|i| {
            // Thumbnails and auxiliary images (alpha, depth, gain maps) point at their master;
            // the tiles of a grid are pointed at by it.
            !references.iter().any(|r| {
                (r.from == i.id && matches!(&r.kind, b"thmb" | b"auxl" | b"base"))
                    || (r.kind == *b"dimg" && r.to.contains(&i.id))
            })
        })
        .count() as u32;
    if let Some(iprp) = find(children, b"iprp") {
        let properties: Vec<BoxRef> = find(iprp, b"ipco")
            .map(|ipco| boxes(ipco).map_while(|b| b.ok()).collect())
            .unwrap_or_default();
        let associated = find(iprp, b"ipma")
            .map(|ipma| associations(ipma, id))
            .unwrap_or_default();
        for index in associated {
            let Some(property) = index.checked_sub(1).and_then(|i| properties.get(i)) else {
                continue;
            };
            let p = property.payload;
            match property.kind {
                b"ispe" => {
                    if let (Some(w), Some(h)) = (be_u32(p, 4), be_u32(p, 8)) {
                        primary.size = Some((w, h));
                    }
                }
                // irot: anticlockwise quarter turns; imir: 0 = about a vertical axis.
                b"irot" => {
                    let quarters_cw = (4 - u8_at(p, 0).unwrap_or(0) % 4) % 4;
                    primary.orientation = primary.orientation.then_rotate_cw(quarters_cw);
                }
                b"imir" => {
                    primary.orientation = match u8_at(p, 0).unwrap_or(0) & 1 {
                        0 => primary.orientation.then_flip_horizontal(),
                        _ => primary.orientation.then_flip_horizontal().then_rotate_cw(2),
                    };
                }
                _ => {}
            }
        }
    }
    primary
}

/// Item types that code an image (as opposed to Exif, XMP, MIME items). `tmap` (a gain map
/// rendition of the primary) is left out: it is an alternative to it, not another picture.
const IMAGE_ITEMS: [&[u8; 4]; 10] = [
    b"hvc1", b"avc1", b"av01", b"grid", b"iden", b"iovl", b"jpeg", b"j2k1", b"unci", b"vvc1",
];

/// One `infe` entry.
struct Item {
    id: u32,
    kind: [u8; 4],
    hidden: bool,
}

/// The entries of an `iinf` box (versions 2 and 3 of `infe`, the ones HEIF uses).
fn items(iinf: &[u8]) -> Vec<Item> {
    let Some(version) = u8_at(iinf, 0) else {
        return Vec::new();
    };
    let Some(entries) = iinf.get(if version == 0 { 6 } else { 8 }..) else {
        return Vec::new();
    };
    boxes(entries)
        .map_while(|b| b.ok())
        .filter(|b| b.kind == b"infe")
        .filter_map(|infe| {
            let p = infe.payload;
            let (id, type_at) = match u8_at(p, 0)? {
                2 => (u32::from(be_u16(p, 4)?), 8),
                3 => (be_u32(p, 4)?, 10),
                _ => return None,
            };
            Some(Item {
                id,
                kind: slice(p, type_at, 4)?.try_into().ok()?,
                hidden: u8_at(p, 3)? & 1 == 1,
            })
        })
        .collect()
}

/// One reference of an `iref` box: `from` refers to each of `to` with `kind`.
struct Reference {
    kind: [u8; 4],
    from: u32,
    to: Vec<u32>,
}

fn references(iref: &[u8]) -> Vec<Reference> {
    let Some(version) = u8_at(iref, 0) else {
        return Vec::new();
    };
    let wide = version != 0;
    let read = |p: &[u8], at: usize| {
        if wide {
            be_u32(p, at)
        } else {
            be_u16(p, at).map(u32::from)
        }
    };
    let step = if wide { 4 } else { 2 };
    boxes(iref.get(4..).unwrap_or_default())
        .map_while(|b| b.ok())
        .filter_map(|b| {
            let p = b.payload;
            let from = read(p, 0)?;
            let count = usize::from(be_u16(p, step)?);
            let to = (0..count)
                .map_while(|k| read(p, step + 2 + k * step))
                .collect();
            Some(Reference {
                kind: b.kind.try_into().ok()?,
                from,
                to,
            })
        })
        .collect()
}

/// The 1-based property indexes associated with item `id` in an `ipma` box, in order.
fn associations(ipma: &[u8], id: u32) -> Vec<usize> {
    let (Some(version), Some(flags)) = (u8_at(ipma, 0), u8_at(ipma, 3)) else {
        return Vec::new();
    };
    let Some(count) = be_u32(ipma, 4) else {
        return Vec::new();
    };
    let mut pos = 8;
    for _ in 0..count {
        let (item, n_at) = if version < 1 {
            (be_u16(ipma, pos).map(u32::from), pos + 2)
        } else {
            (be_u32(ipma, pos), pos + 4)
        };
        let (Some(item), Some(n)) = (item, u8_at(ipma, n_at)) else {
            return Vec::new();
        };
        let wide = flags & 1 == 1;
        let mut indexes = Vec::with_capacity(n as usize);
        let mut at = n_at + 1;
        for _ in 0..n {
            let index = if wide {
                be_u16(ipma, at).map(|v| usize::from(v & 0x7FFF))
            } else {
                u8_at(ipma, at).map(|v| usize::from(v & 0x7F))
            };
            let Some(index) = index else {
                return Vec::new();
            };
            indexes.push(index);
            at += if wide { 2 } else { 1 };
        }
        if item == id {
            return indexes;
        }
        pos = at;
    }
    Vec::new()
}

fn brand_name(brand: &[u8]) -> String {
    String::from_utf8_lossy(brand).trim_end().to_string()
}

/// Names a non-image ISO media file by its major brand, for the "not accepted" message.
fn other_name(major: &[u8]) -> String {
    match major {
        b"qt  " => "QuickTime video".into(),
        b"crx " => "Canon CR3 raw image".into(),
        b"jxl " => "JPEG XL".into(),
        b"3gp4" | b"3gp5" | b"3gp6" | b"3g2a" => "3GP video".into(),
        b"M4A " => "MPEG-4 audio".into(),
        b"isom" | b"iso2" | b"mp41" | b"mp42" | b"avc1" | b"dash" | b"M4V " => "MP4 video".into(),
        other => format!("ISO media file (brand '{}')", brand_name(other)),
    }
}

pub(super) fn detect(data: &[u8]) -> Result<Detected> {
    let corrupt = |what: &str| Error::corrupt(Format::Heif, what);
    let mut ftyp = None;
    let mut meta = None;
    let mut has_moov = false;
    for b in boxes(data) {
        let b = b.map_err(corrupt)?;
        match b.kind {
            b"ftyp" => ftyp = Some(b.payload),
            b"meta" => meta = Some(b.payload),
            b"moov" => has_moov = true,
            _ => {}
        }
    }
    let ftyp = ftyp.ok_or_else(|| corrupt("no ftyp box"))?;
    let major: [u8; 4] = slice(ftyp, 0, 4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("ftyp box too short"))?;
    let compatible: Vec<[u8; 4]> = ftyp
        .get(8..)
        .unwrap_or_default()
        .chunks_exact(4)
        .filter_map(|c| c.try_into().ok())
        .collect();
    let has =
        |set: &[&[u8; 4]]| set.contains(&&major) || compatible.iter().any(|c| set.contains(&c));

    let primary = meta.map(parse_meta).unwrap_or_default();
    let item_type = primary.item_type;
    let brand = if item_type == Some(*b"av01") || (has(&[b"avif", b"avis"]) && !has(&HEIC_BRANDS)) {
        HeifBrand::Avif
    } else if has(&HEIC_BRANDS) || matches!(&item_type, Some(t) if t == b"hvc1") {
        HeifBrand::Heic
    } else if has(&[b"mif1", b"mif2", b"mif3", b"msf1", b"hevc", b"hevx"]) {
        HeifBrand::Heif
    } else {
        HeifBrand::Other
    };
    match brand {
        HeifBrand::Avif => {
            return Err(Error::UnsupportedFormat {
                format: "AVIF".into(),
            })
        }
        HeifBrand::Other => {
            return Err(Error::UnsupportedFormat {
                format: other_name(&major),
            })
        }
        _ => {}
    }
    let sequence =
        SEQUENCE_BRANDS.contains(&&major) || has_moov || compatible.iter().any(|c| c == b"msf1");
    let has_primary_item = primary.id.is_some() && item_type.is_some();
    // A sequence with a still primary item is used as that still; without one it is refused.
    let animated = sequence && !has_primary_item;
    let format = match (brand, item_type) {
        (HeifBrand::Heic, Some(t)) if &t != b"hvc1" && &t != b"grid" => Format::Heif,
        (HeifBrand::Heic, _) => Format::Heic,
        _ => Format::Heif,
    };
    let (width, height) = match primary.size {
        Some(size) => size,
        None if animated => (0, 0),
        None => return Err(corrupt("no size (ispe) for the primary image")),
    };
    Ok(Detected {
        format,
        width,
        height,
        pages: 1,
        frames: None,
        animated,
        orientation: primary.orientation,
        details: Details::Heif(HeifInfo {
            major_brand: brand_name(&major),
            compatible_brands: compatible.iter().map(|c| brand_name(c)).collect(),
            primary_item_type: item_type.map(|t| brand_name(&t)),
            has_primary_item,
            tracks: has_moov,
            other_images: primary.other_images,
        }),
    })
}
