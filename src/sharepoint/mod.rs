//! What is SharePoint's alone: OData envelopes, SOAP envelopes and the 2010 value encodings,
//! internal field names, built-in fields, error bodies.
//!
//! Nothing here does I/O. The REST and SOAP sources feed response bodies in and get plain
//! JSON objects, names and error messages out, whichever of the three JSON shapes or the SOAP
//! service a farm speaks.

pub mod builtins;
pub mod error_body;
pub mod names;
pub mod odata;
pub mod soap;

pub use odata::{Entity, Page, Shape};
