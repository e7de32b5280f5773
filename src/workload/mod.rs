//! Workloads: the infrastructure code Railyard judges. A workload's files are parsed into the
//! documented policy input (`docs/input.md`): every resource with its file and line.

pub mod input;
pub mod links;
pub mod parser;
pub mod position;
pub mod registry;

pub use input::{Input, Resource, ResourceKind, WorkloadInfo};
pub use parser::{parse_files, ParseError, Parsed};

impl crate::files::ReadLimits {
    /// The limits for reading a workload (`--max-file-size`, `--max-workload-size`): only
    /// infrastructure code is read. Defined here, not in `files`, because what is code is
    /// the parsers' call.
    pub fn for_workload(limits: &crate::limits::Limits) -> Self {
        crate::files::ReadLimits {
            max_file_bytes: limits.max_file_bytes,
            max_total_bytes: limits.max_workload_bytes,
            code_only: Some(parser::is_code_path),
        }
    }

    /// [`Self::for_workload`] with the default limits (tests and tools; a run passes its own).
    pub fn workload() -> Self {
        Self::for_workload(&crate::limits::Limits::default())
    }
}
