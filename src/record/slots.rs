//! The places in a record that point to a file in the bag, and the files they want.
//!
//! A mapped record comes out with every `file` empty and a list of [`WantedFile`]s: which
//! slot each fills, where to fetch it, and the name it had on the server. Once a file is in
//! the bag with its fixity, [`Record::fill`] puts its [`FileRef`] into the slot.

use super::{FileRef, Record};
use url::Url;

/// Which slot of a record a file fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSlot {
    /// `record.attachments[i]`.
    Attachment(usize),
    /// `record.image`.
    Image,
    /// `record.body.images[i]`.
    BodyImage(usize),
}

/// One file a record points to, to be archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedFile {
    /// Which slot of the record it fills.
    pub slot: FileSlot,
    /// The absolute URL.
    pub url: Url,
    /// The server-relative path, decoded, that names the file in the bag.
    pub path: String,
}

impl Record {
    /// Puts `file` into `slot`; a slot the record does not have is left alone.
    pub fn fill(&mut self, slot: FileSlot, file: FileRef) {
        let target = match slot {
            FileSlot::Attachment(i) => self.attachments.get_mut(i).map(|a| &mut a.file),
            FileSlot::Image => self.image.as_mut().map(|img| &mut img.file),
            FileSlot::BodyImage(i) => self
                .body
                .as_mut()
                .and_then(|b| b.images.get_mut(i))
                .map(|img| &mut img.file),
        };
        if let Some(target) = target {
            *target = Some(file);
        }
    }
}
