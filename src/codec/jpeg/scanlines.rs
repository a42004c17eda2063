//! Row-by-row JPEG decoding and encoding over libjpeg-turbo's scanline API
//! (`csrc/jpeg_scanlines.c`), so a downscale never holds the whole decoded image (a progressive
//! file still holds libjpeg's whole-image coefficient buffer, under `max_memory`).
//!
//! The C side catches every libjpeg error with `setjmp` inside the same C call, so no jump
//! ever crosses a Rust frame; here each failure becomes this crate's error, of the kind its
//! libjpeg message says ([`super::decode_error`]; encoder failures are `resource_limit`).

use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_uint};
use std::ptr::NonNull;

use crate::error::{Error, Result};
use crate::format::Format;

#[repr(C)]
struct RawDecoder {
    _opaque: [u8; 0],
}

#[repr(C)]
struct RawEncoder {
    _opaque: [u8; 0],
}

extern "C" {
    fn mp_decoder_new() -> *mut RawDecoder;
    fn mp_decoder_free(dec: *mut RawDecoder);
    fn mp_decoder_message(dec: *const RawDecoder) -> *const c_char;
    fn mp_decoder_out_of_memory(dec: *const RawDecoder) -> c_int;
    fn mp_decoder_start(
        dec: *mut RawDecoder,
        data: *const u8,
        len: usize,
        denominator: c_uint,
        max_scans: c_uint,
        max_memory: usize,
        width: *mut u32,
        height: *mut u32,
        channels: *mut c_int,
    ) -> c_int;
    fn mp_decoder_read(dec: *mut RawDecoder, buffer: *mut u8, stride: usize, rows: c_uint)
        -> c_int;

    fn mp_encoder_new() -> *mut RawEncoder;
    fn mp_encoder_free(enc: *mut RawEncoder);
    fn mp_encoder_message(enc: *const RawEncoder) -> *const c_char;
    fn mp_encoder_start(
        enc: *mut RawEncoder,
        width: u32,
        height: u32,
        channels: c_int,
        quality: c_int,
    ) -> c_int;
    fn mp_encoder_write(
        enc: *mut RawEncoder,
        buffer: *const u8,
        stride: usize,
        rows: c_uint,
    ) -> c_int;
    fn mp_encoder_finish(enc: *mut RawEncoder, data: *mut *const u8, len: *mut usize) -> c_int;
}

/// libjpeg's message, which the C side always NUL-terminates inside its fixed buffer.
fn message(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return "unknown libjpeg error".into();
    }
    // SAFETY: the pointer is to the decoder's/encoder's own NUL-terminated message buffer.
    let text = unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    if text.is_empty() {
        "unknown libjpeg error".into()
    } else {
        text
    }
}

/// A JPEG being decoded top to bottom, 8-bit gray or RGB rows.
pub(crate) struct RowDecoder<'data> {
    raw: NonNull<RawDecoder>,
    width: u32,
    height: u32,
    channels: u8,
    rows_read: u32,
    // libjpeg reads from `data` until the decoder is freed.
    _data: PhantomData<&'data [u8]>,
}

impl<'data> RowDecoder<'data> {
    /// Reads the header and starts decoding at 1/`denominator` scale (1, 2, 4 or 8), with
    /// libjpeg allowed `max_memory` bytes (a progressive file's coefficient buffer is refused
    /// with `too_large` past it).
    ///
    /// `Ok(None)`: the file is CMYK or YCCK; the whole-image path handles those. 12-bit and
    /// 9–16-bit lossless files come out scaled to 8 bits.
    pub(crate) fn start(
        data: &'data [u8],
        denominator: u32,
        max_scans: u32,
        max_memory: u64,
    ) -> Result<Option<Self>> {
        // SAFETY: plain allocation; null is checked.
        let raw =
            NonNull::new(unsafe { mp_decoder_new() }).ok_or_else(|| Error::ResourceLimit {
                what: "out of memory starting the JPEG decoder".into(),
            })?;
        let mut decoder = RowDecoder {
            raw,
            width: 0,
            height: 0,
            channels: 0,
            rows_read: 0,
            _data: PhantomData,
        };
        let (mut width, mut height, mut channels) = (0u32, 0u32, 0 as c_int);
        // SAFETY: `data` outlives the decoder (lifetime 'data); the out-pointers are locals.
        let status = unsafe {
            mp_decoder_start(
                raw.as_ptr(),
                data.as_ptr(),
                data.len(),
                denominator,
                max_scans,
                usize::try_from(max_memory).unwrap_or(usize::MAX),
                &mut width,
                &mut height,
                &mut channels,
            )
        };
        match status {
            0 => {}
            1 => return Ok(None),
            _ => return Err(decoder.error_within(max_memory)),
        }
        decoder.width = width;
        decoder.height = height;
        decoder.channels = channels as u8;
        Ok(Some(decoder))
    }

    /// Output size after DCT scaling.
    pub(crate) fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// 1 (gray) or 3 (RGB).
    pub(crate) fn channels(&self) -> u8 {
        self.channels
    }

    /// Fills `buffer` with exactly `rows` rows (packed: width × channels bytes each).
    pub(crate) fn read_rows(&mut self, buffer: &mut [u8], rows: u32) -> Result<()> {
        let stride = self.width as usize * usize::from(self.channels);
        assert!(
            buffer.len() >= stride * rows as usize,
            "row buffer too small"
        );
        if self.rows_read.saturating_add(rows) > self.height {
            return Err(Error::corrupt(Format::Jpeg, "read past the last row"));
        }
        let mut done = 0u32;
        while done < rows {
            let offset = done as usize * stride;
            // SAFETY: the buffer holds `rows - done` more rows of `stride` bytes after `offset`.
            let got = unsafe {
                mp_decoder_read(
                    self.raw.as_ptr(),
                    buffer[offset..].as_mut_ptr(),
                    stride,
                    rows - done,
                )
            };
            if got <= 0 {
                return Err(if got < 0 {
                    self.error()
                } else {
                    Error::corrupt(Format::Jpeg, "the JPEG data ends early")
                });
            }
            done += got as u32;
        }
        self.rows_read += rows;
        Ok(())
    }

    fn error(&self) -> Error {
        self.error_within(0)
    }

    /// The last error; past `max_memory` (libjpeg asked for a backing store it does not
    /// have) it is this tool's memory limit, and a failed allocation is ours too: neither is
    /// `corrupt`.
    fn error_within(&self, max_memory: u64) -> Error {
        // SAFETY: the decoder is alive; the message buffer lives inside it.
        let text = message(unsafe { mp_decoder_message(self.raw.as_ptr()) });
        // SAFETY: as above.
        match unsafe { mp_decoder_out_of_memory(self.raw.as_ptr()) } {
            1 => Error::TooLarge {
                limit: crate::Limit::Memory,
                actual: max_memory.saturating_add(1),
                max: max_memory,
            },
            2 => Error::ResourceLimit {
                what: format!("libjpeg ran out of memory ({text})"),
            },
            _ => super::decode_error(text),
        }
    }
}

impl Drop for RowDecoder<'_> {
    fn drop(&mut self) {
        // SAFETY: created by mp_decoder_new, freed once.
        unsafe { mp_decoder_free(self.raw.as_ptr()) }
    }
}

/// A baseline JPEG being written top to bottom: gray, or RGB stored as YCbCr 4:2:0, Huffman
/// tables not optimised, accurate integer DCT (what `tj3Compress8` writes with our settings).
pub(crate) struct RowEncoder {
    raw: NonNull<RawEncoder>,
    stride: usize,
    rows_left: u32,
}

impl RowEncoder {
    /// Starts a `width` × `height` JPEG of `channels` (1 or 3) at `quality` (1–100).
    pub(crate) fn start(width: u32, height: u32, channels: u8, quality: u8) -> Result<Self> {
        // SAFETY: plain allocation; null is checked.
        let raw = NonNull::new(unsafe { mp_encoder_new() })
            .ok_or_else(|| Error::encoder(Format::Jpeg, "out of memory"))?;
        let encoder = RowEncoder {
            raw,
            stride: width as usize * usize::from(channels),
            rows_left: height,
        };
        // SAFETY: the encoder is alive.
        let status = unsafe {
            mp_encoder_start(
                raw.as_ptr(),
                width,
                height,
                c_int::from(channels),
                c_int::from(quality),
            )
        };
        if status != 0 {
            return Err(encoder.error());
        }
        Ok(encoder)
    }

    /// Compresses `rows` packed rows from `buffer`.
    pub(crate) fn write_rows(&mut self, buffer: &[u8], rows: u32) -> Result<()> {
        assert!(
            buffer.len() >= self.stride * rows as usize,
            "row buffer too small"
        );
        if rows > self.rows_left {
            return Err(Error::encoder(Format::Jpeg, "more rows than the image has"));
        }
        // SAFETY: the buffer holds `rows` rows of `stride` bytes; libjpeg only reads them.
        let status =
            unsafe { mp_encoder_write(self.raw.as_ptr(), buffer.as_ptr(), self.stride, rows) };
        if status != 0 {
            return Err(self.error());
        }
        self.rows_left -= rows;
        Ok(())
    }

    /// Finishes the file (every row must have been written) and returns its bytes.
    pub(crate) fn finish(self) -> Result<Vec<u8>> {
        if self.rows_left != 0 {
            return Err(Error::encoder(Format::Jpeg, "rows missing"));
        }
        let mut data: *const u8 = std::ptr::null();
        let mut len = 0usize;
        // SAFETY: the encoder is alive; the out-pointers are locals.
        let status = unsafe { mp_encoder_finish(self.raw.as_ptr(), &mut data, &mut len) };
        if status != 0 || data.is_null() {
            return Err(self.error());
        }
        // SAFETY: libjpeg's memory destination holds `len` bytes at `data` until the encoder
        // is freed (when `self` drops, after this copy).
        Ok(unsafe { std::slice::from_raw_parts(data, len) }.to_vec())
    }

    fn error(&self) -> Error {
        // SAFETY: the encoder is alive; the message buffer lives inside it.
        let text = message(unsafe { mp_encoder_message(self.raw.as_ptr()) });
        Error::encoder(Format::Jpeg, text)
    }
}

impl Drop for RowEncoder {
    fn drop(&mut self) {
        // SAFETY: created by mp_encoder_new, freed once.
        unsafe { mp_encoder_free(self.raw.as_ptr()) }
    }
}
