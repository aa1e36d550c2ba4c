//! The `sharc` binary: parse the command line, set up logging, run the command, map the
//! result to an exit code. Everything else lives in the library, and for `serve` and `demo`
//! in the sample portal crate (`sample` wires the two together).

mod cli;
mod sample;

use clap::Parser;
use cli::{
    ApiArg, AuthArg, AuthArgs, Cli, Command, FarmArg, FormatArg, LogFormat, MappingCommand,
    OdataArg, RequireAuthArg, SourceArg,
};
use sharc::app::{
    self,
    crawl::{CrawlConfig, SourceKind},
};
use sharc::bundle::zip::BundleFormat;
use sharc::error::{Error, ExitCode};
use sharc::fetch::auth::Account;
use sharc::fetch::{AllowedHost, Credentials, Secret};
use sharc::report::safe;
use sharc::report::verify::VerifyOutput;
use sharc::sharepoint::Shape;
use sharc::source::rest::ShapeChoice;
use sharc_sample::SampleError;
use std::path::PathBuf;
use std::time::Duration;

fn main() -> std::process::ExitCode {
    let mut cli = Cli::parse();
    // A scheduled backup says nothing but its errors when no one is watching.
    let unattended = matches!(cli.command, Command::Backup(_))
        && !std::io::IsTerminal::is_terminal(&std::io::stderr());
    cli.quiet |= unattended;
    let json = cli.log_format == LogFormat::Json;
    init_logging(cli.quiet, cli.verbose, unattended, json);
    let code = match run(cli) {
        Ok(code) => code,
        Err(stop) if json => {
            tracing::error!(exit_code = stop.exit_code() as u8, "{}", stop);
            stop.exit_code()
        }
        Err(stop) => {
            eprintln!("{}", safe(&stop.to_string()));
            stop.exit_code()
        }
    };
    std::process::ExitCode::from(code as u8)
}

/// Why a command stopped early.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// The library's error.
    #[error("error: {0}")]
    Sharc(#[from] Error),
    /// The sample portal of `serve` or `demo` could not start.
    #[error("error: {0}")]
    Sample(#[from] SampleError),
    /// Ctrl-C; the text says what the command leaves behind and what to do next.
    #[error("interrupted: {0}")]
    Interrupted(String),
}

impl Stop {
    /// The exit code: the library's for its errors; a sample portal that cannot listen is an
    /// operational error, a broken sample directory a usage one.
    fn exit_code(&self) -> ExitCode {
        match self {
            Stop::Sharc(e) => e.exit_code(),
            Stop::Sample(SampleError::Bind { .. }) => ExitCode::Operational,
            Stop::Sample(_) => ExitCode::Usage,
            Stop::Interrupted(_) => Error::Interrupted.exit_code(),
        }
    }
}

/// Turns a Ctrl-C into the command's own message; other stops pass through.
fn on_interrupt(stop: Stop, message: impl FnOnce() -> String) -> Stop {
    match stop {
        Stop::Sharc(Error::Interrupted) => Stop::Interrupted(message()),
        other => other,
    }
}

fn run(cli: Cli) -> Result<ExitCode, Stop> {
    let quiet = cli.quiet;
    let json = cli.log_format == LogFormat::Json;
    match cli.command {
        Command::Crawl(args) => {
            let cfg = crawl_config(args, quiet)?;
            let summary = block_on(app::crawl::run(&cfg))
                .map_err(|e| on_interrupt(e, || app::crawl::interrupted(&cfg)))?;
            print_crawl_end(&summary, json);
            Ok(summary.outcome.exit_code())
        }
        Command::Verify(args) => {
            let output = if args.json {
                VerifyOutput::Json
            } else {
                VerifyOutput::Lines
            };
            if app::restore::is_archive(&args.bundle) {
                return Ok(app::verify::run_archive(&args.bundle, output)?.exit_code());
            }
            Ok(app::verify::run_with(&args.bundle, output)?.exit_code())
        }
        Command::Backup(args) => {
            let cfg = backup_config(args)?;
            let summary = block_on(app::backup::run(&cfg)).map_err(|e| {
                on_interrupt(e, || {
                    "the archive is as the last complete run left it; run the same command again"
                        .to_owned()
                })
            })?;
            if !quiet {
                println!("{}", safe(&summary.line()));
            }
            Ok(summary.outcome.exit_code())
        }
        Command::Restore(args) => {
            let cfg = app::restore::RestoreConfig {
                archive: args.archive,
                at: args.at,
                out: args.out,
            };
            let summary = app::restore::run(&cfg)?;
            println!("{}", safe(&summary.line()));
            Ok(ExitCode::Success)
        }
        Command::Inspect(args) => {
            let json = args.json;
            let cfg = inspect_config(args)?;
            let inspection = block_on(app::inspect::run(&cfg))?;
            app::inspect::print(&inspection, json);
            Ok(ExitCode::Success)
        }
        Command::Mapping(MappingCommand::Check(args)) => {
            let mut cfg = app::mapping_check::CheckConfig::new(args.mapping, args.site.as_deref())?;
            cfg.list = list_title(args.list)?;
            set_max_wait(&mut cfg.fetch, args.max_wait);
            if let Some(site) = &cfg.site {
                cfg.fetch.credentials = credentials(&args.auth, site)?;
            }
            let outcome = block_on(app::mapping_check::run(&cfg))?;
            outcome.print();
            Ok(outcome.outcome().exit_code())
        }
        Command::Serve(args) => {
            let serve = sample::Serve {
                dir: args.sample_dir,
                port: args.port,
                items_with_files: args.items_with_files,
                options: sharc_sample::PortalOptions {
                    json_light: !args.verbose_only,
                    api: match args.api {
                        ApiArg::Open => sharc_sample::ApiAccess::Open,
                        ApiArg::Unauthorized => sharc_sample::ApiAccess::Unauthorized401,
                        ApiArg::Forbidden => sharc_sample::ApiAccess::Forbidden403,
                    },
                    faults: sharc_sample::FaultPlan::parse(&args.faults)
                        .map_err(|e| Error::Usage(format!("--faults: {e}")))?,
                    farm: match args.farm {
                        FarmArg::LongAn => sharc_sample::Farm::LongAn,
                        FarmArg::Vietnamese => sharc_sample::Farm::Vietnamese,
                    },
                    sp2010: args.sp2010.then(sharc_sample::Sp2010::default),
                    request_log: args.request_log,
                    auth: args.require_auth.map(|m| sharc_sample::AuthOptions {
                        method: match m {
                            RequireAuthArg::Bearer => sharc_sample::AuthMethod::Bearer,
                            RequireAuthArg::Cookie => sharc_sample::AuthMethod::Cookie,
                            RequireAuthArg::Basic => sharc_sample::AuthMethod::Basic,
                            RequireAuthArg::Ntlm => sharc_sample::AuthMethod::Ntlm,
                        },
                        anonymous_reads: args.anonymous_reads,
                        valid_for: args.auth_valid_for,
                    }),
                    allow_changes: args.allow_changes,
                    items: args.items,
                    ..Default::default()
                },
            };
            block_on(sample::serve(serve))
                .map_err(|e| on_interrupt(e, || "the sample portal stopped serving".to_owned()))?;
            Ok(ExitCode::Success)
        }
        Command::Demo(args) => {
            let (out, format) = bundle_out(args.out, args.format)?;
            let demo = sample::Demo {
                dir: args.sample_dir,
                port: args.port,
                out,
                format,
                bagging_date: args.bagging_date,
                source_date_epoch: std::env::var("SOURCE_DATE_EPOCH").ok(),
                warc: args.warc,
                mets: args.mets,
            };
            let outcome = block_on(sample::demo(demo)).map_err(|e| {
                on_interrupt(e, || {
                    "the demo stopped before its bag was finished; run the same command again to start over"
                        .to_owned()
                })
            })?;
            Ok(outcome.exit_code())
        }
    }
}

/// What a finished crawl prints: each failure and refused URL once, then the summary last
/// (on stdout). With `--log-format json` the failures and the summary are also log events.
fn print_crawl_end(summary: &app::crawl::CrawlSummary, json: bool) {
    let report = &summary.report;
    for f in &report.failures {
        if json {
            tracing::warn!(
                code = f.code.as_str(),
                item_id = f.item_id,
                url = f.url.as_deref(),
                "failed: {f}"
            );
        } else {
            eprintln!("failed: {}", safe(&f.to_string()));
        }
    }
    for r in &report.refused {
        if json {
            tracing::warn!(code = r.code.as_str(), item_id = r.item_id, url = %r.url, "refused: {r}");
        } else {
            eprintln!("refused: {}", safe(&r.to_string()));
        }
    }
    if json {
        let c = &report.counts;
        tracing::info!(
            items = c.items_archived,
            files = c.files,
            file_bytes = c.file_bytes,
            payload_files = summary.payload_files,
            failures = report.failures.len(),
            refused = report.refused.len(),
            complete = report.complete,
            "{}",
            summary.line()
        );
    }
    println!("{}", safe(&summary.line()));
}

/// The output path and format `--out` and `--format` ask for: `.zip` means a zip unless
/// `--format dir` says otherwise (a usage error), and `--format zip` adds `.zip` when missing.
fn bundle_out(out: PathBuf, format: Option<FormatArg>) -> Result<(PathBuf, BundleFormat), Error> {
    let implied = BundleFormat::for_out(&out);
    match (format, implied) {
        (None, f) | (Some(FormatArg::Zip), f @ BundleFormat::Zip) => Ok((out, f)),
        (Some(FormatArg::Zip), BundleFormat::Dir) => {
            let mut name = out.into_os_string();
            name.push(".zip");
            Ok((PathBuf::from(name), BundleFormat::Zip))
        }
        (Some(FormatArg::Dir), BundleFormat::Dir) => Ok((out, BundleFormat::Dir)),
        (Some(FormatArg::Dir), BundleFormat::Zip) => Err(Error::Usage(format!(
            "--format dir with --out {}: a directory bag cannot end in .zip; drop --format or rename --out",
            out.display()
        ))),
    }
}

fn inspect_config(args: cli::InspectArgs) -> Result<app::inspect::InspectConfig, Error> {
    let mut cfg = app::inspect::InspectConfig::new(&args.site_url)?;
    cfg.list = list_title(args.list)?;
    cfg.draft_mapping = args.draft_mapping;
    cfg.samples = args.samples.min(5000);
    cfg.article = args
        .article
        .map(|a| {
            url::Url::parse(&a).map_err(|e| {
                Error::Usage(format!(
                    "--article `{a}`: {e}; give the article page's full URL"
                ))
            })
        })
        .transpose()?;
    cfg.ignore_robots = args.ignore_robots;
    set_max_wait(&mut cfg.fetch, args.max_wait);
    cfg.fetch.credentials = credentials(&args.auth, &cfg.site)?;
    Ok(cfg)
}

/// The credentials the sign-in flags ask for, their secrets read from the environment or a
/// file; a Basic or NTLM password for a plain-http site only with --allow-insecure-auth.
fn credentials(args: &AuthArgs, site: &url::Url) -> Result<Credentials, Error> {
    let usage = |m: String| Error::Usage(m);
    let secret = |e: sharc::fetch::auth::SecretError| Error::Usage(e.to_string());
    let token = args.token_env.is_some() || args.token_file.is_some();
    let password = args.password_env.is_some() || args.password_file.is_some();
    let implied = match (token, args.cookie_file.is_some()) {
        (true, false) => Some(AuthArg::Bearer),
        (false, true) => Some(AuthArg::Cookie),
        (true, true) => {
            return Err(usage(
                "--token-env/--token-file and --cookie-file: give one way of signing in".into(),
            ));
        }
        (false, false) => None,
    };
    let method = match (args.auth, implied) {
        (Some(m), Some(i)) if m != i => {
            return Err(usage(format!(
                "--auth {} does not use --token-env, --token-file or --cookie-file: drop them, or use --auth {}",
                auth_name(m),
                auth_name(i)
            )));
        }
        (Some(m), _) => m,
        (None, Some(i)) => i,
        (None, None) if args.user.is_some() => {
            return Err(usage(
                "--user needs --auth basic or --auth ntlm (Windows authentication, as on-premises SharePoint uses)".into(),
            ));
        }
        (None, None) => AuthArg::Anonymous,
    };
    if !matches!(method, AuthArg::Basic | AuthArg::Ntlm) && (args.user.is_some() || password) {
        return Err(usage(format!(
            "--user and --password-env/--password-file belong to --auth basic or ntlm, not --auth {}",
            auth_name(method)
        )));
    }
    let insecure = site.scheme() == "http" && matches!(method, AuthArg::Basic | AuthArg::Ntlm);
    if insecure && !args.allow_insecure_auth {
        return Err(usage(format!(
            "--auth {} over plain http would let anyone on the network read or crack the password: use the site's https address, or pass --allow-insecure-auth if the network is trusted",
            auth_name(method)
        )));
    }
    let credentials = match method {
        AuthArg::Anonymous => Credentials::Anonymous,
        AuthArg::Bearer => Credentials::Bearer(
            match (&args.token_env, &args.token_file) {
                (Some(var), _) => Secret::from_env(var),
                (None, Some(path)) => Secret::from_file(path),
                (None, None) => {
                    return Err(usage(
                        "--auth bearer needs the token: --token-env VAR (an environment variable holding it) or --token-file PATH".into(),
                    ));
                }
            }
            .map_err(secret)?,
        ),
        AuthArg::Cookie => {
            let Some(path) = &args.cookie_file else {
                return Err(usage(
                    "--auth cookie needs --cookie-file PATH: a `Cookie:` header line copied from a signed-in browser, or a cookies.txt".into(),
                ));
            };
            Credentials::cookie_file(path, site.host_str().unwrap_or("")).map_err(secret)?
        }
        AuthArg::Basic | AuthArg::Ntlm => {
            let name = auth_name(method);
            let Some(user) = &args.user else {
                return Err(usage(format!(
                    "--auth {name} needs --user DOMAIN\\name and --password-env VAR"
                )));
            };
            let pass = match (&args.password_env, &args.password_file) {
                (Some(var), _) => Secret::from_env(var),
                (None, Some(path)) => Secret::from_file(path),
                (None, None) => {
                    return Err(usage(format!(
                        "--auth {name} needs the password: --password-env VAR (an environment variable holding it) or --password-file PATH; no flag takes the password itself"
                    )));
                }
            }
            .map_err(secret)?;
            let account = Account::new(user, pass).map_err(|e| usage(format!("--user {e}")))?;
            if method == AuthArg::Basic {
                Credentials::Basic(account)
            } else {
                Credentials::Ntlm(account)
            }
        }
    };
    if insecure {
        tracing::warn!(
            "--allow-insecure-auth: signing in to {site} over plain http, readable on the network"
        );
    } else if site.scheme() == "http" && method != AuthArg::Anonymous {
        tracing::warn!(
            "{site} is plain http: the {} travels unencrypted; prefer the site's https address",
            if method == AuthArg::Bearer {
                "token"
            } else {
                "cookie"
            }
        );
    }
    Ok(credentials)
}

fn auth_name(m: AuthArg) -> &'static str {
    use sharc::fetch::AuthMethod;
    match m {
        AuthArg::Anonymous => AuthMethod::Anonymous,
        AuthArg::Bearer => AuthMethod::Bearer,
        AuthArg::Cookie => AuthMethod::Cookie,
        AuthArg::Basic => AuthMethod::Basic,
        AuthArg::Ntlm => AuthMethod::Ntlm,
    }
    .as_str()
}

/// `--list TITLE`, which must name something.
fn list_title(arg: Option<String>) -> Result<Option<String>, Error> {
    match arg {
        Some(title) if title.trim().is_empty() => Err(Error::Usage(
            "--list is empty: give the list title as the portal shows it".into(),
        )),
        other => Ok(other),
    }
}

/// `--max-wait SECS`: the total wait of one request, and no single wait longer.
fn set_max_wait(fetch: &mut sharc::fetch::FetchOptions, secs: u64) {
    fetch.retry.max_total_wait = Duration::from_secs(secs);
    fetch.retry.max_delay = Duration::from_secs(secs.min(300));
}

fn backup_config(args: cli::BackupArgs) -> Result<app::backup::BackupConfig, Error> {
    let mut crawl = CrawlConfig::new(&args.site_url, args.mapping, &args.archive)?;
    crawl.list_title = list_title(args.list)?;
    crawl.source = SourceKind::Rest;
    if args.concurrency == 0 {
        return Err(Error::Usage(
            "--concurrency 0 would send nothing: give at least 1 request in flight".into(),
        ));
    }
    crawl.fetch.concurrency = args.concurrency;
    set_max_wait(&mut crawl.fetch, args.max_wait);
    crawl.fetch.rate = rate(args.rate)?;
    crawl.bagging_date = args.bagging_date;
    crawl.source_date_epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    crawl.allowed_hosts = allowed_hosts(&args.allow_hosts)?;
    crawl.fetch.credentials = credentials(&args.auth, &crawl.site)?;
    crawl.quiet = true;
    let full_every = args
        .full_every
        .map(|n| {
            app::backup::FullEvery::parse(&n).ok_or_else(|| {
                Error::Usage(format!(
                    "--full-every `{n}`: give a number of bundles (e.g. 7) or of days (e.g. 30d), at least 1"
                ))
            })
        })
        .transpose()?;
    Ok(app::backup::BackupConfig {
        crawl,
        archive: args.archive,
        full_every,
    })
}

/// `--rate`: a positive number of requests per second.
fn rate(arg: Option<f64>) -> Result<Option<f64>, Error> {
    if let Some(rate) = arg
        && !(rate > 0.0 && rate.is_finite())
    {
        return Err(Error::Usage(format!(
            "--rate {rate}: give a positive number of requests per second, e.g. 2 or 0.5"
        )));
    }
    Ok(arg)
}

/// `--allow-host` values.
fn allowed_hosts(args: &[String]) -> Result<Vec<AllowedHost>, Error> {
    args.iter()
        .map(|h| AllowedHost::parse(h).map_err(|e| Error::Usage(format!("--allow-host {e}"))))
        .collect()
}

/// The crawl's configuration, or every mistake in its options at once — with the mapping
/// file's own problems, when it has some — rather than one per run.
fn crawl_config(args: cli::CrawlArgs, quiet: bool) -> Result<CrawlConfig, Error> {
    let mut problems: Vec<String> = Vec::new();
    let mut note = |r: Result<(), Error>| {
        if let Err(e) = r {
            problems.push(e.to_string());
        }
    };
    let usage = |bad: bool, message: &str| {
        if bad {
            Err(Error::Usage(message.to_string()))
        } else {
            Ok(())
        }
    };
    note(usage(
        args.max_pages == 0,
        "--max-pages 0 would read nothing: give at least 1",
    ));
    note(usage(
        !(1..=5000).contains(&args.page_size),
        &format!(
            "--page-size {} is out of range: SharePoint pages 1 to 5000 items",
            args.page_size
        ),
    ));
    note(usage(
        args.concurrency == 0,
        "--concurrency 0 would send nothing: give at least 1 request in flight",
    ));
    note(usage(
        args.request_timeout == 0,
        "--request-timeout 0 leaves no time for any request: give seconds, e.g. 600",
    ));
    let rate = rate(args.rate);
    let allowed = allowed_hosts(&args.allow_hosts);
    let list = list_title(args.list);
    let out = bundle_out(args.out, args.format);
    let site = CrawlConfig::new(&args.site_url, &args.mapping, PathBuf::new());
    for e in [
        rate.as_ref().err(),
        allowed.as_ref().err(),
        list.as_ref().err(),
        out.as_ref().err(),
        site.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    {
        problems.push(e.to_string());
    }
    if !problems.is_empty() {
        let mut text = format!("{} problem(s) with the options:", problems.len());
        for p in &problems {
            text.push_str("\n  ");
            text.push_str(p);
        }
        if let Ok(mapping_text) = std::fs::read_to_string(&args.mapping) {
            let checked = sharc::mapping::check::check_text(&mapping_text, &args.mapping);
            for p in &checked.problems {
                text.push_str("\n  ");
                text.push_str(&sharc::report::mapping_check::problem_line(
                    &args.mapping,
                    p.line,
                    p.column,
                    p.code.as_str(),
                    &p.message,
                ));
            }
        }
        return Err(Error::Usage(text));
    }
    let (out, format) = out?;
    let mut cfg = site?;
    cfg.out = out;
    cfg.format = format;
    cfg.list_title = list?;
    cfg.source = match args.source {
        SourceArg::Auto => SourceKind::Auto,
        SourceArg::Rest => SourceKind::Rest,
        SourceArg::Html => SourceKind::Html,
        SourceArg::Soap => SourceKind::Soap,
    };
    cfg.max_pages = args.max_pages;
    cfg.ignore_robots = args.ignore_robots;
    cfg.shape = match args.odata {
        OdataArg::Auto => ShapeChoice::Auto,
        OdataArg::Verbose => ShapeChoice::Fixed(Shape::Verbose),
        OdataArg::Minimalmetadata => ShapeChoice::Fixed(Shape::MinimalMetadata),
        OdataArg::Nometadata => ShapeChoice::Fixed(Shape::NoMetadata),
    };
    cfg.page_size = args.page_size;
    cfg.fetch.concurrency = args.concurrency;
    set_max_wait(&mut cfg.fetch, args.max_wait);
    cfg.fetch.request_timeout = Duration::from_secs(args.request_timeout);
    cfg.fetch.max_file = Some(args.max_file_size);
    cfg.fetch.rate = rate?;
    cfg.fail_fast = args.fail_fast;
    cfg.bagging_date = args.bagging_date;
    cfg.source_date_epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    cfg.allowed_hosts = allowed?;
    cfg.fetch.credentials = credentials(&args.auth, &cfg.site)?;
    cfg.quiet = quiet;
    if args.warc_file_size == 0 {
        return Err(Error::Usage(
            "--warc-file-size 0 leaves no room for any record: give bytes, e.g. 1073741824".into(),
        ));
    }
    cfg.warc = args.warc;
    cfg.mets = args.mets;
    cfg.warc_file_size = args.warc_file_size;
    cfg.command_line = std::env::args().collect();
    Ok(cfg)
}

/// Runs a future on a fresh runtime; Ctrl-C stops it with [`Error::Interrupted`].
fn block_on<T, E: Into<Stop>>(
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Stop> {
    let rt = tokio::runtime::Runtime::new().map_err(Error::Runtime)?;
    rt.block_on(async {
        tokio::select! {
            // Polled first, so the Ctrl-C handler is in place before the command says
            // anything (`serve` prints its URL, then waits for this).
            biased;
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted.into()),
            r = fut => r.map_err(Into::into),
        }
    })
}

/// Logging on stderr: sharc's own events at the level `-q`/`-v` ask for, other crates' only
/// their warnings (their debug output only when `SHARC_LOG` asks for it), as plain lines or
/// JSON lines (with each event's target, so a collector can tell sharc's own from others').
fn init_logging(quiet: bool, verbose: u8, errors_only: bool, json: bool) {
    let default = match (quiet, verbose) {
        _ if errors_only && verbose == 0 => "error",
        (true, _) => "warn",
        (false, 0) => "sharc=info,warn",
        (false, 1) => "sharc=debug,warn",
        _ => "sharc=trace,warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHARC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        fmt.json().with_current_span(false).init();
    } else {
        fmt.with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}
