//! The backup file: the keys and values of a store, framed and checked.
//!
//! ```text
//! file   := MAGIC frame* end
//! MAGIC  := "DLBACKUP" version:u32        (version 1)
//! frame  := 1 key_len:u32 key value_len:u32 value      (set key to value)
//!         | 2 key_len:u32 key                           (remove key)
//! end    := 255 frames:u64 sha256:[u8; 32]
//! ```
//!
//! Integers are big-endian. The SHA-256 covers every byte before it, and
//! `frames` counts the frames before `end`, so a flipped byte, a cut file
//! or a file with bytes after its end is refused. Frames apply in order:
//! the corrections a backup writes after its copy (see `tap`) replace what
//! the copy wrote for the same key.

use sha2::{Digest, Sha256};
use std::io::Read;

/// The first bytes of a backup file.
pub const MAGIC: &[u8; 8] = b"DLBACKUP";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// The longest key a frame may hold (the store's keys are < 100 bytes).
pub const MAX_KEY_BYTES: u32 = 4096;
/// The longest value a frame may hold (the store's values are < 16 MiB).
pub const MAX_VALUE_BYTES: u32 = 256 << 20;

/// The length of the end frame: its kind, the frame count and the SHA-256.
pub const END_FRAME_BYTES: u64 = 1 + 8 + 32;

const SET: u8 = 1;
const REMOVE: u8 = 2;
const END: u8 = 255;

/// Why a file is not a backup this build can restore. The messages speak
/// of "the file": the command line names it before them.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be read.
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
    /// The first bytes are not [`MAGIC`].
    #[error("is not a downline backup")]
    NotABackup,
    /// A backup of a format this build does not know.
    #[error("is a backup of format version {0}; this build reads version {VERSION}")]
    Version(u32),
    /// The file ends before its end frame.
    #[error("is truncated or damaged: it ends before the backup's last frame")]
    Truncated,
    /// The checksum or the frame count does not match.
    #[error("is damaged: {0}")]
    Damaged(String),
}

/// One frame of a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Set `key` to `value`.
    Set(Vec<u8>, Vec<u8>),
    /// Remove `key`.
    Remove(Vec<u8>),
}

/// Writes a backup into memory a piece at a time.
pub struct Encoder {
    pending: Vec<u8>,
    hasher: Sha256,
    frames: u64,
    written_bytes: u64,
}

impl Default for Encoder {
    fn default() -> Encoder {
        let mut pending = MAGIC.to_vec();
        pending.extend_from_slice(&VERSION.to_be_bytes());
        Encoder { pending, hasher: Sha256::new(), frames: 0, written_bytes: 0 }
    }
}

impl Encoder {
    /// Adds a frame that sets `key` to `value`.
    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        self.frame(SET, key);
        self.pending.extend_from_slice(&len32(value).to_be_bytes());
        self.pending.extend_from_slice(value);
    }

    /// Adds a frame that removes `key`.
    pub fn remove(&mut self, key: &[u8]) {
        self.frame(REMOVE, key);
    }

    fn frame(&mut self, kind: u8, key: &[u8]) {
        debug_assert!(len32(key) <= MAX_KEY_BYTES, "a store key is short");
        self.frames += 1;
        self.pending.push(kind);
        self.pending.extend_from_slice(&len32(key).to_be_bytes());
        self.pending.extend_from_slice(key);
    }

    /// Bytes encoded and not yet taken.
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    /// Frames encoded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes taken so far (the file's length once finished).
    pub fn written_bytes(&self) -> u64 {
        self.written_bytes
    }

    /// Takes the bytes encoded so far: the next piece of the file.
    pub fn take(&mut self) -> Vec<u8> {
        self.hasher.update(&self.pending);
        self.written_bytes += self.pending.len() as u64;
        std::mem::take(&mut self.pending)
    }

    /// Adds the end frame and takes the file's last piece.
    pub fn finish(&mut self) -> Vec<u8> {
        self.pending.push(END);
        self.pending.extend_from_slice(&self.frames.to_be_bytes());
        let mut last = self.take();
        let digest = std::mem::take(&mut self.hasher).finalize();
        last.extend_from_slice(&digest);
        self.written_bytes += digest.len() as u64;
        last
    }
}

/// A length that fits a frame's u32 (the store's keys and values do; a
/// longer one is written as `u32::MAX` and refused by the decoder's limits).
fn len32(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

/// Reads a backup's frames and checks its end.
pub struct Decoder<R> {
    reader: R,
    hasher: Sha256,
    frames: u64,
    read_bytes: u64,
    ended: bool,
}

impl<R: Read> Decoder<R> {
    /// A decoder over `reader`; reads and checks the magic and version.
    pub fn new(reader: R) -> Result<Decoder<R>, FormatError> {
        let mut decoder = Decoder { reader, hasher: Sha256::new(), frames: 0, read_bytes: 0, ended: false };
        let mut magic = [0u8; 8];
        decoder.read_exact(&mut magic).map_err(|e| match e {
            FormatError::Truncated => FormatError::NotABackup,
            other => other,
        })?;
        if &magic != MAGIC {
            return Err(FormatError::NotABackup);
        }
        let version = decoder.read_u32()?;
        if version != VERSION {
            return Err(FormatError::Version(version));
        }
        Ok(decoder)
    }

    /// Bytes read so far.
    pub fn read_bytes(&self) -> u64 {
        self.read_bytes
    }

    /// The next frame; `None` once the end frame was read and checked
    /// (the checksum, the count, and nothing after it).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FormatError> {
        if self.ended {
            return Ok(None);
        }
        let kind = self.read_u8()?;
        match kind {
            SET => {
                let key = self.read_field(MAX_KEY_BYTES, "key")?;
                let value = self.read_field(MAX_VALUE_BYTES, "value")?;
                self.frames += 1;
                Ok(Some(Frame::Set(key, value)))
            }
            REMOVE => {
                let key = self.read_field(MAX_KEY_BYTES, "key")?;
                self.frames += 1;
                Ok(Some(Frame::Remove(key)))
            }
            END => self.end().map(|()| None),
            other => Err(damaged(format!("frame {} has the unknown kind {other}", self.frames + 1))),
        }
    }

    fn end(&mut self) -> Result<(), FormatError> {
        let frames = self.read_u64()?;
        let computed = std::mem::take(&mut self.hasher).finalize();
        let mut stored = [0u8; 32];
        self.reader.read_exact(&mut stored).map_err(truncated)?;
        self.read_bytes += 32;
        if computed.as_slice() != stored {
            return Err(damaged("its SHA-256 checksum does not match its contents".into()));
        }
        if frames != self.frames {
            return Err(damaged(format!("it holds {} frames, its end says {frames}", self.frames)));
        }
        if self.reader.read(&mut [0u8; 1])? != 0 {
            return Err(damaged("it has bytes after its end".into()));
        }
        self.ended = true;
        Ok(())
    }

    fn read_field(&mut self, max: u32, what: &str) -> Result<Vec<u8>, FormatError> {
        let len = self.read_u32()?;
        if len > max {
            return Err(damaged(format!("frame {} has a {what} of {len} bytes, more than {max}", self.frames + 1)));
        }
        // Grows as the bytes arrive: a damaged length in a short file
        // allocates no more than the file holds.
        let mut field = Vec::new();
        (&mut self.reader).take(u64::from(len)).read_to_end(&mut field)?;
        if field.len() != len as usize {
            return Err(FormatError::Truncated);
        }
        self.hasher.update(&field);
        self.read_bytes += field.len() as u64;
        Ok(field)
    }

    fn read_u8(&mut self) -> Result<u8, FormatError> {
        let mut raw = [0u8; 1];
        self.read_exact(&mut raw)?;
        Ok(raw[0])
    }

    fn read_u32(&mut self) -> Result<u32, FormatError> {
        let mut raw = [0u8; 4];
        self.read_exact(&mut raw)?;
        Ok(u32::from_be_bytes(raw))
    }

    fn read_u64(&mut self) -> Result<u64, FormatError> {
        let mut raw = [0u8; 8];
        self.read_exact(&mut raw)?;
        Ok(u64::from_be_bytes(raw))
    }

    /// Reads exactly `buf.len()` bytes into the checksum.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), FormatError> {
        self.reader.read_exact(buf).map_err(truncated)?;
        self.hasher.update(&*buf);
        self.read_bytes += buf.len() as u64;
        Ok(())
    }
}

fn truncated(e: std::io::Error) -> FormatError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FormatError::Truncated,
        _ => FormatError::Io(e),
    }
}

fn damaged(what: String) -> FormatError {
    FormatError::Damaged(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut encoder = Encoder::default();
        encoder.set(b"m:format", b"v1");
        let mut file = encoder.take();
        encoder.set(b"p:1", &[7u8; 40]);
        encoder.remove(b"p:0");
        file.extend(encoder.finish());
        assert_eq!(encoder.written_bytes(), file.len() as u64);
        file
    }

    fn decode_all(file: &[u8]) -> Result<Vec<Frame>, FormatError> {
        let mut decoder = Decoder::new(file)?;
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next_frame()? {
            frames.push(frame);
        }
        Ok(frames)
    }

    #[test]
    fn a_backup_reads_back_frame_for_frame() {
        let frames = decode_all(&sample()).expect("a good file");
        let expected = vec![
            Frame::Set(b"m:format".to_vec(), b"v1".to_vec()),
            Frame::Set(b"p:1".to_vec(), vec![7u8; 40]),
            Frame::Remove(b"p:0".to_vec()),
        ];
        assert_eq!(frames, expected);
    }

    #[test]
    fn every_flipped_byte_and_every_cut_is_refused() {
        let file = sample();
        for at in 0..file.len() {
            let mut bad = file.clone();
            bad[at] ^= 0x40;
            assert!(decode_all(&bad).is_err(), "a flip at byte {at} was accepted");
            assert!(decode_all(&file[..at]).is_err(), "a cut at byte {at} was accepted");
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(decode_all(&longer), Err(FormatError::Damaged(_))));
        assert!(matches!(decode_all(b"PK\x03\x04 a zip file"), Err(FormatError::NotABackup)));
    }
}
