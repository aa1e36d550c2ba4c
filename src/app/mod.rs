//! One function per command: glue that calls the layers below, nothing clever.

pub mod backup;
pub mod clock;
pub mod crawl;
pub mod demo;
pub mod inspect;
pub mod mapping_check;
pub mod restore;
pub mod verify;

/// How a command that ran to the end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked.
    Success,
    /// `verify` found the bundle invalid.
    Invalid,
    /// Finished, but some items or files failed.
    Partial,
    /// Finished partial with no item archived at all: nothing to keep.
    NothingArchived,
    /// `mapping check` found problems in the mapping.
    MappingProblems,
}

impl Outcome {
    /// The exit code of this outcome.
    pub fn exit_code(self) -> crate::error::ExitCode {
        use crate::error::ExitCode;
        match self {
            Outcome::Success => ExitCode::Success,
            Outcome::Invalid => ExitCode::Invalid,
            Outcome::Partial => ExitCode::Partial,
            Outcome::NothingArchived => ExitCode::Operational,
            Outcome::MappingProblems => ExitCode::Usage,
        }
    }
}
