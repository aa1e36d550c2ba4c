//! Mapping files: how a portal's list fields become neutral record fields.
//!
//! A mapping names a list, optionally its content type, and for each neutral field the
//! portal field it comes from — by display name as the portal shows it ("Ngày xuất bản") or
//! by internal name — and a conversion. Internal names differ from farm to farm, so names
//! are resolved against the list's own `/fields` ([`resolve`]), never guessed; items are then
//! turned into records by [`apply`] using the conversions in [`convert`]. A portal readable
//! only through its public pages also gets an `[html]` section ([`html`]): the page layout,
//! which differs from vendor to vendor, lives there rather than in code, and is compiled into
//! the HTML source's own [`Layout`](crate::source::html::Layout).

pub mod apply;
pub mod check;
pub mod convert;
pub mod draft;
pub mod file;
pub mod html;
pub mod resolve;
pub mod spec;

pub use apply::{ItemContext, MapError, MappedItem};
pub use file::Mapping;
pub use resolve::{BindProblem, ResolvedMapping};
pub use spec::{Conversion, FieldSpec};

use std::path::PathBuf;

/// A mapping that cannot be used. Every variant is a configuration error (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The mapping file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or missing keys.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The mapping file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// Keys are valid but their values do not fit together.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The `[html]` section cannot be used.
    #[error("{}: {source}", path.display())]
    Html {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong, with its line.
        source: html::HtmlSectionError,
    },
    /// Fields named by the mapping do not exist in the list.
    #[error("{}", missing_message(list, missing))]
    MissingFields {
        /// The list title.
        list: String,
        /// Each missing field with the closest existing names.
        missing: Vec<MissingField>,
    },
    /// A field exists but its type does not suit the conversion.
    #[error("list `{list}`: {message}")]
    TypeMismatch {
        /// The list title.
        list: String,
        /// What does not fit.
        message: String,
    },
    /// The content type named by the mapping is not on the list.
    #[error("list `{list}` has no content type `{wanted}`; it has: {}", available.join(", "))]
    MissingContentType {
        /// The list title.
        list: String,
        /// The name asked for.
        wanted: String,
        /// The names that exist.
        available: Vec<String>,
    },
}

/// One field a mapping names that the list lacks.
#[derive(Debug, Clone)]
pub struct MissingField {
    /// The neutral field it was meant for.
    pub neutral: crate::record::NeutralField,
    /// How the mapping named it.
    pub wanted: String,
    /// The closest fields that exist.
    pub closest: Vec<resolve::Suggestion>,
}

impl MissingField {
    /// `neutral = `wanted`` and the closest fields that exist.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} = `{}` is not a field of the list",
            self.neutral, self.wanted
        );
        if !self.closest.is_empty() {
            let names: Vec<String> = self.closest.iter().map(|c| c.to_string()).collect();
            s.push_str(&format!(" — closest existing: {}", names.join("; ")));
        }
        s
    }
}

fn missing_message(list: &str, missing: &[MissingField]) -> String {
    let mut s = format!(
        "list `{list}` lacks {} field(s) the mapping names:",
        missing.len()
    );
    for m in missing {
        s.push_str(&format!("\n  {}", m.describe()));
    }
    s.push_str("\nfix the names in the mapping's [fields] section (display names as the portal shows them, or `internal = \"…\"`)");
    s
}
