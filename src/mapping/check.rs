//! Checking a mapping file before a night's crawl depends on it.
//!
//! Loading a mapping stops at its first mistake; `sharc mapping check` wants them all, each
//! with its line and, where one is near, the name that was meant. [`check_text`] reads the
//! file as TOML with positions and walks it against the keys the format knows (unknown keys,
//! unknown neutral fields and conversions, a conversion that cannot fill its field, a field
//! named twice or not at all), then loads it as a crawl would for what only loading finds
//! (selectors, time zones). [`Checked::against`] then holds it against a list's live fields:
//! a field that is missing (with the closest names, renamed columns first), of a type the
//! conversion cannot read, a content type the list lacks.

use super::html::line_of;
use super::resolve::{BindProblem, bind, content_type, edit_distance};
use super::spec::Conversion;
use super::{Mapping, MappingError};
use crate::record::NeutralField;
use crate::source::ListSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// What kind of problem a [`Problem`] is. The kebab-case names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemCode {
    /// The file is not TOML.
    MappingSyntax,
    /// A key the mapping format does not have.
    MappingUnknownKey,
    /// A `[fields]` (or `[html.fields]`) key that is no neutral field.
    MappingUnknownField,
    /// An `as = "…"` that is no conversion.
    MappingUnknownConversion,
    /// A conversion that cannot fill its neutral field.
    MappingConversionDoesNotFit,
    /// A required key or section is missing, or a `[fields]` entry names no source.
    MappingMissingKey,
    /// A `[fields]` entry gives both `field` and `internal`.
    MappingTwoSources,
    /// A value of the wrong kind, or one that loading refuses (a time zone, a selector, …).
    MappingInvalidValue,
    /// The site has no list with the mapping's title.
    SiteListNotFound,
    /// The list has no field the entry names.
    SiteFieldMissing,
    /// The field exists, but the conversion cannot read its type.
    SiteFieldType,
    /// The list has no content type of the mapping's name.
    SiteContentTypeMissing,
}

impl ProblemCode {
    /// Every code, in declaration order.
    pub const ALL: [ProblemCode; 12] = [
        Self::MappingSyntax,
        Self::MappingUnknownKey,
        Self::MappingUnknownField,
        Self::MappingUnknownConversion,
        Self::MappingConversionDoesNotFit,
        Self::MappingMissingKey,
        Self::MappingTwoSources,
        Self::MappingInvalidValue,
        Self::SiteListNotFound,
        Self::SiteFieldMissing,
        Self::SiteFieldType,
        Self::SiteContentTypeMissing,
    ];

    /// The stable name, such as `mapping-unknown-key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MappingSyntax => "mapping-syntax",
            Self::MappingUnknownKey => "mapping-unknown-key",
            Self::MappingUnknownField => "mapping-unknown-field",
            Self::MappingUnknownConversion => "mapping-unknown-conversion",
            Self::MappingConversionDoesNotFit => "mapping-conversion-does-not-fit",
            Self::MappingMissingKey => "mapping-missing-key",
            Self::MappingTwoSources => "mapping-two-sources",
            Self::MappingInvalidValue => "mapping-invalid-value",
            Self::SiteListNotFound => "site-list-not-found",
            Self::SiteFieldMissing => "site-field-missing",
            Self::SiteFieldType => "site-field-type",
            Self::SiteContentTypeMissing => "site-content-type-missing",
        }
    }
}

/// One thing wrong with a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The 1-based line of the mapping file, when the problem has one.
    pub line: Option<usize>,
    /// The 1-based column (in characters) on that line, when the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What kind of problem.
    pub code: ProblemCode,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A mapping file read for checking: the mapping when it loads, and every problem found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The mapping, when the file loads as a crawl would load it.
    pub mapping: Option<Mapping>,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
    field_lines: BTreeMap<NeutralField, usize>,
    title_line: Option<usize>,
    content_type_line: Option<usize>,
}

/// The keys of each section.
const ROOT_KEYS: &[&str] = &["list", "bag", "fields", "html"];
const LIST_KEYS: &[&str] = &["title", "content_type", "time_zone"];
const BAG_KEYS: &[&str] = &[
    "source_organization",
    "external_description",
    "contact_name",
    "contact_email",
];
const FIELD_KEYS: &[&str] = &["field", "internal", "as", "volatile"];
const HTML_KEYS: &[&str] = &[
    "start",
    "links",
    "link_pattern",
    "next",
    "next_template",
    "next_first",
    "stop",
    "item_id",
    "item_id_pattern",
    "list_id",
    "allow_hosts",
    "charset",
    "fields",
];
const HTML_RULE_KEYS: &[&str] = &["select", "form", "attr", "regex", "extract"];

type Entry<'i> = (
    &'i Spanned<std::borrow::Cow<'i, str>>,
    &'i Spanned<DeValue<'i>>,
);

/// The walk over one file.
struct Walk<'t> {
    text: &'t str,
    problems: Vec<Problem>,
}

impl Walk<'_> {
    fn line(&self, span: std::ops::Range<usize>) -> Option<usize> {
        Some(line_of(self.text, span.start))
    }

    fn push(&mut self, span: std::ops::Range<usize>, code: ProblemCode, message: String) {
        let line = self.line(span.clone());
        self.problems.push(Problem {
            line,
            column: Some(column_of(self.text, span.start)),
            code,
            message,
        });
    }

    /// A problem of the whole file, such as a missing section: it has no line.
    fn push_unplaced(&mut self, code: ProblemCode, message: String) {
        self.problems.push(Problem {
            line: None,
            column: None,
            code,
            message,
        });
    }

    /// Reports the keys of `table` that `allowed` lacks.
    fn known_keys(&mut self, table: &DeTable<'_>, allowed: &[&str], section: &str) {
        for (k, _) in table.iter() {
            let key: &str = k.get_ref();
            if allowed.contains(&key) {
                continue;
            }
            let hint = match closest_word(key, allowed.iter().copied()) {
                Some(w) => format!("did you mean `{w}`?"),
                None => format!("the keys here are {}", allowed.join(", ")),
            };
            self.push(
                k.span(),
                ProblemCode::MappingUnknownKey,
                format!("{section}: unknown key `{key}`; {hint}"),
            );
        }
    }

    /// The table under `key`, or a problem when it is something else.
    fn table<'a, 'i>(&mut self, (k, v): Entry<'a>, section: &str) -> Option<&'a DeTable<'i>>
    where
        'a: 'i,
    {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.push(
                    k.span(),
                    ProblemCode::MappingInvalidValue,
                    format!("{section} must be a table"),
                );
                None
            }
        }
    }

    fn string(&mut self, (k, v): Entry<'_>, section: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.push(
                    v.span(),
                    ProblemCode::MappingInvalidValue,
                    format!("{section} {}: give a string in quotes", k.get_ref()),
                );
                None
            }
        }
    }
}

fn entry<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<Entry<'a>>
where
    'a: 'i,
{
    table.iter().find(|(k, _)| {
        let k: &str = k.get_ref();
        k == key
    })
}

/// The word of `words` closest to `wanted`, when one is close enough to be a typo.
fn closest_word<'w>(wanted: &str, words: impl Iterator<Item = &'w str>) -> Option<&'w str> {
    let limit = (wanted.chars().count() / 3).max(2);
    words
        .map(|w| (edit_distance(wanted, w), w))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, w)| w)
}

/// Checks mapping text as `path` (named in messages) without a site: every problem with its
/// line.
pub fn check_text(text: &str, path: &Path) -> Checked {
    let mut checked = Checked {
        mapping: None,
        problems: Vec::new(),
        field_lines: BTreeMap::new(),
        title_line: None,
        content_type_line: None,
    };
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            checked.problems.push(Problem {
                line: e.span().map(|s| line_of(text, s.start)),
                column: e.span().map(|s| column_of(text, s.start)),
                code: ProblemCode::MappingSyntax,
                message: format!("not TOML: {}", e.message().trim_end()),
            });
            return checked;
        }
    };
    let mut walk = Walk {
        text,
        problems: Vec::new(),
    };
    let root = doc.get_ref();
    walk.known_keys(root, ROOT_KEYS, "the file");
    match entry(root, "list").and_then(|e| walk.table(e, "[list]")) {
        Some(list) => {
            walk.known_keys(list, LIST_KEYS, "[list]");
            match entry(list, "title") {
                Some(e) => {
                    checked.title_line = walk.line(e.0.span());
                    walk.string(e, "[list]");
                }
                None => walk.push(
                    entry(root, "list").map_or(0..0, |(k, _)| k.span()),
                    ProblemCode::MappingMissingKey,
                    "[list] has no title: give the list title as the portal shows it".into(),
                ),
            }
            if let Some(e) = entry(list, "content_type") {
                checked.content_type_line = walk.line(e.0.span());
                walk.string(e, "[list]");
            }
        }
        None => walk.push_unplaced(
            ProblemCode::MappingMissingKey,
            "there is no [list] section: add one with the list's title, e.g. [list] then title = \"Tin tức sự kiện\"".into(),
        ),
    }
    if let Some(bag) = entry(root, "bag").and_then(|e| walk.table(e, "[bag]")) {
        walk.known_keys(bag, BAG_KEYS, "[bag]");
    }
    match entry(root, "fields").and_then(|e| walk.table(e, "[fields]")) {
        Some(fields) => {
            for (k, v) in fields.iter() {
                if let Some(neutral) = check_field(&mut walk, (k, v)) {
                    checked.field_lines.insert(neutral, line_of(text, k.span().start));
                }
            }
        }
        None => walk.push_unplaced(
            ProblemCode::MappingMissingKey,
            "there is no [fields] section: add one, e.g. a line [fields] and under it title = { field = \"Tiêu đề\", as = \"text\" }"
                .into(),
        ),
    }
    if let Some(html) = entry(root, "html").and_then(|e| walk.table(e, "[html]")) {
        walk.known_keys(html, HTML_KEYS, "[html]");
        if let Some(rules) = entry(html, "fields").and_then(|e| walk.table(e, "[html.fields]")) {
            for (k, v) in rules.iter() {
                neutral_of(&mut walk, k, "[html.fields]");
                if let DeValue::Table(rule) = v.get_ref() {
                    walk.known_keys(
                        rule,
                        HTML_RULE_KEYS,
                        &format!("[html.fields] {}", k.get_ref()),
                    );
                }
            }
        }
    }
    checked.problems = walk.problems;
    if checked.problems.is_empty() {
        match Mapping::parse(text, path) {
            Ok(m) => checked.mapping = Some(m),
            Err(e) => {
                let line = match &e {
                    MappingError::Html { source, .. } => Some(source.line),
                    MappingError::Invalid { message, .. } if message.contains("time_zone") => {
                        entry(root, "list")
                            .and_then(|(_, v)| match v.get_ref() {
                                DeValue::Table(t) => entry(t, "time_zone"),
                                _ => None,
                            })
                            .map(|(k, _)| line_of(text, k.span().start))
                    }
                    _ => None,
                };
                checked.problems.push(Problem {
                    line,
                    column: None,
                    code: ProblemCode::MappingInvalidValue,
                    message: load_message(&e),
                });
            }
        }
    }
    checked.problems.sort_by_key(|p| p.line);
    checked
}

/// The 1-based column, in characters, of byte `offset` on its line.
fn column_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    before[start..].chars().count() + 1
}

/// A load error's message without the file name the check prints anyway.
fn load_message(e: &MappingError) -> String {
    match e {
        MappingError::Html { source, .. } => source.problem.to_string(),
        MappingError::Invalid { message, .. } | MappingError::Parse { message, .. } => {
            message.clone()
        }
        other => other.to_string(),
    }
}

fn neutral_of(
    walk: &mut Walk<'_>,
    k: &Spanned<std::borrow::Cow<'_, str>>,
    section: &str,
) -> Option<NeutralField> {
    let name: &str = k.get_ref();
    if let Some(n) = NeutralField::ALL.iter().find(|n| n.name() == name) {
        return Some(*n);
    }
    let hint = match closest_word(name, NeutralField::ALL.iter().map(|n| n.name())) {
        Some(w) => format!("did you mean `{w}`?"),
        None => "the neutral fields are listed in the README (Mapping files)".into(),
    };
    walk.push(
        k.span(),
        ProblemCode::MappingUnknownField,
        format!("{section}: `{name}` is not a neutral field; {hint}"),
    );
    None
}

/// Checks one `[fields]` entry; its neutral field when the key is one.
fn check_field(walk: &mut Walk<'_>, (k, v): Entry<'_>) -> Option<NeutralField> {
    let neutral = neutral_of(walk, k, "[fields]");
    let name: &str = k.get_ref();
    let section = format!("[fields] {name}");
    let DeValue::Table(spec) = v.get_ref() else {
        walk.push(
            v.span(),
            ProblemCode::MappingInvalidValue,
            format!("{section}: give {{ field = \"<display name>\", as = \"<conversion>\" }}"),
        );
        return neutral;
    };
    walk.known_keys(spec, FIELD_KEYS, &section);
    for key in ["field", "internal"] {
        if let Some(e) = entry(spec, key) {
            walk.string(e, &section);
        }
    }
    let has = |key| entry(spec, key).is_some();
    match (has("field"), has("internal")) {
        (true, true) => walk.push(
            k.span(),
            ProblemCode::MappingTwoSources,
            format!("{section}: give either `field` or `internal`, not both"),
        ),
        (false, false) => walk.push(
            k.span(),
            ProblemCode::MappingMissingKey,
            format!(
                "{section}: name the source with `field = \"<display name>\"` or `internal = \"<InternalName>\"`"
            ),
        ),
        _ => {}
    }
    let Some(as_entry) = entry(spec, "as") else {
        walk.push(
            k.span(),
            ProblemCode::MappingMissingKey,
            format!("{section}: say how to read it with `as = \"…\"`"),
        );
        return neutral;
    };
    let Some(as_name) = walk.string(as_entry, &section) else {
        return neutral;
    };
    let span = as_entry.1.span();
    let Some(conversion) = Conversion::ALL
        .iter()
        .copied()
        .find(|c| c.name() == as_name)
    else {
        let fitting: Vec<&str> = match neutral {
            Some(n) => Conversion::accepted_by(n)
                .iter()
                .map(|c| c.name())
                .collect(),
            None => Conversion::ALL.iter().map(|c| c.name()).collect(),
        };
        let hint = match closest_word(&as_name, Conversion::ALL.iter().map(|c| c.name())) {
            Some(w) => format!("did you mean `{w}`?"),
            None => format!("use one of: {}", fitting.join(", ")),
        };
        walk.push(
            span,
            ProblemCode::MappingUnknownConversion,
            format!("{section}: `{as_name}` is not a conversion; {hint}"),
        );
        return neutral;
    };
    if let Some(n) = neutral {
        let accepted = Conversion::accepted_by(n);
        if !accepted.contains(&conversion) {
            let names: Vec<&str> = accepted.iter().map(|c| c.name()).collect();
            walk.push(
                span,
                ProblemCode::MappingConversionDoesNotFit,
                format!(
                    "{section}: conversion `{conversion}` cannot fill {n}; use one of: {}",
                    names.join(", ")
                ),
            );
        }
    }
    neutral
}

impl Checked {
    /// Holds the loaded mapping against a list's live fields and content types, adding a
    /// problem for every entry that does not bind.
    pub fn against(&mut self, schema: &ListSchema) {
        let Some(mapping) = &self.mapping else {
            return;
        };
        for p in bind(mapping, schema).problems {
            let code = match &p {
                BindProblem::Missing(_) => ProblemCode::SiteFieldMissing,
                BindProblem::WrongType { .. } => ProblemCode::SiteFieldType,
            };
            self.problems.push(Problem {
                line: self.field_lines.get(&p.neutral()).copied(),
                column: None,
                code,
                message: format!("[fields] {}", p),
            });
        }
        if let Err(e) = content_type(mapping, schema) {
            self.problems.push(Problem {
                line: self.content_type_line,
                column: None,
                code: ProblemCode::SiteContentTypeMissing,
                message: format!("[list] content_type: {e}"),
            });
        }
        self.problems.sort_by_key(|p| p.line);
    }

    /// The site has no list of the mapping's title; `message` says which it has.
    pub fn list_not_found(&mut self, message: String) {
        self.problems.push(Problem {
            line: self.title_line,
            column: None,
            code: ProblemCode::SiteListNotFound,
            message,
        });
        self.problems.sort_by_key(|p| p.line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<(Option<usize>, &'static str, String)> {
        check_text(text, Path::new("m.toml"))
            .problems
            .into_iter()
            .map(|p| (p.line, p.code.as_str(), p.message))
            .collect()
    }

    #[test]
    fn the_shipped_mapping_has_no_problem() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/mappings/tin-tuc-mo-rong.toml"
        ));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let c = check_text(&text, path);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert!(c.mapping.is_some());
    }

    #[test]
    fn every_mistake_is_reported_at_once_with_its_line_and_a_suggestion() {
        let p = check(
            "[list]\ntitle = \"Tin tức\"\ncolour = 1\n\n[fields]\ntitel = { field = \"Tiêu đề\", as = \"text\" }\nview_count = { field = \"Số lượt người đọc\", as = \"boolean\" }\nbody = { field = \"Nội dung\", as = \"htm\" }\nsummary = { field = \"Tóm tắt\", internal = \"TomTat\", as = \"text\" }\nauthor = { as = \"text\", feild = \"Tác giả\" }\n",
        );
        let codes: Vec<(Option<usize>, &str)> = p.iter().map(|(l, c, _)| (*l, *c)).collect();
        assert_eq!(
            codes,
            [
                (Some(3), "mapping-unknown-key"),
                (Some(6), "mapping-unknown-field"),
                (Some(7), "mapping-conversion-does-not-fit"),
                (Some(8), "mapping-unknown-conversion"),
                (Some(9), "mapping-two-sources"),
                (Some(10), "mapping-unknown-key"),
                (Some(10), "mapping-missing-key"),
            ],
            "{p:#?}"
        );
        let text = |line: usize| -> Vec<&str> {
            p.iter()
                .filter(|(l, _, _)| *l == Some(line))
                .map(|(_, _, m)| m.as_str())
                .collect()
        };
        assert!(
            text(3)[0].contains("did you mean `content_type`?")
                || text(3)[0].contains("title, content_type, time_zone"),
            "{:?}",
            text(3)
        );
        assert!(
            text(6)[0].contains("did you mean `title`?"),
            "{:?}",
            text(6)
        );
        assert!(text(7)[0].contains("integer, number"), "{:?}", text(7));
        assert!(text(8)[0].contains("did you mean `html`?"), "{:?}", text(8));
        assert!(
            text(10)[0].contains("did you mean `field`?"),
            "{:?}",
            text(10)
        );
    }

    #[test]
    fn syntax_errors_and_load_errors_have_lines_too() {
        let p = check("[list]\ntitle = \"Tin tức\n[fields]\n");
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].0, p[0].1), (Some(2), "mapping-syntax"), "{p:?}");
        let p = check("[list]\ntitle = \"Tin tức\"\ntime_zone = \"Mars/Olympus\"\n[fields]\n");
        assert_eq!(
            (p[0].0, p[0].1),
            (Some(3), "mapping-invalid-value"),
            "{p:?}"
        );
        let p = check(
            "[list]\ntitle = \"Tin\"\n[fields]\ntitle = { field = \"Tiêu đề\", as = \"text\" }\n[html]\nstart = \"a.aspx\"\nlinks = \"a[\"\n",
        );
        assert_eq!(
            (p[0].0, p[0].1),
            (Some(7), "mapping-invalid-value"),
            "{p:?}"
        );
        let p = check("[fields]\n");
        assert_eq!(p[0].1, "mapping-missing-key", "{p:?}");
    }

    /// The keys the check knows are the keys loading accepts: serde's own list, read from
    /// its "expected one of" message for each section.
    #[test]
    fn the_known_keys_are_the_keys_loading_accepts() {
        let expected = |text: &str| -> Vec<String> {
            let e = Mapping::parse(text, Path::new("m.toml"))
                .unwrap_err()
                .to_string();
            let list = e.split("expected one of").nth(1).unwrap_or_default();
            list.split(',')
                .filter_map(|w| w.split('`').nth(1))
                .map(str::to_string)
                .collect()
        };
        let sorted = |keys: &[&str]| {
            let mut v: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            v.sort();
            v
        };
        let cases: [(&str, &[&str]); 5] = [
            ("zzz = 1\n[list]\ntitle = \"T\"\n[fields]\n", ROOT_KEYS),
            ("[list]\ntitle = \"T\"\nzzz = 1\n[fields]\n", LIST_KEYS),
            (
                "[list]\ntitle = \"T\"\n[bag]\nzzz = 1\n[fields]\n",
                BAG_KEYS,
            ),
            (
                "[list]\ntitle = \"T\"\n[fields]\ntitle = { as = \"text\", zzz = 1 }\n",
                FIELD_KEYS,
            ),
            (
                "[list]\ntitle = \"T\"\n[fields]\n[html]\nzzz = 1\n",
                HTML_KEYS,
            ),
        ];
        for (text, keys) in cases {
            let mut got = expected(text);
            got.sort();
            assert_eq!(got, sorted(keys), "{text}");
        }
        let mut got = expected(
            "[list]\ntitle = \"T\"\n[fields]\ntitle = { field = \"x\", as = \"text\" }\n[html]\nstart = \"a\"\nlinks = \"a\"\n[html.fields]\ntitle = { zzz = 1 }\n",
        );
        got.sort();
        assert_eq!(got, sorted(HTML_RULE_KEYS));
    }
}
