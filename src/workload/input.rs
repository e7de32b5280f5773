//! The policy input: what a guardrail's Rego sees as `input`. Its shape is a public contract,
//! documented in `docs/input.md`; extend it, never change a field's meaning.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which parser produced a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Terraform,
    TerraformPlan,
    Cloudformation,
    Kubernetes,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Terraform => "terraform",
            ResourceKind::TerraformPlan => "terraform-plan",
            ResourceKind::Cloudformation => "cloudformation",
            ResourceKind::Kubernetes => "kubernetes",
        }
    }
}

/// One addressable piece of infrastructure code.
///
/// * Terraform: `address` is `aws_s3_bucket.logs`, `data.aws_iam_policy_document.x`,
///   `module.vpc` or `provider.aws` (`provider.aws.west` with an alias); `mode` is
///   `managed`, `data`, `module` or `provider`.
/// * Terraform plan: the plan's own address (`module.x.aws_s3_bucket.y[0]`), mode from the plan.
/// * CloudFormation: `AWS::S3::Bucket.LogicalId`; `name` is the logical id; `config` is `Properties`.
/// * Kubernetes: `Kind.namespace.name` (namespace `default` when unset); `config` is the whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub address: String,
    #[serde(rename = "type")]
    pub r#type: String,
    pub name: String,
    pub kind: ResourceKind,
    pub mode: String,
    /// Path relative to the workload root, `/`-separated.
    pub file: String,
    /// First line of the resource's definition (1-based).
    pub line: usize,
    /// Last line of the resource's definition (1-based, inclusive).
    pub end_line: usize,
    pub config: serde_json::Value,
    /// Addresses of the resources this one's configuration refers to (see `links.rs`).
    #[serde(default)]
    pub refs: Vec<String>,
    /// Addresses of the resources whose configuration refers to this one.
    #[serde(default)]
    pub referenced_by: Vec<String>,
    /// Their positions in `input.resources`.
    #[serde(default)]
    pub referenced_by_index: Vec<usize>,
}

/// `input.workload`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkloadInfo {
    pub name: String,
    pub team: String,
    pub commit: String,
}

/// The whole `input` document for one workload. Built once per workload and shared by
/// every guardrail evaluated against it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Input {
    pub workload: WorkloadInfo,
    pub resources: Vec<Resource>,
    /// Raw parsed documents by path, for Conftest-style rules that read files directly.
    pub files: BTreeMap<String, serde_json::Value>,
    /// Positions in `resources` by resource type, so a policy finds the resources of one
    /// type without scanning them all.
    #[serde(default)]
    pub types: BTreeMap<String, Vec<usize>>,
}

impl Input {
    pub fn new(workload: WorkloadInfo, resources: Vec<Resource>, files: BTreeMap<String, serde_json::Value>) -> Input {
        let mut types: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in resources.iter().enumerate() {
            types.entry(r.r#type.clone()).or_default().push(i);
        }
        Input {
            workload,
            resources,
            files,
            types,
        }
    }

    pub fn resource(&self, address: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.address == address)
    }
}
