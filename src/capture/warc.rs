//! Writing WARC 1.1 files: one gzip member per record, rolled over at a size, a `warcinfo`
//! record opening each file, and a torn last member cut off when a capture is continued.

use super::read::{self, Scanned};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The name of the `n`th WARC file of a capture.
pub fn file_name(n: u32) -> String {
    format!("sharc-{n:05}.warc.gz")
}

/// Whether `name` is one of a capture's WARC files, and its number.
pub fn file_number(name: &str) -> Option<u32> {
    let n = name.strip_prefix("sharc-")?.strip_suffix(".warc.gz")?;
    (n.len() == 5 && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
}

/// The head of a record to write: its type, target and the named fields besides those the
/// writer adds itself (`WARC-Record-ID`, `WARC-Date`, `Content-Length`, `WARC-Filename`).
pub struct Head<'a> {
    /// `warcinfo`, `request` or `response`.
    pub kind: &'a str,
    /// `WARC-Date`.
    pub date: &'a str,
    /// `WARC-Target-URI`, when the record has one.
    pub target: Option<&'a str>,
    /// `Content-Type` and the other fields, in order.
    pub fields: Vec<(&'a str, String)>,
}

/// Where a record went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The WARC file's name.
    pub file: String,
    /// Its `WARC-Record-ID`, with the angle brackets.
    pub id: String,
}

/// The WARC file being written.
struct Open {
    name: String,
    file: File,
    size: u64,
    /// Records in the file so far.
    records: u64,
    warcinfo: String,
}

/// Writes a capture's WARC files into one directory.
pub struct WarcWriter {
    dir: PathBuf,
    max_size: u64,
    /// The `warcinfo` record's fields (`application/warc-fields`).
    info: String,
    /// The date of `warcinfo` records.
    info_date: String,
    next: u32,
    open: Option<Open>,
}

impl WarcWriter {
    /// A writer into `dir` (created if needed) that continues what is there: the last WARC
    /// file is cut after its last complete exchange (a torn gzip member, or a request whose
    /// response never came, is removed) and appended to.
    pub fn open(dir: &Path, max_size: u64, info: String, info_date: String) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut numbers: Vec<u32> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| file_number(&e.file_name().to_string_lossy()))
            .collect();
        numbers.sort_unstable();
        let mut w = Self {
            dir: dir.to_path_buf(),
            max_size: max_size.max(1),
            info,
            info_date,
            next: numbers.last().map_or(0, |n| n + 1),
            open: None,
        };
        if let Some(&last) = numbers.last() {
            w.reopen(last)?;
        }
        Ok(w)
    }

    /// Continues file `n`: cut after its last complete exchange, or started afresh when
    /// nothing of it is complete.
    fn reopen(&mut self, n: u32) -> io::Result<()> {
        let name = file_name(n);
        let path = self.dir.join(&name);
        let mut keep = 0u64;
        let mut records = 0u64;
        let mut warcinfo = None;
        // A request is written before its response: the file is kept up to the last
        // `warcinfo` or response, so a request whose response was lost goes too.
        read::scan(&path, |r: &Scanned| {
            records += 1;
            match r.field("WARC-Type").unwrap_or_default() {
                "warcinfo" => {
                    warcinfo = r.field("WARC-Record-ID").map(str::to_string);
                    keep = r.offset + r.length;
                }
                "response" => keep = r.offset + r.length,
                _ => {}
            }
        })?;
        let Some(warcinfo) = warcinfo.filter(|_| keep > 0) else {
            fs::remove_file(&path)?;
            self.next = n;
            return Ok(());
        };
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let size = file.metadata()?.len();
        if size != keep {
            tracing::warn!(
                "{}: cut after byte {keep} of {size}: the last exchange was not written whole when the run stopped",
                path.display()
            );
            file.set_len(keep)?;
            file.sync_all()?;
        }
        // Records after the cut are counted again when written: ids stay unique, as each
        // depends on the record's number and content.
        self.open = Some(Open {
            name,
            file,
            size: keep,
            records,
            warcinfo,
        });
        self.next = n + 1;
        Ok(())
    }

    /// Writes one record whose block is `block_len` bytes read from `block`.
    pub fn write(
        &mut self,
        head: &Head<'_>,
        block: &mut dyn Read,
        block_len: u64,
    ) -> io::Result<Placed> {
        if self.open.as_ref().is_none_or(|o| o.size >= self.max_size) {
            self.roll()?;
        }
        self.write_in_open(head, block, block_len)
    }

    /// The record id the next record written to the open file would get; stable for the
    /// same head, file and position.
    fn record_id(open: &Open, head: &Head<'_>) -> String {
        let mut h = Sha256::new();
        for part in [
            open.name.as_str(),
            &open.records.to_string(),
            head.kind,
            head.date,
            head.target.unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        uuid_urn(&h.finalize())
    }

    fn write_in_open(
        &mut self,
        head: &Head<'_>,
        block: &mut dyn Read,
        block_len: u64,
    ) -> io::Result<Placed> {
        let open = self
            .open
            .as_mut()
            .ok_or_else(|| io::Error::other("no WARC file is open"))?;
        let id = Self::record_id(open, head);
        let mut text = format!(
            "WARC/1.1\r\nWARC-Type: {}\r\nWARC-Record-ID: {id}\r\nWARC-Date: {}\r\n",
            head.kind, head.date
        );
        if let Some(t) = head.target {
            text.push_str(&format!("WARC-Target-URI: {t}\r\n"));
        }
        if head.kind == "warcinfo" {
            text.push_str(&format!("WARC-Filename: {}\r\n", open.name));
        } else {
            text.push_str(&format!("WARC-Warcinfo-ID: {}\r\n", open.warcinfo));
        }
        for (name, value) in &head.fields {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str(&format!("Content-Length: {block_len}\r\n\r\n"));
        open.file.seek(SeekFrom::Start(open.size))?;
        let mut out = BufWriter::new(&open.file);
        let mut gz = flate2::write::GzEncoder::new(&mut out, flate2::Compression::default());
        gz.write_all(text.as_bytes())?;
        let copied = io::copy(&mut block.take(block_len), &mut gz)?;
        if copied != block_len {
            return Err(io::Error::other(format!(
                "a record block of {block_len} bytes gave only {copied}"
            )));
        }
        gz.write_all(b"\r\n\r\n")?;
        gz.finish()?;
        out.flush()?;
        drop(out);
        open.size = open.file.stream_position()?;
        open.records += 1;
        Ok(Placed {
            file: open.name.clone(),
            id,
        })
    }

    /// Closes the open file (synced) and starts the next, with its `warcinfo` record.
    fn roll(&mut self) -> io::Result<()> {
        if let Some(open) = self.open.take() {
            open.file.sync_all()?;
        }
        let name = file_name(self.next);
        self.next += 1;
        let path = self.dir.join(&name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let mut open = Open {
            name,
            file,
            size: 0,
            records: 0,
            warcinfo: String::new(),
        };
        let date = self.info_date.clone();
        let head = Head {
            kind: "warcinfo",
            date: &date,
            target: None,
            fields: vec![("Content-Type", "application/warc-fields".into())],
        };
        open.warcinfo = Self::record_id(&open, &head);
        self.open = Some(open);
        let info = self.info.clone();
        let block_digest = digest_field(&Sha256::digest(info.as_bytes()));
        let head = Head {
            fields: vec![
                ("Content-Type", "application/warc-fields".into()),
                ("WARC-Block-Digest", block_digest),
            ],
            ..head
        };
        self.write_in_open(&head, &mut info.as_bytes(), info.len() as u64)?;
        Ok(())
    }

    /// Syncs and closes the open file; returns the names of every WARC file in the
    /// directory, in order.
    pub fn close(mut self) -> io::Result<Vec<String>> {
        if let Some(open) = self.open.take() {
            open.file.sync_all()?;
        }
        files_in(&self.dir)
    }

    /// Syncs the open file, so what was written survives the process being killed.
    pub fn sync(&mut self) -> io::Result<()> {
        match &self.open {
            Some(open) => open.file.sync_data(),
            None => Ok(()),
        }
    }
}

/// The WARC files in `dir`, in order.
pub fn files_in(dir: &Path) -> io::Result<Vec<String>> {
    let mut numbers: Vec<u32> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| file_number(&e.file_name().to_string_lossy()))
        .collect();
    numbers.sort_unstable();
    Ok(numbers.into_iter().map(file_name).collect())
}

/// A `WARC-*-Digest` value: `sha256:` and the digest in base 32 (RFC 4648, padded), as
/// warcio writes its own.
pub fn digest_field(digest: &[u8]) -> String {
    format!("sha256:{}", base32(digest))
}

/// `digest` in RFC 4648 base 32, upper case, padded with `=`.
pub fn base32(digest: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in digest.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(ALPHABET[((bits >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A `<urn:uuid:…>` record id made from the first 16 bytes of `hash`, marked as a
/// name-based (version 8) UUID.
fn uuid_urn(hash: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_is_rfc_4648_as_warcio_writes_it() {
        // RFC 4648's own test vectors.
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY======");
        assert_eq!(base32(b"fo"), "MZXQ====");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
        // sha1 of nothing, as warcio's tests spell it.
        let sha1_empty = hex::decode("da39a3ee5e6b4b0d3255bfef95601890afd80709").unwrap();
        assert_eq!(base32(&sha1_empty), "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }

    #[test]
    fn file_names_round_trip_and_strangers_are_not_taken() {
        assert_eq!(file_number(&file_name(7)), Some(7));
        assert_eq!(file_number("sharc-1.warc.gz"), None);
        assert_eq!(file_number("other-00001.warc.gz"), None);
    }
}
