//! Terraform HCL (`.tf`, `.tf.json`), read statically. (stub: being written)
use super::{Parsed, Parser};
use crate::{files::SourceFile, workload::ResourceKind};

pub struct Terraform;

impl Parser for Terraform {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Terraform
    }
    fn claims(&self, path: &str, _bytes: &[u8]) -> bool {
        super::has_ext(path, ".tf")
            || super::has_ext(path, ".tf.json")
            || super::has_ext(path, ".tfvars")
    }
    fn parse(&self, _files: &[&SourceFile]) -> Parsed {
        Parsed::default()
    }
}
