//! Terraform plan JSON (`terraform show -json`). (stub: being written)
use super::{Parsed, Parser};
use crate::{files::SourceFile, workload::ResourceKind};

pub struct TerraformPlan;

impl Parser for TerraformPlan {
    fn kind(&self) -> ResourceKind {
        ResourceKind::TerraformPlan
    }
    fn claims(&self, path: &str, _bytes: &[u8]) -> bool {
        super::has_ext(path, ".json")
            && std::str::from_utf8(&_bytes[.._bytes.len().min(4096)]).is_ok_and(|s| {
                s.contains("\"format_version\"")
                    && (s.contains("planned_values")
                        || s.contains("resource_changes")
                        || s.contains("terraform_version"))
            })
    }
    fn parse(&self, _files: &[&SourceFile]) -> Parsed {
        Parsed::default()
    }
}
