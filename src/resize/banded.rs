//! The same Lanczos3 downscale as [`resize`](super::resize), on a stream of rows.
//!
//! Rows come from a decoder top to bottom and leave for an encoder top to bottom; in between
//! only the filter's window of source rows lives: each band of output rows is computed from the
//! source rows it needs, vertically then horizontally. A 24 MP → 4 MP downscale then holds
//! about 2 MB of rows instead of 72 MB of decoded image plus fast_image_resize's 29 MB
//! intermediate.
//!
//! The result is [`resize`](super::resize)'s: fast_image_resize also works vertically first
//! on 8-bit pixels, and a crop box tells it where a band sits in the whole image, so it weighs
//! the same source rows with the same coefficients. Only the band's offset, added in floating
//! point, can move a sample position by an ulp: samples are equal or one level apart (tests
//! compare the two; the JPEG fixtures come out byte-identical).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{ResizeAlg, ResizeOptions, Resizer};

use super::{pixel_type, FILTER};

/// Support of [`FILTER`] (Lanczos3) in source pixels at scale 1.
const FILTER_SUPPORT: f64 = 3.0;
/// Source rows decoded per step.
const CHUNK_ROWS: u32 = 16;
/// Output rows per vertical step: the source rows held are about this many times the
/// vertical shrink, plus the filter's reach.
const BAND_ROWS: u32 = 32;
/// Output rows per horizontal step (and per `write`): fast_image_resize computes a pass's
/// coefficients on every call, which for the horizontal pass costs as much as resizing 30 rows.
const BATCH_ROWS: u32 = 128;

/// Downscales a `source`-sized image whose rows `read` supplies to `target`, handing the
/// output rows to `write`, top to bottom. Never enlarges: each target side must be at most the
/// source's.
///
/// `read(buffer, n)` must fill `buffer` with exactly `n` packed rows (width × `channels`
/// bytes each) or fail; `write(buffer, n)` receives `n` packed output rows. The first error
/// from either stops the work and is returned.
///
/// ```
/// use mindee_prep::resize::{resize, resize_rows};
/// use mindee_prep::Pixels;
/// let data: Vec<u8> = (0..300 * 200 * 3).map(|i| (i * 7 % 251) as u8).collect();
/// let mut rows = data.chunks(300 * 3);
/// let mut out = Vec::new();
/// resize_rows::<()>(
///     (300, 200),
///     (120, 80),
///     3,
///     |buf, n| {
///         for row in buf.chunks_mut(300 * 3).take(n as usize) {
///             row.copy_from_slice(rows.next().unwrap());
///         }
///         Ok(())
///     },
///     |buf, _| {
///         out.extend_from_slice(buf);
///         Ok(())
///     },
/// )
/// .unwrap();
/// let whole = resize(Pixels::new(300, 200, 3, data).unwrap(), 120, 80);
/// let worst = out.iter().zip(whole.data()).map(|(a, b)| a.abs_diff(*b)).max();
/// assert!(worst <= Some(1)); // the whole-image resize, to the last bit of a sample position
/// ```
pub fn resize_rows<E>(
    source: (u32, u32),
    target: (u32, u32),
    channels: u8,
    mut read: impl FnMut(&mut [u8], u32) -> Result<(), E>,
    mut write: impl FnMut(&[u8], u32) -> Result<(), E>,
) -> Result<(), E> {
    let (sw, sh) = source;
    let (dw, dh) = (target.0.min(sw), target.1.min(sh));
    if sw == 0 || sh == 0 || dw == 0 || dh == 0 {
        return Ok(());
    }
    let kind = pixel_type(channels);
    let ch = usize::from(channels);
    let (src_stride, dst_stride) = (sw as usize * ch, dw as usize * ch);
    let scale_y = f64::from(sh) / f64::from(dh);
    let radius = FILTER_SUPPORT * scale_y.max(1.0);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FILTER));
    let mut resizer = Resizer::new();

    // Source rows window_start..window_end, as decoded.
    let mut window: Vec<u8> = Vec::new();
    let (mut window_start, mut window_end) = (0u32, 0u32);
    // A batch of output rows after the vertical pass (source width), then after the
    // horizontal one.
    let mut tall = vec![0u8; src_stride * BATCH_ROWS as usize];
    let mut batch = vec![0u8; dst_stride * BATCH_ROWS as usize];

    let mut b0 = 0u32;
    while b0 < dh {
        let b1 = (b0 + BATCH_ROWS).min(dh);
        // Vertical pass first, as fast_image_resize does for 8-bit pixels (cheaper per tap),
        // band by band so that only a band's source rows are held.
        let mut y0 = b0;
        while y0 < b1 {
            let y1 = (y0 + BAND_ROWS).min(b1);
            let rows = y1 - y0;
            // The source rows fast_image_resize will weigh for output rows y0..y1 (its own
            // arithmetic), one more on each side against rounding.
            let first_centre = (f64::from(y0) + 0.5) * scale_y;
            let last_centre = (f64::from(y1 - 1) + 0.5) * scale_y;
            let need_start = ((first_centre - radius).floor() - 1.0).max(0.0) as u32;
            let need_end = ((last_centre + radius).ceil() + 1.0).min(f64::from(sh)) as u32;
            while window_end < need_end {
                let n = CHUNK_ROWS.min(sh - window_end);
                let held = window.len();
                window.resize(held + src_stride * n as usize, 0);
                read(&mut window[held..], n)?;
                window_end += n;
            }
            if need_start > window_start {
                let drop = need_start.min(window_end) - window_start;
                window.drain(..drop as usize * src_stride);
                window_start += drop;
            }
            let from = (y0 - b0) as usize * src_stride;
            let vertical = &mut tall[from..from + src_stride * rows as usize];
            if sh == dh {
                let at = (y0 - window_start) as usize * src_stride;
                vertical.copy_from_slice(&window[at..at + vertical.len()]);
            } else {
                let held = window_end - window_start;
                let top = f64::from(y0) * scale_y - f64::from(window_start);
                let height = (f64::from(rows) * scale_y).min(f64::from(held) - top);
                let src =
                    ImageRef::new(sw, held, &window, kind).expect("window sized from its rows");
                let mut dst = Image::from_slice_u8(sw, rows, vertical, kind)
                    .expect("band sized from its rows");
                resizer
                    .resize(
                        &src,
                        &mut dst,
                        &options.crop(0.0, top, f64::from(sw), height),
                    )
                    .expect("same pixel type, crop inside the window");
            }
            y0 = y1;
        }
        // Horizontal pass over the whole batch: its coefficients are computed once per batch.
        let rows = b1 - b0;
        let vertical = &tall[..src_stride * rows as usize];
        let out = &mut batch[..dst_stride * rows as usize];
        if sw == dw {
            out.copy_from_slice(vertical);
        } else {
            let src = ImageRef::new(sw, rows, vertical, kind).expect("batch sized from its rows");
            let mut dst =
                Image::from_slice_u8(dw, rows, out, kind).expect("batch sized from its rows");
            resizer
                .resize(&src, &mut dst, &options)
                .expect("same pixel type, non-zero sizes");
        }
        write(out, rows)?;
        b0 = b1;
    }
    // Rows below the last band's window are never needed; nothing else to read.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::Pixels;
    use crate::resize::resize;

    fn pattern(w: u32, h: u32, ch: u8) -> Vec<u8> {
        // Fine detail in both directions plus a gradient: what a filter mistake would show.
        (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| {
                    (0..ch).map(move |c| {
                        let v = (x * 31 + y * 17 + u32::from(c) * 101) % 256;
                        if (x / 3 + y / 2) % 5 == 0 {
                            255 - v as u8
                        } else {
                            v as u8
                        }
                    })
                })
            })
            .collect()
    }

    fn banded(src: &[u8], s: (u32, u32), d: (u32, u32), ch: u8) -> Vec<u8> {
        let stride = s.0 as usize * usize::from(ch);
        let mut next = 0usize;
        let mut out = Vec::new();
        let mut rows_read = 0u32;
        resize_rows::<()>(
            s,
            d,
            ch,
            |buf, n| {
                let len = stride * n as usize;
                buf[..len].copy_from_slice(&src[next..next + len]);
                next += len;
                rows_read += n;
                Ok(())
            },
            |buf, n| {
                assert_eq!(buf.len(), d.0 as usize * usize::from(ch) * n as usize);
                out.extend_from_slice(buf);
                Ok(())
            },
        )
        .unwrap();
        assert!(rows_read <= s.1);
        out
    }

    #[test]
    fn matches_the_whole_image_resize() {
        for &(s, d, ch) in &[
            ((600, 400), (245, 163), 3u8),
            ((400, 600), (163, 245), 3),
            ((517, 389), (211, 159), 1),
            ((300, 1000), (300, 400), 3), // vertical only
            ((1000, 300), (400, 300), 1), // horizontal only
            ((64, 64), (64, 64), 3),      // nothing to do
            ((1000, 7), (300, 2), 3),     // fewer rows than one band or chunk
            ((97, 2000), (5, 13), 3),     // large vertical factor
            ((3001, 1999), (1501, 1000), 1),
            ((3001, 1999), (1501, 1000), 3),
        ] {
            let src = pattern(s.0, s.1, ch);
            let whole = resize(Pixels::new(s.0, s.1, ch, src.clone()).unwrap(), d.0, d.1);
            let got = banded(&src, s, d, ch);
            assert_eq!(got.len(), whole.data().len(), "{s:?} -> {d:?}");
            let worst = got
                .iter()
                .zip(whole.data())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            // Same rows, same rounding order; a band's crop offset moves the sample positions
            // by an ulp, which can tip a fixed-point coefficient: at most one level apart.
            assert!(worst <= 1, "{s:?} -> {d:?} x{ch}: differs by {worst}");
        }
    }

    #[test]
    fn stops_at_the_first_read_error() {
        let mut writes = 0;
        let result = resize_rows(
            (100, 100),
            (40, 40),
            3,
            |_, _| Err("decoder failed"),
            |_, _| {
                writes += 1;
                Ok(())
            },
        );
        assert_eq!(result, Err("decoder failed"));
        assert_eq!(writes, 0);
    }

    #[test]
    fn stops_at_the_first_write_error() {
        let src = pattern(200, 2000, 1);
        let mut reads = 0u32;
        let result = resize_rows(
            (200, 2000),
            (50, 500),
            1,
            |buf, n| {
                let len = 200 * n as usize;
                let from = reads as usize * 200;
                buf[..len].copy_from_slice(&src[from..from + len]);
                reads += n;
                Ok(())
            },
            |_, _| Err("disk full"),
        );
        assert_eq!(result, Err("disk full"));
        // The first batch of output rows needs about a quarter of the source.
        assert!(
            reads < 1000,
            "reading went on after the write failed: {reads} rows"
        );
    }
}
