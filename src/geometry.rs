//! Pure size arithmetic: the pixel budget and the JPEG DCT scale.

/// The size an image of `width` × `height` should be scaled to, or `None` when it is within
/// `max_pixels` and should pass through.
///
/// The factor s = √(target / (w·h)) applies to both axes. The short side is rounded first and
/// the long side derived from it, so the aspect ratio stays within one pixel of exact; no axis
/// ever grows, and none shrinks below one pixel.
///
/// ```
/// use mindee_prep::geometry::budget_size;
/// assert_eq!(budget_size(6000, 4000, 5_000_000, 4_000_000), Some((2450, 1633)));
/// assert_eq!(budget_size(1600, 1200, 5_000_000, 4_000_000), None);
/// ```
pub fn budget_size(
    width: u32,
    height: u32,
    max_pixels: u64,
    target_pixels: u64,
) -> Option<(u32, u32)> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels <= max_pixels || width == 0 || height == 0 {
        return None;
    }
    let scale = (target_pixels as f64 / pixels as f64).sqrt().min(1.0);
    let (short, long, portrait) = if width <= height {
        (width, height, true)
    } else {
        (height, width, false)
    };
    let new_short = ((f64::from(short) * scale).round() as u32).clamp(1, short);
    // The long side follows the rounded short side, which keeps the aspect ratio exact to
    // within half a pixel on the long side.
    let new_long =
        ((f64::from(long) * f64::from(new_short) / f64::from(short)).round() as u32).clamp(1, long);
    Some(if portrait {
        (new_short, new_long)
    } else {
        (new_long, new_short)
    })
}

/// The largest JPEG DCT scaling denominator (1, 2, 4 or 8) whose decoded size still covers
/// `target` on both axes, so that a proper filter makes the last step down.
///
/// libjpeg rounds scaled sizes up: a 1/d decode of width w is ⌈w/d⌉ wide.
///
/// ```
/// use mindee_prep::geometry::jpeg_scale_denominator;
/// assert_eq!(jpeg_scale_denominator((6000, 4000), (2450, 1633)), 2); // 3000×2000 ≥ target
/// assert_eq!(jpeg_scale_denominator((8000, 6000), (2309, 1732)), 2); // 1/4 would be too small
/// assert_eq!(jpeg_scale_denominator((3000, 2000), (2450, 1633)), 1);
/// ```
pub fn jpeg_scale_denominator(source: (u32, u32), target: (u32, u32)) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|&d| source.0.div_ceil(d) >= target.0 && source.1.div_ceil(d) >= target.1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: u64 = 5_000_000;
    const TARGET: u64 = 4_000_000;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn budget_invariants(w in 1u32..=100_000, h in 1u32..=100_000) {
            let pixels = u64::from(w) * u64::from(h);
            match budget_size(w, h, MAX, TARGET) {
                None => prop_assert!(pixels <= MAX),
                Some((nw, nh)) => {
                    prop_assert!(pixels > MAX);
                    let area = u64::from(nw) * u64::from(nh);
                    prop_assert!((3_000_000..=5_000_000).contains(&area), "{w}x{h} -> {nw}x{nh} = {area}");
                    prop_assert!(nw <= w && nh <= h, "never grows an axis");
                    prop_assert!(nw >= 1 && nh >= 1);
                    // Aspect ratio: the long side is within one pixel of short·(w/h).
                    let (short, long, new_short, new_long) = if w <= h { (w, h, nw, nh) } else { (h, w, nh, nw) };
                    let exact_long = f64::from(new_short) * f64::from(long) / f64::from(short);
                    prop_assert!((f64::from(new_long) - exact_long).abs() <= 1.0, "{w}x{h} -> {nw}x{nh}");
                }
            }
        }

        #[test]
        fn scaled_decode_never_undershoots(w in 1u32..=100_000, h in 1u32..=100_000) {
            if let Some(target) = budget_size(w, h, MAX, TARGET) {
                let d = jpeg_scale_denominator((w, h), target);
                prop_assert!(w.div_ceil(d) >= target.0 && h.div_ceil(d) >= target.1);
            }
        }
    }

    #[test]
    fn common_phone_sizes() {
        assert_eq!(budget_size(4032, 3024, MAX, TARGET), Some((2309, 1732)));
        assert_eq!(budget_size(3024, 4032, MAX, TARGET), Some((1732, 2309)));
        // Exactly at the maximum passes through.
        assert_eq!(budget_size(2500, 2000, MAX, TARGET), None);
    }
}
