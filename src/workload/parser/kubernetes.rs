//! Kubernetes manifests (multi-document YAML). (stub: being written)
use super::{Parsed, Parser};
use crate::{files::SourceFile, workload::ResourceKind};

pub struct Kubernetes;

impl Parser for Kubernetes {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Kubernetes
    }
    fn claims(&self, _path: &str, _bytes: &[u8]) -> bool {
        false
    }
    fn parse(&self, _files: &[&SourceFile]) -> Parsed {
        Parsed::default()
    }
}
