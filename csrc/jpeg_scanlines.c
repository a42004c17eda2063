/*
 * Row-by-row JPEG decoding and encoding through libjpeg-turbo's libjpeg API (the same static
 * library the `turbojpeg` crate builds). TurboJPEG's tj3 API only works on whole images, so
 * a 24 MP photo would need its 72 MB of RGB in memory at once; with scanlines only the
 * resampler's window of rows lives (see src/resize/banded.rs). That holds for baseline files:
 * a progressive one keeps libjpeg's whole-image coefficient buffer (2 bytes per sample) until
 * its last scan is read, which max_memory_to_use bounds (mp_decoder_start).
 *
 * libjpeg reports fatal errors through error_exit, which must not return: every entry point
 * here sets a jump buffer first and turns the jump into a -1 return with a message. Warnings
 * (corrupt-data recoveries) are counted, never printed.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeglib.h"
#include "jerror.h"

struct mp_error {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
  unsigned max_scans;
  int ended_early;
  int out_of_memory; /* 1: over max_memory_to_use; 2: malloc failed */
};

static void mp_error_exit(j_common_ptr cinfo) {
  struct mp_error *err = (struct mp_error *)cinfo->err;
  /* With no backing store (jmemnobs), going over max_memory_to_use asks for one. */
  if (err->pub.msg_code == JERR_NO_BACKING_STORE) err->out_of_memory = 1;
  if (err->pub.msg_code == JERR_OUT_OF_MEMORY) err->out_of_memory = 2;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

/* Never print: warnings are counted in num_warnings; trace messages are dropped. */
static void mp_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* Warnings are recoveries (extraneous bytes before a marker, a bad Huffman code): the image
 * still decodes, as libvips and browsers show it. Missing data is different: libjpeg pads
 * with gray, so the caller refuses the file. That is the source running dry, or a marker (an
 * EOI glued to a cut-off upload) before the scan's last row of MCUs; a marker met within the
 * last MCU row is a known encoder quirk with nothing missing to see. */
static void mp_emit_message(j_common_ptr cinfo, int level) {
  struct mp_error *err = (struct mp_error *)cinfo->err;
  if (level >= 0) return;
  err->pub.num_warnings++;
  if (err->pub.msg_code == JWRN_JPEG_EOF) err->ended_early = 1;
  if (err->pub.msg_code == JWRN_HIT_MARKER && cinfo->is_decompressor) {
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->input_iMCU_row + 1 < dinfo->total_iMCU_rows) err->ended_early = 1;
  }
}

static void mp_init_error(struct mp_error *err) {
  memset(err, 0, sizeof(*err));
  jpeg_std_error(&err->pub);
  err->pub.error_exit = mp_error_exit;
  err->pub.output_message = mp_output_message;
  err->pub.emit_message = mp_emit_message;
}

/* ------------------------------------------------------------------------------------------ */
/* decoding */

typedef struct mp_decoder {
  struct jpeg_decompress_struct cinfo;
  struct mp_error err;
  struct jpeg_progress_mgr progress;
  int created;
  /* Sample size of libjpeg's output: 8, 12 or 16 bits (12-bit DCT files, 9-16-bit lossless
   * ones). Wider samples are read into `wide` and scaled to 8 bits row by row. */
  int bits;
  uint16_t *wide;
} mp_decoder;

/* A progressive file with hundreds of scans makes libjpeg redo the whole image per scan:
 * TurboJPEG's TJPARAM_SCANLIMIT does the same check. */
static void mp_progress(j_common_ptr cinfo) {
  struct mp_error *err = (struct mp_error *)cinfo->err;
  if (cinfo->is_decompressor) {
    int scan = ((j_decompress_ptr)cinfo)->input_scan_number;
    if (err->max_scans > 0 && scan > (int)err->max_scans) {
      snprintf(err->message, sizeof(err->message),
               "progressive JPEG with more than %u scans", err->max_scans);
      longjmp(err->jump, 1);
    }
  }
}

/* Refuses the file: libjpeg would pad the missing part with gray. */
static int mp_ended_early(mp_decoder *dec) {
  snprintf(dec->err.message, sizeof(dec->err.message), "the JPEG data ends early");
  return -1;
}

const char *mp_decoder_message(const mp_decoder *dec) { return dec->err.message; }

/* 1 when the last error was the memory limit, 2 when an allocation failed, else 0. */
int mp_decoder_out_of_memory(const mp_decoder *dec) { return dec->err.out_of_memory; }

mp_decoder *mp_decoder_new(void) {
  mp_decoder *dec = (mp_decoder *)calloc(1, sizeof(mp_decoder));
  return dec;
}

void mp_decoder_free(mp_decoder *dec) {
  if (!dec) return;
  if (dec->created) jpeg_destroy_decompress(&dec->cinfo);
  free(dec->wide);
  free(dec);
}

/*
 * Reads the header of `data` and starts decompression at 1/`denominator` scale (1, 2, 4 or 8)
 * into 8-bit gray (one-component files) or RGB (YCbCr/RGB files). libjpeg may allocate at most
 * `max_memory` bytes (0: no limit): a baseline file needs a few rows, a progressive one its
 * whole-image coefficient buffer (2 bytes per sample), which is refused past it. Returns 0 and the output
 * size, -1 on a libjpeg error (message in mp_decoder_message), or 1 when the colour space is
 * not gray/YCbCr/RGB (CMYK, YCCK: the caller uses its whole-image path).
 */
int mp_decoder_start(mp_decoder *dec, const uint8_t *data, size_t len, unsigned denominator,
                     unsigned max_scans, size_t max_memory, uint32_t *width, uint32_t *height,
                     int *channels) {
  mp_init_error(&dec->err);
  dec->err.max_scans = max_scans;
  dec->cinfo.err = &dec->err.pub;
  if (setjmp(dec->err.jump)) return -1;
  jpeg_create_decompress(&dec->cinfo);
  dec->created = 1;
  if (max_memory > 0 && max_memory <= (size_t)LONG_MAX)
    dec->cinfo.mem->max_memory_to_use = (long)max_memory;
  dec->progress.progress_monitor = mp_progress;
  dec->cinfo.progress = &dec->progress;
  jpeg_mem_src(&dec->cinfo, data, (unsigned long)len);
  jpeg_read_header(&dec->cinfo, TRUE);
  switch (dec->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      dec->cinfo.out_color_space = JCS_GRAYSCALE;
      *channels = 1;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      dec->cinfo.out_color_space = JCS_RGB;
      *channels = 3;
      break;
    default:
      return 1;
  }
  /* libjpeg-turbo 3 reads 8- and 12-bit DCT files and 2-16-bit lossless ones, each through the
   * scanline function of its sample size (it refuses a mismatch). */
  int precision = dec->cinfo.data_precision;
  if (precision < 2 || precision > 16) return 1;
  dec->bits = precision <= 8 ? 8 : precision <= 12 ? 12 : 16;
  dec->cinfo.scale_num = 1;
  dec->cinfo.scale_denom = denominator;
  /* TurboJPEG's defaults: accurate integer IDCT, fancy upsampling. */
  dec->cinfo.dct_method = JDCT_ISLOW;
  dec->cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&dec->cinfo);
  if (dec->err.ended_early) {
    return mp_ended_early(dec);
  }
  *width = dec->cinfo.output_width;
  *height = dec->cinfo.output_height;
  if (dec->bits != 8) {
    size_t samples = (size_t)dec->cinfo.output_width * (size_t)*channels;
    dec->wide = (uint16_t *)malloc(samples * sizeof(uint16_t));
    if (!dec->wide) {
      snprintf(dec->err.message, sizeof(dec->err.message), "Insufficient memory (wide row)");
      return -1;
    }
  }
  return 0;
}

/* One row of `bits`-bit samples (data_precision bits used) scaled to 8 bits, rounded. */
static void mp_narrow(const mp_decoder *dec, uint8_t *out) {
  size_t samples = (size_t)dec->cinfo.output_width * (size_t)dec->cinfo.output_components;
  uint32_t max = (1u << dec->cinfo.data_precision) - 1;
  for (size_t i = 0; i < samples; i++) {
    uint32_t v = dec->wide[i] > max ? max : dec->wide[i];
    out[i] = (uint8_t)((v * 255 + max / 2) / max);
  }
}

/* Reads one row through the 12- or 16-bit scanline function into `out` as 8 bits. */
static JDIMENSION mp_read_wide_row(mp_decoder *dec, uint8_t *out) {
  JDIMENSION got;
  if (dec->bits == 12) {
    J12SAMPROW row = (J12SAMPROW)dec->wide;
    got = jpeg12_read_scanlines(&dec->cinfo, &row, 1);
  } else {
    J16SAMPROW row = (J16SAMPROW)dec->wide;
    got = jpeg16_read_scanlines(&dec->cinfo, &row, 1);
  }
  if (got == 1) mp_narrow(dec, out);
  return got;
}

/* Decodes up to `max_rows` rows into `buffer` (rows `stride` bytes apart). Returns the number
 * of rows written (0 once the image is complete) or -1 on error. */
int mp_decoder_read(mp_decoder *dec, uint8_t *buffer, size_t stride, unsigned max_rows) {
  if (setjmp(dec->err.jump)) return -1;
  unsigned done = 0;
  while (done < max_rows && dec->cinfo.output_scanline < dec->cinfo.output_height) {
    JSAMPROW rows[16];
    unsigned want = max_rows - done;
    if (want > 16) want = 16;
    for (unsigned i = 0; i < want; i++) rows[i] = buffer + (size_t)(done + i) * stride;
    JDIMENSION got = dec->bits == 8 ? jpeg_read_scanlines(&dec->cinfo, rows, want)
                                    : mp_read_wide_row(dec, rows[0]);
    if (got == 0) {
      /* The memory source pads a truncated file with an EOI; libjpeg warns and goes on, so
       * zero rows here means the source gave out for good. */
      return mp_ended_early(dec);
    }
    done += got;
  }
  if (dec->err.ended_early) {
    return mp_ended_early(dec);
  }
  return (int)done;
}

/* ------------------------------------------------------------------------------------------ */
/* encoding */

/* A growing in-memory destination owned by the encoder. (libjpeg's jpeg_mem_dest only
 * publishes its reallocated buffer at jpeg_finish_compress, so an encoder dropped half-way
 * would hold a stale pointer.) */
struct mp_destination {
  struct jpeg_destination_mgr pub;
  unsigned char *data;
  size_t capacity;
  size_t length;
};

static void mp_init_destination(j_compress_ptr cinfo) {
  struct mp_destination *dest = (struct mp_destination *)cinfo->dest;
  if (!dest->data) {
    dest->capacity = 1 << 16;
    dest->data = (unsigned char *)malloc(dest->capacity);
    if (!dest->data) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  }
  dest->pub.next_output_byte = dest->data;
  dest->pub.free_in_buffer = dest->capacity;
}

static boolean mp_empty_output_buffer(j_compress_ptr cinfo) {
  struct mp_destination *dest = (struct mp_destination *)cinfo->dest;
  size_t capacity = dest->capacity * 2;
  unsigned char *data = (unsigned char *)realloc(dest->data, capacity);
  if (!data) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  /* libjpeg calls this only when the buffer is full. */
  dest->pub.next_output_byte = data + dest->capacity;
  dest->pub.free_in_buffer = capacity - dest->capacity;
  dest->data = data;
  dest->capacity = capacity;
  return TRUE;
}

static void mp_term_destination(j_compress_ptr cinfo) {
  struct mp_destination *dest = (struct mp_destination *)cinfo->dest;
  dest->length = dest->capacity - dest->pub.free_in_buffer;
}

typedef struct mp_encoder {
  struct jpeg_compress_struct cinfo;
  struct mp_error err;
  struct mp_destination dest;
  int created;
} mp_encoder;

const char *mp_encoder_message(const mp_encoder *enc) { return enc->err.message; }

mp_encoder *mp_encoder_new(void) { return (mp_encoder *)calloc(1, sizeof(mp_encoder)); }

void mp_encoder_free(mp_encoder *enc) {
  if (!enc) return;
  if (enc->created) jpeg_destroy_compress(&enc->cinfo);
  free(enc->dest.data);
  free(enc);
}

/* Starts a baseline JPEG: gray, or RGB stored as YCbCr 4:2:0 (TurboJPEG's Sub2x2), with
 * Huffman tables not optimised and the accurate integer DCT, as tj3Compress8 does. */
int mp_encoder_start(mp_encoder *enc, uint32_t width, uint32_t height, int channels,
                     int quality) {
  mp_init_error(&enc->err);
  enc->cinfo.err = &enc->err.pub;
  if (setjmp(enc->err.jump)) return -1;
  jpeg_create_compress(&enc->cinfo);
  enc->created = 1;
  enc->dest.pub.init_destination = mp_init_destination;
  enc->dest.pub.empty_output_buffer = mp_empty_output_buffer;
  enc->dest.pub.term_destination = mp_term_destination;
  enc->cinfo.dest = &enc->dest.pub;
  enc->cinfo.image_width = width;
  enc->cinfo.image_height = height;
  enc->cinfo.input_components = channels;
  enc->cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&enc->cinfo);
  jpeg_set_quality(&enc->cinfo, quality, TRUE);
  enc->cinfo.dct_method = JDCT_ISLOW;
  enc->cinfo.optimize_coding = FALSE;
  if (channels != 1) {
    enc->cinfo.comp_info[0].h_samp_factor = 2;
    enc->cinfo.comp_info[0].v_samp_factor = 2;
    enc->cinfo.comp_info[1].h_samp_factor = 1;
    enc->cinfo.comp_info[1].v_samp_factor = 1;
    enc->cinfo.comp_info[2].h_samp_factor = 1;
    enc->cinfo.comp_info[2].v_samp_factor = 1;
  }
  jpeg_start_compress(&enc->cinfo, TRUE);
  return 0;
}

/* Compresses `rows` rows from `buffer` (rows `stride` bytes apart). Returns 0 or -1. */
int mp_encoder_write(mp_encoder *enc, const uint8_t *buffer, size_t stride, unsigned rows) {
  if (setjmp(enc->err.jump)) return -1;
  unsigned done = 0;
  while (done < rows) {
    JSAMPROW list[16];
    unsigned want = rows - done;
    if (want > 16) want = 16;
    for (unsigned i = 0; i < want; i++) list[i] = (JSAMPROW)(buffer + (size_t)(done + i) * stride);
    JDIMENSION got = jpeg_write_scanlines(&enc->cinfo, list, want);
    if (got == 0) {
      snprintf(enc->err.message, sizeof(enc->err.message), "the encoder took no rows");
      return -1;
    }
    done += got;
  }
  return 0;
}

/* Finishes the file; its bytes stay owned by the encoder until mp_encoder_free. */
int mp_encoder_finish(mp_encoder *enc, const uint8_t **data, size_t *len) {
  if (setjmp(enc->err.jump)) return -1;
  jpeg_finish_compress(&enc->cinfo);
  *data = enc->dest.data;
  *len = enc->dest.length;
  return 0;
}
