//! The command line: clap types only. They stop here; `main` turns them into the library's
//! configuration types before anything runs.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Archive SharePoint-based portals into verifiable BagIt bundles.
#[derive(Debug, Parser)]
#[command(name = "sharc", version, about, long_about = None)]
pub struct Cli {
    /// Only warnings and errors; no progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More log detail: -v one line per request (method, URL, status, size, time), -vv also
    /// pacing decisions. Other crates' debug output only under SHARC_LOG.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// How log lines and errors are written on stderr: text, or one JSON object a line
    /// (for schedulers and log collectors).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for a person.
    Text,
    /// One JSON object a line.
    Json,
}

/// sharc's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl a SharePoint list into a BagIt bundle.
    Crawl(CrawlArgs),
    /// Check a bundle: completeness, fixity, records against the schema; or a backup
    /// archive: every bundle and the chain between them.
    Verify(VerifyArgs),
    /// Back a list up into an archive directory: a full bundle first, then only what
    /// changed (for scheduled jobs; quiet unless something fails when not on a terminal).
    Backup(BackupArgs),
    /// Make a complete bag of the portal as one backup run found it.
    Restore(RestoreArgs),
    /// Discover a portal: its site, lists, a list's fields; draft a mapping for it.
    Inspect(InspectArgs),
    /// Mapping files: check one offline or against a site.
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Serve the built-in sample portal (or one from a directory) on 127.0.0.1 until Ctrl-C.
    Serve(ServeArgs),
    /// Serve the built-in sample portal, crawl it, verify the bundle, print where it is.
    Demo(DemoArgs),
}

/// `sharc crawl`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc crawl https://stp.longan.gov.vn/ --mapping mappings/tin-tuc-mo-rong.toml --out stp-2025-07-01
  sharc crawl https://stp.longan.gov.vn/ --mapping stp.toml --out stp.zip --rate 2
  sharc crawl https://htpldn.moj.gov.vn/ --mapping moj.toml --out /tmp/moj-try --source html --max-pages 1")]
pub struct CrawlArgs {
    /// The site URL, e.g. https://stp.longan.gov.vn/
    pub site_url: String,
    /// The mapping file (TOML), e.g. mappings/tin-tuc-mo-rong.toml
    #[arg(short, long)]
    pub mapping: PathBuf,
    /// Read the list with this title instead of the mapping's `[list] title` (another portal
    /// of the same content type names its news list differently).
    #[arg(long, value_name = "TITLE")]
    pub list: Option<String>,
    /// Where to write the bag: a directory, or NAME.zip for a zip bundle (must not exist yet).
    #[arg(short, long)]
    pub out: PathBuf,
    /// dir or zip; by default an --out ending in .zip means zip (--format zip adds .zip).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Where items come from: auto uses REST when it answers, Lists.asmx (SOAP) when /_api
    /// answers 404 as on SharePoint 2010, and the public HTML pages (the mapping's [html]
    /// section) when neither answers.
    #[arg(long, value_enum, default_value = "auto")]
    pub source: SourceArg,
    /// HTML source: fetch pages robots.txt disallows (only with the portal owner's leave).
    #[arg(long)]
    pub ignore_robots: bool,
    /// HTML source: read at most this many news-list pages (bounds calendars and endless
    /// "next" links).
    #[arg(long, default_value_t = 1000)]
    pub max_pages: usize,
    /// JSON shape to request: auto tries nometadata and falls back to verbose.
    #[arg(long, value_enum, default_value = "auto")]
    pub odata: OdataArg,
    /// Items per page ($top), 1–5000.
    #[arg(long, default_value_t = 100)]
    pub page_size: usize,
    /// Requests in flight at once (at least 1).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Longest a request may spend waiting on throttling and retries, in seconds; past it
    /// the request fails cleanly instead of waiting on.
    #[arg(long, default_value_t = 900)]
    pub max_wait: u64,
    /// Longest one request may take from sending it to its last byte, in seconds (a slow
    /// answer past it is retried like a dropped connection, within --max-wait).
    #[arg(long, default_value_t = 600)]
    pub request_timeout: u64,
    /// Largest file archived, in bytes; a larger attachment or image is not downloaded and
    /// is listed as failed.
    #[arg(long, default_value_t = sharc::fetch::FILE_LIMIT)]
    pub max_file_size: u64,
    /// At most this many requests per second (default: no cap beyond --concurrency).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Stop at the first item or file that fails (default: finish, list failures, exit 4).
    #[arg(long)]
    pub fail_fast: bool,
    /// Bagging date (YYYY-MM-DD) to pin for reproducible bags; SOURCE_DATE_EPOCH also works.
    #[arg(long, env = "SHARC_BAGGING_DATE")]
    pub bagging_date: Option<String>,
    /// Fetch pages and files from this host too: HOST (its default ports) or HOST:PORT
    /// (repeatable); other hosts and ports are never fetched.
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_hosts: Vec<String>,
    /// Keep every HTTP exchange (pages, files, redirects, error answers) as WARC records in
    /// data/capture/, with a CDXJ index for replay tools; costs about the payload's size
    /// again in disk. The mapping's [bag] warc = true also turns it on.
    #[arg(long)]
    pub warc: bool,
    /// With --warc: close a WARC file and begin the next at this size, in bytes.
    #[arg(long, default_value_t = sharc::capture::FILE_SIZE, value_name = "BYTES")]
    pub warc_file_size: u64,
    /// Also describe the bag in data/mets.xml: METS with PREMIS 3.0 objects, events and
    /// agents, as preservation systems ingest it. The mapping's [bag] mets = true also turns
    /// it on.
    #[arg(long)]
    pub mets: bool,
    /// Signing in.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// Signing in to the portal. No flag takes a secret: tokens, cookies and passwords come from
/// an environment variable or a file, and go only to the portal's own address.
#[derive(Debug, Args)]
#[command(next_help_heading = "Signing in")]
pub struct AuthArgs {
    /// How to sign in (default: anonymous, or what --token-*, --cookie-file imply).
    #[arg(long, value_enum)]
    pub auth: Option<AuthArg>,
    /// Bearer: the environment variable holding the access token.
    #[arg(long, value_name = "VAR", conflicts_with = "token_file")]
    pub token_env: Option<String>,
    /// Bearer: a file holding the access token (its first line).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Cookie: a file holding a `Cookie:` header line copied from a signed-in browser, or a
    /// Netscape cookies.txt.
    #[arg(long, value_name = "PATH")]
    pub cookie_file: Option<PathBuf>,
    /// Basic and NTLM: the account, DOMAIN\name (or name@domain).
    #[arg(long, value_name = "DOMAIN\\NAME")]
    pub user: Option<String>,
    /// Basic and NTLM: the environment variable holding the password.
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    pub password_env: Option<String>,
    /// Basic and NTLM: a file holding the password (its first line).
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
    /// Send a Basic or NTLM sign-in over plain http (only on a network you trust).
    #[arg(long)]
    pub allow_insecure_auth: bool,
}

/// Ways of signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// No sign-in: what anonymous readers see.
    Anonymous,
    /// An access token (SharePoint Online, Entra ID): --token-env or --token-file.
    Bearer,
    /// Cookies of a signed-in browser (FedAuth, rtFa): --cookie-file.
    Cookie,
    /// HTTP Basic over https: --user and --password-env or --password-file.
    Basic,
    /// Windows authentication (on-premises IIS): --user and --password-env or --password-file.
    Ntlm,
}

/// Source adapters.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SourceArg {
    /// REST when the API answers, Lists.asmx on SharePoint 2010, the public HTML pages when
    /// neither answers.
    Auto,
    /// SharePoint REST (/_api).
    Rest,
    /// The public HTML pages, as the mapping's [html] section describes them.
    Html,
    /// SharePoint 2010's SOAP web service (/_vti_bin/Lists.asmx).
    Soap,
}

/// JSON shapes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OdataArg {
    /// nometadata, falling back to verbose.
    Auto,
    /// odata=verbose (SharePoint 2013 without JSON Light).
    Verbose,
    /// odata=minimalmetadata.
    Minimalmetadata,
    /// odata=nometadata.
    Nometadata,
}

/// How the bag is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A bag directory.
    Dir,
    /// One zip holding the bag directory.
    Zip,
}

/// `sharc backup`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc backup https://stp.longan.gov.vn/ --mapping mappings/tin-tuc-mo-rong.toml --archive /srv/sharc/stp
  sharc backup https://stp.longan.gov.vn/ --mapping stp.toml --archive /srv/sharc/stp --full-every 30d")]
pub struct BackupArgs {
    /// The site URL, e.g. https://stp.longan.gov.vn/
    pub site_url: String,
    /// The mapping file (TOML), e.g. mappings/tin-tuc-mo-rong.toml
    #[arg(short, long)]
    pub mapping: PathBuf,
    /// The archive directory: bundles, sharc-state.json, runs.jsonl (made on the first run).
    #[arg(short, long)]
    pub archive: PathBuf,
    /// Start a new full bundle (a new series) after N bundles, or when the series' full
    /// bundle is N days old (`Nd`, e.g. 30d).
    #[arg(long, value_name = "N|Nd")]
    pub full_every: Option<String>,
    /// Read the list with this title instead of the mapping's `[list] title`.
    #[arg(long, value_name = "TITLE")]
    pub list: Option<String>,
    /// Requests in flight at once (at least 1).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Longest a request may spend waiting on throttling and retries, in seconds.
    #[arg(long, default_value_t = 900)]
    pub max_wait: u64,
    /// At most this many requests per second (default: no cap beyond --concurrency).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Bagging date (YYYY-MM-DD) to pin; SOURCE_DATE_EPOCH also works. Bundle names take
    /// the run's time, so pin it only for tests.
    #[arg(long, env = "SHARC_BAGGING_DATE")]
    pub bagging_date: Option<String>,
    /// Fetch files from this host too: HOST or HOST:PORT (repeatable).
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_hosts: Vec<String>,
    /// Signing in.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// `sharc restore`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc restore /srv/sharc/stp --out stp-today
  sharc restore /srv/sharc/stp --at 2026-12-02 --out stp-as-of-2026-12-02")]
pub struct RestoreArgs {
    /// The archive directory `sharc backup --archive` wrote.
    pub archive: PathBuf,
    /// The run to restore: a bundle's name, a date (YYYY-MM-DD: the last run that day, UTC)
    /// or an instant (RFC 3339); the last run by default.
    #[arg(long, value_name = "BUNDLE|DATE")]
    pub at: Option<String>,
    /// Where to write the bag (must not exist yet).
    #[arg(short, long)]
    pub out: PathBuf,
}

/// `sharc verify`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc verify stp-2025-07-01
  sharc verify stp-2025-07-01.zip          # checked in place, without unpacking
  sharc verify stp-2025-07-01 --json       # every finding with its code, for scripts")]
pub struct VerifyArgs {
    /// The bag: its directory, or a .zip bundle (checked in place, without unpacking); or a
    /// backup archive directory.
    pub bundle: PathBuf,
    /// Print one JSON document on stdout instead of lines: every problem and warning with
    /// its stable code (README: Failure and finding codes).
    #[arg(long)]
    pub json: bool,
}

/// `sharc inspect`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc inspect https://stp.longan.gov.vn/
  sharc inspect https://stp.longan.gov.vn/ --list \"Tin tức sự kiện\"
  sharc inspect https://stp.longan.gov.vn/ --list \"Tin tức sự kiện\" --draft-mapping stp.toml")]
pub struct InspectArgs {
    /// The site URL, e.g. https://stp.longan.gov.vn/
    pub site_url: String,
    /// Describe this list in full: content types, fields (display, internal and REST names,
    /// type, choices), a sample value of each.
    #[arg(long, value_name = "TITLE")]
    pub list: Option<String>,
    /// Write a mapping drafted from the list's fields to this file (needs --list; the file
    /// must not exist).
    #[arg(long, value_name = "FILE")]
    pub draft_mapping: Option<PathBuf>,
    /// Print one JSON document with stable keys instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Items read for sample values (0 reads none).
    #[arg(long, default_value_t = 3)]
    pub samples: usize,
    /// When the REST API is closed: the article page to read (default: the first article
    /// linked from the home page).
    #[arg(long, value_name = "URL")]
    pub article: Option<String>,
    /// Read pages robots.txt disallows (only with the portal owner's leave).
    #[arg(long)]
    pub ignore_robots: bool,
    /// Longest a request may spend waiting on throttling and retries, in seconds.
    #[arg(long, default_value_t = 60)]
    pub max_wait: u64,
    /// Signing in.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// `sharc mapping …`.
#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Check a mapping file: every problem with its line (exit 0 when fine, 2 when not).
    Check(MappingCheckArgs),
}

/// `sharc mapping check`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc mapping check stp.toml
  sharc mapping check stp.toml --site https://stp.longan.gov.vn/
  sharc mapping check stp.toml --site https://example.gov.vn/ --list \"Tin tức\"")]
pub struct MappingCheckArgs {
    /// The mapping file (TOML).
    pub mapping: PathBuf,
    /// Also check the field names against this site's list (over REST).
    #[arg(long, value_name = "SITE_URL")]
    pub site: Option<String>,
    /// With --site: the list to check against instead of the mapping's `[list] title`.
    #[arg(long, value_name = "TITLE", requires = "site")]
    pub list: Option<String>,
    /// With --site: longest a request may spend waiting on throttling and retries, in seconds.
    #[arg(long, default_value_t = 60)]
    pub max_wait: u64,
    /// Signing in.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// `sharc serve`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc serve --port 8765
  sharc serve --port 8765 --api 403                     # only the public HTML pages
  sharc serve --port 8765 --faults throttle=10,reset=5  # a busy farm")]
pub struct ServeArgs {
    /// A sample portal directory laid out as samples/README.md describes (default: the
    /// Long An sample built into sharc).
    pub sample_dir: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Answer only odata=verbose, like SharePoint 2013 without JSON Light.
    #[arg(long)]
    pub verbose_only: bool,
    /// Close the REST API to anonymous readers.
    #[arg(long, value_enum, default_value = "open")]
    pub api: ApiArg,
    /// Inject faults, e.g. `throttle=10,reset=5,truncate=5,slow=50,fail-item=7`.
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Which farm to answer as: long-an (the sample as it is), or vietnamese (the same items
    /// on a Vietnamese-language farm: built-in fields named "Người tạo", "Đã tạo", …, the
    /// list titled "Tin tức", columns with other internal names).
    #[arg(long, value_enum, default_value = "long-an")]
    pub farm: FarmArg,
    /// Answer as SharePoint 2010: /_api answers 404, the lists are read through the SOAP web
    /// services (/_vti_bin/Lists.asmx), dates are server-local (UTC+07:00).
    #[arg(long)]
    pub sp2010: bool,
    /// Grow the news list to N items for measuring: the sample's items repeated under new ids,
    /// each with its own attachments and images of realistic sizes, generated as served.
    #[arg(long, value_name = "N", conflicts_with = "items")]
    pub items_with_files: Option<usize>,
    /// Write each request answered to FILE, one line each: method, status, path and query.
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
    /// Answer `POST /_sharc/change` (edit, add and delete items, replace an attachment; the
    /// same change every time) and `POST /_sharc/views` (one more view of every item), to
    /// try incremental backups.
    #[arg(long)]
    pub allow_changes: bool,
    /// Grow the news list to N items (copies of its own), to measure against a list of a
    /// realistic size.
    #[arg(long, value_name = "N")]
    pub items: Option<usize>,
    /// Require this sign-in, with the sample's fixed test credentials (README:
    /// Authentication); signed-in readers also see drafts and pending items.
    #[arg(long, value_enum, value_name = "METHOD")]
    pub require_auth: Option<RequireAuthArg>,
    /// With --require-auth: let anonymous readers in too; they see approved items only.
    #[arg(long, requires = "require_auth")]
    pub anonymous_reads: bool,
    /// With --require-auth: the credentials stop working after this many signed-in requests
    /// (a token expiring mid-crawl).
    #[arg(long, value_name = "N", requires = "require_auth")]
    pub auth_valid_for: Option<u64>,
}

/// Sign-ins the sample portal can require.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RequireAuthArg {
    /// A bearer token.
    Bearer,
    /// A FedAuth cookie; without it, a redirect to the sign-in page.
    Cookie,
    /// HTTP Basic.
    Basic,
    /// NTLM (Windows authentication), with a fixed server challenge.
    Ntlm,
}

/// The farms the sample portal can answer as.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FarmArg {
    /// The Long An sample as it is.
    LongAn,
    /// The same items on a Vietnamese-language farm with other list and column names.
    Vietnamese,
}

/// REST API access for the sample portal.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ApiArg {
    /// Answer.
    Open,
    /// 401 with WWW-Authenticate: NTLM.
    #[value(name = "401")]
    Unauthorized,
    /// 403 Access denied.
    #[value(name = "403")]
    Forbidden,
}

/// `sharc demo`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sharc demo
  sharc demo --out /tmp/stp
  sharc demo --port 8765 --bagging-date 2025-07-01 --out /tmp/stp.zip   # reproducible")]
pub struct DemoArgs {
    /// Where to write the demo bag (replaced if it exists); NAME.zip writes a zip bundle.
    #[arg(long, default_value = "target/sharc-demo/long-an-stp")]
    pub out: PathBuf,
    /// dir or zip; --format zip adds .zip to --out.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Serve this sample portal directory instead of the built-in Long An sample.
    #[arg(long)]
    pub sample_dir: Option<PathBuf>,
    /// Port for the sample portal on 127.0.0.1 (0 picks a free one). The portal's URL is in
    /// every record, so reproducible demo bags need a fixed port.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Bagging date (YYYY-MM-DD) to pin for reproducible bags; SOURCE_DATE_EPOCH also works.
    #[arg(long, env = "SHARC_BAGGING_DATE")]
    pub bagging_date: Option<String>,
    /// Capture every HTTP exchange as WARC records, as `sharc crawl --warc` does (with a
    /// pinned bagging date, the portal's Date header is pinned too and requests go one at a
    /// time, so the capture is reproducible).
    #[arg(long)]
    pub warc: bool,
    /// Describe the bag in data/mets.xml, as `sharc crawl --mets` does.
    #[arg(long)]
    pub mets: bool,
}
