//! References between resources, resolved once per workload so guardrails can follow them
//! without scanning every pair: `refs` lists the addresses a resource's configuration refers
//! to, `referenced_by` the resources that refer to it. Terraform references come from
//! unresolved expressions (`"${aws_s3_bucket.logs.id}"`); CloudFormation ones from `Ref`,
//! `Fn::GetAtt` and `Fn::Sub` within the same template. `referenced_by_index` gives the
//! referring resources' positions in `input.resources`, so a policy reaches them directly.

use super::input::{Resource, ResourceKind};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// Fills `refs` and `referenced_by` of every resource.
pub fn link(resources: &mut [Resource]) {
    // Terraform references resolve within a module: a folder, or for a module-expanded
    // resource its root folder and module instance (`module.db.` before its own address).
    let addresses: HashMap<(&str, &str), usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| ((scope(r), r.address.as_str()), i))
        .collect();
    // CloudFormation logical ids are unique per template.
    let logical: HashMap<(&str, &str), usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == ResourceKind::Cloudformation)
        .map(|(i, r)| ((r.file.as_str(), r.name.as_str()), i))
        .collect();
    let mut outgoing: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); resources.len()];
    for (i, r) in resources.iter().enumerate() {
        let mut found = BTreeSet::new();
        match r.kind {
            ResourceKind::Terraform | ResourceKind::TerraformPlan => {
                let at = (scope(r), module_prefix(r));
                terraform_refs(&r.config, at, &addresses, &mut found, 0)
            }
            ResourceKind::Cloudformation => cloudformation_refs(&r.config, &r.file, &logical, &mut found, 0),
            ResourceKind::Kubernetes => {}
        }
        found.remove(&i);
        outgoing[i] = found;
    }
    link_s3_by_name(resources, &mut outgoing);
    let mut incoming: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); resources.len()];
    for (i, targets) in outgoing.iter().enumerate() {
        for t in targets {
            incoming[*t].insert(i);
        }
    }
    let names: Vec<String> = resources.iter().map(|r| r.address.clone()).collect();
    for (i, r) in resources.iter_mut().enumerate() {
        r.refs = outgoing[i].iter().map(|j| names[*j].clone()).collect();
        r.referenced_by = incoming[i].iter().map(|j| names[*j].clone()).collect();
        r.referenced_by_index = incoming[i].iter().copied().collect();
    }
}

/// An S3 configuration resource (`aws_s3_bucket_versioning`, `_logging`, ...) whose `bucket`
/// is the literal name of a bucket in the workload configures that bucket, in any folder:
/// bucket names are global. Checkov's graph connects them the same way. (Plan JSON buckets
/// may carry the name in `id` as well.)
fn link_s3_by_name(resources: &[Resource], outgoing: &mut [BTreeSet<usize>]) {
    let terraform = |r: &Resource| matches!(r.kind, ResourceKind::Terraform | ResourceKind::TerraformPlan);
    let mut buckets: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in resources.iter().enumerate() {
        if terraform(r) && r.r#type == "aws_s3_bucket" {
            let mut names: Vec<&str> = literal(r.config.get("bucket")).into_iter().collect();
            if r.kind == ResourceKind::TerraformPlan {
                names.extend(literal(r.config.get("id")));
            }
            names.dedup();
            for name in names {
                buckets.entry(name).or_default().push(i);
            }
        }
    }
    for (i, r) in resources.iter().enumerate() {
        if !terraform(r) || !r.r#type.starts_with("aws_s3_bucket_") {
            continue;
        }
        if let Some(targets) = literal(r.config.get("bucket")).and_then(|name| buckets.get(name)) {
            outgoing[i].extend(targets.iter().copied().filter(|t| *t != i));
        }
    }
}

/// A string that is a known value, not an unresolved `"${…}"` expression.
fn literal(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.contains("${"))
}

fn folder(file: &str) -> &str {
    file.rfind('/').map(|i| &file[..i]).unwrap_or("")
}

/// Where a Terraform resource's references resolve: its root module's folder.
fn scope(r: &Resource) -> &str {
    match &r.root {
        Some(root) => root,
        None => folder(&r.file),
    }
}

/// The module instance a module-expanded resource belongs to, with its final dot
/// (`module.db["a"].`); `""` otherwise. Its own address follows it: `type.name`,
/// `data.type.name`, `module.name` or `provider.…`.
fn module_prefix(r: &Resource) -> &str {
    if r.root.is_none() || r.kind != ResourceKind::Terraform {
        return "";
    }
    let own = match r.mode.as_str() {
        "data" => format!(".data.{}.{}", r.r#type, r.name),
        "module" => format!(".module.{}", r.name),
        "provider" => return r.address.rfind(".provider.").map_or("", |i| &r.address[..=i]),
        _ => format!(".{}.{}", r.r#type, r.name),
    };
    r.address
        .strip_suffix(own.as_str())
        .map_or("", |p| &r.address[..=p.len()])
}

const MAX_DEPTH: usize = 256;

fn terraform_refs(
    v: &Value,
    at: (&str, &str),
    addresses: &HashMap<(&str, &str), usize>,
    out: &mut BTreeSet<usize>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::String(s) if s.contains("${") => {
            let is_part = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.';
            for token in s.split(|c: char| !is_part(c)).filter(|t| t.contains('.')) {
                let parts: Vec<&str> = token.split('.').collect();
                let take = match parts[0] {
                    "data" => 3,
                    _ => 2,
                };
                if parts.len() >= take {
                    let (dir, prefix) = at;
                    let address = format!("{prefix}{}", parts[..take].join("."));
                    if let Some(i) = addresses.get(&(dir, address.as_str())) {
                        out.insert(*i);
                    }
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|x| terraform_refs(x, at, addresses, out, depth + 1)),
        Value::Object(map) => map
            .values()
            .for_each(|x| terraform_refs(x, at, addresses, out, depth + 1)),
        _ => {}
    }
}

fn cloudformation_refs(
    v: &Value,
    file: &str,
    logical: &HashMap<(&str, &str), usize>,
    out: &mut BTreeSet<usize>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut add = |id: &str| {
        if let Some(i) = logical.get(&(file, id)) {
            out.insert(*i);
        }
    };
    match v {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("Ref") {
                add(id);
            }
            match map.get("Fn::GetAtt") {
                Some(Value::Array(a)) => {
                    if let Some(Value::String(id)) = a.first() {
                        add(id);
                    }
                }
                Some(Value::String(s)) => add(s.split('.').next().unwrap_or("")),
                _ => {}
            }
            let sub = match map.get("Fn::Sub") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str),
                _ => None,
            };
            if let Some(s) = sub {
                for piece in s.split("${").skip(1) {
                    let inner = piece.split('}').next().unwrap_or("");
                    add(inner.split('.').next().unwrap_or(""));
                }
            }
            map.values()
                .for_each(|x| cloudformation_refs(x, file, logical, out, depth + 1));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|x| cloudformation_refs(x, file, logical, out, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::files::SourceFile;
    use crate::workload::parse_files;

    #[test]
    fn terraform_and_cloudformation_references_are_linked_both_ways() {
        let tf = r#"
resource "aws_s3_bucket" "logs" { bucket = "logs" }
resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration { status = "Enabled" }
}
"#;
        let other = "resource \"aws_s3_bucket_versioning\" \"x\" { bucket = aws_s3_bucket.logs.id }\n";
        let cfn = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n  P:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: !Ref B\n      Arn: !Sub '${B.Arn}/*'\n";
        let files = vec![
            SourceFile::new("a/main.tf", tf),
            SourceFile::new("b/main.tf", other),
            SourceFile::new("t.yaml", cfn),
        ];
        let mut p = parse_files(&files);
        super::link(&mut p.resources);
        let get = |a: &str, f: &str| p.resources.iter().find(|r| r.address == a && r.file == f).unwrap();
        let bucket = get("aws_s3_bucket.logs", "a/main.tf");
        // The versioning resource in another folder (module) does not refer to this bucket.
        assert_eq!(bucket.referenced_by, vec!["aws_s3_bucket_versioning.logs"]);
        let i = bucket.referenced_by_index[0];
        assert_eq!(p.resources[i].address, "aws_s3_bucket_versioning.logs");
        assert_eq!(
            get("aws_s3_bucket_versioning.logs", "a/main.tf").refs,
            vec!["aws_s3_bucket.logs"]
        );
        assert!(get("aws_s3_bucket_versioning.x", "b/main.tf").refs.is_empty());
        assert_eq!(
            get("AWS::S3::Bucket.B", "t.yaml").referenced_by,
            vec!["AWS::S3::BucketPolicy.P"]
        );
    }

    #[test]
    fn s3_configurations_naming_a_bucket_literally_are_linked_across_folders() {
        let a = "resource \"aws_s3_bucket\" \"logs\" { bucket = \"acme-logs\" }\n";
        let b = "resource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = \"acme-logs\"\n}\nresource \"aws_s3_bucket_logging\" \"other\" { bucket = \"someone-else\" }\nresource \"aws_instance\" \"i\" { bucket = \"acme-logs\" }\n";
        let files = vec![SourceFile::new("a/main.tf", a), SourceFile::new("b/main.tf", b)];
        let mut p = parse_files(&files);
        super::link(&mut p.resources);
        let bucket = p.resources.iter().find(|r| r.address == "aws_s3_bucket.logs").unwrap();
        assert_eq!(bucket.referenced_by, vec!["aws_s3_bucket_versioning.v"]);
        let v = p
            .resources
            .iter()
            .find(|r| r.address == "aws_s3_bucket_versioning.v")
            .unwrap();
        assert_eq!(v.refs, vec!["aws_s3_bucket.logs"]);
    }
}
