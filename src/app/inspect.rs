//! `sharc inspect`: what a portal holds, before any mapping is written.
//!
//! The site and its lists over REST ([`crate::source::rest::RestSource::site_facts`],
//! [`lists`](crate::source::rest::RestSource::lists)); with `--list`, that list's fields,
//! content types and sample values; with `--draft-mapping`, a mapping drafted from them
//! ([`crate::mapping::draft`]). When the REST API is closed, what one public article page
//! shows ([`crate::source::html::hints`]). [`crate::report::inspect`] lays it out.

use super::crawl::parse_site_url;
use crate::error::{Error, io};
use crate::fetch::{Client, FetchOptions};
use crate::mapping::draft::{DraftInput, draft};
use crate::report::inspect::{DraftSummary, Inspection};
use crate::source::discover::sample_query;
use crate::source::html::hints::page_hints;
use crate::source::rest::{RestSource, ShapeChoice};
use crate::source::{ListDetail, SiteFacts, SourceError};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use url::Url;

/// Everything `sharc inspect` needs, validated.
#[derive(Debug, Clone)]
pub struct InspectConfig {
    /// The site URL.
    pub site: Url,
    /// The list to describe in full.
    pub list: Option<String>,
    /// Where to write a drafted mapping (needs `list`).
    pub draft_mapping: Option<PathBuf>,
    /// Items read for sample values.
    pub samples: usize,
    /// The article page to read when the REST API is closed (default: one linked from the
    /// home page).
    pub article: Option<Url>,
    /// Read pages robots.txt disallows (only with the portal owner's leave).
    pub ignore_robots: bool,
    /// HTTP behaviour.
    pub fetch: FetchOptions,
}

impl InspectConfig {
    /// A configuration with defaults for everything but the site.
    pub fn new(site: &str) -> Result<Self, Error> {
        Ok(Self {
            site: parse_site_url(site)?,
            list: None,
            draft_mapping: None,
            samples: 3,
            article: None,
            ignore_robots: false,
            fetch: FetchOptions::default(),
        })
    }
}

/// Inspects the site; writes the drafted mapping when asked.
pub async fn run(cfg: &InspectConfig) -> Result<Inspection, Error> {
    if let Some(path) = &cfg.draft_mapping {
        if cfg.list.is_none() {
            return Err(Error::Usage(
                "--draft-mapping needs --list TITLE: a mapping reads one list".into(),
            ));
        }
        if path.exists() {
            return Err(Error::DraftExists(path.clone()));
        }
    }
    let client = Client::new(&cfg.fetch.on_site(&cfg.site))?;
    let mut rest = RestSource::new(
        client.clone(),
        &cfg.site,
        cfg.list.as_deref().unwrap_or_default(),
        ShapeChoice::Auto,
    );
    let site = match rest.site_facts().await {
        Ok(site) => site,
        Err(SourceError::ApiClosed {
            status,
            url,
            sign_in,
        }) => {
            if cfg.list.is_some() {
                return Err(SourceError::ApiClosed {
                    status,
                    url,
                    sign_in,
                }
                .into());
            }
            let html =
                page_hints(&client, &cfg.site, cfg.article.as_ref(), cfg.ignore_robots).await?;
            return Ok(Inspection {
                site: SiteFacts {
                    url: cfg.site.to_string(),
                    ..Default::default()
                },
                rest_closed: Some(status),
                html: Some(html),
                ..Default::default()
            });
        }
        Err(e) => return Err(e.into()),
    };
    let lists = rest.lists().await?;
    let mut inspection = Inspection {
        site,
        lists,
        ..Default::default()
    };
    if cfg.list.is_some() {
        let mut schema = crate::source::Source::describe(&mut rest).await?;
        rest.content_type_fields(&mut schema).await?;
        let items = if cfg.samples > 0 {
            rest.first_items(&sample_query(&schema, cfg.samples))
                .await?
        } else {
            Vec::new()
        };
        let detail = ListDetail::new(schema, &items);
        if let Some(path) = &cfg.draft_mapping {
            inspection.draft = Some(write_draft(path, &inspection.site, &detail)?);
        }
        inspection.list = Some(detail);
    }
    Ok(inspection)
}

/// Prints the inspection: tables, or one JSON document with `json`.
pub fn print(inspection: &Inspection, json: bool) {
    if json {
        let doc = crate::report::inspect::json(inspection);
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", crate::report::inspect::human(inspection));
    }
}

/// Drafts the mapping and writes it beside `path` first, then renames it into place, so a
/// half-written draft never looks finished.
fn write_draft(path: &Path, site: &SiteFacts, detail: &ListDetail) -> Result<DraftSummary, Error> {
    let d = draft(&DraftInput {
        site: &site.url,
        site_title: site.title.as_deref(),
        schema: &detail.schema,
    });
    let mut staging = path.as_os_str().to_owned();
    staging.push(".sharc-partial");
    let staging = PathBuf::from(staging);
    let mut file = std::fs::File::create(&staging).map_err(io(&staging))?;
    file.write_all(d.text.as_bytes()).map_err(io(&staging))?;
    file.sync_all().map_err(io(&staging))?;
    drop(file);
    if path.exists() {
        let _ = std::fs::remove_file(&staging);
        return Err(Error::DraftExists(path.to_path_buf()));
    }
    std::fs::rename(&staging, path).map_err(io(path))?;
    Ok(DraftSummary {
        path: path.display().to_string(),
        content_type: d.content_type.clone(),
        mapped: d.mapped(),
        unmapped: d.guesses.len() - d.mapped(),
    })
}
