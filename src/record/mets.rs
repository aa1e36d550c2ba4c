//! `data/mets.xml`: the bag described in METS with PREMIS 3.0, the shape preservation systems
//! (Archivematica, Preservica, RODA) ingest.
//!
//! A bag says which bytes belong together and that they are intact; a preservation system
//! also wants to know, in a standard vocabulary, what each object is and what happened to it.
//! The METS document lists every payload file but itself in its `fileSec` (with its sha256),
//! groups each item's record and files in the `structMap`, and gives each file an `amdSec`:
//! a PREMIS object (identifier, size, sha256 and sha512 fixity, the media type as its format,
//! the original name) and PREMIS events — its capture with date and outcome, the fixity check,
//! a filename change where the payload name differs from the name the portal served — linked
//! to two PREMIS agents, sharc with its version and the portal. Each item has its capture
//! event; the crawl's failures are events of the bag as a whole. Formats are given as media
//! types only: no maintained identification library in Rust gives PRONOM ids.
//!
//! The document is written as it is built, item by item, so its size costs no memory; only the
//! record of one item at a time is read back from the staged payload.

use super::Record;
use crate::fixity::Fixity;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::Path;

/// The METS document's payload path.
pub const METS_PATH: &str = "mets.xml";

/// A failure of the crawl, for the bag's events.
#[derive(Debug, Clone)]
pub struct MetsFailure {
    /// The stable failure code.
    pub code: String,
    /// The item, when the failure is an item's.
    pub item_id: Option<i64>,
    /// The URL, when there is one.
    pub url: Option<String>,
    /// In words.
    pub message: String,
}

/// What the METS document describes.
pub struct MetsInput<'a> {
    /// The bag's identifier (`External-Identifier`), the document's `OBJID`.
    pub objid: &'a str,
    /// The bag's name, the label of the structMap's top division.
    pub label: &'a str,
    /// When the crawl ran (the pinned instant when it is pinned), RFC 3339.
    pub created: &'a str,
    /// The portal's site URL.
    pub site: &'a str,
    /// Every payload file but the METS document, by path relative to `data/`.
    pub payload: &'a BTreeMap<String, Fixity>,
    /// The staged `data/` directory, where the records are read back from.
    pub data_dir: &'a Path,
    /// Original URL → payload path relative to the bag (`data/files/…`), as in the path map.
    pub path_map: &'a [(String, String)],
    /// The crawl's failures.
    pub failures: &'a [MetsFailure],
}

const SHARC_AGENT: &str = "sharc";
const PORTAL_AGENT: &str = "portal";

/// Writes the METS document for `input` to `out`.
pub fn write_mets(input: &MetsInput<'_>, out: &mut impl Write) -> io::Result<()> {
    let urls: BTreeMap<&str, &str> = input
        .path_map
        .iter()
        .map(|(u, p)| (p.strip_prefix("data/").unwrap_or(p), u.as_str()))
        .collect();
    let records: Vec<&String> = input
        .payload
        .keys()
        .filter(|p| p.starts_with("records/") && p.ends_with(".json"))
        .collect();
    // Which item each file belongs to (the first that points to it), with the item's
    // capture date: read one record at a time.
    let mut owner: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut items: Vec<(i64, String, String, Vec<String>)> = Vec::new();
    for rel in &records {
        let Some(record) = read_record(&input.data_dir.join(rel.as_str())) else {
            continue;
        };
        let id = record.source.item_id;
        let at = record.source.fetched_at.clone();
        let mut files = Vec::new();
        for f in record.files() {
            let p = f.path.strip_prefix("data/").unwrap_or(&f.path).to_string();
            if input.payload.contains_key(&p) && !owner.contains_key(&p) {
                owner.insert(p.clone(), (id, at.clone()));
                files.push(p);
            }
        }
        owner.insert((*rel).clone(), (id, at.clone()));
        items.push((id, (*rel).clone(), at, files));
    }
    let failed_items: BTreeSet<i64> = input.failures.iter().filter_map(|f| f.item_id).collect();

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:premis="http://www.loc.gov/premis/v3" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.loc.gov/METS/ http://www.loc.gov/standards/mets/version1121/mets.xsd http://www.loc.gov/premis/v3 http://www.loc.gov/standards/premis/v3/premis.xsd" OBJID="{}" LABEL="{}" PROFILE="urn:sharc:mets:1.0">"#,
        esc(input.objid),
        esc(input.label)
    )?;
    writeln!(
        out,
        r#"  <mets:metsHdr CREATEDATE="{}"><mets:agent ROLE="CREATOR" TYPE="OTHER" OTHERTYPE="SOFTWARE"><mets:name>sharc {}</mets:name></mets:agent></mets:metsHdr>"#,
        esc(&xs_datetime(input.created)),
        env!("CARGO_PKG_VERSION")
    )?;

    // The bag's own events: the crawl, and each failure.
    writeln!(out, r#"  <mets:amdSec ID="amdSec_bag">"#)?;
    let mut n = 0usize;
    let outcome = if input.failures.is_empty() {
        "success"
    } else {
        "partial failure"
    };
    event(
        out,
        &format!("digiprovMD_bag_{n}"),
        &uuid(&["crawl", input.objid]),
        "capture",
        input.created,
        &format!("crawl of {} by sharc", input.site),
        outcome,
        &[SHARC_AGENT, PORTAL_AGENT],
    )?;
    for f in input.failures {
        n += 1;
        let what = match (f.item_id, &f.url) {
            (Some(id), Some(u)) => format!("item {id}, {u}"),
            (Some(id), None) => format!("item {id}"),
            (None, Some(u)) => u.clone(),
            (None, None) => "the crawl".into(),
        };
        event(
            out,
            &format!("digiprovMD_bag_{n}"),
            &uuid(&["failure", &n.to_string(), input.objid]),
            "capture",
            input.created,
            &format!("{what}: {} ({})", f.message, f.code),
            "failure",
            &[SHARC_AGENT, PORTAL_AGENT],
        )?;
    }
    agents(out, "bag", input.site)?;
    writeln!(out, "  </mets:amdSec>")?;

    // Each item's capture.
    for (id, _, at, _) in &items {
        writeln!(out, r#"  <mets:amdSec ID="amdSec_item_{id}">"#)?;
        let outcome = if failed_items.contains(id) {
            "partial failure"
        } else {
            "success"
        };
        event(
            out,
            &format!("digiprovMD_item_{id}"),
            &uuid(&["item", &id.to_string(), input.objid]),
            "capture",
            at,
            &format!("item {id} read from {}", input.site),
            outcome,
            &[SHARC_AGENT, PORTAL_AGENT],
        )?;
        agents(out, &format!("item_{id}"), input.site)?;
        writeln!(out, "  </mets:amdSec>")?;
    }

    // Each file: its object and events.
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (path, fixity)) in input.payload.iter().enumerate() {
        index.insert(path, i);
        let payload_path = format!("data/{path}");
        let file_uuid = uuid(&["file", &payload_path]);
        let name = path.rsplit('/').next().unwrap_or(path);
        let url = urls.get(path.as_str()).copied();
        let original = url.map(original_name).unwrap_or_else(|| name.to_string());
        writeln!(out, r#"  <mets:amdSec ID="amdSec_{i}">"#)?;
        writeln!(
            out,
            r#"    <mets:techMD ID="techMD_{i}"><mets:mdWrap MDTYPE="PREMIS:OBJECT"><mets:xmlData><premis:object xsi:type="premis:file" version="3.0"><premis:objectIdentifier><premis:objectIdentifierType>UUID</premis:objectIdentifierType><premis:objectIdentifierValue>{file_uuid}</premis:objectIdentifierValue></premis:objectIdentifier><premis:objectIdentifier><premis:objectIdentifierType>sharc payload path</premis:objectIdentifierType><premis:objectIdentifierValue>{}</premis:objectIdentifierValue></premis:objectIdentifier><premis:objectCharacteristics><premis:compositionLevel>0</premis:compositionLevel><premis:fixity><premis:messageDigestAlgorithm>sha256</premis:messageDigestAlgorithm><premis:messageDigest>{}</premis:messageDigest><premis:messageDigestOriginator>sharc</premis:messageDigestOriginator></premis:fixity><premis:fixity><premis:messageDigestAlgorithm>sha512</premis:messageDigestAlgorithm><premis:messageDigest>{}</premis:messageDigest><premis:messageDigestOriginator>sharc</premis:messageDigestOriginator></premis:fixity><premis:size>{}</premis:size><premis:format><premis:formatDesignation><premis:formatName>{}</premis:formatName></premis:formatDesignation></premis:format></premis:objectCharacteristics><premis:originalName>{}</premis:originalName></premis:object></mets:xmlData></mets:mdWrap></mets:techMD>"#,
            esc(&payload_path),
            fixity.sha256,
            fixity.sha512,
            fixity.size,
            esc(media_type(path)),
            esc(&original)
        )?;
        let captured_at = owner
            .get(path.as_str())
            .map(|(_, at)| at.as_str())
            .unwrap_or(input.created);
        let (kind, detail) = match url {
            Some(u) => ("capture", format!("fetched from {u}")),
            None => (
                "creation",
                "written by sharc from what the portal served".to_string(),
            ),
        };
        event(
            out,
            &format!("digiprovMD_{i}_0"),
            &uuid(&[kind, &payload_path]),
            kind,
            captured_at,
            &detail,
            "success",
            &[SHARC_AGENT, PORTAL_AGENT],
        )?;
        event(
            out,
            &format!("digiprovMD_{i}_1"),
            &uuid(&["fixity check", &payload_path]),
            "fixity check",
            input.created,
            "sha256 and sha512 computed from the bytes as they were written, equal to the bag's manifests",
            "pass",
            &[SHARC_AGENT],
        )?;
        if original != name {
            event(
                out,
                &format!("digiprovMD_{i}_2"),
                &uuid(&["filename change", &payload_path]),
                "filename change",
                input.created,
                &format!(
                    "portable payload name {name} given to the file the portal named {original}"
                ),
                "success",
                &[SHARC_AGENT],
            )?;
        }
        agents(out, &i.to_string(), input.site)?;
        writeln!(out, "  </mets:amdSec>")?;
    }

    writeln!(out, r#"  <mets:fileSec><mets:fileGrp USE="original">"#)?;
    for (i, (path, fixity)) in input.payload.iter().enumerate() {
        let payload_path = format!("data/{path}");
        writeln!(
            out,
            r#"    <mets:file ID="file-{}" ADMID="amdSec_{i}" MIMETYPE="{}" SIZE="{}" CHECKSUM="{}" CHECKSUMTYPE="SHA-256"><mets:FLocat LOCTYPE="OTHER" OTHERLOCTYPE="SYSTEM" xlink:href="{}"/></mets:file>"#,
            uuid(&["file", &payload_path]),
            esc(media_type(path)),
            fixity.size,
            fixity.sha256,
            esc(&href(&payload_path))
        )?;
    }
    writeln!(out, "  </mets:fileGrp></mets:fileSec>")?;

    writeln!(
        out,
        r#"  <mets:structMap ID="structMap_1" TYPE="physical" LABEL="items and their files">"#
    )?;
    writeln!(
        out,
        r#"    <mets:div TYPE="Directory" LABEL="{}" ADMID="amdSec_bag">"#,
        esc(input.label)
    )?;
    let item_div = |out: &mut dyn Write, path: &str| -> io::Result<()> {
        let name = path.rsplit('/').next().unwrap_or(path);
        writeln!(
            out,
            r#"        <mets:div TYPE="Item" LABEL="{}"><mets:fptr FILEID="file-{}"/></mets:div>"#,
            esc(name),
            uuid(&["file", &format!("data/{path}")])
        )
    };
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    for (id, record, _, files) in &items {
        writeln!(
            out,
            r#"      <mets:div TYPE="Directory" LABEL="item {id}" ADMID="amdSec_item_{id}">"#
        )?;
        for p in std::iter::once(record).chain(files.iter()) {
            if index.contains_key(p.as_str()) && placed.insert(p.as_str()) {
                item_div(out, p)?;
            }
        }
        writeln!(out, "      </mets:div>")?;
    }
    for path in input.payload.keys() {
        if !placed.contains(path.as_str()) {
            item_div(out, path)?;
        }
    }
    writeln!(out, "    </mets:div>")?;
    writeln!(out, "  </mets:structMap>")?;
    writeln!(out, "</mets:mets>")?;
    Ok(())
}

/// One PREMIS event in its own `digiprovMD`.
#[allow(clippy::too_many_arguments)]
fn event(
    out: &mut impl Write,
    id: &str,
    event_uuid: &str,
    kind: &str,
    at: &str,
    detail: &str,
    outcome: &str,
    agents: &[&str],
) -> io::Result<()> {
    let mut links = String::new();
    for a in agents {
        links.push_str(&format!(
            "<premis:linkingAgentIdentifier><premis:linkingAgentIdentifierType>sharc agent</premis:linkingAgentIdentifierType><premis:linkingAgentIdentifierValue>{a}</premis:linkingAgentIdentifierValue></premis:linkingAgentIdentifier>"
        ));
    }
    writeln!(
        out,
        r#"    <mets:digiprovMD ID="{id}"><mets:mdWrap MDTYPE="PREMIS:EVENT"><mets:xmlData><premis:event version="3.0"><premis:eventIdentifier><premis:eventIdentifierType>UUID</premis:eventIdentifierType><premis:eventIdentifierValue>{event_uuid}</premis:eventIdentifierValue></premis:eventIdentifier><premis:eventType>{}</premis:eventType><premis:eventDateTime>{}</premis:eventDateTime><premis:eventDetailInformation><premis:eventDetail>{}</premis:eventDetail></premis:eventDetailInformation><premis:eventOutcomeInformation><premis:eventOutcome>{}</premis:eventOutcome></premis:eventOutcomeInformation>{links}</premis:event></mets:xmlData></mets:mdWrap></mets:digiprovMD>"#,
        esc(kind),
        esc(at),
        esc(detail),
        esc(outcome)
    )
}

/// The two agents, sharc and the portal, in `digiprovMD`s of the amdSec `scope`.
fn agents(out: &mut impl Write, scope: &str, site: &str) -> io::Result<()> {
    for (n, (value, name, kind, version)) in [
        (
            SHARC_AGENT,
            "sharc".to_string(),
            "software",
            Some(env!("CARGO_PKG_VERSION")),
        ),
        (PORTAL_AGENT, site.to_string(), "organization", None),
    ]
    .into_iter()
    .enumerate()
    {
        let version = version
            .map(|v| format!("<premis:agentVersion>{v}</premis:agentVersion>"))
            .unwrap_or_default();
        writeln!(
            out,
            r#"    <mets:digiprovMD ID="digiprovMD_agent_{scope}_{n}"><mets:mdWrap MDTYPE="PREMIS:AGENT"><mets:xmlData><premis:agent version="3.0"><premis:agentIdentifier><premis:agentIdentifierType>sharc agent</premis:agentIdentifierType><premis:agentIdentifierValue>{value}</premis:agentIdentifierValue></premis:agentIdentifier><premis:agentName>{}</premis:agentName><premis:agentType>{kind}</premis:agentType>{version}</premis:agent></mets:xmlData></mets:mdWrap></mets:digiprovMD>"#,
            esc(&name)
        )?;
    }
    Ok(())
}

fn read_record(path: &Path) -> Option<Record> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The media type of a payload file, by its name.
fn media_type(path: &str) -> &'static str {
    if path.ends_with(".warc.gz") {
        return "application/warc";
    }
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("json") => "application/json",
        Some("tsv") => "text/tab-separated-values",
        Some("cdxj") => "text/plain",
        _ => super::media_type_for(path),
    }
}

/// The name the portal served a file under: the last segment of its URL, percent-decoded.
fn original_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').next().unwrap_or(path);
    let decoded = percent_encoding::percent_decode_str(last).decode_utf8_lossy();
    unicode_normalization::UnicodeNormalization::nfc(decoded.as_ref()).collect()
}

/// A bag-relative path as a URI reference: bytes other than unreserved ones and `/`
/// percent-encoded.
fn href(path: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(path, SET).to_string()
}

/// An RFC 3339 instant as `CREATEDATE`: UTC without a zone suffix, as Archivematica writes
/// it (readers such as metsrw compare it with their own clock in that form).
fn xs_datetime(s: &str) -> String {
    match s.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        Err(_) => s.to_string(),
    }
}

/// Text for XML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A name-based UUID (version 8) from `parts`: the same inputs give the same id.
fn uuid(parts: &[&str]) -> String {
    let mut bytes = Vec::new();
    for p in parts {
        bytes.extend_from_slice(p.as_bytes());
        bytes.push(0);
    }
    let d = crate::fixity::of_bytes(&bytes).sha256;
    let mut h: Vec<u8> = (0..16)
        .filter_map(|i| u8::from_str_radix(d.get(i * 2..i * 2 + 2)?, 16).ok())
        .collect();
    h.resize(16, 0);
    h[6] = (h[6] & 0x0f) | 0x80;
    h[8] = (h[8] & 0x3f) | 0x80;
    let x: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// What a METS document says of one file: its payload path and its PREMIS fixity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetsFixity {
    /// The bag-relative path (`data/…`), from the object's `sharc payload path` identifier.
    pub path: String,
    /// `(algorithm, digest)` pairs, as written.
    pub fixity: Vec<(String, String)>,
}

/// Reads the PREMIS objects of the METS document `xml`, handing each file's path and fixity
/// to `each`, in bounded memory (one object at a time). An error says where the document
/// stops being readable XML.
pub fn read_fixity(xml: impl io::BufRead, mut each: impl FnMut(MetsFixity)) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut current: Option<MetsFixity> = None;
    let (mut id_type, mut algorithm, mut text) = (String::new(), String::new(), String::new());
    loop {
        let at = reader.buffer_position();
        let bad = |e: &dyn std::fmt::Display| format!("at byte {at}: {e}");
        match reader.read_event_into(&mut buf).map_err(|e| bad(&e))? {
            Event::Eof => return Ok(()),
            Event::Start(e) => {
                if e.local_name().as_ref() == "object" {
                    current = Some(MetsFixity::default());
                }
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref().map_err(|e| bad(&e))? {
                Some(c) => text.push(c),
                None => {
                    let name = r.xml10_content();
                    let entity = quick_xml::escape::resolve_xml_entity(&name)
                        .ok_or_else(|| bad(&format!("an unknown entity `&{name};`")))?;
                    text.push_str(entity);
                }
            },
            Event::End(e) => {
                let name = e.local_name();
                match (name.as_ref(), current.as_mut()) {
                    ("object", Some(_)) => {
                        if let Some(obj) = current.take() {
                            each(obj);
                        }
                    }
                    ("objectIdentifierType", Some(_)) => id_type = std::mem::take(&mut text),
                    ("objectIdentifierValue", Some(obj)) if id_type == "sharc payload path" => {
                        obj.path = std::mem::take(&mut text);
                    }
                    ("messageDigestAlgorithm", Some(_)) => algorithm = std::mem::take(&mut text),
                    ("messageDigest", Some(obj)) => {
                        obj.fixity
                            .push((algorithm.clone(), std::mem::take(&mut text)));
                    }
                    _ => {}
                }
                text.clear();
            }
            _ => {}
        }
        buf.clear();
    }
}
