//! The policy input: what a guardrail's Rego sees as `input`. Its shape is a public contract,
//! documented in `docs/input.md`; extend it, never change a field's meaning.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Defined with file classification (`crate::files`): a skipped file names its kind.
pub use crate::files::ResourceKind;

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
    /// Terraform: the root module folder the resource was instantiated from (a module-expanded
    /// resource lives in the child's file). `None`: the folder of `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
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
    /// The resource's tags as one object whatever the format (see [`tags_of`]); absent when
    /// they are not known statically. Filled by [`Input::new`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<serde_json::Value>,
    /// The resource's identity, unique within the workload (see [`assign_ids`]): what
    /// findings, ledger entries and SARIF fingerprints are keyed by. Filled by [`Input::new`].
    #[serde(default)]
    pub id: String,
}

/// The partition a resource belongs to: the Terraform root module folder (`.` for the
/// workload's root), or the file for a plan, a template or a manifest. Two resources with the
/// same address in one partition are one resource to the deploying tool; in two, two.
pub fn partition_of(r: &Resource) -> String {
    match r.kind {
        ResourceKind::Terraform => match &r.root {
            Some(root) if !root.is_empty() => root.clone(),
            Some(_) => ".".to_string(),
            None => match r.file.rfind('/') {
                Some(i) => r.file[..i].to_string(),
                None => ".".to_string(),
            },
        },
        // An object rendered by a kustomize overlay belongs to the overlay (its folder).
        ResourceKind::Kubernetes => r.root.clone().unwrap_or_else(|| r.file.clone()),
        ResourceKind::TerraformPlan | ResourceKind::Cloudformation => r.file.clone(),
    }
}

/// Gives every resource its `id` (and `root`, see [`partition_of`]):
/// `<partition>:<address>` (Terraform `envs/prod:aws_db_instance.main`,
/// `.:module.db.aws_db_instance.this[0]`; plan `plan.json:aws_s3_bucket.b`;
/// CloudFormation `db.yaml:Database`, the logical id; Kubernetes
/// `k8s/app.yaml:Deployment.default.web`). A residual clash (two documents of one file with
/// one kind/namespace/name) gets `#2`, `#3`… in file order. No line or document index is part
/// of an id, so it stays the same when code above the resource is edited.
pub fn assign_ids(resources: &mut [Resource]) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::with_capacity(resources.len());
    for r in resources.iter_mut() {
        let partition = partition_of(r);
        let local = match r.kind {
            ResourceKind::Cloudformation => r.name.as_str(),
            _ => r.address.as_str(),
        };
        let base = format!("{partition}:{local}");
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        r.id = if *n == 1 { base } else { format!("{base}#{n}") };
        r.root = Some(partition);
    }
}

/// Tags of a resource as an object: Terraform `tags` over `tags_all` (plans), CloudFormation
/// `Tags` (a `[{Key, Value}]` list or a map), Kubernetes `metadata.labels`. `None` when they
/// are not known statically (`tags = merge(var.tags, {...})` with an unresolved variable, a
/// CloudFormation intrinsic function). Computed once here rather than in every policy.
pub fn tags_of(r: &Resource) -> Option<serde_json::Value> {
    use serde_json::{Map, Value};
    let object_or_empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => None,
    };
    match r.kind {
        ResourceKind::Terraform | ResourceKind::TerraformPlan => {
            let mut tags = object_or_empty(r.config.get("tags_all"))?;
            tags.extend(object_or_empty(r.config.get("tags"))?);
            Some(Value::Object(tags))
        }
        ResourceKind::Cloudformation => match r.config.get("Tags") {
            None | Some(Value::Null) => Some(Value::Object(Map::new())),
            Some(Value::Array(entries)) => Some(Value::Object(
                entries
                    .iter()
                    .filter_map(|e| {
                        let key = e.get("Key")?.as_str()?;
                        Some((key.to_string(), e.get("Value").cloned().unwrap_or(Value::from(""))))
                    })
                    .collect(),
            )),
            Some(Value::Object(m))
                if !m
                    .keys()
                    .any(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")) =>
            {
                Some(Value::Object(m.clone()))
            }
            Some(_) => None,
        },
        ResourceKind::Kubernetes => match r.config.get("metadata").and_then(|m| m.get("labels")) {
            None | Some(Value::Null) => Some(Value::Object(Map::new())),
            Some(labels) => Some(labels.clone()),
        },
    }
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
    /// The same for managed resources that will exist: not data sources, providers or
    /// modules, and not a Terraform resource whose `count` is 0. Computed once here because
    /// nearly every guardrail starts from this list, and a policy filtering `types` pays for
    /// it once per guardrail and resource.
    #[serde(default)]
    pub managed: BTreeMap<String, Vec<usize>>,
}

/// A Terraform resource whose `count` is known to be 0 (`count = var.enabled ? 1 : 0` with the
/// default false): Terraform creates no instance, and Checkov skips it.
fn never_created(r: &Resource) -> bool {
    matches!(r.kind, ResourceKind::Terraform | ResourceKind::TerraformPlan)
        && r.config.get("count").and_then(serde_json::Value::as_f64) == Some(0.0)
}

impl Input {
    pub fn new(
        workload: WorkloadInfo,
        mut resources: Vec<Resource>,
        files: BTreeMap<String, serde_json::Value>,
    ) -> Input {
        let mut types: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut managed: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        assign_ids(&mut resources);
        for (i, r) in resources.iter_mut().enumerate() {
            types.entry(r.r#type.clone()).or_default().push(i);
            if r.mode == "managed" && !never_created(r) {
                managed.entry(r.r#type.clone()).or_default().push(i);
            }
            r.tags = tags_of(r);
        }
        Input {
            workload,
            resources,
            files,
            types,
            managed,
        }
    }

    /// Every member but `resources`, serialised as in the whole input (the policy input is
    /// converted in parts, see `PreparedInput::of`).
    pub fn without_resources(&self) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct Rest<'a> {
            workload: &'a WorkloadInfo,
            files: &'a BTreeMap<String, serde_json::Value>,
            types: &'a BTreeMap<String, Vec<usize>>,
            managed: &'a BTreeMap<String, Vec<usize>>,
        }
        Rest {
            workload: &self.workload,
            files: &self.files,
            types: &self.types,
            managed: &self.managed,
        }
    }

    pub fn resource(&self, address: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.address == address)
    }

    /// A copy of the input holding only the resources at `keep` (in order) and the files
    /// they live in, with `types`, `managed` and `referenced_by_index` renumbered (links to
    /// resources left out are dropped). Ids and roots are kept as they are.
    pub fn restricted(&self, keep: &[usize]) -> Input {
        let mut position = std::collections::HashMap::with_capacity(keep.len());
        for (new, old) in keep.iter().enumerate() {
            position.insert(*old, new);
        }
        let mut types: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut managed: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut files = BTreeMap::new();
        let resources: Vec<Resource> = keep
            .iter()
            .enumerate()
            .map(|(i, old)| {
                let mut r = self.resources[*old].clone();
                r.referenced_by_index = r
                    .referenced_by_index
                    .iter()
                    .filter_map(|j| position.get(j).copied())
                    .collect();
                types.entry(r.r#type.clone()).or_default().push(i);
                if r.mode == "managed" && !never_created(&r) {
                    managed.entry(r.r#type.clone()).or_default().push(i);
                }
                if let Some(doc) = self.files.get(&r.file) {
                    files.entry(r.file.clone()).or_insert_with(|| doc.clone());
                }
                r
            })
            .collect();
        Input {
            workload: self.workload.clone(),
            resources,
            files,
            types,
            managed,
        }
    }
}

#[cfg(test)]
mod tags_tests {
    use crate::files::SourceFile;
    use crate::workload::{parse_files, Input, WorkloadInfo};

    #[test]
    fn tags_are_one_object_whatever_the_format_and_absent_when_unknown() {
        let tf = "resource \"aws_s3_bucket\" \"a\" {\n  tags = { owner = \"x\" }\n}\nresource \"aws_s3_bucket\" \"b\" {\n  tags = merge(var.t, { a = 1 })\n}\nresource \"aws_s3_bucket\" \"c\" {}\n";
        let cfn = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n        - Key: owner\n          Value: y\n  C:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags: !Ref Shared\n";
        let k8s = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    owner: z\nspec:\n  containers: []\n";
        let files = vec![
            SourceFile::new("main.tf", tf),
            SourceFile::new("t.yaml", cfn),
            SourceFile::new("k/pod.yaml", k8s),
        ];
        let p = parse_files(&files);
        let input = Input::new(WorkloadInfo::default(), p.resources, p.documents);
        let tags = |address: &str| {
            input
                .resource(address)
                .unwrap_or_else(|| {
                    panic!(
                        "{address} in {:?}",
                        input.resources.iter().map(|r| &r.address).collect::<Vec<_>>()
                    )
                })
                .tags
                .clone()
        };
        assert_eq!(tags("aws_s3_bucket.a"), Some(serde_json::json!({"owner": "x"})));
        assert_eq!(tags("aws_s3_bucket.b"), None);
        assert_eq!(tags("aws_s3_bucket.c"), Some(serde_json::json!({})));
        assert_eq!(tags("AWS::S3::Bucket.B"), Some(serde_json::json!({"owner": "y"})));
        assert_eq!(tags("AWS::S3::Bucket.C"), None);
        assert_eq!(tags("Pod.default.p"), Some(serde_json::json!({"owner": "z"})));
    }
}

#[cfg(test)]
mod identity_tests {
    use crate::files::SourceFile;
    use crate::workload::{parse_files, Input, WorkloadInfo};

    #[test]
    fn every_resource_has_an_id_unique_in_the_workload() {
        let db = "resource \"aws_db_instance\" \"main\" {}\n";
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: {}\n";
        let cfn = "Resources:\n  Database:\n    Type: AWS::RDS::DBInstance\n";
        let files = vec![
            SourceFile::new("main.tf", db),
            SourceFile::new("envs/dev/main.tf", db),
            SourceFile::new("envs/prod/main.tf", db),
            SourceFile::new("k/pods.yaml", format!("{pod}---\n{pod}")),
            SourceFile::new("a.yaml", cfn),
            SourceFile::new("b.yaml", cfn),
        ];
        let p = parse_files(&files);
        let input = Input::new(WorkloadInfo::default(), p.resources, p.documents);
        let mut ids: Vec<(&str, &str)> = input
            .resources
            .iter()
            .map(|r| (r.id.as_str(), r.root.as_deref().unwrap_or("")))
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            vec![
                (".:aws_db_instance.main", "."),
                ("a.yaml:Database", "a.yaml"),
                ("b.yaml:Database", "b.yaml"),
                ("envs/dev:aws_db_instance.main", "envs/dev"),
                ("envs/prod:aws_db_instance.main", "envs/prod"),
                ("k/pods.yaml:Pod.default.p", "k/pods.yaml"),
                ("k/pods.yaml:Pod.default.p#2", "k/pods.yaml"),
            ]
        );
    }
}
