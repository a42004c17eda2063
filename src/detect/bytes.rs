//! Bounds-checked integer reads: every header parser goes through these, so a short or lying
//! file yields `None` (and then a `corrupt` error), never an out-of-bounds panic.

/// Byte order of a TIFF-structured block (TIFF files, EXIF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

pub(crate) fn slice(data: &[u8], offset: usize, len: usize) -> Option<&[u8]> {
    data.get(offset..offset.checked_add(len)?)
}

pub(crate) fn u8_at(data: &[u8], offset: usize) -> Option<u8> {
    data.get(offset).copied()
}

pub(crate) fn be_u16(data: &[u8], offset: usize) -> Option<u16> {
    slice(data, offset, 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

pub(crate) fn be_u32(data: &[u8], offset: usize) -> Option<u32> {
    slice(data, offset, 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

pub(crate) fn be_u64(data: &[u8], offset: usize) -> Option<u64> {
    slice(data, offset, 8).map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
}

pub(crate) fn le_u16(data: &[u8], offset: usize) -> Option<u16> {
    slice(data, offset, 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

pub(crate) fn le_u24(data: &[u8], offset: usize) -> Option<u32> {
    slice(data, offset, 3).map(|b| u32::from_le_bytes([b[0], b[1], b[2], 0]))
}

pub(crate) fn le_u32(data: &[u8], offset: usize) -> Option<u32> {
    slice(data, offset, 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl Endian {
    pub(crate) fn u16(self, data: &[u8], offset: usize) -> Option<u16> {
        match self {
            Endian::Little => le_u16(data, offset),
            Endian::Big => be_u16(data, offset),
        }
    }

    pub(crate) fn u32(self, data: &[u8], offset: usize) -> Option<u32> {
        match self {
            Endian::Little => le_u32(data, offset),
            Endian::Big => be_u32(data, offset),
        }
    }

    pub(crate) fn u64(self, data: &[u8], offset: usize) -> Option<u64> {
        match self {
            Endian::Little => {
                slice(data, offset, 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            Endian::Big => be_u64(data, offset),
        }
    }

    pub(crate) fn bytes_u16(self, value: u16) -> [u8; 2] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }

    pub(crate) fn bytes_u32(self, value: u32) -> [u8; 4] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }

    pub(crate) fn bytes_u64(self, value: u64) -> [u8; 8] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }
}
