//! The sample portal: a SharePoint farm emulator served on loopback for `sharc serve`,
//! `sharc demo` and sharc's tests.
//!
//! The crawler must be tested against something that answers like a SharePoint farm —
//! three JSON shapes, `__next` paging that ignores `$skip`, attachments with awkward names,
//! error bodies with SharePoint's codes — without touching the network. This crate loads a
//! portal directory (`samples/README.md` describes the layout) and serves it from an
//! in-process HTTP server on 127.0.0.1.
//!
//! It is its own crate, and it does not depend on sharc: the farm is the oracle the client is
//! checked against, so it keeps its own small helpers (dates, media types, title order)
//! instead of sharing the client's code — a bug there cannot hide by being on both sides of
//! the wire. The `sharc` binary uses it for `serve` and `demo`; sharc's library does not
//! know it.
//!
//! - [`data`] loads and checks the directory.
//! - [`server`] runs the HTTP server ([`RunningPortal`]) with its behaviour switches
//!   ([`PortalOptions`]).
//! - [`farm`] turns the sample into another farm of the same content type ([`Farm`]): a
//!   Vietnamese-language site with other list and column names.
//! - [`faults`] injects a deterministic schedule of throttling and broken answers
//!   ([`FaultPlan`]), so the crawler's retries meet real faults on loopback.
//! - The private modules parse SharePoint's OData request grammar, build and render entities
//!   in each shape, evaluate the small `$filter` subset, and stream files.
//! - `html` renders the public pages an anonymous reader gets when `/_api` is closed: the
//!   paged news list, article pages shaped like the seed page, robots.txt.
//! - `grow` grows the sample to any number of items ([`Portal::grown`]), with generated
//!   attachments and images of realistic sizes, for measuring a crawler.
//! - [`changes`] changes the portal between two runs of a client (`POST /_sharc/change`),
//!   for tests of incremental backups.
//! - [`soap`] answers as SharePoint 2010 ([`Sp2010`]): no `/_api`, the lists over the SOAP
//!   web services `Lists.asmx`, `Views.asmx` and `Sites.asmx`.
//! - [`auth`] requires a sign-in ([`AuthOptions`]): bearer, cookie, Basic or NTLM, with fixed
//!   test credentials; signed-in readers see drafts and pending items.

mod api;
pub mod auth;
mod body;
pub mod changes;
pub mod data;
mod error;
pub mod farm;
pub mod faults;
mod files;
mod filter;
mod grow;
mod html;
mod odata;
mod render;
pub mod server;
pub mod soap;
mod state;
mod tree;

pub use auth::{AuthMethod, AuthOptions};
pub use data::Portal;
pub use error::SampleError;
pub use farm::Farm;
pub use faults::{FaultPlan, RetryAfterStyle};
pub use server::RunningPortal;
pub use soap::Sp2010;
pub use state::{ApiAccess, PortalOptions, RequestLog};
