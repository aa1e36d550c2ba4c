//! Checksums of many files on every core, each file read once.
//!
//! Verifying a bag is hashing: each payload file through sha256 and sha512 (or whatever its
//! manifests ask for). One thread reads the files — from a directory or out of a zip, through
//! the same [`BagReader`] — and hands their bytes in chunks to a few hashing threads, a whole
//! file to one thread, the next file to the thread with the least waiting. Chunks come from a
//! fixed set of buffers that the hashing threads hand back, so memory stays the same whatever
//! the bag holds, and reading never runs far ahead of hashing.

use super::digest::MultiHasher;
use super::reader::BagReader;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Bytes handed to a hashing thread at once.
const CHUNK: usize = 256 * 1024;

/// Chunks a hashing thread may have waiting.
const QUEUE: usize = 4;

/// Hashing threads at most, whatever the machine has.
const MAX_THREADS: usize = 16;

/// Algorithm name to lowercase hex digest.
pub(crate) type Digests = BTreeMap<String, String>;

/// What a file's hashing came to: its job's id, its path, and its digests or why it could
/// not be read.
pub(crate) type Hashed = (usize, String, io::Result<Digests>);

/// One file to hash: its path in the bag and a hasher for the algorithms wanted.
pub(crate) struct Job {
    /// The caller's number for the file, handed back with its result.
    pub id: usize,
    /// The path, as [`BagReader::open`] takes it.
    pub path: String,
    /// The algorithms its manifests ask for.
    pub hasher: MultiHasher,
}

/// A file about to be hashed: its job's id, its path, its hasher.
type Start = (usize, String, MultiHasher);

/// What the reading thread tells a hashing thread. A file smaller than a chunk is one
/// message: its start, its bytes and its end together.
enum Message {
    /// Bytes of a file: the first `n` of `buf`. `start` comes with a file's first bytes,
    /// `end` with its last.
    Bytes {
        start: Option<Start>,
        buf: Vec<u8>,
        n: usize,
        end: bool,
    },
    /// The file could not be read to its end.
    Failed {
        start: Option<Start>,
        error: io::Error,
    },
}

/// One hashing thread, as the reading thread sees it.
struct Worker {
    send: mpsc::SyncSender<Message>,
    /// Bytes sent to it and not hashed yet.
    waiting: Arc<AtomicUsize>,
}

/// Hashes every file of `jobs` read through `reader`, on as many threads as the machine has
/// cores; `done` is called with each file's result on the calling thread, in no set order.
pub(crate) fn hash_files(
    reader: &mut dyn BagReader,
    jobs: impl Iterator<Item = Job>,
    mut done: impl FnMut(Hashed),
) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_THREADS);
    let (results, finished) = mpsc::channel::<Hashed>();
    let (give_back, free) = mpsc::channel::<Vec<u8>>();
    for _ in 0..threads * (QUEUE + 1) {
        let _ = give_back.send(vec![0; CHUNK]);
    }
    std::thread::scope(|scope| {
        let workers: Vec<Worker> = (0..threads)
            .map(|_| {
                let (send, receive) = mpsc::sync_channel(QUEUE);
                let waiting = Arc::new(AtomicUsize::new(0));
                let (results, give_back, left) =
                    (results.clone(), give_back.clone(), Arc::clone(&waiting));
                scope.spawn(move || hash_thread(receive, &results, &give_back, &left));
                Worker { send, waiting }
            })
            .collect();
        for job in jobs {
            let Some(worker) = workers
                .iter()
                .min_by_key(|w| w.waiting.load(Ordering::Relaxed))
            else {
                break;
            };
            read_into(reader, job, worker, (&free, &give_back));
            while let Ok(result) = finished.try_recv() {
                done(result);
            }
        }
        // Closing the queues ends the hashing threads once they have emptied them.
        drop(workers);
        drop(results);
        for result in finished.iter() {
            done(result);
        }
    });
}

/// Reads one file into `worker`'s queue, chunk by chunk, in buffers taken from `free` (and
/// put back there when one is not sent).
fn read_into(
    reader: &mut dyn BagReader,
    job: Job,
    worker: &Worker,
    (free, give_back): (&mpsc::Receiver<Vec<u8>>, &mpsc::Sender<Vec<u8>>),
) {
    let send = |m| {
        // A hashing thread only goes away when the reader does.
        let _ = worker.send.send(m);
    };
    let mut start = Some((job.id, job.path.clone(), job.hasher));
    let mut file = match reader.open(&job.path) {
        Ok(file) => file,
        Err(error) => return send(Message::Failed { start, error }),
    };
    loop {
        let mut buf = free.recv().unwrap_or_else(|_| vec![0; CHUNK]);
        match fill(&mut file, &mut buf) {
            Ok(n) => {
                // A chunk not filled is the last; a full one may be followed by none.
                let end = n < buf.len();
                worker.waiting.fetch_add(n, Ordering::Relaxed);
                let start = start.take();
                send(Message::Bytes { start, buf, n, end });
                if end {
                    return;
                }
            }
            Err(error) => {
                let _ = give_back.send(buf);
                let start = start.take();
                return send(Message::Failed { start, error });
            }
        }
    }
}

/// Reads into `buf` until it is full or the file ends; returns how many bytes it holds. The
/// buffer keeps its length from file to file, so a small file costs no clearing of it.
fn fill(file: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A hashing thread: hashes the files it is sent, one at a time, until its queue closes.
fn hash_thread(
    receive: mpsc::Receiver<Message>,
    results: &mpsc::Sender<Hashed>,
    give_back: &mpsc::Sender<Vec<u8>>,
    waiting: &AtomicUsize,
) {
    let mut current: Option<Start> = None;
    for message in receive {
        match message {
            Message::Bytes { start, buf, n, end } => {
                if start.is_some() {
                    current = start;
                }
                if let Some((_, _, hasher)) = &mut current {
                    hasher.update(&buf[..n]);
                }
                waiting.fetch_sub(n, Ordering::Relaxed);
                let _ = give_back.send(buf);
                if end && let Some((id, path, hasher)) = current.take() {
                    let _ = results.send((id, path, Ok(hasher.finish())));
                }
            }
            Message::Failed { start, error } => {
                if start.is_some() {
                    current = start;
                }
                if let Some((id, path, _)) = current.take() {
                    let _ = results.send((id, path, Err(error)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::reader::DirReader;

    #[test]
    fn every_file_is_hashed_once_whatever_its_size_and_a_missing_one_is_an_error()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17];
        let mut expected = BTreeMap::new();
        for (i, size) in sizes.iter().enumerate() {
            let bytes: Vec<u8> = (0..*size).map(|b| (b * 7 + i) as u8).collect();
            let name = format!("f{i}.bin");
            std::fs::write(dir.path().join(&name), &bytes)?;
            let digests = MultiHasher::new(["sha256", "sha512"]).of_bytes(&bytes);
            expected.insert(name, digests);
        }
        let mut reader = DirReader::new(dir.path())?;
        let mut names: Vec<String> = expected.keys().cloned().collect();
        names.push("missing.bin".into());
        let jobs = names.into_iter().enumerate().map(|(id, path)| Job {
            id,
            path,
            hasher: MultiHasher::new(["sha256", "sha512"]),
        });
        let mut got = BTreeMap::new();
        let mut failed = Vec::new();
        hash_files(&mut reader, jobs, |(_, path, result)| match result {
            Ok(d) => {
                got.insert(path, d);
            }
            Err(_) => failed.push(path),
        });
        assert_eq!(got, expected);
        assert_eq!(failed, ["missing.bin"]);
        Ok(())
    }
}
