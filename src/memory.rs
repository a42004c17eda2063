//! Memory you can state: what a file will need ([`footprint`], pure) and a batch-wide budget
//! that work is admitted under ([`MemoryBudget`]).
//!
//! A file is admitted in two steps: its bytes are reserved before it is read, and what its plan
//! needs on top of them is added once detection has said what it is (a PDF adds its images'
//! share once it has found them). A reservation is returned when it drops, on every path out,
//! panics included. A file that needs more than the whole budget runs while no other file works
//! (it is never refused for that alone; only [`PrepareOptions::max_memory`] refuses a file).
//!
//! What streams and what does not: baseline JPEG downscales stream rows from libjpeg through
//! the resize into the encoder (a window of rows, whatever the image size). Progressive JPEGs
//! hold libjpeg's whole-image coefficient buffer (2 bytes per sample, bounded by libjpeg's
//! `max_memory_to_use`), PNG, WebP, HEIF and TIFF pages are decoded whole, and so is each PDF
//! image (one at a time, or as many together as fit).
//!
//! ```
//! use mindee_prep::memory::MemoryBudget;
//! let budget = MemoryBudget::new(100 << 20);
//! {
//!     let mut reservation = budget.reserve(10 << 20);
//!     reservation.grow(30 << 20);
//!     assert_eq!(budget.in_use(), 40 << 20);
//! } // returned here
//! assert_eq!(budget.in_use(), 0);
//! ```

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::detect::{Details, Detected};
use crate::options::PrepareOptions;
use crate::plan::Plan;

const MIB: u64 = 1 << 20;

/// What the process needs besides the files' work (code, libraries, thread stacks, I/O
/// buffers): a batch budget admits files up to `max_memory` minus this.
pub const PROCESS_RESERVE: u64 = 48 * MIB;

/// A batch-wide memory budget: a counter of bytes reserved, and a queue of work waiting for
/// its share.
#[derive(Debug)]
pub struct MemoryBudget {
    total: u64,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    used: u64,
    /// Reservations alive (working or waiting to grow).
    holders: usize,
    /// Tickets of the reservations waiting in [`Reservation::grow`], oldest first.
    waiting: BTreeSet<u64>,
    next_ticket: u64,
}

impl MemoryBudget {
    /// A budget of `total` bytes.
    pub fn new(total: u64) -> Self {
        MemoryBudget {
            total: total.max(1),
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// The budget a batch prepared with `options` works under: `max_memory` minus
    /// [`PROCESS_RESERVE`] (at least 16 MiB).
    ///
    /// ```
    /// use mindee_prep::{memory::MemoryBudget, PrepareOptions};
    /// let budget = MemoryBudget::for_options(&PrepareOptions::default());
    /// assert_eq!(budget.total(), (2 << 30) - (48 << 20));
    /// ```
    pub fn for_options(options: &PrepareOptions) -> Self {
        Self::new(file_limit(options))
    }

    /// Bytes this budget admits at once.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes reserved right now.
    pub fn in_use(&self) -> u64 {
        self.lock().used
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain counters behind: still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves `bytes`, waiting until they fit beside what others hold (or until nobody else
    /// works, for work larger than the whole budget).
    pub fn reserve(&self, bytes: u64) -> Reservation<'_> {
        self.lock().holders += 1;
        let mut reservation = Reservation {
            budget: self,
            bytes: 0,
        };
        reservation.grow(bytes);
        reservation
    }
}

/// Bytes held in a [`MemoryBudget`], given back when dropped.
#[derive(Debug)]
pub struct Reservation<'a> {
    budget: &'a MemoryBudget,
    bytes: u64,
}

impl Reservation<'_> {
    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Adds `extra` bytes, waiting until they fit. When every other holder is waiting too
    /// (nobody can give anything back), the oldest waiter goes ahead past the budget: a batch
    /// never deadlocks, and a file larger than the budget runs while the others wait.
    pub fn grow(&mut self, extra: u64) {
        if extra == 0 {
            return;
        }
        let budget = self.budget;
        let mut state = budget.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiting.insert(ticket);
        loop {
            let fits = state.used.saturating_add(extra) <= budget.total;
            // Everyone who holds memory is waiting: nothing will be given back, so the oldest
            // waiter goes ahead.
            let stuck =
                state.waiting.len() == state.holders && state.waiting.first() == Some(&ticket);
            if fits || stuck {
                break;
            }
            state = budget.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.waiting.remove(&ticket);
        state.used = state.used.saturating_add(extra);
        self.bytes += extra;
        drop(state);
        budget.freed.notify_all();
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut state = self.budget.lock();
        state.used = state.used.saturating_sub(self.bytes);
        state.holders -= 1;
        drop(state);
        self.budget.freed.notify_all();
    }
}

/// One file's standing: its reservation in a batch's budget (none for a lone
/// [`prepare`](crate::prepare)) and how many threads its decoders may start.
pub(crate) struct Admission<'a> {
    budget: Option<&'a MemoryBudget>,
    reservation: Option<Reservation<'a>>,
    pub(crate) decoder_threads: u32,
}

impl<'a> Admission<'a> {
    /// A file prepared on its own: no budget to share, every core for its decoders.
    pub(crate) fn alone() -> Admission<'static> {
        Admission {
            budget: None,
            reservation: None,
            decoder_threads: decoder_threads(1),
        }
    }

    /// A file of a batch that runs `files_at_once` files together under `budget`.
    pub(crate) fn in_batch(budget: &'a MemoryBudget, files_at_once: usize) -> Self {
        Admission {
            budget: Some(budget),
            reservation: None,
            decoder_threads: decoder_threads(files_at_once),
        }
    }

    /// Waits for `bytes` more of the batch's budget (nothing to wait for when alone).
    pub(crate) fn grow(&mut self, bytes: u64) {
        if let Some(budget) = self.budget {
            self.reservation
                .get_or_insert_with(|| budget.reserve(0))
                .grow(bytes);
        }
    }
}

/// Bytes per pixel a whole-image decode of `detected` holds at its peak, with our own copies
/// (8-bit conversion, dropping an opaque alpha, row packing).
fn decode_bytes_per_pixel(detected: &Detected) -> u64 {
    match &detected.details {
        // turbojpeg's output (CMYK: 4) plus the RGB conversion.
        Details::Jpeg(info) => u64::from(info.components.max(1)) + 3,
        Details::Png(png) => {
            let channels: u64 = match png.color_type {
                0 => 1,
                2 => 3,
                3 => 4, // palette expands to RGB(A)
                4 => 2,
                _ => 4,
            };
            let sample = if png.bit_depth == 16 { 2 } else { 1 };
            // Decoded samples, plus the 8-bit or alpha-less copy made beside them (8-bit gray
            // and RGB move into place without one).
            let copy = png.bit_depth == 16 || matches!(png.color_type, 3 | 4 | 6);
            channels * sample + if copy { channels } else { 0 }
        }
        // image-webp's RGBA buffer, plus the copy without an opaque alpha.
        Details::Webp(_) => 4 + 3,
        // libheif's 4:2:0 planes, then its interleaved RGB, then our packed copy of it.
        Details::Heif(_) => 8,
        Details::Tiff(_) | Details::Pdf(_) => 4,
    }
}

/// libjpeg's whole-image coefficient buffer for a progressive JPEG of `width` × `height`:
/// 2 bytes per sample, every component counted at full resolution (4:4:4, the worst case).
pub fn progressive_jpeg_bytes(width: u32, height: u32, components: u8) -> u64 {
    u64::from(width) * u64::from(height) * u64::from(components.max(1)) * 2
}

/// What a Lanczos3 resize to `target` and the encode after it hold, beside the source: the
/// result, its upright copy and the encoded bytes, 4 bytes per pixel each at most.
fn output_bytes(target: (u32, u32)) -> u64 {
    u64::from(target.0) * u64::from(target.1) * 4 * 3
}

/// The DCT-scaled size a JPEG decode of `size` on its way to `target` comes out at (see
/// `codec::jpeg`): the scale leaves the filter at least 2× per axis.
fn jpeg_decoded_pixels(size: (u32, u32), target: (u32, u32)) -> u64 {
    let margin = |v: u32| v.saturating_mul(2);
    let d = crate::geometry::jpeg_scale_denominator(size, (margin(target.0), margin(target.1)));
    u64::from(size.0.div_ceil(d)) * u64::from(size.1.div_ceil(d))
}

/// Bytes the work of `plan` on `detected` holds at its peak, on top of the input's own bytes:
/// the estimate a file is admitted with. Pure.
///
/// PDF images are not counted here (their sizes are only known inside the document): the PDF
/// codec adds them as it finds them, within [`PrepareOptions::max_memory`].
///
/// ```
/// use mindee_prep::{detect, memory::footprint, plan, PrepareOptions};
/// let bytes = std::fs::read("fixtures/jpeg/large_24mp.jpg").unwrap();
/// let found = detect(&bytes).unwrap();
/// let options = PrepareOptions::default();
/// let decision = plan(&found, bytes.len() as u64, &options).unwrap();
/// // A baseline JPEG streams: the 24 MP image never exists whole, the 4 MP output does.
/// assert!(footprint(&found, &decision) < 64 << 20);
/// ```
pub fn footprint(detected: &Detected, plan: &Plan) -> u64 {
    let (w, h) = (detected.width, detected.height);
    let pixels = u64::from(w) * u64::from(h);
    let whole =
        |target: (u32, u32)| decode_bytes_per_pixel(detected) * pixels + output_bytes(target);
    match plan {
        Plan::PassThrough => 0,
        Plan::Downscale { width, height, .. } => {
            let target = (*width, *height);
            match &detected.details {
                Details::Jpeg(info) => {
                    let coefficients = if info.progressive {
                        progressive_jpeg_bytes(w, h, info.components)
                    } else {
                        0
                    };
                    let streamed = info.precision == 8 && info.components != 4;
                    if streamed {
                        let scaled = jpeg_decoded_pixels((w, h), target);
                        let d = (pixels / scaled.max(1)).max(1);
                        let width = (u64::from(w) / isqrt(d)) as u32;
                        let height = (u64::from(h) / isqrt(d)) as u32;
                        return coefficients + streamed_bytes((width, height), 3, target);
                    }
                    let decoded =
                        jpeg_decoded_pixels((w, h), target) * decode_bytes_per_pixel(detected);
                    coefficients + decoded + output_bytes(target)
                }
                _ => whole(target),
            }
        }
        Plan::Convert { .. } => whole((w, h)),
        // A copy of the file without the junk or the bomb chunk: counted from the byte length.
        Plan::Repair { .. } => 0,
        Plan::DownscalePages { pages } => {
            let Details::Tiff(tiff) = &detected.details else {
                return whole((w, h));
            };
            // Pages decode in parallel (on up to one thread per core) and every encoded page
            // is held until the file is written.
            let mut each: Vec<u64> = tiff
                .pages
                .iter()
                .zip(pages)
                .map(|(p, target)| {
                    let px = u64::from(p.width) * u64::from(p.height);
                    let samples = u64::from(p.samples_per_pixel.max(1));
                    let bytes = u64::from(p.bits_per_sample.div_ceil(8).max(1));
                    let out = target.map_or(px, |(tw, th)| u64::from(tw) * u64::from(th));
                    px * samples * bytes + px * samples.min(4) + out * 4
                })
                .collect();
            each.sort_unstable_by(|a, b| b.cmp(a));
            let threads = rayon::current_num_threads().max(1);
            let at_once: u64 = each.iter().take(threads).sum();
            at_once + each.len() as u64 * 64 * 1024
        }
        // lopdf's parsed objects and the saved copy: a few times the file, counted by the
        // caller from the byte length; images are added by the codec.
        Plan::RewritePdf => 0,
    }
}

/// Bytes one PDF image of `width` × `height` × `channels` holds while it is decoded whole,
/// scaled to `target` and encoded.
///
/// ```
/// // A 17000 × 17000 RGB image (867 MB of samples) on its way to 4 MP.
/// let bytes = mindee_prep::memory::pdf_image_bytes(17_000, 17_000, 3, (2000, 2000));
/// assert!(bytes > 867_000_000 && bytes < 1_050_000_000);
/// ```
pub fn pdf_image_bytes(width: u32, height: u32, channels: u8, target: (u32, u32)) -> u64 {
    let px = u64::from(width) * u64::from(height);
    // Inflated samples (CMYK: plus their RGB conversion), fast_image_resize's intermediate
    // (target width × source height) and the result.
    px * u64::from(channels) * if channels == 4 { 2 } else { 1 }
        + u64::from(target.0) * u64::from(height) * u64::from(channels.min(3))
        + output_bytes(target)
}

/// Splits work items of `costs` bytes into groups run one after the other, each group's items
/// together, in order: a group takes items while their sum stays within `allowance` (an item
/// larger than that is a group of its own). Pure.
///
/// ```
/// use mindee_prep::memory::groups_within;
/// assert_eq!(groups_within(&[40, 40, 40, 90, 10], 100), vec![vec![0, 1], vec![2], vec![3, 4]]);
/// assert_eq!(groups_within(&[5, 5, 5], 100), vec![vec![0, 1, 2]]);
/// ```
pub fn groups_within(costs: &[u64], allowance: u64) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut sum = 0u64;
    for (i, &cost) in costs.iter().enumerate() {
        match groups.last_mut() {
            Some(group) if sum.saturating_add(cost) <= allowance => {
                group.push(i);
                sum += cost;
            }
            _ => {
                groups.push(vec![i]);
                sum = cost;
            }
        }
    }
    groups
}

/// Bytes a streamed downscale of a `size` image of `channels` to `target` holds: the banded
/// resize's window of source rows (32 output rows' worth plus the filter's reach), and the
/// result on its way out.
pub fn streamed_bytes(size: (u32, u32), channels: u8, target: (u32, u32)) -> u64 {
    let shrink = u64::from(size.1.div_ceil(target.1.max(1))).max(1);
    let rows = (shrink * (32 + 8) + 64).min(u64::from(size.1));
    u64::from(size.0) * u64::from(channels.max(1)) * rows * 2 + output_bytes(target)
}

fn isqrt(v: u64) -> u64 {
    ((v as f64).sqrt().round() as u64).max(1)
}

/// What one file's work may use: [`PrepareOptions::max_memory`] less [`PROCESS_RESERVE`].
///
/// ```
/// use mindee_prep::{memory::file_limit, PrepareOptions};
/// assert_eq!(file_limit(&PrepareOptions::default()), 2000 << 20);
/// ```
pub fn file_limit(options: &PrepareOptions) -> u64 {
    options
        .max_memory
        .saturating_sub(PROCESS_RESERVE)
        .max(16 * MIB)
}

/// How a refusal for memory names the numbers.
pub(crate) fn too_large(needed: u64, options: &PrepareOptions) -> crate::Error {
    crate::Error::TooLarge {
        limit: crate::Limit::Memory,
        actual: needed,
        max: file_limit(options),
    }
}

/// Formats like HEIF run their own decoding threads: one per core for a lone file, one per
/// file when a batch already runs a file per core.
pub(crate) fn decoder_threads(files_at_once: usize) -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / files_at_once.max(1)).max(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    #[test]
    fn reservations_never_exceed_the_budget_together() {
        let budget = Arc::new(MemoryBudget::new(100));
        let peak = Arc::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            for i in 0..8u64 {
                let (budget, peak) = (budget.clone(), peak.clone());
                s.spawn(move || {
                    let mut r = budget.reserve(10);
                    r.grow(20 + i * 5);
                    peak.fetch_max(budget.in_use(), Ordering::SeqCst);
                    std::thread::yield_now();
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 100);
        assert!(peak.load(Ordering::SeqCst) >= 30);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn work_larger_than_the_budget_runs_alone_and_never_deadlocks() {
        let budget = Arc::new(MemoryBudget::new(100));
        let alone = Arc::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            for i in 0..6u64 {
                let (budget, alone) = (budget.clone(), alone.clone());
                s.spawn(move || {
                    // Every holder first takes its input, then asks for more than is left.
                    let mut r = budget.reserve(30);
                    r.grow(if i == 0 { 500 } else { 60 });
                    if r.bytes() > 100 {
                        // Nobody else works beside it: the others hold only their inputs.
                        alone.store(budget.in_use(), Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(budget.in_use(), 0);
        let seen = alone.load(Ordering::SeqCst);
        assert!((530..=530 + 5 * 30).contains(&seen), "{seen}");
    }

    #[test]
    fn a_panic_gives_the_reservation_back() {
        let budget = MemoryBudget::new(100);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _r = budget.reserve(80);
            panic!("decoder bug");
        }));
        assert!(result.is_err());
        assert_eq!(budget.in_use(), 0);
        let _again = budget.reserve(100); // would wait forever if the 80 had leaked
    }

    #[test]
    fn one_thread_never_waits_on_itself() {
        let budget = MemoryBudget::new(10);
        let mut r = budget.reserve(8);
        r.grow(50); // alone: goes ahead past the budget
        assert_eq!(budget.in_use(), 58);
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn a_file_that_needs_more_than_max_memory_is_refused_before_decoding() {
        let options = PrepareOptions {
            max_memory: 64 << 20,
            ..PrepareOptions::default()
        };
        // 6 MP decoded whole (18 MB) plus its 4 MP result: more than 64 - 48 MiB.
        let err = crate::prepare(&fixture("png/rgb8_6mp.png"), &options).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::TooLarge);
        assert!(err.to_string().contains("MiB of memory"), "{err}");
        assert!(err.to_string().contains("over the 16 MiB"), "{err}");
        // A baseline JPEG twice that size streams: it fits.
        let jpeg = crate::prepare(&fixture("jpeg/large_24mp.jpg"), &options).unwrap();
        assert_eq!(jpeg.report().action, crate::Action::Downscaled);
        // And the default leaves room for both.
        assert!(crate::prepare(&fixture("png/rgb8_6mp.png"), &PrepareOptions::default()).is_ok());
    }

    #[test]
    fn a_hundred_megapixel_photo_fits_the_default() {
        use crate::detect::{HeifInfo, JpegInfo};
        use crate::orientation::Orientation;
        let options = PrepareOptions::default();
        let photo = |details| Detected {
            format: crate::Format::Heic,
            width: 12_000,
            height: 9_000,
            pages: 1,
            frames: None,
            animated: false,
            orientation: Orientation::Normal,
            details,
        };
        let heic = photo(Details::Heif(HeifInfo {
            major_brand: "heic".into(),
            compatible_brands: vec![],
            primary_item_type: Some("grid".into()),
            has_primary_item: true,
            tracks: false,
            other_images: 0,
        }));
        let decision = crate::plan(&heic, 30 << 20, &options).unwrap();
        let need = footprint(&heic, &decision);
        assert!(need + (30 << 20) < file_limit(&options), "{need}");
        // A baseline JPEG of that size streams in a few tens of MiB.
        let mut jpeg = photo(Details::Jpeg(JpegInfo::baseline()));
        jpeg.format = crate::Format::Jpeg;
        let decision = crate::plan(&jpeg, 30 << 20, &options).unwrap();
        assert!(footprint(&jpeg, &decision) < 128 << 20);
    }

    #[test]
    fn progressive_coefficients_are_counted() {
        assert_eq!(progressive_jpeg_bytes(1000, 1000, 3), 6_000_000);
    }
}
