//! The bundled sample portal, served on loopback for `sharc serve`, `sharc demo` and tests.
//!
//! The crawler must be tested against something that answers like a SharePoint farm —
//! three JSON shapes, `__next` paging that ignores `$skip`, attachments with awkward names,
//! error bodies with SharePoint's codes — without touching the network. This module loads a
//! portal directory (`samples/README.md` describes the layout) and serves it from an
//! in-process HTTP server on 127.0.0.1.
//!
//! - [`data`] loads and checks the directory.
//! - [`server`] runs the HTTP server ([`RunningPortal`]) with its behaviour switches
//!   ([`PortalOptions`]).
//! - [`faults`] injects a deterministic schedule of throttling and broken answers
//!   ([`FaultPlan`]), so the crawler's retries meet real faults on loopback.
//! - The private modules parse SharePoint's OData request grammar, build and render entities
//!   in each shape, evaluate the small `$filter` subset, and stream files.
//! - `html` renders the public pages an anonymous reader gets when `/_api` is closed: the
//!   paged news list, article pages shaped like the seed page, robots.txt.

mod api;
pub mod data;
mod error;
pub mod faults;
mod files;
mod filter;
mod html;
mod odata;
mod render;
pub mod server;

pub use data::Portal;
pub use error::SampleError;
pub use faults::{FaultPlan, RetryAfterStyle};
pub use server::{ApiAccess, PortalOptions, RequestLog, RunningPortal};
