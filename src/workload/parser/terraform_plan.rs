//! Terraform plan JSON (`terraform show -json plan.out > plan.json`).
//!
//! Every resource of `planned_values` (the root module and its child modules, recursively)
//! with the plan's own address; `config` is the resource's `values`. A plan without
//! `planned_values` falls back to `resource_changes[*].change.after` (deleted resources,
//! whose `after` is null, are left out). `line` is where the resource's
//! `"address": "..."` appears in the file — `terraform show -json` writes one line, so that is
//! line 1 unless the plan was pretty-printed.

use super::yaml::{self, contains};
use super::{has_ext, ParseError, Parsed, Parser};
use crate::{
    files::SourceFile,
    workload::{Resource, ResourceKind},
};
use serde_json::Value as Json;

pub struct TerraformPlan;

impl Parser for TerraformPlan {
    fn kind(&self) -> ResourceKind {
        ResourceKind::TerraformPlan
    }

    fn claims(&self, path: &str, bytes: &[u8]) -> bool {
        let head = &bytes[..bytes.len().min(4096)];
        has_ext(path, ".json")
            && !has_ext(path, ".tf.json")
            && contains(head, b"\"format_version\"")
            && (contains(head, b"\"planned_values\"") || contains(head, b"\"resource_changes\""))
    }

    fn parse(&self, files: &[&SourceFile]) -> Parsed {
        super::parse_each(files, parse_file)
    }
}

fn parse_file(file: &SourceFile) -> Result<(Json, Vec<Resource>), ParseError> {
    let text = yaml::strip_bom(file.text()?);
    // serde_json refuses nesting deeper than 128 levels, so neither parsing nor the walk
    // below can overflow the stack.
    let plan: Json = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        ParseError::new(&file.path, e.line().max(1), msg)
    })?;
    let mut resources = Vec::new();
    if let Some(root) = plan.get("planned_values").and_then(|p| p.get("root_module")) {
        let mut at = Locator::new(text, "\"planned_values\"");
        walk_module(root, &mut |r| {
            resources.extend(resource(file, &mut at, r, r.get("values")));
        });
    } else if let Some(changes) = plan.get("resource_changes").and_then(Json::as_array) {
        let mut at = Locator::new(text, "\"resource_changes\"");
        for r in changes {
            let after = r.get("change").and_then(|c| c.get("after"));
            let deleted = r
                .pointer("/change/actions")
                .and_then(Json::as_array)
                .is_some_and(|a| a.len() == 1 && a[0] == "delete");
            if !deleted {
                resources.extend(resource(file, &mut at, r, after));
            }
        }
    }
    Ok((plan, resources))
}

/// Resources of a module and its child modules, in the order they are written (serde_json
/// keeps key order), so that [`Locator`] finds each address after the previous one.
fn walk_module(module: &Json, f: &mut dyn FnMut(&Json)) {
    for (key, value) in module.as_object().into_iter().flatten() {
        match (key.as_str(), value.as_array()) {
            ("resources", Some(resources)) => resources.iter().for_each(&mut *f),
            ("child_modules", Some(children)) => children.iter().for_each(|c| walk_module(c, f)),
            _ => {}
        }
    }
}

fn resource(file: &SourceFile, at: &mut Locator, r: &Json, values: Option<&Json>) -> Option<Resource> {
    let address = r.get("address")?.as_str()?;
    let line = at.line(address);
    let str_of = |k: &str| r.get(k).and_then(Json::as_str).unwrap_or_default().to_string();
    let mode = match r.get("mode").and_then(Json::as_str) {
        Some(m) => m.to_string(),
        None => "managed".into(),
    };
    Some(Resource {
        refs: Vec::new(),
        referenced_by: Vec::new(),
        referenced_by_index: Vec::new(),
        tags: None,
        id: String::new(),
        address: address.to_string(),
        r#type: str_of("type"),
        name: str_of("name"),
        kind: ResourceKind::TerraformPlan,
        mode,
        file: file.path.clone(),
        line,
        end_line: line,
        root: None,
        config: match values {
            Some(v) if !v.is_null() => v.clone(),
            _ => serde_json::json!({}),
        },
    })
}

/// Finds the line of each resource's `"address": "<address>"` in the text. Resources are
/// looked up in the order they are written, so each search starts where the previous one
/// ended (then from the section's key, then from the top): linear in the file's size.
struct Locator<'t> {
    text: &'t str,
    section: usize,
    cursor: usize,
    /// A byte offset and its line, to count newlines incrementally.
    counted: (usize, usize),
}

impl<'t> Locator<'t> {
    fn new(text: &'t str, section_key: &str) -> Self {
        let section = text.find(section_key).unwrap_or(0);
        Locator {
            text,
            section,
            cursor: section,
            counted: (0, 1),
        }
    }

    /// The line of `address`; 1 when it cannot be found (e.g. written with unusual escapes).
    fn line(&mut self, address: &str) -> usize {
        let quoted = serde_json::to_string(address).unwrap_or_default();
        let found = [self.cursor, self.section, 0]
            .into_iter()
            .find_map(|from| self.find(from, &quoted));
        let Some(pos) = found else {
            return 1;
        };
        self.cursor = pos + quoted.len();
        let (mut offset, mut line) = self.counted;
        if pos < offset {
            (offset, line) = (0, 1);
        }
        line += self.text.as_bytes()[offset..pos]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.counted = (pos, line);
        line
    }

    fn find(&self, from: usize, quoted: &str) -> Option<usize> {
        let mut pos = from;
        while let Some(i) = self.text.get(pos..)?.find(quoted) {
            let at = pos + i;
            let before = self.text[..at].trim_end();
            if let Some(b) = before.strip_suffix(':') {
                if b.trim_end().ends_with("\"address\"") {
                    return Some(at);
                }
            }
            pos = at + quoted.len();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.9.5",
  "planned_values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_s3_bucket.logs",
          "mode": "managed",
          "type": "aws_s3_bucket",
          "name": "logs",
          "provider_name": "registry.terraform.io/hashicorp/aws",
          "schema_version": 0,
          "values": {"bucket": "acme-logs", "force_destroy": false, "tags": {"team": "core"}}
        },
        {
          "address": "data.aws_iam_policy_document.p",
          "mode": "data",
          "type": "aws_iam_policy_document",
          "name": "p",
          "values": null
        }
      ],
      "child_modules": [
        {
          "address": "module.app",
          "resources": [
            {
              "address": "module.app.aws_s3_bucket.data[0]",
              "mode": "managed",
              "type": "aws_s3_bucket",
              "name": "data",
              "index": 0,
              "values": {"bucket": "acme-data-0"}
            }
          ],
          "child_modules": [
            {
              "address": "module.app.module.db",
              "resources": [
                {
                  "address": "module.app.module.db.aws_db_instance.main[\"primary\"]",
                  "mode": "managed",
                  "type": "aws_db_instance",
                  "name": "main",
                  "index": "primary",
                  "values": {"storage_encrypted": true}
                }
              ]
            }
          ]
        }
      ]
    }
  },
  "resource_changes": [
    {"address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs",
     "change": {"actions": ["create"], "before": null, "after": {"bucket": "acme-logs"}}}
  ]
}
"#;

    fn parse(path: &str, text: &str) -> Parsed {
        assert!(TerraformPlan.claims(path, text.as_bytes()), "not claimed: {path}");
        TerraformPlan.parse(&[&SourceFile::new(path, text)])
    }

    #[test]
    fn claims_plans_only() {
        assert!(TerraformPlan.claims("plan.json", PLAN.as_bytes()));
        assert!(!TerraformPlan.claims("plan.tf.json", PLAN.as_bytes()));
        assert!(!TerraformPlan.claims("plan.yaml", PLAN.as_bytes()));
        assert!(!TerraformPlan.claims(
            "x.json",
            b"{\"format_version\": \"1.0\", \"terraform_version\": \"1.9\"}"
        ));
        assert!(!TerraformPlan.claims("x.json", b"{\"resource\": {}}"));
    }

    #[test]
    fn plan_with_child_modules_and_lines() {
        let p = parse("plans/plan.json", PLAN);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.mode.as_str(), r.line, r.end_line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("aws_s3_bucket.logs", "managed", 8, 8),
                ("data.aws_iam_policy_document.p", "data", 17, 17),
                ("module.app.aws_s3_bucket.data[0]", "managed", 29, 29),
                (
                    "module.app.module.db.aws_db_instance.main[\"primary\"]",
                    "managed",
                    42,
                    42
                ),
            ]
        );
        let r = &p.resources[0];
        assert_eq!(
            (r.r#type.as_str(), r.name.as_str(), r.file.as_str()),
            ("aws_s3_bucket", "logs", "plans/plan.json")
        );
        assert_eq!(r.kind, ResourceKind::TerraformPlan);
        assert_eq!(
            r.config,
            json!({"bucket": "acme-logs", "force_destroy": false, "tags": {"team": "core"}})
        );
        assert_eq!(p.resources[1].config, json!({}));
        assert_eq!(p.resources[3].config, json!({"storage_encrypted": true}));
        assert_eq!(p.documents["plans/plan.json"]["format_version"], json!("1.2"));
    }

    #[test]
    fn compact_plan_is_line_one() {
        let compact = serde_json::to_string(&serde_json::from_str::<Json>(PLAN).unwrap()).unwrap();
        let p = parse("plan.json", &compact);
        assert_eq!(p.resources.len(), 4);
        assert!(p.resources.iter().all(|r| r.line == 1));
    }

    #[test]
    fn falls_back_to_resource_changes() {
        let text = r#"{"format_version": "1.2",
"resource_changes": [
  {"address": "aws_s3_bucket.a", "mode": "managed", "type": "aws_s3_bucket", "name": "a",
   "change": {"actions": ["create"], "after": {"bucket": "a"}}},
  {"address": "aws_s3_bucket.gone", "mode": "managed", "type": "aws_s3_bucket", "name": "gone",
   "change": {"actions": ["delete"], "after": null}}
]}"#;
        let p = parse("plan.json", text);
        let got: Vec<_> = p.resources.iter().map(|r| (r.address.as_str(), r.line)).collect();
        assert_eq!(got, vec![("aws_s3_bucket.a", 3)]);
        assert_eq!(p.resources[0].config, json!({"bucket": "a"}));
    }

    #[test]
    fn syntax_error_and_deep_nesting() {
        let text = "{\n  \"format_version\": \"1.2\",\n  \"planned_values\": {\n    \"root_module\": {,}\n  }\n}\n";
        let p = parse("plan.json", text);
        assert!(p.resources.is_empty());
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 4));
        let deep = format!(
            "{{\"format_version\": \"1\", \"planned_values\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let p = parse("deep.json", &deep);
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].message.contains("recursion"), "{:?}", p.errors);
    }

    #[test]
    fn fixtures_through_parse_files() {
        let p = crate::workload::parser::parse_fixture_dir("terraform-plan");
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.file.as_str(), r.address.as_str(), r.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("compact.json", "aws_iam_role.ci", 1),
                ("network.plan.json", "aws_s3_bucket.flow_logs", 13),
                ("network.plan.json", "data.aws_availability_zones.available", 31),
                ("network.plan.json", "module.vpc.aws_vpc.this[0]", 47),
                ("network.plan.json", "module.vpc.aws_flow_log.this[\"all\"]", 60),
                (
                    "network.plan.json",
                    "module.vpc.module.endpoints.aws_vpc_endpoint.s3",
                    78
                ),
            ]
        );
        assert!(p.resources.iter().all(|r| r.kind == ResourceKind::TerraformPlan));
        let vpc = &p.resources[3];
        assert_eq!((vpc.r#type.as_str(), vpc.name.as_str()), ("aws_vpc", "this"));
        assert_eq!(
            vpc.config,
            json!({"cidr_block": "10.0.0.0/16", "enable_dns_hostnames": true})
        );
    }

    fn sorted(v: &Json) -> Json {
        match v {
            Json::Object(m) => {
                let sorted: std::collections::BTreeMap<_, _> = m.iter().map(|(k, v)| (k.clone(), sorted(v))).collect();
                Json::Object(sorted.into_iter().collect())
            }
            Json::Array(a) => Json::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn key_sorted_plan_and_many_resources() {
        // `jq -S`: child_modules come before resources, configuration before planned_values.
        let plan = sorted(&serde_json::from_str::<Json>(PLAN).unwrap());
        let text = serde_json::to_string_pretty(&plan).unwrap();
        let p = parse("plan.json", &text);
        for r in &p.resources {
            let needle = format!("\"address\": {}", serde_json::to_string(&r.address).unwrap());
            let expected = text.lines().position(|l| l.contains(&needle)).unwrap() + 1;
            assert_eq!(r.line, expected, "{}", r.address);
        }
        assert_eq!(p.resources.len(), 4);

        let resources: Vec<Json> = (0..3000)
            .map(|i| {
                json!({"address": format!("aws_s3_bucket.b[{i}]"), "mode": "managed", "type": "aws_s3_bucket",
                            "name": "b", "index": i, "values": {"bucket": format!("b{i}")}})
            })
            .collect();
        let big = json!({"format_version": "1.2", "planned_values": {"root_module": {"resources": resources}}});
        let text = serde_json::to_string_pretty(&big).unwrap();
        let started = std::time::Instant::now();
        let p = parse("big.json", &text);
        assert_eq!(p.resources.len(), 3000);
        let last = text
            .lines()
            .position(|l| l.contains("\"aws_s3_bucket.b[2999]\""))
            .unwrap()
            + 1;
        assert_eq!(p.resources[2999].line, last);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
