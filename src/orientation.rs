//! Which way is up: the eight EXIF orientations, and turning pixels upright.

use serde::{Serialize, Serializer};

use crate::pixels::Pixels;

/// How the stored pixels must be turned to show the picture upright (EXIF values 1–8).
///
/// ```
/// use mindee_prep::Orientation;
/// let o = Orientation::from_exif(6);
/// assert_eq!(o, Orientation::Rotate90);
/// assert!(o.swaps_dimensions());
/// assert_eq!(o.displayed_size(4000, 3000), (3000, 4000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Orientation {
    /// 1: already upright.
    #[default]
    Normal = 1,
    /// 2: mirrored left to right.
    FlipHorizontal = 2,
    /// 3: upside down.
    Rotate180 = 3,
    /// 4: mirrored top to bottom.
    FlipVertical = 4,
    /// 5: mirrored across the top-left to bottom-right diagonal.
    Transpose = 5,
    /// 6: must be turned 90° clockwise (the usual portrait phone photo).
    Rotate90 = 6,
    /// 7: mirrored across the other diagonal.
    Transverse = 7,
    /// 8: must be turned 90° anticlockwise.
    Rotate270 = 8,
}

impl Orientation {
    /// From the EXIF/TIFF tag value; anything outside 1–8 counts as upright.
    pub fn from_exif(value: u16) -> Self {
        match value {
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// The EXIF/TIFF tag value.
    pub fn exif_value(self) -> u8 {
        self as u8
    }

    /// True when upright width and height are the stored height and width.
    pub fn swaps_dimensions(self) -> bool {
        self.exif_value() >= 5
    }

    /// The upright size of a stored `width` × `height` image.
    pub fn displayed_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_dimensions() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// As "flip horizontally (or not), then turn `quarters` × 90° clockwise".
    fn as_flip_then_rotation(self) -> (bool, u8) {
        match self {
            Orientation::Normal => (false, 0),
            Orientation::FlipHorizontal => (true, 0),
            Orientation::Rotate180 => (false, 2),
            Orientation::FlipVertical => (true, 2),
            Orientation::Transpose => (true, 3),
            Orientation::Rotate90 => (false, 1),
            Orientation::Transverse => (true, 1),
            Orientation::Rotate270 => (false, 3),
        }
    }

    fn from_flip_then_rotation(flip: bool, quarters: u8) -> Self {
        match (flip, quarters % 4) {
            (false, 0) => Orientation::Normal,
            (true, 0) => Orientation::FlipHorizontal,
            (false, 2) => Orientation::Rotate180,
            (true, 2) => Orientation::FlipVertical,
            (true, 3) => Orientation::Transpose,
            (false, 1) => Orientation::Rotate90,
            (true, 1) => Orientation::Transverse,
            _ => Orientation::Rotate270,
        }
    }

    /// This transformation followed by a clockwise turn of `quarters` × 90°.
    pub(crate) fn then_rotate_cw(self, quarters: u8) -> Self {
        let (flip, r) = self.as_flip_then_rotation();
        Self::from_flip_then_rotation(flip, r + quarters % 4)
    }

    /// This transformation followed by a left-right mirror (F·Rʳ = R⁻ʳ·F).
    pub(crate) fn then_flip_horizontal(self) -> Self {
        let (flip, r) = self.as_flip_then_rotation();
        Self::from_flip_then_rotation(!flip, (4 - r) % 4)
    }

    /// Turns stored pixels upright. Upright input is returned as is, without a copy.
    pub fn apply(self, pixels: Pixels) -> Pixels {
        if self == Orientation::Normal {
            return pixels;
        }
        match pixels.channels() {
            1 => self.apply_n::<1>(&pixels),
            2 => self.apply_n::<2>(&pixels),
            3 => self.apply_n::<3>(&pixels),
            _ => self.apply_n::<4>(&pixels),
        }
    }

    fn apply_n<const N: usize>(self, src: &Pixels) -> Pixels {
        let (w, h) = (src.width() as usize, src.height() as usize);
        let (dw, dh) = {
            let (a, b) = self.displayed_size(src.width(), src.height());
            (a as usize, b as usize)
        };
        let data = src.data();
        let mut out = vec![0u8; data.len()];
        // Source coordinates of destination pixel (x, y).
        let source = |x: usize, y: usize| -> (usize, usize) {
            match self {
                Orientation::Normal => (x, y),
                Orientation::FlipHorizontal => (w - 1 - x, y),
                Orientation::Rotate180 => (w - 1 - x, h - 1 - y),
                Orientation::FlipVertical => (x, h - 1 - y),
                Orientation::Transpose => (y, x),
                Orientation::Rotate90 => (y, h - 1 - x),
                Orientation::Transverse => (w - 1 - y, h - 1 - x),
                Orientation::Rotate270 => (w - 1 - y, x),
            }
        };
        // Tiles keep both the reads and the writes of a transposition in cache.
        const TILE: usize = 64;
        for ty in (0..dh).step_by(TILE) {
            for tx in (0..dw).step_by(TILE) {
                for y in ty..(ty + TILE).min(dh) {
                    let row = y * dw;
                    for x in tx..(tx + TILE).min(dw) {
                        let (sx, sy) = source(x, y);
                        let s = (sy * w + sx) * N;
                        let d = (row + x) * N;
                        out[d..d + N].copy_from_slice(&data[s..s + N]);
                    }
                }
            }
        }
        Pixels::from_parts(dw as u32, dh as u32, src.channels(), out)
    }
}

impl Serialize for Orientation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.exif_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(w: u32, h: u32) -> Pixels {
        let data = (0..w * h).map(|i| i as u8).collect();
        Pixels::new(w, h, 1, data).expect("valid size")
    }

    #[test]
    fn composition_matches_the_eight_cases() {
        // Applying "o then its inverse" must give back the original for every orientation.
        let img = sample(5, 3);
        for v in 1..=8 {
            let o = Orientation::from_exif(v);
            let turned = o.apply(img.clone());
            assert_eq!(
                (turned.width(), turned.height()),
                o.displayed_size(5, 3),
                "size for {v}"
            );
            // Inverse: rotations invert to the opposite rotation, mirrors to themselves.
            let inverse = match o {
                Orientation::Rotate90 => Orientation::Rotate270,
                Orientation::Rotate270 => Orientation::Rotate90,
                other => other,
            };
            assert_eq!(inverse.apply(turned), img, "round trip for {v}");
        }
    }

    #[test]
    fn rotate90_moves_the_bottom_left_pixel_to_the_top_left() {
        let img = sample(3, 2); // rows: [0 1 2] [3 4 5]
        let turned = Orientation::Rotate90.apply(img);
        assert_eq!(turned.data(), &[3, 0, 4, 1, 5, 2]);
    }

    #[test]
    fn irot_and_imir_compose_like_exif() {
        // irot 270° anticlockwise = 90° clockwise = EXIF 6.
        assert_eq!(Orientation::Normal.then_rotate_cw(1), Orientation::Rotate90);
        assert_eq!(
            Orientation::Normal.then_flip_horizontal(),
            Orientation::FlipHorizontal
        );
        // Mirror then rotate 270° clockwise is the transpose (EXIF 5).
        assert_eq!(
            Orientation::Normal.then_flip_horizontal().then_rotate_cw(3),
            Orientation::Transpose
        );
        // Rotating 90° clockwise, then mirroring, is the transpose too.
        assert_eq!(
            Orientation::Rotate90.then_flip_horizontal(),
            Orientation::Transpose
        );
    }
}
