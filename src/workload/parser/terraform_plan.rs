//! Terraform plan JSON (`terraform show -json plan.out > plan.json`).
//!
//! Every resource of `planned_values` (the root module and its child modules, recursively)
//! with the plan's own address; `config` is the resource's `values`. A plan without
//! `planned_values` falls back to `resource_changes[*].change.after` (deleted resources,
//! whose `after` is null, are left out). `line` is where the resource's
//! `"address": "..."` appears in the file — `terraform show -json` writes one line, so that is
//! line 1 unless the plan was pretty-printed. Values the plan knows only after apply
//! (`resource_changes[*].change.after_unknown`) are unresolved values in `config`: the
//! reference they come from (`"${aws_kms_key.k.arn}"`) or [`KNOWN_AFTER_APPLY`].

use super::yaml::{self, contains};
use super::{has_ext, ParseError, Parsed, Parser};
use crate::{
    files::SourceFile,
    workload::{Resource, ResourceKind},
};
use serde_json::Value as Json;
use std::collections::HashMap;

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
    fn per_file(&self) -> bool {
        true
    }
}

fn parse_file(file: &SourceFile) -> Result<super::FileResult, ParseError> {
    let text = yaml::strip_bom(file.text()?);
    // serde_json refuses nesting deeper than 128 levels, so neither parsing nor the walk
    // below can overflow the stack.
    let plan: Json = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        ParseError::new(&file.path, e.line().max(1), msg)
    })?;
    // What each resource's change leaves unknown until apply (`after_unknown`, by address).
    let unknown: HashMap<&str, &Json> = plan
        .get("resource_changes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r.get("address")?.as_str()?, r.pointer("/change/after_unknown")?)))
        .collect();
    let index = config_index(&plan);
    let mut resources = Vec::new();
    if let Some(root) = plan.get("planned_values").and_then(|p| p.get("root_module")) {
        let mut at = Locator::new(text, "\"planned_values\"");
        walk_module(root, &mut |r| {
            resources.extend(resource(file, &index, &mut at, r, r.get("values"), &unknown));
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
                resources.extend(resource(file, &index, &mut at, r, after, &unknown));
            }
        }
    }
    Ok((plan, resources, Vec::new()))
}

/// How a value known only after apply appears in `config` when the configuration does not say
/// where it comes from (a provider-computed `arn`, `id`): like every value the static reader
/// cannot know, a string starting with `${`, so that guardrails tell it from a missing value
/// (it is set) without a branch for plans. When the configuration's expression names what it
/// comes from (`kms_key_id = aws_kms_key.k.arn`), the value is that reference, `"${aws_kms_key.k.arn}"`,
/// exactly as the Terraform (HCL) reader gives it.
pub(crate) const KNOWN_AFTER_APPLY: &str = "${(known after apply)}";

/// Where a resource's unknown values come from: its module's address (`module.app[0].`, to
/// make references from a child module absolute) and its `expressions` in `configuration`.
struct Origin<'p> {
    module: &'p str,
    expressions: Option<&'p Json>,
}

/// The `configuration` resources' `expressions` by (module names, mode, type, name): the
/// configuration is per resource block, not per instance.
type ConfigIndex<'p> = HashMap<(Vec<&'p str>, &'p str, &'p str, &'p str), &'p Json>;

fn config_index(plan: &Json) -> ConfigIndex<'_> {
    let mut index = HashMap::new();
    let mut modules: Vec<(Vec<&str>, &Json)> = plan
        .pointer("/configuration/root_module")
        .map(|m| (Vec::new(), m))
        .into_iter()
        .collect();
    while let Some((path, module)) = modules.pop() {
        for c in module.get("resources").and_then(Json::as_array).into_iter().flatten() {
            let str_of = |k: &str| c.get(k).and_then(Json::as_str);
            if let (Some(t), Some(n), Some(e)) = (str_of("type"), str_of("name"), c.get("expressions")) {
                index.insert((path.clone(), str_of("mode").unwrap_or("managed"), t, n), e);
            }
        }
        for (name, call) in module
            .get("module_calls")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(child) = call.get("module") {
                let mut child_path = path.clone();
                child_path.push(name.as_str());
                modules.push((child_path, child));
            }
        }
    }
    index
}

/// Where the unknown values of the resource at `address` come from.
fn origin<'p>(index: &ConfigIndex<'p>, address: &'p str, r: &'p Json) -> Origin<'p> {
    let (module, names) = module_path(address);
    let str_of = |k: &str| r.get(k).and_then(Json::as_str);
    let key = (
        names,
        str_of("mode").unwrap_or("managed"),
        str_of("type").unwrap_or_default(),
        str_of("name").unwrap_or_default(),
    );
    Origin {
        module,
        expressions: index.get(&key).copied(),
    }
}

/// The module part of a plan address (`module.a["x"].module.b.` of
/// `module.a["x"].module.b.aws_s3_bucket.c[0]`) and the module names along it (`a`, `b`).
fn module_path(address: &str) -> (&str, Vec<&str>) {
    let bytes = address.as_bytes();
    let (mut pos, mut names) = (0, Vec::new());
    while address[pos..].starts_with("module.") {
        let start = pos + "module.".len();
        let mut i = start;
        while i < bytes.len() && bytes[i] != b'.' && bytes[i] != b'[' {
            i += 1;
        }
        let name = &address[start..i];
        if i < bytes.len() && bytes[i] == b'[' {
            // An instance key: a number or a quoted string that may hold `.` or `]`.
            let mut quoted = false;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' if quoted => i += 1,
                    b'"' => quoted = !quoted,
                    b']' if !quoted => break,
                    _ => {}
                }
                i += 1;
            }
            i += 1;
        }
        if bytes.get(i) != Some(&b'.') {
            break;
        }
        names.push(name);
        pos = i + 1;
    }
    (&address[..pos], names)
}

/// A configuration expression (`{"references": [...]}` or `{"constant_value": ...}`), as
/// opposed to the expressions of a nested block.
fn is_expression(e: &Json) -> bool {
    e.get("references").is_some_and(Json::is_array) || e.get("constant_value").is_some()
}

/// The marker for an unknown value whose expression is `expr`.
fn unknown_value(origin: &Origin, expr: Option<&Json>) -> Json {
    let reference = expr
        .filter(|e| is_expression(e))
        .and_then(|e| e.get("references")?.as_array()?.first()?.as_str());
    Json::String(match reference {
        // Variables, locals, `each`, `count` are the module's own: not made absolute.
        Some(r)
            if ["var.", "local.", "each.", "count.", "path.", "terraform.", "self."]
                .iter()
                .any(|p| r.starts_with(p)) =>
        {
            format!("${{{r}}}")
        }
        Some(r) => format!("${{{}{r}}}", origin.module),
        None => KNOWN_AFTER_APPLY.to_string(),
    })
}

/// The expression of a field or block element below `expr` (an attribute's expression covers
/// everything inside the attribute).
fn child_expression<'e>(expr: Option<&'e Json>, key: Result<&str, usize>) -> Option<&'e Json> {
    let e = expr?;
    if is_expression(e) {
        return Some(e);
    }
    match key {
        Ok(field) => e.get(field),
        Err(index) => e.get(index),
    }
}

/// Writes the unknown marker into `value` wherever `unknown` (the change's `after_unknown`, a
/// tree of the same shape with `true` at unknown leaves) says so; `planned_values` leaves those
/// attributes out, which would read as absent.
fn mark_unknown(value: &mut Json, unknown: &Json, origin: &Origin, expr: Option<&Json>) {
    fn any_unknown(u: &Json) -> bool {
        match u {
            Json::Bool(b) => *b,
            Json::Object(m) => m.values().any(any_unknown),
            Json::Array(a) => a.iter().any(any_unknown),
            _ => false,
        }
    }
    if !any_unknown(unknown) {
        return;
    }
    match unknown {
        Json::Bool(_) => *value = unknown_value(origin, expr),
        Json::Object(fields) => {
            if value.is_null() {
                *value = Json::Object(Default::default());
            }
            if let Json::Object(obj) = value {
                for (k, u) in fields.iter().filter(|(_, u)| any_unknown(u)) {
                    let slot = obj.entry(k.clone()).or_insert(Json::Null);
                    mark_unknown(slot, u, origin, child_expression(expr, Ok(k)));
                }
            }
        }
        Json::Array(items) => {
            if value.is_null() {
                *value = Json::Array(Vec::new());
            }
            if let Json::Array(arr) = value {
                for (i, u) in items.iter().enumerate().filter(|(_, u)| any_unknown(u)) {
                    if arr.len() <= i {
                        arr.resize(i + 1, Json::Null);
                    }
                    mark_unknown(&mut arr[i], u, origin, child_expression(expr, Err(i)));
                }
            }
        }
        _ => {}
    }
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

fn resource(
    file: &SourceFile,
    index: &ConfigIndex,
    at: &mut Locator,
    r: &Json,
    values: Option<&Json>,
    unknown: &HashMap<&str, &Json>,
) -> Option<Resource> {
    let address = r.get("address")?.as_str()?;
    let mut config = match values {
        Some(v) if !v.is_null() => v.clone(),
        _ => serde_json::json!({}),
    };
    if let Some(u) = unknown.get(address) {
        let origin = origin(index, address, r);
        mark_unknown(&mut config, u, &origin, origin.expressions);
    }
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
        root: None,
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
        config,
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

    #[test]
    fn values_known_after_apply_are_unresolved_not_absent() {
        let plan = json!({
            "format_version": "1.2",
            "planned_values": {"root_module": {
                "resources": [
                    {"address": "aws_cloudtrail.t", "mode": "managed", "type": "aws_cloudtrail", "name": "t",
                     "values": {"name": "t"}},
                    {"address": "aws_dynamodb_table.d[0]", "mode": "managed", "type": "aws_dynamodb_table",
                     "name": "d", "index": 0,
                     "values": {"server_side_encryption": [{"enabled": true}], "ttl": []}}
                ],
                "child_modules": [{"address": "module.app[\"x.y\"]", "resources": [
                    {"address": "module.app[\"x.y\"].aws_s3_bucket_logging.l", "mode": "managed",
                     "type": "aws_s3_bucket_logging", "name": "l", "values": {}}
                ]}]
            }},
            "resource_changes": [
                {"address": "aws_cloudtrail.t", "change": {"actions": ["create"], "after": {"name": "t"},
                 "after_unknown": {"arn": true, "kms_key_id": true, "tags_all": {}, "name": false}}},
                {"address": "aws_dynamodb_table.d[0]", "change": {"actions": ["create"],
                 "after_unknown": {"server_side_encryption": [{"kms_key_arn": true}], "ttl": [],
                                   "replica": [{"kms_key_arn": true}]}}},
                {"address": "module.app[\"x.y\"].aws_s3_bucket_logging.l", "change": {"actions": ["create"],
                 "after_unknown": {"bucket": true, "target_bucket": true, "id": true}}}
            ],
            "configuration": {"root_module": {
                "resources": [
                    {"address": "aws_cloudtrail.t", "mode": "managed", "type": "aws_cloudtrail", "name": "t",
                     "expressions": {"kms_key_id": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]},
                                     "name": {"constant_value": "t"}}},
                    {"address": "aws_dynamodb_table.d", "mode": "managed", "type": "aws_dynamodb_table", "name": "d",
                     "expressions": {"server_side_encryption": [{"enabled": {"constant_value": true},
                                     "kms_key_arn": {"references": ["var.key"]}}]}}
                ],
                "module_calls": {"app": {"module": {"resources": [
                    {"address": "aws_s3_bucket_logging.l", "mode": "managed", "type": "aws_s3_bucket_logging",
                     "name": "l", "expressions": {"bucket": {"references": ["aws_s3_bucket.b.id", "aws_s3_bucket.b"]},
                                                  "target_bucket": {"references": ["var.logs"]}}}
                ]}}}
            }}
        });
        let p = parse("plan.json", &serde_json::to_string_pretty(&plan).unwrap());
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let config = |a: &str| p.resources.iter().find(|r| r.address == a).unwrap().config.clone();
        assert_eq!(
            config("aws_cloudtrail.t"),
            json!({"name": "t", "arn": KNOWN_AFTER_APPLY, "kms_key_id": "${aws_kms_key.k.arn}"})
        );
        assert_eq!(
            config("aws_dynamodb_table.d[0]"),
            json!({"server_side_encryption": [{"enabled": true, "kms_key_arn": "${var.key}"}], "ttl": [],
                   "replica": [{"kms_key_arn": KNOWN_AFTER_APPLY}]})
        );
        assert_eq!(
            config("module.app[\"x.y\"].aws_s3_bucket_logging.l"),
            json!({"bucket": "${module.app[\"x.y\"].aws_s3_bucket.b.id}", "target_bucket": "${var.logs}",
                   "id": KNOWN_AFTER_APPLY})
        );
        assert_eq!(
            module_path("module.a[\"x].y\"].module.b.aws_s3_bucket.c[0]"),
            ("module.a[\"x].y\"].module.b.", vec!["a", "b"])
        );
        assert_eq!(module_path("aws_s3_bucket.c"), ("", vec![]));
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
        let changes: Vec<Json> = (0..3000)
            .map(|i| json!({"address": format!("aws_s3_bucket.b[{i}]"), "change": {"after_unknown": {"arn": true}}}))
            .collect();
        let config: Vec<Json> = (0..3000)
            .map(|i| {
                json!({"address": format!("aws_s3_bucket.c{i}"), "mode": "managed", "type": "aws_s3_bucket",
                            "name": format!("c{i}"), "expressions": {}})
            })
            .collect();
        let big = json!({"format_version": "1.2", "planned_values": {"root_module": {"resources": resources}},
                         "resource_changes": changes, "configuration": {"root_module": {"resources": config}}});
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
        assert_eq!(p.resources[2999].config["arn"], json!(KNOWN_AFTER_APPLY));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
