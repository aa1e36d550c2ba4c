//! What `sharc inspect` prints: tables for a person at a terminal, one JSON document with
//! stable keys for a script (`--json`).
//!
//! The facts come from the source (the site, its lists, one list in detail, what the public
//! pages show); this module only names and lays them out: LCIDs as languages,
//! `MicrosoftSharePointTeamServices` versions as SharePoint releases, templates as list kinds.

use crate::source::html::hints::{PageHints, PagePart};
use crate::source::{FieldDef, ListDetail, ListSummary, SiteFacts};
use serde::Serialize;
use std::fmt::Write as _;
use unicode_normalization::char::is_combining_mark;

/// Everything `inspect` found out.
#[derive(Debug, Clone, Default)]
pub struct Inspection {
    /// The site (only its URL when the REST API is closed).
    pub site: SiteFacts,
    /// The HTTP status `/_api/web` answered with, when the API is closed.
    pub rest_closed: Option<u16>,
    /// The lists that are not hidden.
    pub lists: Vec<ListSummary>,
    /// The list asked for with `--list`.
    pub list: Option<ListDetail>,
    /// What the public pages show, when the REST API is closed.
    pub html: Option<PageHints>,
    /// The mapping drafted with `--draft-mapping`.
    pub draft: Option<DraftSummary>,
}

/// A drafted mapping file, as `inspect` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DraftSummary {
    /// Where it was written.
    pub path: String,
    /// The content type it reads.
    pub content_type: Option<String>,
    /// Fields mapped to neutral fields.
    pub mapped: usize,
    /// Fields left to each record's `extra`.
    pub unmapped: usize,
}

/// A language by its Windows LCID, for the languages SharePoint ships.
pub fn language_name(lcid: u32) -> Option<&'static str> {
    Some(match lcid {
        1033 => "English",
        1066 => "Vietnamese",
        1036 => "French",
        1031 => "German",
        1041 => "Japanese",
        2052 => "Chinese (Simplified)",
        1028 => "Chinese (Traditional)",
        1042 => "Korean",
        1049 => "Russian",
        3082 => "Spanish",
        1054 => "Thai",
        _ => return None,
    })
}

/// The SharePoint release a `MicrosoftSharePointTeamServices` version belongs to.
pub fn sharepoint_release(version: &str) -> Option<&'static str> {
    let major = version.split('.').next()?.trim().parse::<u32>().ok()?;
    Some(match major {
        12 => "SharePoint 2007",
        14 => "SharePoint 2010",
        15 => "SharePoint 2013",
        16 => "SharePoint 2016 or later (2019, Subscription Edition, Online)",
        _ => return None,
    })
}

/// What a `BaseTemplate` number means.
pub fn template_name(template: i64) -> &'static str {
    match template {
        100 => "list",
        101 => "document library",
        102 => "survey",
        103 => "links",
        104 => "announcements",
        106 => "events",
        107 => "tasks",
        108 => "discussion board",
        109 => "picture library",
        119 => "wiki pages",
        850 => "pages library",
        851 => "asset library",
        _ => "other",
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// Width of text on a terminal: combining marks take no column.
fn width(s: &str) -> usize {
    s.chars().filter(|c| !is_combining_mark(*c)).count()
}

/// `s` cut to `max` columns with `…`.
fn cut(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        if !is_combining_mark(c) {
            if w + 1 >= max {
                break;
            }
            w += 1;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Rows laid out in columns two spaces apart, under their headers.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut l = String::from("  ");
        for (i, cell) in cells.into_iter().enumerate() {
            l.push_str(cell);
            if i < last {
                l.push_str(&" ".repeat(widths[i].saturating_sub(width(cell)) + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// The inspection as tables and lines for a person.
pub fn human(i: &Inspection) -> String {
    let mut out = String::new();
    site_lines(&mut out, i);
    if !i.lists.is_empty() {
        let rows: Vec<Vec<String>> = i
            .lists
            .iter()
            .map(|l| {
                vec![
                    cut(&l.title, 40),
                    l.item_count.map(|n| n.to_string()).unwrap_or_default(),
                    l.base_template
                        .map(|t| format!("{t} {}", template_name(t)))
                        .unwrap_or_default(),
                    yes_no(l.versioning).to_string(),
                    yes_no(l.attachments).to_string(),
                    l.url.clone().unwrap_or_default(),
                    cut(&l.content_types.join(", "), 50),
                ]
            })
            .collect();
        let _ = writeln!(out, "\nLists (not hidden): {}", i.lists.len());
        out.push_str(&table(
            &[
                "TITLE",
                "ITEMS",
                "TEMPLATE",
                "VERSIONS",
                "ATTACHMENTS",
                "URL",
                "CONTENT TYPES",
            ],
            &rows,
        ));
    }
    if let Some(detail) = &i.list {
        list_lines(&mut out, detail);
    }
    if let Some(hints) = &i.html {
        hint_lines(&mut out, hints);
    }
    if let Some(d) = &i.draft {
        let _ = writeln!(
            out,
            "\nDraft mapping written to {}: {} field(s) mapped, {} left to each record's `extra`{}.\nCheck each line's comment, then: sharc mapping check {} --site {}",
            d.path,
            d.mapped,
            d.unmapped,
            d.content_type
                .as_deref()
                .map(|c| format!(", content type {c}"))
                .unwrap_or_default(),
            d.path,
            i.site.url
        );
    } else if i.list.is_none() && !i.lists.is_empty() {
        let _ = writeln!(
            out,
            "\nFor a list's fields and content types: sharc inspect {} --list TITLE",
            i.site.url
        );
    }
    out
}

fn site_lines(out: &mut String, i: &Inspection) {
    let s = &i.site;
    let _ = writeln!(out, "Site        {}", s.url);
    if let Some(t) = &s.title {
        let _ = writeln!(out, "Title       {t}");
    }
    if let Some(l) = s.language {
        let _ = writeln!(
            out,
            "Language    {} ({l})",
            language_name(l).unwrap_or("LCID")
        );
    }
    if let Some(v) = &s.server_version {
        let _ = writeln!(
            out,
            "SharePoint  {} (MicrosoftSharePointTeamServices: {v})",
            sharepoint_release(v).unwrap_or("version unknown")
        );
    }
    match i.rest_closed {
        Some(status) => {
            let _ = writeln!(
                out,
                "REST API    closed to this identity (HTTP {status} on /_api/web): only the public pages can be read (README: Portals without REST)"
            );
        }
        None => {
            let _ = writeln!(
                out,
                "REST API    open; JSON shapes answered: {}",
                s.json_shapes.join(", ")
            );
        }
    }
}

fn list_lines(out: &mut String, d: &ListDetail) {
    let s = &d.schema;
    let _ = writeln!(
        out,
        "\nList `{}`: {} item(s), id {}",
        s.list.title,
        s.list
            .item_count
            .map(|n| n.to_string())
            .unwrap_or_else(|| "?".into()),
        s.list.id
    );
    let _ = writeln!(out, "Content types:");
    for (n, ct) in s.content_types.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} ({}; {} field(s))",
            n + 1,
            ct.name,
            ct.id,
            ct.fields.len()
        );
    }
    let shown: Vec<&FieldDef> = s.fields.iter().filter(|f| !f.hidden).collect();
    let hidden = s.fields.len() - shown.len();
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|f| {
            let decoded = d.decoded.get(&f.internal_name).cloned().unwrap_or_default();
            let cts: Vec<String> = s
                .content_types
                .iter()
                .enumerate()
                .filter(|(_, c)| c.fields.contains(&f.internal_name))
                .map(|(n, _)| (n + 1).to_string())
                .collect();
            vec![
                cut(&f.title, 28),
                f.internal_name.clone(),
                if decoded == f.title || decoded == f.internal_name {
                    "=".into()
                } else {
                    cut(&decoded, 24)
                },
                if f.entity_property_name == f.internal_name {
                    "=".into()
                } else {
                    f.entity_property_name.clone()
                },
                f.type_as_string.clone(),
                if f.required { "yes" } else { "" }.into(),
                cts.join(","),
                cut(&f.choices.join(" | "), 30),
                cut(
                    d.samples.get(&f.internal_name).map_or("", String::as_str),
                    40,
                ),
            ]
        })
        .collect();
    let _ = writeln!(
        out,
        "Fields: {}{}",
        shown.len(),
        if hidden > 0 {
            format!(" (and {hidden} hidden, listed by --json)")
        } else {
            String::new()
        }
    );
    out.push_str(&table(
        &[
            "DISPLAY NAME",
            "INTERNAL NAME",
            "DECODED",
            "REST NAME",
            "TYPE",
            "REQ",
            "CT",
            "CHOICES",
            "SAMPLE",
        ],
        &rows,
    ));
}

fn part_name(p: PagePart) -> &'static str {
    match p {
        PagePart::Title => "title",
        PagePart::Date => "date",
        PagePart::Body => "body",
        PagePart::ViewCount => "view count",
    }
}

fn hint_lines(out: &mut String, h: &PageHints) {
    let _ = writeln!(out, "\nPublic pages");
    match &h.article {
        Some(a) => {
            let from = h
                .home
                .as_deref()
                .map(|home| format!(" (linked from {home})"))
                .unwrap_or_default();
            let _ = writeln!(out, "  Article read: {a}{from}");
        }
        None => {
            let _ = writeln!(
                out,
                "  No article read: {}",
                h.no_article.as_deref().unwrap_or("none found")
            );
        }
    }
    if h.article.is_some() {
        if h.form_fields.is_empty() {
            let _ = writeln!(
                out,
                "  SharePoint's display form is not on the page (no FieldName comments)."
            );
        } else {
            let _ = writeln!(
                out,
                "  SharePoint's hidden display form names {} field(s) (use them as `form = \"…\"` rules):",
                h.form_fields.len()
            );
            let rows: Vec<Vec<String>> = h
                .form_fields
                .iter()
                .map(|f| {
                    vec![
                        f.name.clone(),
                        f.internal_name.clone(),
                        f.field_type.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            out.push_str(&table(&["FIELD NAME", "INTERNAL NAME", "TYPE"], &rows));
        }
        if h.candidates.is_empty() {
            let _ = writeln!(out, "  No selector could be proposed for this page.");
        } else {
            let _ = writeln!(
                out,
                "  Selectors proposed for the [html.fields] section, with the text each selects:"
            );
            let rows: Vec<Vec<String>> = h
                .candidates
                .iter()
                .map(|c| {
                    vec![
                        part_name(c.part).to_string(),
                        c.selector.clone(),
                        cut(&c.text, 60),
                    ]
                })
                .collect();
            out.push_str(&table(&["PART", "SELECTOR", "TEXT"], &rows));
        }
    }
}

/// The inspection as one JSON document with stable keys.
pub fn json(i: &Inspection) -> serde_json::Value {
    let s = &i.site;
    let site = JsonSite {
        url: &s.url,
        title: s.title.as_deref(),
        language: s.language,
        language_name: s.language.and_then(language_name),
        server_version: s.server_version.as_deref(),
        sharepoint: s.server_version.as_deref().and_then(sharepoint_release),
        rest_api: if i.rest_closed.is_some() {
            "closed"
        } else {
            "open"
        },
        rest_status: i.rest_closed,
        json_shapes: &s.json_shapes,
    };
    let list = i.list.as_ref().map(|d| {
        let schema = &d.schema;
        JsonList {
            id: &schema.list.id,
            title: &schema.list.title,
            item_count: schema.list.item_count,
            content_types: schema
                .content_types
                .iter()
                .map(|c| JsonContentType {
                    id: &c.id,
                    name: &c.name,
                    fields: &c.fields,
                })
                .collect(),
            fields: schema
                .fields
                .iter()
                .map(|f| JsonField {
                    title: &f.title,
                    internal_name: &f.internal_name,
                    decoded_name: d.decoded.get(&f.internal_name).map(String::as_str),
                    entity_property_name: &f.entity_property_name,
                    r#type: &f.type_as_string,
                    required: f.required,
                    hidden: f.hidden,
                    read_only: f.read_only,
                    built_in: ListDetail::is_built_in(f),
                    choices: &f.choices,
                    content_types: schema
                        .content_types
                        .iter()
                        .filter(|c| c.fields.contains(&f.internal_name))
                        .map(|c| c.name.as_str())
                        .collect(),
                    sample: d.samples.get(&f.internal_name).map(String::as_str),
                })
                .collect(),
        }
    });
    serde_json::to_value(JsonInspection {
        site,
        lists: &i.lists,
        list,
        html: i.html.as_ref(),
        draft: i.draft.as_ref(),
    })
    .unwrap_or_default()
}

#[derive(Serialize)]
struct JsonInspection<'a> {
    site: JsonSite<'a>,
    lists: &'a [ListSummary],
    list: Option<JsonList<'a>>,
    html: Option<&'a PageHints>,
    draft: Option<&'a DraftSummary>,
}

#[derive(Serialize)]
struct JsonSite<'a> {
    url: &'a str,
    title: Option<&'a str>,
    language: Option<u32>,
    language_name: Option<&'static str>,
    server_version: Option<&'a str>,
    sharepoint: Option<&'static str>,
    rest_api: &'static str,
    rest_status: Option<u16>,
    json_shapes: &'a [String],
}

#[derive(Serialize)]
struct JsonList<'a> {
    id: &'a str,
    title: &'a str,
    item_count: Option<u64>,
    content_types: Vec<JsonContentType<'a>>,
    fields: Vec<JsonField<'a>>,
}

#[derive(Serialize)]
struct JsonContentType<'a> {
    id: &'a str,
    name: &'a str,
    fields: &'a [String],
}

#[derive(Serialize)]
struct JsonField<'a> {
    title: &'a str,
    internal_name: &'a str,
    decoded_name: Option<&'a str>,
    entity_property_name: &'a str,
    r#type: &'a str,
    required: bool,
    hidden: bool,
    read_only: bool,
    built_in: bool,
    choices: &'a [String],
    content_types: Vec<&'a str>,
    sample: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_and_languages_are_named() {
        assert_eq!(sharepoint_release("15.0.0.4701"), Some("SharePoint 2013"));
        assert_eq!(sharepoint_release("14.0.0.6106"), Some("SharePoint 2010"));
        assert_eq!(sharepoint_release("junk"), None);
        assert_eq!(language_name(1066), Some("Vietnamese"));
    }

    #[test]
    fn tables_align_vietnamese_text_whatever_its_form() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Người tạo").collect();
        let t = table(
            &["A", "B"],
            &[
                vec!["Người tạo".into(), "x".into()],
                vec![nfd, "y".into()],
                vec!["ID".into(), "z".into()],
            ],
        );
        let columns: Vec<usize> = t
            .lines()
            .map(|l| width(&l[..l.rfind(' ').unwrap_or(0)]))
            .collect();
        assert!(columns.windows(2).all(|w| w[0] == w[1]), "{t}");
        assert_eq!(cut("Số lượt người đọc", 8), "Số lượt…");
    }
}
