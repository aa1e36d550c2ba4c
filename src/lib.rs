//! sharc archives SharePoint-based portals into verifiable BagIt bundles.
//!
//! The modules follow the pipeline: a [`source`] adapter reads raw list items from a portal
//! (through [`fetch`] and the SharePoint knowledge in [`sharepoint`]), [`mapping`] turns each
//! raw item into a neutral [`record::Record`] using a mapping file and the helpers in
//! [`text`], the [`files`] step downloads the files a record points to with their [`fixity`]
//! computed on the way, and [`bundle`] writes and verifies the BagIt bag; [`report`] words
//! what happened. [`app`] holds one function per command and is the only place that knows
//! about all of them.
//!
//! The modules are layered, each using only those below it: `ARCHITECTURE.md` in the
//! repository lists what each may import and where new sources, output formats and checks
//! go, and `tests/architecture.rs` holds the code to it.
//!
//! The sample portal that `sharc serve`, `sharc demo` and the tests crawl is its own crate
//! (`samples/server`, `sharc-sample`): the library knows portals only through their URL.

pub mod app;
pub mod bundle;
pub mod error;
pub mod fetch;
pub mod files;
pub mod fixity;
pub mod mapping;
pub mod record;
pub mod report;
pub mod sharepoint;
pub mod source;
pub mod state;
pub mod text;
