//! What each journaled payload file of a staged bag stands for, typed.
//!
//! The bag writer journals every payload file with an opaque JSON key; the crawl's keys are
//! these: a file with the URL and server path it came from, or the record of an item that is
//! complete. A resumed run reads them back to keep what is there.
//!
//! The journal's header is the crawl's [`RunIdentity`] — the site, the list and the mapping
//! file — so a run never resumes a staged bag that another crawl left under the same
//! `--out`: records of one site under another's name would make a bag that verifies and
//! lies.

use crate::bundle::journal::JournalEntry;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The key a crawl journals a payload file under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum JournalKey {
    /// A downloaded file.
    File {
        /// The URL it was fetched from.
        url: String,
        /// The decoded server-relative path its payload name was planned from.
        server_path: String,
    },
    /// The record of an item whose files are all in the bag.
    Record {
        /// The item id.
        item_id: i64,
    },
}

impl JournalKey {
    /// The key of a journal entry, when it is one of these.
    pub fn of(entry: &JournalEntry) -> Option<Self> {
        serde_json::from_value(entry.key.clone()).ok()
    }
}

/// Which crawl a staged bag belongs to: journaled as its header, checked on resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// The site URL, without user name or password.
    pub site: String,
    /// The list's id.
    pub list: String,
    /// sha256 of the mapping file's text.
    pub mapping_sha256: String,
}

/// A staged bag that another crawl left: resuming it would mix two crawls in one bag.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} holds the unfinished bag of another crawl: {why}. Resuming it would mix two crawls in one bag: give this crawl another --out, or remove {} to start it afresh",
    staging.display(),
    staging.display()
)]
pub struct OtherCrawl {
    /// The staging directory.
    pub staging: PathBuf,
    /// What differs, in words.
    pub why: String,
}

impl RunIdentity {
    /// The identity of a crawl of list `list` at `site` with the mapping whose text is
    /// `mapping`; a user name or password in `site` is left out.
    pub fn new(site: &url::Url, list: &str, mapping: &str) -> Self {
        let mut site = site.clone();
        let _ = site.set_username("");
        let _ = site.set_password(None);
        Self {
            site: site.to_string(),
            list: list.to_string(),
            mapping_sha256: crate::fixity::of_bytes(mapping.as_bytes()).sha256,
        }
    }

    /// The identity as the journal header holds it.
    pub fn header(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Whether the staged bag in `staging`, whose journal has `header` and files when
    /// `has_files`, may be resumed by this crawl: it may when it is this crawl's, or holds
    /// nothing to keep.
    pub fn check(
        &self,
        staging: &Path,
        header: Option<&serde_json::Value>,
        has_files: bool,
    ) -> Result<(), OtherCrawl> {
        let recorded = header.and_then(|h| serde_json::from_value::<RunIdentity>(h.clone()).ok());
        let why = match recorded {
            Some(r) if r == *self => return Ok(()),
            None if !has_files => return Ok(()),
            Some(r) if r.site != self.site => format!(
                "it is a crawl of {}, and this one is of {}",
                r.site, self.site
            ),
            Some(r) if r.list != self.list => format!(
                "it is a crawl of the list {}, and this one reads the list {}",
                r.list, self.list
            ),
            Some(_) => "it was made with another mapping file (or another version of it)".into(),
            None => "it does not say which crawl it is (it was left by an older sharc)".into(),
        };
        Err(OtherCrawl {
            staging: staging.to_path_buf(),
            why,
        })
    }
}

/// The payload path of an item's record, below `data/`.
pub fn record_path(item_id: i64) -> String {
    format!("records/{item_id:06}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_a_journal_entry() {
        for key in [
            JournalKey::File {
                url: "http://127.0.0.1/Lists/X/Attachments/1/K%E1%BA%BF.pdf".into(),
                server_path: "/Lists/X/Attachments/1/Kế.pdf".into(),
            },
            JournalKey::Record { item_id: 42 },
        ] {
            let entry = JournalEntry {
                path: "x".into(),
                fixity: crate::fixity::of_bytes(b""),
                key: serde_json::to_value(&key).unwrap(),
            };
            assert_eq!(JournalKey::of(&entry), Some(key));
        }
        let other = JournalEntry {
            path: "x".into(),
            fixity: crate::fixity::of_bytes(b""),
            key: serde_json::Value::Null,
        };
        assert_eq!(JournalKey::of(&other), None);
    }

    #[test]
    fn a_staged_bag_is_resumed_only_by_its_own_crawl() {
        let site = url::Url::parse("http://alice:s3cr3t@127.0.0.1:8080/sites/stp/").unwrap();
        let me = RunIdentity::new(&site, "3de2e36d", "[list]\ntitle = \"x\"\n");
        assert_eq!(
            me.site, "http://127.0.0.1:8080/sites/stp/",
            "no credentials"
        );
        let staging = Path::new("/tmp/bag.sharc-partial");
        assert!(me.check(staging, Some(&me.header()), true).is_ok());
        assert!(me.check(staging, None, false).is_ok(), "nothing to keep");
        let other_site = RunIdentity {
            site: "http://127.0.0.1:9090/".into(),
            ..me.clone()
        };
        let other_list = RunIdentity {
            list: "other".into(),
            ..me.clone()
        };
        let other_mapping = RunIdentity::new(&site, "3de2e36d", "[list]\ntitle = \"y\"\n");
        for (other, says) in [
            (&other_site, "http://127.0.0.1:9090/"),
            (&other_list, "the list other"),
            (&other_mapping, "another mapping file"),
        ] {
            let e = me.check(staging, Some(&other.header()), true).unwrap_err();
            let message = e.to_string();
            assert!(message.contains(says), "{message}");
            assert!(
                message.contains("--out") && message.contains("bag.sharc-partial"),
                "{message}"
            );
        }
        let e = me.check(staging, None, true).unwrap_err();
        assert!(e.to_string().contains("older sharc"), "{e}");
    }
}
