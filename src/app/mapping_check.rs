//! `sharc mapping check`: a mapping file's problems, all at once, before a crawl meets them.
//!
//! Offline, [`crate::mapping::check::check_text`] finds what is wrong with the file itself;
//! with `--site`, the list's live fields are read over REST and every `[fields]` entry is
//! held against them ([`crate::mapping::check::Checked::against`]).

use super::crawl::parse_site_url;
use crate::error::{Error, io};
use crate::fetch::{Client, FetchOptions};
use crate::mapping::check::{Checked, Problem, check_text};
use crate::source::rest::{RestSource, ShapeChoice};
use crate::source::{Source, SourceError};
use std::path::PathBuf;
use url::Url;

/// Everything `sharc mapping check` needs, validated.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// The mapping file.
    pub mapping: PathBuf,
    /// The site to check the names against.
    pub site: Option<Url>,
    /// The list to check against instead of the mapping's `[list] title`.
    pub list: Option<String>,
    /// HTTP behaviour.
    pub fetch: FetchOptions,
}

impl CheckConfig {
    /// A configuration checking `mapping` offline, or against `site` when given.
    pub fn new(mapping: impl Into<PathBuf>, site: Option<&str>) -> Result<Self, Error> {
        Ok(Self {
            mapping: mapping.into(),
            site: site.map(parse_site_url).transpose()?,
            list: None,
            fetch: FetchOptions::default(),
        })
    }
}

/// What the check found.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The mapping file.
    pub path: PathBuf,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
    /// `[fields]` entries, when the file loads.
    pub fields: usize,
    /// The list and site the names were checked against: "list `…` at URL".
    pub against: Option<String>,
}

impl CheckOutcome {
    /// Each problem on stderr, the verdict on stdout.
    pub fn print(&self) {
        use crate::report::mapping_check::{problem_line, verdict};
        for p in &self.problems {
            let line = problem_line(&self.path, p.line, p.column, p.code.as_str(), &p.message);
            eprintln!("{line}");
        }
        let against = self.against.as_deref();
        println!(
            "{}",
            verdict(&self.path, self.problems.len(), self.fields, against)
        );
    }

    /// Success, or problems to fix (exit 2).
    pub fn outcome(&self) -> super::Outcome {
        if self.problems.is_empty() {
            super::Outcome::Success
        } else {
            super::Outcome::MappingProblems
        }
    }
}

/// Checks the mapping (and with a site, its names against the list's fields).
pub async fn run(cfg: &CheckConfig) -> Result<CheckOutcome, Error> {
    let text = std::fs::read_to_string(&cfg.mapping).map_err(io(&cfg.mapping))?;
    let mut checked: Checked = check_text(&text, &cfg.mapping);
    let mut against = None;
    if let (Some(site), Some(mapping)) = (&cfg.site, &checked.mapping) {
        let title = cfg
            .list
            .clone()
            .unwrap_or_else(|| mapping.list.title.clone());
        let content_type = mapping.list.content_type.clone();
        let client = Client::new(&cfg.fetch.on_site(site))?;
        let mut rest = RestSource::new(client, site, &title, ShapeChoice::Auto);
        against = Some(format!("list `{title}` at {site}"));
        match rest.describe().await {
            Ok(schema) => checked.against(&schema),
            Err(e @ SourceError::ListNotFound { .. }) => {
                let e = super::crawl::with_content_type(e.into(), content_type);
                checked.list_not_found(e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(CheckOutcome {
        path: cfg.mapping.clone(),
        fields: checked.mapping.as_ref().map_or(0, |m| m.fields.len()),
        problems: checked.problems,
        against,
    })
}
