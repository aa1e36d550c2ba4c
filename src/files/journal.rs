//! What each journaled payload file of a staged bag stands for, typed.
//!
//! The bag writer journals every payload file with an opaque JSON key; the crawl's keys are
//! these: a file with the URL and server path it came from, or the record of an item that is
//! complete. A resumed run reads them back to keep what is there.

use crate::bundle::journal::JournalEntry;
use serde::{Deserialize, Serialize};

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
}
