//! A decoded image: 8-bit samples, interleaved, 1 to 4 channels.

/// Decoded 8-bit pixels: gray (1), gray+alpha (2), RGB (3) or RGBA (4), rows top to bottom.
///
/// ```
/// use mindee_prep::Pixels;
/// let px = Pixels::new(2, 1, 3, vec![255, 0, 0, 0, 0, 255]).unwrap();
/// assert_eq!((px.width(), px.height(), px.channels()), (2, 1, 3));
/// assert!(Pixels::new(2, 2, 3, vec![0; 5]).is_none()); // wrong length
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Pixels {
    width: u32,
    height: u32,
    channels: u8,
    data: Vec<u8>,
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pixels")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl Pixels {
    /// Wraps `data`; `None` unless it holds exactly `width × height × channels` bytes and
    /// `channels` is 1 to 4.
    pub fn new(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Option<Self> {
        let expected = (width as usize)
            .checked_mul(height as usize)?
            .checked_mul(channels as usize)?;
        ((1..=4).contains(&channels) && data.len() == expected).then_some(Pixels {
            width,
            height,
            channels,
            data,
        })
    }

    /// For buffers whose size the caller computed from the same numbers.
    pub(crate) fn from_parts(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Self {
        debug_assert_eq!(
            data.len(),
            width as usize * height as usize * channels as usize
        );
        Pixels {
            width,
            height,
            channels,
            data,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Samples per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// True when the last channel is alpha (2 or 4 channels).
    pub fn has_alpha(&self) -> bool {
        self.channels.is_multiple_of(2)
    }

    /// The samples, row by row.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Gives the samples back.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Drops the alpha channel by compositing on white (for JPEG output, which has no alpha).
    pub fn flatten_on_white(self) -> Pixels {
        if !self.has_alpha() {
            return self;
        }
        let n = self.channels as usize;
        let color = n - 1;
        let mut out = Vec::with_capacity(self.data.len() / n * color);
        for px in self.data.chunks_exact(n) {
            let a = u32::from(px[color]);
            for &c in &px[..color] {
                // c·a + 255·(255 − a), divided by 255 with rounding.
                let v = u32::from(c) * a + 255 * (255 - a);
                out.push(((v + 127) / 255) as u8);
            }
        }
        Pixels::from_parts(self.width, self.height, color as u8, out)
    }

    /// True when every alpha sample is 255 (or there is no alpha).
    pub fn is_opaque(&self) -> bool {
        if !self.has_alpha() {
            return true;
        }
        let n = self.channels as usize;
        self.data.chunks_exact(n).all(|px| px[n - 1] == 255)
    }
}
