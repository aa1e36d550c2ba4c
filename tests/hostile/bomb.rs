//! Compression bombs built by hand, instantly and without holding what they inflate to:
//! a DEFLATE stream of one byte repeated (about 1030:1, the format's best ratio), wrapped as
//! gzip for HTTP answers or as an entry of a zip, with correct CRC-32 and sizes so that a
//! reader that checks them finds nothing wrong but the size.

use std::io::Write;
use std::path::Path;

/// Bits packed least significant first, as DEFLATE wants them.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }

    /// The low `n` bits of `v`, least significant first (header fields, extra bits).
    fn put(&mut self, v: u64, n: u32) {
        self.acc |= v << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code of `len` bits, most significant first.
    fn code(&mut self, code: u64, len: u32) {
        let mut rev = 0;
        for i in 0..len {
            rev |= ((code >> i) & 1) << (len - 1 - i);
        }
        self.put(rev, len);
    }

    /// `n` zero bits, in bulk.
    fn zeros(&mut self, mut n: u64) {
        while n > 0 && self.n != 0 {
            self.put(0, 1);
            n -= 1;
        }
        let bytes = n / 8;
        self.out.resize(self.out.len() + bytes as usize, 0);
        self.put(0, (n % 8) as u32);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// How many bytes [`deflate_repeated`] really inflates to when asked for about `n`.
pub fn inflated_len(n: u64) -> u64 {
    1 + 258 * ((n.max(259) - 1) / 258)
}

/// One dynamic-Huffman DEFLATE block that inflates to [`inflated_len`]`(n)` copies of `byte`:
/// one literal, then matches of length 258 at distance 1, two bits each.
pub fn deflate_repeated(byte: u8, n: u64) -> Vec<u8> {
    let matches = (inflated_len(n) - 1) / 258;
    let b = usize::from(byte);
    assert!(
        (11..=245).contains(&b),
        "runs of zero code lengths must be 11 long at least"
    );
    let mut w = Bits::new();
    w.put(1, 1); // BFINAL
    w.put(2, 2); // dynamic Huffman
    w.put(286 - 257, 5); // HLIT
    w.put(2 - 1, 5); // HDIST: two distance codes
    w.put(18 - 4, 4); // HCLEN: 18 code-length code lengths
    // Code-length alphabet: 18 (runs of zeros) in 1 bit, 1 and 2 in 2 bits.
    const ORDER: [usize; 18] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
    for sym in ORDER {
        let len = match sym {
            18 => 1,
            1 | 2 => 2,
            _ => 0,
        };
        w.put(len, 3);
    }
    // Canonical codes: 18 -> 0, 1 -> 10, 2 -> 11.
    let mut lengths = vec![0u8; 288];
    lengths[b] = 2;
    lengths[256] = 2;
    lengths[285] = 1;
    lengths[286] = 1; // distance code 0
    lengths[287] = 1; // distance code 1
    let mut i = 0;
    while i < lengths.len() {
        if lengths[i] == 0 {
            let mut run = lengths[i..].iter().take_while(|l| **l == 0).count();
            i += run;
            while run > 0 {
                let n = if run > 138 {
                    if run - 138 >= 11 { 138 } else { run - 11 }
                } else {
                    run
                };
                assert!(n >= 11, "zero run too short");
                w.code(0, 1);
                w.put((n - 11) as u64, 7);
                run -= n;
            }
        } else {
            match lengths[i] {
                1 => w.code(0b10, 2),
                _ => w.code(0b11, 2),
            }
            i += 1;
        }
    }
    // Literal/length codes: 285 -> 0, the byte -> 10, end of block -> 11.
    // Distance codes: 0 (distance 1) -> 0, 1 -> 1.
    w.code(0b10, 2);
    w.zeros(2 * matches);
    w.code(0b11, 2);
    w.finish()
}

/// A gzip member that inflates to [`inflated_len`]`(n)` copies of `byte`.
pub fn gzip_repeated(byte: u8, n: u64) -> Vec<u8> {
    let len = inflated_len(n);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_repeated(byte, n));
    out.extend(crc32_repeated(byte, len).to_le_bytes());
    out.extend((len as u32).to_le_bytes());
    out
}

const POLY: u32 = 0xedb8_8320;

/// CRC-32 (IEEE) of `data`, bit by bit: only for small inputs.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
        }
    }
    !c
}

fn gf2_times(mat: &[u32; 32], mut vec: u32) -> u32 {
    let mut sum = 0;
    let mut i = 0;
    while vec != 0 {
        if vec & 1 != 0 {
            sum ^= mat[i];
        }
        vec >>= 1;
        i += 1;
    }
    sum
}

fn gf2_square(square: &mut [u32; 32], mat: &[u32; 32]) {
    for n in 0..32 {
        square[n] = gf2_times(mat, mat[n]);
    }
}

/// The CRC-32 of `A || B` from the CRC-32s of `A` and `B` and the length of `B` (zlib's
/// `crc32_combine`).
fn crc32_combine(mut crc1: u32, crc2: u32, mut len2: u64) -> u32 {
    if len2 == 0 {
        return crc1;
    }
    let mut even = [0u32; 32];
    let mut odd = [0u32; 32];
    odd[0] = POLY;
    let mut row = 1;
    for slot in odd.iter_mut().skip(1) {
        *slot = row;
        row <<= 1;
    }
    gf2_square(&mut even, &odd);
    gf2_square(&mut odd, &even);
    loop {
        gf2_square(&mut even, &odd);
        if len2 & 1 != 0 {
            crc1 = gf2_times(&even, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        gf2_square(&mut odd, &even);
        if len2 & 1 != 0 {
            crc1 = gf2_times(&odd, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
    }
    crc1 ^ crc2
}

/// CRC-32 of `n` copies of `byte`, by doubling.
pub fn crc32_repeated(byte: u8, n: u64) -> u32 {
    let mut block = crc32(&[byte]); // CRC of 2^i bytes
    let mut block_len = 1u64;
    let mut acc = 0u32; // CRC of the empty string
    let mut rest = n;
    while rest > 0 {
        if rest & 1 != 0 {
            acc = crc32_combine(acc, block, block_len);
        }
        rest >>= 1;
        if rest > 0 {
            block = crc32_combine(block, block, block_len);
            block_len *= 2;
        }
    }
    acc
}

/// One entry of a zip written by [`write_zip`], its data already compressed.
pub struct ZipEntry {
    /// Name inside the archive.
    pub name: String,
    /// 0 stored, 8 deflated.
    pub method: u16,
    /// CRC-32 of the inflated bytes.
    pub crc: u32,
    /// Inflated size (below 4 GiB: no Zip64).
    pub size: u32,
    /// The bytes as stored.
    pub data: Vec<u8>,
}

/// Writes a plain (no Zip64, no data descriptors) zip with fixed timestamps.
pub fn write_zip(path: &Path, entries: &[ZipEntry]) {
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    let (time, date) = (0u16, (45u16 << 9) | (7 << 5) | 1); // 2025-07-01 00:00
    for e in entries {
        let offset = out.len() as u32;
        let name = e.name.as_bytes();
        let flags: u16 = if e.name.is_ascii() { 0 } else { 0x0800 };
        let mut head = Vec::new();
        head.extend(20u16.to_le_bytes());
        head.extend(flags.to_le_bytes());
        head.extend(e.method.to_le_bytes());
        head.extend(time.to_le_bytes());
        head.extend(date.to_le_bytes());
        head.extend(e.crc.to_le_bytes());
        head.extend((e.data.len() as u32).to_le_bytes());
        head.extend(e.size.to_le_bytes());
        head.extend((name.len() as u16).to_le_bytes());
        head.extend(0u16.to_le_bytes());
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&head);
        out.extend(name);
        out.extend(&e.data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // made by
        central.extend(&head);
        central.extend(0u16.to_le_bytes()); // comment
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        let external: u32 = if e.name.ends_with('/') { 0x10 } else { 0 };
        central.extend(external.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name);
    }
    let cd_offset = out.len() as u32;
    let cd_len = central.len() as u32;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend(cd_len.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    let mut f = std::fs::File::create(path).expect("create zip");
    f.write_all(&out).expect("write zip");
}

/// Every entry of the zip at `path`, copied as stored (compressed bytes untouched).
pub fn read_zip_raw(path: &Path) -> Vec<ZipEntry> {
    use std::io::Read;
    let file = std::fs::File::open(path).expect("open zip");
    let mut archive = zip::ZipArchive::new(file).expect("read zip");
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index_raw(i).expect("zip entry");
        let method = match f.compression() {
            zip::CompressionMethod::Stored => 0,
            zip::CompressionMethod::Deflated => 8,
            other => panic!("unexpected compression {other:?}"),
        };
        let name = f.name().expect("entry name").to_string();
        let crc = f.crc32();
        let size = u32::try_from(f.size()).expect("small entry");
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("raw entry bytes");
        out.push(ZipEntry {
            name,
            method,
            crc,
            size,
            data,
        });
    }
    out
}

/// A deflated zip entry inflating to about `n` copies of `byte`.
pub fn bomb_entry(name: &str, byte: u8, n: u64) -> ZipEntry {
    let len = inflated_len(n);
    ZipEntry {
        name: name.to_string(),
        method: 8,
        crc: crc32_repeated(byte, len),
        size: u32::try_from(len).expect("bomb below 4 GiB"),
        data: deflate_repeated(byte, n),
    }
}
