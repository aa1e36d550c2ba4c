//! Sorting more records than memory should hold: an external merge sort.
//!
//! A crawl of a large portal lists tens of thousands of payload files, and the manifests and
//! the path map list them sorted. Holding them all until the end would make the memory of a
//! crawl grow with the portal; instead the records are kept in memory up to a fixed budget,
//! each full budget is sorted and written to a run file, and the runs are merged at the end,
//! a bounded number at a time. Records are bytes compared bytewise; each caller encodes its
//! sort key first.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Bytes of records held in memory before they are sorted and written out as one run.
const RUN_BYTES: usize = 1024 * 1024;

/// Runs merged at once; more are merged in passes.
const FAN_IN: usize = 16;

/// Buffer of each run file read while merging.
const READ_BUFFER: usize = 32 * 1024;

/// Records to sort, in memory up to a budget and in run files beyond it.
#[derive(Debug)]
pub struct ExternalSort {
    /// Run files are `<dir>/<name>.<n>.run`.
    dir: PathBuf,
    name: String,
    budget: usize,
    held: Vec<Vec<u8>>,
    held_bytes: usize,
    runs: Vec<PathBuf>,
    next_run: usize,
}

impl ExternalSort {
    /// A sort whose run files go to `dir` (created when the first is written), named after
    /// `name`: two sorts at once need two names.
    pub fn new(dir: &Path, name: &str) -> Self {
        Self::with_budget(dir, name, RUN_BYTES)
    }

    /// [`new`](Self::new), holding at most `budget` bytes of records in memory.
    pub fn with_budget(dir: &Path, name: &str, budget: usize) -> Self {
        Self {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            budget: budget.max(1),
            held: Vec::new(),
            held_bytes: 0,
            runs: Vec::new(),
            next_run: 0,
        }
    }

    /// Adds one record.
    pub fn push(&mut self, record: Vec<u8>) -> io::Result<()> {
        self.held_bytes += record.len() + std::mem::size_of::<Vec<u8>>();
        self.held.push(record);
        if self.held_bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Every record pushed, in bytewise order (equal records next to each other).
    pub fn finish(mut self) -> io::Result<Sorted> {
        self.held.sort_unstable();
        if self.runs.is_empty() {
            let held = std::mem::take(&mut self.held);
            return Ok(Sorted {
                source: Source::Memory(held.into_iter()),
                runs: Vec::new(),
            });
        }
        self.spill()?;
        while self.runs.len() > FAN_IN {
            let batch: Vec<PathBuf> = self.runs.drain(..FAN_IN).collect();
            let out = self.run_path();
            let mut merged = Sorted::merge(batch)?;
            let mut w = BufWriter::new(File::create(&out)?);
            for record in &mut merged {
                write_record(&mut w, &record?)?;
            }
            w.flush()?;
            drop(merged);
            self.runs.push(out);
        }
        Sorted::merge(std::mem::take(&mut self.runs))
    }

    /// Sorts what is held and writes it out as one run.
    fn spill(&mut self) -> io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        self.held.sort_unstable();
        fs::create_dir_all(&self.dir)?;
        let path = self.run_path();
        let mut w = BufWriter::new(File::create(&path)?);
        for record in self.held.drain(..) {
            write_record(&mut w, &record)?;
        }
        w.flush()?;
        self.held_bytes = 0;
        self.held = Vec::new();
        self.runs.push(path);
        Ok(())
    }

    fn run_path(&mut self) -> PathBuf {
        self.next_run += 1;
        self.dir
            .join(format!("{}.{}.run", self.name, self.next_run))
    }
}

impl Drop for ExternalSort {
    fn drop(&mut self) {
        for run in &self.runs {
            let _ = fs::remove_file(run);
        }
    }
}

/// The records of an [`ExternalSort`], in order; its run files are removed when it is
/// dropped.
#[derive(Debug)]
pub struct Sorted {
    source: Source,
    runs: Vec<PathBuf>,
}

#[derive(Debug)]
enum Source {
    Memory(std::vec::IntoIter<Vec<u8>>),
    Runs {
        readers: Vec<BufReader<File>>,
        /// The next record of each run, smallest first.
        heads: BinaryHeap<Reverse<(Vec<u8>, usize)>>,
    },
}

impl Sorted {
    /// Merges sorted run files (which it removes when dropped).
    fn merge(runs: Vec<PathBuf>) -> io::Result<Self> {
        let mut sorted = Sorted {
            source: Source::Memory(Vec::new().into_iter()),
            runs,
        };
        let mut readers = Vec::with_capacity(sorted.runs.len());
        let mut heads = BinaryHeap::new();
        for (i, run) in sorted.runs.iter().enumerate() {
            let mut r = BufReader::with_capacity(READ_BUFFER, File::open(run)?);
            if let Some(record) = read_record(&mut r)? {
                heads.push(Reverse((record, i)));
            }
            readers.push(r);
        }
        sorted.source = Source::Runs { readers, heads };
        Ok(sorted)
    }
}

impl Iterator for Sorted {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Memory(records) => records.next().map(Ok),
            Source::Runs { readers, heads } => {
                let Reverse((record, i)) = heads.pop()?;
                match readers.get_mut(i).map(read_record).transpose() {
                    Ok(Some(Some(next))) => heads.push(Reverse((next, i))),
                    Ok(_) => {}
                    Err(e) => return Some(Err(e)),
                }
                Some(Ok(record))
            }
        }
    }
}

impl Drop for Sorted {
    fn drop(&mut self) {
        for run in &self.runs {
            let _ = fs::remove_file(run);
        }
    }
}

/// Writes one record: its length (u32, little-endian), then its bytes.
fn write_record(w: &mut impl Write, record: &[u8]) -> io::Result<()> {
    let len = u32::try_from(record.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a record of 4 GiB or more"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(record)
}

/// Reads one record; `None` at the end of the run.
fn read_record(r: &mut BufReader<File>) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut record = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut record)?;
    Ok(Some(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn records(n: u64) -> Vec<Vec<u8>> {
        // A scrambled order of distinct records, some repeated.
        (0..n)
            .map(|i| format!("{:x}/{}", (i * 7919) % 1009, i % 5).into_bytes())
            .collect()
    }

    #[test]
    fn what_fits_in_the_budget_is_sorted_in_memory_and_leaves_no_file() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut sort = ExternalSort::new(dir.path(), "t");
        let input = records(500);
        for r in &input {
            sort.push(r.clone())?;
        }
        let out: Vec<Vec<u8>> = sort.finish()?.collect::<io::Result<_>>()?;
        let mut expected = input;
        expected.sort();
        assert_eq!(out, expected);
        assert_eq!(fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }

    #[test]
    fn more_than_the_budget_is_merged_from_runs_in_passes_and_the_runs_are_removed() -> TestResult {
        let dir = tempfile::tempdir()?;
        // About 40 records per run, so 5,000 records make well over FAN_IN runs.
        let mut sort = ExternalSort::with_budget(dir.path(), "t", 40 * 40);
        let input = records(5_000);
        for r in &input {
            sort.push(r.clone())?;
        }
        assert!(fs::read_dir(dir.path())?.count() > FAN_IN);
        let sorted = sort.finish()?;
        let out: Vec<Vec<u8>> = sorted.collect::<io::Result<_>>()?;
        let mut expected = input;
        expected.sort();
        assert_eq!(out.len(), expected.len());
        assert_eq!(out, expected);
        assert_eq!(fs::read_dir(dir.path())?.count(), 0, "no run file is left");
        Ok(())
    }

    #[test]
    fn a_sort_dropped_unfinished_leaves_no_file() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut sort = ExternalSort::with_budget(dir.path(), "t", 64);
        for r in records(100) {
            sort.push(r)?;
        }
        drop(sort);
        assert_eq!(fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }
}
