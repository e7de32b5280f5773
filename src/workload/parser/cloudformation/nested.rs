//! Nested stacks (`AWS::CloudFormation::Stack`'s `TemplateURL`, `AWS::Serverless::Application`'s
//! `Location`): the child template deploys resources of its own, judged only when that template
//! is in the workload. Terraform's remote modules are skipped code when absent; so is a child
//! template Railyard cannot find, so the CloudFormation guardrails cannot call the workload
//! compliant on the parent alone.
//!
//! Found when the location is a path of the workload (relative to the parent, as `aws
//! cloudformation package` and `sam deploy` read it), or a URL whose path ends with a
//! workload file's last two path segments (a repository that uploads its own `templates/`
//! folder: `https://bucket.s3.amazonaws.com/templates/vpc.yaml` is `…/templates/vpc.yaml`).
//! Computed across files after parsing, as links are: a per-file parse cannot see the others.

use crate::files::{Skipped, SourceFile};
use crate::workload::parser::join_path as join;
use crate::workload::{Resource, ResourceKind};
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// The location of a nested stack's template as written: a string, or a `Fn::Sub` template
/// with its `${…}` left in; `None` when it is computed some other way (`Fn::Join`, a `Ref`).
fn location(value: &Json) -> Option<&str> {
    match value {
        Json::String(s) => Some(s),
        Json::Object(m) => match m.get("Fn::Sub")? {
            Json::String(s) => Some(s),
            Json::Array(parts) => parts.first()?.as_str(),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the template at `location` (written in the template at `file`) is a file of the
/// workload (`paths`).
fn in_workload(file: &str, location: &str, paths: &BTreeSet<&str>) -> bool {
    if let Some((_, rest)) = location.split_once("://") {
        // A URL: its path, without the host, compared by its last two segments. The file name
        // must be written out; of the folder before it, what follows a `${…}` placeholder
        // (`${KeyPrefix}templates/` ends a folder named `…templates`).
        let path = rest.split_once('/').map_or("", |(_, p)| p);
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut segments = path.split('/').filter(|s| !s.is_empty()).rev();
        let Some(name) = segments.next().filter(|n| !n.contains("${")) else {
            return false;
        };
        let (tail, whole) = match segments.next() {
            Some(folder) => match folder.rsplit_once('}') {
                Some((_, "")) => (name.to_string(), true),
                Some((_, end)) => (format!("{end}/{name}"), false),
                None => (format!("{folder}/{name}"), true),
            },
            None => (name.to_string(), true),
        };
        return paths.iter().any(|p| match whole {
            true => *p == tail || p.ends_with(&format!("/{tail}")),
            false => p.ends_with(&tail),
        });
    }
    if location.contains("${") {
        return false;
    }
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    paths.contains(join(dir, location).as_str())
}

/// The nested stacks of `resources` whose template is not among `files`, as skipped code.
pub fn absent_templates(resources: &[Resource], files: &[SourceFile]) -> Vec<Skipped> {
    let mut out = Vec::new();
    // Built at the first nested stack: most workloads have none.
    let mut paths: Option<BTreeSet<&str>> = None;
    for r in resources.iter().filter(|r| r.kind == ResourceKind::Cloudformation) {
        let field = match r.r#type.as_str() {
            "AWS::CloudFormation::Stack" => "TemplateURL",
            "AWS::Serverless::Application" => "Location",
            _ => continue,
        };
        let Some(value) = r.config.get(field) else { continue };
        let why = match location(value) {
            _ if value.get("ApplicationId").is_some() => {
                "an application of the Serverless Application Repository, whose template is not in the workload"
                    .to_string()
            }
            Some(at)
                if in_workload(
                    &r.file,
                    at,
                    paths.get_or_insert_with(|| files.iter().map(|f| f.path.as_str()).collect()),
                ) =>
            {
                continue
            }
            Some(at) => format!("its template `{at}` is not in the workload"),
            None => "where its template is, is only known at deployment".to_string(),
        };
        out.push(Skipped {
            path: format!("{}:{}", r.file, r.line),
            reason: format!(
                "nested stack {}: {why}; the resources it deploys are not judged",
                r.address
            ),
            kind: Some(ResourceKind::Cloudformation),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_found_by_path_or_by_the_tail_of_a_url() {
        let paths: BTreeSet<&str> = [
            "stacks/main.yaml",
            "stacks/vpc.yaml",
            "infrastructure/vpc.yaml",
            "templates/logs.cfn.yaml",
        ]
        .into_iter()
        .collect();
        let at = "stacks/main.yaml";
        assert!(in_workload(at, "./vpc.yaml", &paths));
        assert!(in_workload(at, "../infrastructure/vpc.yaml", &paths));
        assert!(!in_workload(at, "./missing.yaml", &paths));
        assert!(in_workload(
            at,
            "https://s3.amazonaws.com/ecs-refarch/infrastructure/vpc.yaml",
            &paths
        ));
        assert!(in_workload(
            at,
            "https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}/templates/logs.cfn.yaml",
            &paths
        ));
        assert!(!in_workload(
            at,
            "https://s3.amazonaws.com/cloudformation-templates-us-east-2/EC2ChooseAMI.template",
            &paths
        ));
        assert!(!in_workload(at, "https://${Bucket}.s3.amazonaws.com/${Key}", &paths));
        // A key prefix glued to the folder (quickstart templates).
        assert!(in_workload(
            at,
            "https://${B}.s3.amazonaws.com/${Prefix}templates/logs.cfn.yaml",
            &paths
        ));
        assert!(!in_workload(
            at,
            "https://${B}.s3.amazonaws.com/${Prefix}submodules/vpc/templates/aws-vpc.yaml",
            &paths
        ));
        assert!(in_workload(
            at,
            "https://bucket.s3.amazonaws.com/${Prefix}/vpc.yaml",
            &paths
        ));
    }
}
