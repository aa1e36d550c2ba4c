//! Running the `sharc` binary as a user would, bounded: every run has a deadline and a memory
//! ceiling, and the child is killed when it passes either, so a test against a crawler that
//! loops or balloons fails quickly instead of taking the machine with it. Peak memory is
//! read from `/proc/<pid>/status` (`VmHWM`) while the child runs.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shipped mapping.
pub fn mapping() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/tin-tuc-mo-rong.toml")
}

/// A `sharc` command line, not started yet.
pub struct Sharc {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    rss_limit_mib: u64,
}

/// How a run ended.
#[derive(Debug)]
pub struct Ran {
    /// The exit code, when the process exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Stdout.
    pub stdout: Vec<u8>,
    /// Stderr.
    pub stderr: Vec<u8>,
    /// Wall time.
    pub elapsed: Duration,
    /// Highest resident set seen, MiB.
    pub peak_rss_mib: u64,
    /// Why the runner killed it, when it did.
    pub killed_because: Option<String>,
}

/// A started run.
pub struct Running {
    child: Child,
    started: Instant,
    timeout: Duration,
    rss_limit_mib: u64,
    dir: tempfile::TempDir,
    peak: u64,
}

impl Sharc {
    /// `sharc <args>`, 60 s and 400 MiB at most.
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            timeout: Duration::from_secs(60),
            rss_limit_mib: 400,
        }
    }

    /// `sharc crawl <site> --mapping <shipped> --out <out>`.
    pub fn crawl(site: &str, out: &Path) -> Self {
        let mut s = Self::new(["crawl"]);
        s.arg(site)
            .arg("--mapping")
            .arg(mapping())
            .arg("--out")
            .arg(out);
        s
    }

    /// `sharc verify <bag>`.
    pub fn verify(bag: &Path) -> Self {
        let mut s = Self::new(["verify"]);
        s.arg(bag);
        s
    }

    /// One more argument.
    pub fn arg(&mut self, a: impl Into<OsString>) -> &mut Self {
        self.args.push(a.into());
        self
    }

    /// More arguments.
    pub fn args<I, S>(&mut self, a: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// An environment variable for the child.
    pub fn env(&mut self, k: impl Into<OsString>, v: impl Into<OsString>) -> &mut Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The deadline after which the child is killed.
    pub fn timeout(&mut self, t: Duration) -> &mut Self {
        self.timeout = t;
        self
    }

    /// The resident set after which the child is killed.
    pub fn rss_limit_mib(&mut self, mib: u64) -> &mut Self {
        self.rss_limit_mib = mib;
        self
    }

    /// Starts it, stdout and stderr going to files.
    pub fn spawn(&self) -> Running {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = std::fs::File::create(dir.path().join("stdout")).expect("stdout file");
        let err = std::fs::File::create(dir.path().join("stderr")).expect("stderr file");
        let child = Command::new(env!("CARGO_BIN_EXE_sharc"))
            .args(&self.args)
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("SHARC_BAGGING_DATE")
            .env_remove("SHARC_LOG")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn sharc");
        Running {
            child,
            started: Instant::now(),
            timeout: self.timeout,
            rss_limit_mib: self.rss_limit_mib,
            dir,
            peak: 0,
        }
    }

    /// Runs it to the end (or to the deadline or memory ceiling).
    pub fn run(&self) -> Ran {
        self.spawn().wait()
    }
}

/// `VmHWM` and `VmRSS` of a live process, KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

impl Running {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running (sampling its memory on the way).
    pub fn is_running(&mut self) -> bool {
        self.sample();
        matches!(self.child.try_wait(), Ok(None))
    }

    fn sample(&mut self) -> u64 {
        match memory_kib(self.child.id()) {
            Some((hwm, rss)) => {
                self.peak = self.peak.max(hwm).max(rss);
                rss
            }
            None => 0,
        }
    }

    /// SIGKILL, then the outcome.
    pub fn kill(mut self) -> Ran {
        let _ = self.child.kill();
        self.finish(Some("killed by the test".into()))
    }

    /// Waits for the end, killing the child at the deadline or the memory ceiling.
    pub fn wait(mut self) -> Ran {
        loop {
            let rss = self.sample();
            match self.child.try_wait() {
                Ok(Some(_)) => return self.finish(None),
                Ok(None) => {}
                Err(e) => panic!("waiting for sharc: {e}"),
            }
            if rss / 1024 > self.rss_limit_mib {
                let _ = self.child.kill();
                let why = format!(
                    "resident memory passed {} MiB ({} MiB)",
                    self.rss_limit_mib,
                    rss / 1024
                );
                return self.finish(Some(why));
            }
            if self.started.elapsed() > self.timeout {
                let _ = self.child.kill();
                let why = format!("still running after {:?}", self.timeout);
                return self.finish(Some(why));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(mut self, killed_because: Option<String>) -> Ran {
        let status = self.child.wait().expect("wait");
        let elapsed = self.started.elapsed();
        let read = |n: &str| std::fs::read(self.dir.path().join(n)).unwrap_or_default();
        Ran {
            code: status.code(),
            signal: status.signal(),
            stdout: read("stdout"),
            stderr: read("stderr"),
            elapsed,
            peak_rss_mib: self.peak / 1024,
            killed_because,
        }
    }
}

impl Ran {
    /// Stderr as text.
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Stdout as text.
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// A description for assertion messages: how it ended and the tail of its output.
    pub fn describe(&self) -> String {
        let tail = |b: &[u8]| {
            let s = String::from_utf8_lossy(b);
            let chars: Vec<char> = s.chars().collect();
            let from = chars.len().saturating_sub(3000);
            chars[from..].iter().collect::<String>()
        };
        format!(
            "exit {:?}, signal {:?}, {:.1}s, peak {} MiB{}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.signal,
            self.elapsed.as_secs_f64(),
            self.peak_rss_mib,
            self.killed_because
                .as_deref()
                .map(|w| format!(", killed by the test: {w}"))
                .unwrap_or_default(),
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{}", self.describe());
        self
    }

    /// Asserts the process ended by itself, within the test's deadline and memory ceiling.
    #[track_caller]
    pub fn assert_ended_by_itself(&self) -> &Self {
        assert!(
            self.killed_because.is_none() && self.signal.is_none(),
            "{}",
            self.describe()
        );
        self
    }
}

/// Polls `cond` every 20 ms until it holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}
