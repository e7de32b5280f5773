//! Workloads: the infrastructure code Railyard judges. A workload's files are parsed into the
//! documented policy input (`docs/input.md`): every resource with its file and line.

pub mod input;
pub mod links;
pub mod parser;
pub mod position;
pub mod registry;

pub use input::{Input, Resource, ResourceKind, WorkloadInfo};
pub use parser::{parse_files, ParseError, Parsed};
