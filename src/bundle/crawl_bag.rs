//! What a crawl says about the bag it made: its `bag-info.txt`, the map from each file's
//! original URL to its payload path, and the profile it follows.
//!
//! The crawl hands over plain values (who sent the bag, where it came from, whether every item
//! made it); this module lays them out the way every sharc bag has them, so two crawls of the
//! same portal describe their bags alike and the profile's promises hold.

use super::BagInfo;
use super::profile::{PROFILE_IDENTIFIER, PROFILE_JSON, PROFILE_TAG_FILE};
use jiff::civil::Date;

/// Where the path map sits in the payload.
pub const PATH_MAP: &str = "path-map.tsv";

/// Where the crawl report sits in the payload.
pub const CRAWL_REPORT: &str = "crawl-report.json";

/// What the file of a run's statistics, beside the bag, adds to the bag's name.
pub const RUN_STATS_SUFFIX: &str = ".sharc-run.json";

/// Where the statistics of the run that finished the bag at `out` go: beside it, outside the
/// bag, so that a resumed crawl and an uninterrupted one give the same bag, tag files and
/// tag manifests included (`stp` → `stp.sharc-run.json`, `stp.zip` → `stp.zip.sharc-run.json`).
pub fn run_stats_path(out: &std::path::Path) -> std::path::PathBuf {
    let mut name = out.as_os_str().to_os_string();
    name.push(RUN_STATS_SUFFIX);
    name.into()
}

/// What a crawl tells the bag about itself.
#[derive(Debug, Clone, Default)]
pub struct CrawlDescription {
    /// `Source-Organization`.
    pub source_organization: String,
    /// `External-Identifier`.
    pub external_identifier: String,
    /// `External-Description`.
    pub external_description: Option<String>,
    /// `Contact-Name`.
    pub contact_name: Option<String>,
    /// `Contact-Email`.
    pub contact_email: Option<String>,
    /// `Source-URL`: the site crawled.
    pub source_url: String,
    /// `Bagging-Date`.
    pub bagging_date: Option<Date>,
    /// Items and files that failed; none makes the bag complete.
    pub failures: usize,
}

impl CrawlDescription {
    /// The bag-info elements and tag files, in the order every sharc bag has them.
    pub fn bag_info(self) -> BagInfo {
        let mut extra = Vec::new();
        if let Some(c) = self.contact_name {
            extra.push(("Contact-Name".into(), c));
        }
        if let Some(c) = self.contact_email {
            extra.push(("Contact-Email".into(), c));
        }
        extra.push(("Source-URL".into(), self.source_url));
        let status = match self.failures {
            0 => "complete".to_string(),
            n => format!("partial: {n} failure(s), listed in data/{CRAWL_REPORT}"),
        };
        extra.push(("Sharc-Crawl-Status".into(), status));
        extra.push(("BagIt-Profile-Identifier".into(), PROFILE_IDENTIFIER.into()));
        BagInfo {
            source_organization: Some(self.source_organization),
            external_identifier: Some(self.external_identifier),
            external_description: self.external_description,
            bagging_date: self.bagging_date,
            software_agent: Some(format!("sharc/{}", env!("CARGO_PKG_VERSION"))),
            extra,
            tag_files: vec![(PROFILE_TAG_FILE.into(), PROFILE_JSON.into())],
        }
    }
}

/// The path map, written as it is read: a header, then `original URL <TAB> payload path` per
/// file, in the order given (the crawl gives them sorted by URL).
pub struct PathMapWriter<W: std::io::Write> {
    out: W,
}

impl<W: std::io::Write> PathMapWriter<W> {
    /// Starts the path map in `out` with its header.
    pub fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"original_url\tpayload_path\n")?;
        Ok(Self { out })
    }

    /// Adds one file.
    pub fn file(&mut self, url: &str, path: &str) -> std::io::Result<()> {
        for part in [url, "\t", path, "\n"] {
            self.out.write_all(part.as_bytes())?;
        }
        Ok(())
    }

    /// Where it was written.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_crawl_says_so_and_names_its_profile() {
        let info = CrawlDescription {
            source_organization: "Sở Tư pháp tỉnh Long An".into(),
            external_identifier: "urn:sharc:x:1:2025-07-01".into(),
            contact_email: Some("a@b".into()),
            source_url: "http://127.0.0.1/".into(),
            failures: 2,
            ..Default::default()
        }
        .bag_info();
        let labels: Vec<&str> = info.extra.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Contact-Email",
                "Source-URL",
                "Sharc-Crawl-Status",
                "BagIt-Profile-Identifier"
            ]
        );
        assert_eq!(
            info.extra[2].1,
            "partial: 2 failure(s), listed in data/crawl-report.json"
        );
        let names: Vec<&str> = info.tag_files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["bagit-profile.json"],
            "run statistics stay outside the bag"
        );
    }

    #[test]
    fn the_path_map_is_one_line_per_file_under_a_header() -> std::io::Result<()> {
        let mut map = PathMapWriter::new(Vec::new())?;
        map.file("http://h/a%20b.pdf", "data/files/a-b.pdf")?;
        assert_eq!(
            map.into_inner(),
            b"original_url\tpayload_path\nhttp://h/a%20b.pdf\tdata/files/a-b.pdf\n"
        );
        Ok(())
    }
}
