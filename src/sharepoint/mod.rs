//! What is SharePoint's alone: OData envelopes, internal field names, built-in fields, error
//! bodies.
//!
//! Nothing here does I/O. The REST source feeds response bodies in and gets plain JSON
//! objects, names and error messages out, whichever of the three JSON shapes a farm speaks.

pub mod builtins;
pub mod error_body;
pub mod names;
pub mod odata;

pub use odata::{Entity, Page, Shape};
