//! CloudFormation templates (YAML and JSON, short-form intrinsic tags). (stub: being written)
use super::{Parsed, Parser};
use crate::{files::SourceFile, workload::ResourceKind};

pub struct CloudFormation;

impl Parser for CloudFormation {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Cloudformation
    }
    fn claims(&self, _path: &str, _bytes: &[u8]) -> bool {
        false
    }
    fn parse(&self, _files: &[&SourceFile]) -> Parsed {
        Parsed::default()
    }
}
