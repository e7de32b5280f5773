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
    // Terraform references resolve within a module, i.e. a folder.
    let addresses: HashMap<(&str, &str), usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| ((folder(&r.file), r.address.as_str()), i))
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
                terraform_refs(&r.config, folder(&r.file), &addresses, &mut found, 0)
            }
            ResourceKind::Cloudformation => cloudformation_refs(&r.config, &r.file, &logical, &mut found, 0),
            ResourceKind::Kubernetes => {}
        }
        found.remove(&i);
        outgoing[i] = found;
    }
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

fn folder(file: &str) -> &str {
    file.rfind('/').map(|i| &file[..i]).unwrap_or("")
}

const MAX_DEPTH: usize = 256;

fn terraform_refs(
    v: &Value,
    dir: &str,
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
                    if let Some(i) = addresses.get(&(dir, parts[..take].join(".").as_str())) {
                        out.insert(*i);
                    }
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|x| terraform_refs(x, dir, addresses, out, depth + 1)),
        Value::Object(map) => map
            .values()
            .for_each(|x| terraform_refs(x, dir, addresses, out, depth + 1)),
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
}
