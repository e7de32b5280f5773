//! Terraform configuration (`.tf`, `.tf.json`) and variable files (`.tfvars`, `.tfvars.json`),
//! read statically: no `terraform` binary, no providers, no network.
//!
//! All files of one folder (one Terraform module) are parsed together: variables get their
//! values from `default` and from `terraform.tfvars[.json]` / `*.auto.tfvars[.json]`, locals are
//! resolved to a fixpoint, and every `resource`, `data`, `module` and `provider` block becomes a
//! [`Resource`] whose `config` is normalised as `docs/input.md` describes.

mod eval;
mod funcs;
mod model;
mod modules;

use super::{has_ext, ParseError, Parsed, Parser};
use crate::{
    files::SourceFile,
    workload::{Resource, ResourceKind},
};
use eval::{Evaluator, MAX_DEPTH};
use hcl::{Map, Value};
use model::{Blk, FileModel, Item};
use std::collections::HashSet;

pub struct Terraform;

#[derive(Clone, Copy, PartialEq)]
enum FileType {
    Tf,
    TfJson,
    Tfvars,
    TfvarsJson,
}

fn file_type(path: &str) -> Option<FileType> {
    if has_ext(path, ".tf") {
        Some(FileType::Tf)
    } else if has_ext(path, ".tf.json") {
        Some(FileType::TfJson)
    } else if has_ext(path, ".tfvars") {
        Some(FileType::Tfvars)
    } else if has_ext(path, ".tfvars.json") {
        Some(FileType::TfvarsJson)
    } else {
        None
    }
}

impl Parser for Terraform {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Terraform
    }

    fn claims(&self, path: &str, _bytes: &[u8]) -> bool {
        file_type(path).is_some()
    }

    fn parse(&self, files: &[&SourceFile]) -> Parsed {
        self.parse_in(files, &[])
    }

    /// Parses one root module (a folder) and expands the modules it calls, which are read
    /// from `workload` (see `modules.rs`).
    fn parse_in(&self, files: &[&SourceFile], workload: &[&SourceFile]) -> Parsed {
        let mut out = Parsed::default();
        let (configs, tfvars) = read_models(files, &mut out, true);
        let ev = module_context(&configs, &tfvars, None);
        for (f, m) in &configs {
            for item in &m.items {
                let Item::Block(b) = item else { continue };
                match resource_of(&ev, f, b) {
                    Ok(Some(r)) => out.resources.push(r),
                    Ok(None) => {}
                    Err(e) => out.errors.push(e),
                }
            }
        }
        let dir = files.first().map_or("", |f| f.dir());
        modules::expand(dir, &ev, &configs, workload, &mut out);
        out
    }
}

/// A folder's parsed configuration files and variable files.
type Models<'a> = Vec<(&'a SourceFile, FileModel)>;

/// Parses Terraform files, recording their errors in `out` (and their documents when
/// `documents`). A UTF-8 byte order mark at the start is accepted, as Terraform does.
fn read_models<'a>(files: &[&'a SourceFile], out: &mut Parsed, documents: bool) -> (Models<'a>, Models<'a>) {
    let mut configs = Vec::new();
    let mut tfvars = Vec::new();
    for &f in files {
        let Some(ft) = file_type(&f.path) else {
            continue;
        };
        let text = match f.text() {
            Ok(t) => t,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        // The mark holds no newline: line numbers stay those of the file.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let parsed = match ft {
            FileType::Tf | FileType::Tfvars => model::from_hcl(text),
            FileType::TfJson => model::from_json(text, false),
            FileType::TfvarsJson => model::from_json(text, true),
        };
        match parsed {
            Ok(m) => {
                if documents {
                    out.documents.insert(f.path.clone(), m.document.clone());
                }
                match ft {
                    FileType::Tf | FileType::TfJson => configs.push((f, m)),
                    FileType::Tfvars | FileType::TfvarsJson => tfvars.push((f, m)),
                }
            }
            Err((line, message)) => out.errors.push(ParseError::new(&f.path, line, message)),
        }
    }
    (configs, tfvars)
}

/// A module call's arguments by variable name: the value, or `None` when it is not known
/// statically (the variable is then unknown, whatever its default).
type Inputs = Map<String, Option<Value>>;

/// Variable values (defaults, then tfvars in Terraform's order, or for a called module the
/// call's arguments) and locals resolved to a fixpoint, as one evaluation context for the
/// module.
fn module_context(
    configs: &[(&SourceFile, FileModel)],
    tfvars: &[(&SourceFile, FileModel)],
    inputs: Option<&Inputs>,
) -> Evaluator {
    let empty = Evaluator::new(&Map::new(), &Map::new(), HashSet::new());
    let mut declared: Vec<String> = Vec::new();
    let mut vars: Map<String, Value> = Map::new();
    let mut locals_src: Vec<(String, hcl::Expression)> = Vec::new();
    for (_, m) in configs {
        for item in &m.items {
            let Item::Block(b) = item else { continue };
            match (b.ident.as_str(), b.labels.as_slice()) {
                ("variable", [name]) => {
                    declared.push(name.clone());
                    let default = b.attr("default").and_then(|d| empty.eval(d));
                    // `nullable = false`: a null argument means the default.
                    let nullable = !matches!(b.attr("nullable"), Some(hcl::Expression::Bool(false)));
                    match inputs.and_then(|i| i.get(name)) {
                        Some(Some(Value::Null)) if !nullable => {}
                        Some(Some(v)) => {
                            vars.insert(name.clone(), v.clone());
                            continue;
                        }
                        Some(None) => continue,
                        None => {}
                    }
                    if let Some(v) = default {
                        vars.insert(name.clone(), v);
                    }
                }
                ("locals", []) => {
                    for i in &b.items {
                        if let Item::Attr(k, v) = i {
                            locals_src.push((k.clone(), v.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    // terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars[.json] in lexical order.
    let mut applied: Vec<(u8, &str, &FileModel)> = tfvars
        .iter()
        .filter_map(|(f, m)| {
            let name = f.file_name();
            let rank = match name {
                "terraform.tfvars" => 0,
                "terraform.tfvars.json" => 1,
                _ if has_ext(name, ".auto.tfvars") || has_ext(name, ".auto.tfvars.json") => 2,
                _ => return None,
            };
            Some((rank, name, m))
        })
        .collect();
    applied.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (_, _, m) in applied {
        for item in &m.items {
            if let Item::Attr(k, v) = item {
                if let Some(v) = empty.eval(v) {
                    vars.insert(k.clone(), v);
                }
            }
        }
    }

    let mut unknown: HashSet<String> = declared.into_iter().filter(|n| !vars.contains_key(n)).collect();
    let mut locals: Map<String, Value> = Map::new();
    let mut pending = locals_src;
    // Nodes held by the resolved locals, and the work spent so far: hcl-rs copies the whole
    // `local` object on every `local.x` it evaluates, so each evaluation costs about `held`.
    let (mut held, mut work) = (0usize, 0usize);
    for _ in 0..MAX_LOCAL_PASSES {
        // Locals not resolved yet count as unknown, so `try` does not skip past them.
        let mut unknown_now = unknown.clone();
        unknown_now.extend(pending.iter().map(|(k, _)| k.clone()));
        let ev = Evaluator::new(&vars, &locals, unknown_now);
        let before = pending.len();
        pending.retain(|(k, e)| {
            work = work.saturating_add(held + 1);
            if work > MAX_LOCALS_WORK {
                return true;
            }
            match ev.eval(e) {
                Some(v) => {
                    let size = value_size(&v, MAX_VALUE_NODES);
                    if size > MAX_VALUE_NODES || held + size > MAX_LOCALS_NODES {
                        return true;
                    }
                    held += size;
                    locals.insert(k.clone(), v);
                    false
                }
                None => true,
            }
        });
        if pending.is_empty() || pending.len() == before || work > MAX_LOCALS_WORK {
            break;
        }
    }
    unknown.extend(pending.into_iter().map(|(k, _)| k));
    Evaluator::new(&vars, &locals, unknown)
}

/// Locals larger than this stay unresolved: keeps `a = [local.b, local.b]` chains from
/// growing exponentially.
const MAX_VALUE_NODES: usize = 50_000;

/// Bounds on resolving locals, which stay unresolved (`"${local.x}"`) past them. Each pass
/// resolves the locals whose references are resolved, so a chain of locals needs one pass per
/// link; real modules need a handful. Without these bounds a file of a few thousand chained
/// or copied locals took hours (passes x locals x size of all locals).
const MAX_LOCAL_PASSES: usize = 32;
const MAX_LOCALS_NODES: usize = 200_000;
const MAX_LOCALS_WORK: usize = 20_000_000;

/// Number of nodes of a value (long strings count as several), counting stops a little past
/// `limit`.
fn value_size(v: &Value, limit: usize) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 1;
        if n > limit {
            break;
        }
        match v {
            // A string counts one node per 64 bytes: `"${local.a}${local.a}"` doubles too.
            Value::String(s) => n += s.len() / 64,
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    n
}

/// The resource of a top-level block, if it is one.
fn resource_of(ev: &Evaluator, f: &SourceFile, b: &Blk) -> Result<Option<Resource>, ParseError> {
    let (address, r#type, name, mode) = match (b.ident.as_str(), b.labels.as_slice()) {
        ("resource", [t, n]) => (format!("{t}.{n}"), t.clone(), n.clone(), "managed"),
        ("data", [t, n]) => (format!("data.{t}.{n}"), t.clone(), n.clone(), "data"),
        ("module", [n]) => (format!("module.{n}"), "module".to_string(), n.clone(), "module"),
        ("provider", [p]) => {
            let alias = b.attr("alias").and_then(|a| ev.eval(a));
            let address = match alias {
                Some(Value::String(a)) => format!("provider.{p}.{a}"),
                _ => format!("provider.{p}"),
            };
            (address, p.clone(), p.clone(), "provider")
        }
        ("resource" | "data" | "module" | "provider", labels) => {
            let want = if matches!(b.ident.as_str(), "resource" | "data") {
                2
            } else {
                1
            };
            return Err(ParseError::new(
                &f.path,
                b.line,
                format!("a {} block needs {want} label(s), found {}", b.ident, labels.len()),
            ));
        }
        _ => return Ok(None),
    };
    Ok(Some(Resource {
        refs: Vec::new(),
        referenced_by: Vec::new(),
        referenced_by_index: Vec::new(),
        tags: None,
        id: String::new(),
        address,
        r#type,
        name,
        kind: ResourceKind::Terraform,
        mode: mode.to_string(),
        file: f.path.clone(),
        line: b.line,
        end_line: b.end_line,
        root: None,
        config: config_of(ev, &b.items, 0),
    }))
}

/// A block body as `config`: attributes resolved, nested blocks as lists of objects,
/// `dynamic "x"` blocks as an element of `x` marked `"dynamic": true`.
fn config_of(ev: &Evaluator, items: &[Item], depth: usize) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if depth > MAX_DEPTH {
        return serde_json::Value::Object(out);
    }
    for item in items {
        match item {
            Item::Attr(k, v) => {
                out.insert(k.clone(), ev.resolve(v, 0));
            }
            Item::Block(b) if b.ident == "dynamic" && b.labels.len() == 1 => {
                for element in dynamic_blocks(ev, b, depth) {
                    push_block(&mut out, &b.labels[0], element);
                }
            }
            Item::Block(b) => {
                let mut body = config_of(ev, &b.items, depth + 1);
                // Labeled nested blocks (`provisioner "local-exec"`) nest their labels as keys.
                for label in b.labels.iter().rev() {
                    let mut m = serde_json::Map::new();
                    m.insert(label.clone(), body);
                    body = serde_json::Value::Object(m);
                }
                push_block(&mut out, &b.ident, body);
            }
        }
    }
    serde_json::Value::Object(out)
}

/// The blocks a `dynamic "x"` block generates, each marked `"dynamic": true`. When
/// `for_each` is known, one per element with the iterator (`x.key`, `x.value`, or the name
/// given by `iterator`) resolved — none for an empty collection, as Terraform does. When it
/// is not known, one element from `content` with whatever could be resolved.
fn dynamic_blocks(ev: &Evaluator, b: &Blk, depth: usize) -> Vec<serde_json::Value> {
    let content = b.items.iter().find_map(|i| match i {
        Item::Block(c) if c.ident == "content" => Some(&c.items),
        _ => None,
    });
    let attr = |name: &str| {
        b.items.iter().find_map(|i| match i {
            Item::Attr(k, v) if k == name => Some(v),
            _ => None,
        })
    };
    let iterator = match attr("iterator") {
        Some(hcl::Expression::Variable(v)) => v.to_string(),
        _ => b.labels[0].clone(),
    };
    let mark = |mut v: serde_json::Value| {
        if let Some(obj) = v.as_object_mut() {
            obj.insert("dynamic".into(), serde_json::Value::Bool(true));
        }
        v
    };
    let Some(items) = content else {
        return vec![mark(serde_json::json!({}))];
    };
    let elements: Option<Vec<(hcl::Value, hcl::Value)>> =
        attr("for_each").and_then(|e| ev.eval(e)).and_then(|v| match v {
            hcl::Value::Array(list) => Some(
                list.into_iter()
                    .enumerate()
                    .map(|(i, x)| (hcl::Value::from(i as u64), x))
                    .collect(),
            ),
            hcl::Value::Object(map) => {
                // Terraform iterates a map in key order.
                let mut entries: Vec<(String, hcl::Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Some(entries.into_iter().map(|(k, x)| (hcl::Value::from(k), x)).collect())
            }
            _ => None,
        });
    match elements {
        None => vec![mark(config_of(ev, items, depth + 1))],
        Some(elements) => elements
            .into_iter()
            .take(1000)
            .map(|(key, value)| {
                let mut it = hcl::Map::new();
                it.insert("key".to_string(), key);
                it.insert("value".to_string(), value);
                mark(config_of(
                    &ev.with_var(&iterator, hcl::Value::Object(it)),
                    items,
                    depth + 1,
                ))
            })
            .collect(),
    }
}

fn push_block(out: &mut serde_json::Map<String, serde_json::Value>, key: &str, value: serde_json::Value) {
    match out.get_mut(key) {
        Some(serde_json::Value::Array(list)) => list.push(value),
        _ => {
            out.insert(key.to_string(), serde_json::Value::Array(vec![value]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(files: &[(&str, &str)]) -> Parsed {
        let files: Vec<SourceFile> = files.iter().map(|(p, t)| SourceFile::new(*p, t.as_bytes())).collect();
        let refs: Vec<&SourceFile> = files.iter().collect();
        Terraform.parse(&refs)
    }

    fn res<'a>(p: &'a Parsed, address: &str) -> &'a Resource {
        p.resources
            .iter()
            .find(|r| r.address == address)
            .unwrap_or_else(|| panic!("no resource {address} in {:#?}", p.resources))
    }

    #[test]
    fn claims_terraform_files_only() {
        for path in [
            "main.tf",
            "a/b.tf.json",
            "terraform.tfvars",
            "x.auto.tfvars.json",
            "M.TF",
        ] {
            assert!(Terraform.claims(path, b""), "{path}");
        }
        for path in ["main.tf.bak", "plan.json", "tf", "variables.hcl"] {
            assert!(!Terraform.claims(path, b""), "{path}");
        }
    }

    #[test]
    fn addresses_modes_and_names() {
        let p = parse(&[(
            "main.tf",
            r#"
resource "aws_s3_bucket" "logs" {}
data "aws_iam_policy_document" "p" {}
module "vpc" {
  source = "./vpc"
}
provider "aws" {}
provider "aws" {
  alias = "west"
}
terraform {}
"#,
        )]);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.r#type.as_str(), r.name.as_str(), r.mode.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("aws_s3_bucket.logs", "aws_s3_bucket", "logs", "managed"),
                ("data.aws_iam_policy_document.p", "aws_iam_policy_document", "p", "data"),
                ("module.vpc", "module", "vpc", "module"),
                ("provider.aws", "aws", "aws", "provider"),
                ("provider.aws.west", "aws", "aws", "provider"),
            ]
        );
        assert!(p
            .resources
            .iter()
            .all(|r| r.kind == ResourceKind::Terraform && r.file == "main.tf"));
        assert_eq!(res(&p, "module.vpc").config, json!({"source": "./vpc"}));
    }

    #[test]
    fn start_and_end_lines() {
        let p = parse(&[(
            "main.tf",
            "# header\n\
             resource \"aws_s3_bucket\" \"a\" {\n\
             \x20 bucket = \"a\"\n\
             }\n\
             \n\
             # comment before b\n\
             resource \"aws_s3_bucket\" \"b\" {\n\
             \x20 versioning {\n\
             \x20   enabled = true\n\
             \x20 }\n\
             }\n\
             resource \"aws_s3_bucket\" \"c\" { bucket = \"c\" }\n",
        )]);
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.line, r.end_line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("aws_s3_bucket.a", 2, 4),
                ("aws_s3_bucket.b", 7, 11),
                ("aws_s3_bucket.c", 12, 12)
            ]
        );
    }

    #[test]
    fn nested_blocks_are_always_lists() {
        let p = parse(&[(
            "main.tf",
            r#"
resource "aws_security_group" "sg" {
  name = "web"
  tags = { Team = "core" }
  ingress {
    from_port = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port = 80
  }
  egress {
    from_port = 0
  }
  lifecycle {
    prevent_destroy = true
  }
  count = 2
  depends_on = [aws_vpc.main]
}
"#,
        )]);
        let c = &res(&p, "aws_security_group.sg").config;
        assert_eq!(
            c,
            &json!({
                "name": "web",
                "tags": {"Team": "core"},
                "ingress": [{"from_port": 443, "cidr_blocks": ["0.0.0.0/0"]}, {"from_port": 80}],
                "egress": [{"from_port": 0}],
                "lifecycle": [{"prevent_destroy": true}],
                "count": 2,
                "depends_on": ["${aws_vpc.main}"],
            })
        );
    }

    #[test]
    fn dynamic_blocks_expand_over_a_known_for_each() {
        let text = r#"
variable "metadata_options" {
  default = { http_endpoint = "enabled", http_tokens = "optional" }
}
variable "volumes" {
  default = []
}
resource "aws_instance" "web" {
  dynamic "metadata_options" {
    for_each = length(var.metadata_options) > 0 ? [var.metadata_options] : []
    content {
      http_tokens = try(metadata_options.value.http_tokens, "required")
    }
  }
  dynamic "ebs_block_device" {
    for_each = var.volumes
    content {
      encrypted = ebs_block_device.value.encrypted
    }
  }
  dynamic "ingress" {
    for_each = { ssh = 22, https = 443 }
    iterator = port
    content {
      name      = port.key
      from_port = port.value
    }
  }
}
"#;
        let p = parse(&[("main.tf", text)]);
        let cfg = &p.resources[0].config;
        assert_eq!(
            cfg["metadata_options"],
            json!([{"http_tokens": "optional", "dynamic": true}])
        );
        assert!(
            cfg.get("ebs_block_device").is_none(),
            "an empty for_each makes no block: {cfg}"
        );
        assert_eq!(
            cfg["ingress"],
            json!([{"name": "https", "from_port": 443, "dynamic": true}, {"name": "ssh", "from_port": 22, "dynamic": true}])
        );
    }

    #[test]
    fn dynamic_block_contributes_its_content() {
        let p = parse(&[(
            "main.tf",
            r#"
resource "aws_security_group" "sg" {
  ingress {
    from_port = 22
  }
  dynamic "ingress" {
    for_each = var.ports
    content {
      from_port = ingress.value
      protocol  = "tcp"
    }
  }
}
"#,
        )]);
        let c = &res(&p, "aws_security_group.sg").config;
        assert_eq!(
            c["ingress"],
            json!([
                {"from_port": 22},
                {"from_port": "${ingress.value}", "protocol": "tcp", "dynamic": true}
            ])
        );
    }

    #[test]
    fn variables_from_defaults_and_tfvars() {
        let p = parse(&[
            (
                "variables.tf",
                r#"
variable "env" {
  default = "dev"
}
variable "region" {
  default = "eu-west-1"
}
variable "owner" {}
variable "versioned" {
  type = bool
}
"#,
            ),
            (
                "main.tf",
                r#"
resource "aws_s3_bucket" "b" {
  bucket = "${var.env}-logs"
  region = var.region
  owner  = var.owner
  label  = "${var.owner}-${var.env}"
  versioning {
    enabled = var.versioned
  }
}
"#,
            ),
            ("terraform.tfvars", "env = \"prod\"\n"),
            ("b.auto.tfvars.json", r#"{"versioned": true}"#),
            ("a.auto.tfvars", "versioned = false\nregion = \"us-east-1\"\n"),
            ("other.tfvars", "env = \"ignored\"\n"),
        ]);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let c = &res(&p, "aws_s3_bucket.b").config;
        assert_eq!(c["bucket"], "prod-logs");
        assert_eq!(c["region"], "us-east-1");
        assert_eq!(c["owner"], "${var.owner}");
        assert_eq!(c["label"], "${var.owner}-prod");
        assert_eq!(c["versioning"], json!([{"enabled": true}]));
        assert_eq!(p.resources.len(), 1, "tfvars contribute no resources");
        assert_eq!(p.documents["terraform.tfvars"], json!({"env": "prod"}));
        assert_eq!(p.documents.len(), 6);
    }

    #[test]
    fn locals_chain_and_cycles() {
        let p = parse(&[(
            "main.tf",
            r#"
variable "env" {
  default = "prod"
}
locals {
  full   = "${local.prefix}-${local.suffix}"
  suffix = upper(var.env)
}
locals {
  prefix = "acme"
  tags   = merge(local.base, { Env = var.env })
  base   = { Owner = "team-a" }
  a      = local.b
  b      = local.a
  arn    = aws_s3_bucket.x.arn
  t1     = try(local.arn, "fallback")
  t2     = try(local.later, "fallback")
  later  = "${local.prefix}-later"
}
resource "aws_s3_bucket" "b" {
  bucket = local.full
  tags   = local.tags
  cyc    = local.a
  arn    = local.arn
  t1     = local.t1
  t2     = local.t2
}
"#,
        )]);
        let c = &res(&p, "aws_s3_bucket.b").config;
        assert_eq!(c["bucket"], "acme-PROD");
        assert_eq!(c["tags"], json!({"Owner": "team-a", "Env": "prod"}));
        assert_eq!(c["cyc"], "${local.a}");
        assert_eq!(c["arn"], "${local.arn}");
        assert_eq!(c["t1"], "${local.t1}");
        assert_eq!(c["t2"], "acme-later");
    }

    #[test]
    fn jsonencode_policy_becomes_json_text() {
        let p = parse(&[(
            "iam.tf",
            r#"
variable "bucket" {
  default = "logs"
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = "arn:aws:s3:::${var.bucket}/*"
    }]
  })
  unresolved = jsonencode({ Resource = aws_s3_bucket.logs.arn })
}
"#,
        )]);
        let c = &res(&p, "aws_iam_policy.p").config;
        let text = c["policy"].as_str().expect("policy is a string");
        let policy: serde_json::Value = serde_json::from_str(text).expect("policy is JSON");
        assert_eq!(policy["Statement"][0]["Resource"], "arn:aws:s3:::logs/*");
        assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
        assert_eq!(c["unresolved"], "${jsonencode({ Resource = aws_s3_bucket.logs.arn })}");
    }

    #[test]
    fn references_stay_expressions() {
        let p = parse(&[(
            "main.tf",
            r#"
resource "aws_s3_bucket_server_side_encryption_configuration" "e" {
  bucket = aws_s3_bucket.logs.id
  quoted = "${aws_s3_bucket.logs.id}"
  name   = each.key
  idx    = count.index
  mod    = path.module
  data   = data.aws_caller_identity.me.account_id
  list   = [aws_kms_key.k.arn, "literal", upper("x")]
  obj    = { a = module.vpc.id, b = 1 }
  pf     = provider::aws::arn_parse("arn:aws:s3:::x")
  nope   = var.undeclared
}
"#,
        )]);
        let c = &res(&p, "aws_s3_bucket_server_side_encryption_configuration.e").config;
        assert_eq!(c["bucket"], "${aws_s3_bucket.logs.id}");
        assert_eq!(c["quoted"], "${aws_s3_bucket.logs.id}");
        assert_eq!(c["name"], "${each.key}");
        assert_eq!(c["idx"], "${count.index}");
        assert_eq!(c["mod"], "${path.module}");
        assert_eq!(c["data"], "${data.aws_caller_identity.me.account_id}");
        assert_eq!(c["list"], json!(["${aws_kms_key.k.arn}", "literal", "X"]));
        assert_eq!(c["obj"], json!({"a": "${module.vpc.id}", "b": 1}));
        assert_eq!(c["pf"], "${provider::aws::arn_parse(\"arn:aws:s3:::x\")}");
        assert_eq!(c["nope"], "${var.undeclared}");
    }

    #[test]
    fn functions_conditionals_try_and_heredocs() {
        let p = parse(&[(
            "main.tf",
            r#"
variable "enabled" {
  default = true
}
variable "settings" {
  default = { size = 3 }
}
variable "unset" {}
resource "x" "y" {
  a = var.enabled ? "on" : aws_x.y.id
  b = !var.enabled ? "on" : aws_x.y.id
  c = try(var.settings.missing, "fallback")
  d = try(var.unset.x, "fallback")
  e = can(var.settings.size)
  f = format("%s-%03d", "x", 7)
  g = join(",", concat(["a"], ["b", "c"]))
  h = length(var.settings) + 1
  i = lookup(var.settings, "size", 0)
  j = element(split(",", "a,b,c"), 4)
  k = toset(["b", "a", "b"])
  l = jsondecode("{\"x\": [1, 2]}")
  m = coalesce("", null, "z")
  n = <<-EOT
    hello
    world
  EOT
  o = flatten([["a"], ["b", ["c"]]])
  p = keys({ b = 1, a = 2 })
  q = contains(["a"], "a")
  r = replace("a-b-c", "-", "_")
  s = tonumber("42")
  t = [for s in ["a", "b"] : upper(s)]
}
"#,
        )]);
        let c = &res(&p, "x.y").config;
        assert_eq!(c["a"], "on");
        assert_eq!(c["b"], "${aws_x.y.id}");
        assert_eq!(c["c"], "fallback");
        assert_eq!(c["d"], "${try(var.unset.x, \"fallback\")}");
        assert_eq!(c["e"], true);
        assert_eq!(c["g"], "a,b,c");
        assert_eq!(c["h"], 2);
        assert_eq!(c["i"], 3);
        assert_eq!(c["j"], "b");
        assert_eq!(c["k"], json!(["a", "b"]));
        assert_eq!(c["l"], json!({"x": [1, 2]}));
        assert_eq!(c["m"], "z");
        assert_eq!(c["n"], "hello\nworld\n");
        assert_eq!(c["o"], json!(["a", "b", "c"]));
        assert_eq!(c["p"], json!(["a", "b"]));
        assert_eq!(c["q"], true);
        assert_eq!(c["r"], "a_b_c");
        assert_eq!(c["s"], 42);
        assert_eq!(c["t"], json!(["A", "B"]));
    }

    #[test]
    fn syntax_error_reports_its_line_and_other_files_still_parse() {
        let p = parse(&[
            ("bad.tf", "resource \"a\" \"b\" {\n  x = 1\n  y = = 2\n}\n"),
            ("good.tf", "resource \"a\" \"c\" {}\n"),
        ]);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].file, "bad.tf");
        assert_eq!(p.errors[0].line, 3);
        assert_eq!(p.resources.len(), 1);
        assert_eq!(p.resources[0].address, "a.c");
        assert!(!p.documents.contains_key("bad.tf"));
    }

    #[test]
    fn invalid_utf8_and_hostile_input_do_not_panic() {
        let bad = SourceFile::new("x.tf", vec![b'a', 0xff, b'\n']);
        let p = Terraform.parse(&[&bad]);
        assert_eq!(p.errors.len(), 1);
        let deep = format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
        let ops = format!("x = {}1\n", "1 + ".repeat(5000));
        let nots = format!("x = {}true\n", "!".repeat(5000));
        let blocks = format!("{}{}", "a {\n".repeat(3000), "}\n".repeat(3000));
        let json_deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let p = parse(&[
            ("a.tf", &deep),
            ("b.tf", &ops),
            ("c.tf", &nots),
            ("d.tf", &blocks),
            ("e.tf.json", &json_deep),
            ("f.tf.json", "[1, 2]"),
            ("g.tf", "resource \"only_one_label\" {}\n"),
            ("h.tf", "x = \"${\"\n"),
        ]);
        assert!(p.resources.is_empty());
        assert!(p.errors.len() >= 6, "{:?}", p.errors);
    }

    #[test]
    fn format_verbs_and_exploding_locals() {
        let mut locals = String::from("locals {\n  l0 = [\"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\"]\n");
        for i in 1..12 {
            let prev = format!("local.l{}", i - 1);
            locals.push_str(&format!("  l{i} = [{}]\n", [prev.as_str(); 8].join(", ")));
        }
        locals.push_str("}\n");
        let main = r#"
resource "x" "y" {
  a = format("%03d|%-4s|%5.2f|%+d|%q|%v|%%", 7, "ab", 3.14159, 5, "q", [1])
  b = format("%s", local.l2[0][0][0])
  c = local.l11
}
"#;
        let p = parse(&[("locals.tf", &locals), ("main.tf", main)]);
        let c = &res(&p, "x.y").config;
        assert_eq!(c["a"], "007|ab  | 3.14|+5|\"q\"|[1]|%");
        assert_eq!(c["b"], "x");
        assert_eq!(c["c"], "${local.l11}");
    }

    #[test]
    fn odd_expressions_do_not_panic() {
        let exprs = [
            "1 / 0",
            "1 % 0",
            "-9223372036854775808 / -1",
            "9223372036854775807 + 1",
            "9223372036854775807 * 9223372036854775807",
            "\"a\"[0]",
            "[1][-1]",
            "[1][99999999999999999999]",
            "{ for k, v in { a = 1, b = 2 } : \"same\" => v }",
            "[for x in 1 : x]",
            "\"${[1]}\"",
            "concat([1], [2]...)",
            "substr(\"abc\", 1, 9223372036854775807)",
            "substr(\"abc\", -9223372036854775808, 1)",
            "element([1], -1)",
            "format(\"%999999999999d\", 1)",
            "format(\"%.99999999999f\", 1)",
            "format(\"%\")",
            "jsondecode(\"[[[[[[[[[[\")",
            "lookup({}, \"k\")",
            "tonumber(\"1e999\")",
            "local.x[*].y",
            "var.a.b.c[0]",
            "upper()",
            "try()",
            "can(1, 2)",
            "true ? 1 : aws_x.y",
            "null ? 1 : 2",
            "\"%{ for x in [1, 2] }${x}%{ endfor }\"",
            "\"%{ for x in var.nope }${x}%{ endfor }\"",
            "\"${1 + 2}-x\"",
            "10 / 4 - -1",
        ];
        let body: String = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| format!("  a{i} = {e}\n"))
            .collect();
        let p = parse(&[("main.tf", &format!("resource \"x\" \"y\" {{\n{body}}}\n"))]);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let c = &res(&p, "x.y").config;
        assert_eq!(c.as_object().map(|o| o.len()), Some(exprs.len()));
        assert_eq!(c["a26"], 1);
        assert_eq!(c["a28"], "12");
        assert_eq!(c["a29"], "%{ for x in var.nope }${x}%{ endfor }");
        assert_eq!(c["a30"], "3-x");
        assert_eq!(c["a31"], 3.5);
        assert_eq!(c["a0"], "${1 / 0}");
    }

    #[test]
    fn tf_json_files() {
        let text = r#"{
  "//": "generated",
  "variable": {
    "env": { "default": "prod" }
  },
  "resource": {
    "aws_s3_bucket": {
      "logs": {
        "//": "comment",
        "bucket": "${var.env}-logs",
        "tags": { "Team": "core" }
      },
      "data": {
        "bucket": "${aws_s3_bucket.logs.id}"
      }
    }
  },
  "provider": {
    "aws": [
      { "region": "eu-west-1" },
      { "alias": "west", "region": "us-west-2" }
    ]
  }
}
"#;
        let p = parse(&[("main.tf.json", text)]);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let logs = res(&p, "aws_s3_bucket.logs");
        assert_eq!((logs.line, logs.end_line), (8, 12));
        assert_eq!(logs.config, json!({"bucket": "prod-logs", "tags": {"Team": "core"}}));
        let data = res(&p, "aws_s3_bucket.data");
        assert_eq!((data.line, data.end_line), (13, 15));
        assert_eq!(data.config["bucket"], "${aws_s3_bucket.logs.id}");
        assert_eq!(res(&p, "provider.aws.west").config["region"], "us-west-2");
        assert_eq!(res(&p, "provider.aws").line, 19);
        assert_eq!(p.documents["main.tf.json"]["variable"]["env"]["default"], "prod");
    }

    #[test]
    fn documents_are_hcl_as_json_with_blocks_as_lists() {
        let p = parse(&[(
            "main.tf",
            r#"
locals {
  a = 1
}
resource "aws_s3_bucket" "b" {
  bucket = var.name
  versioning {
    enabled = true
  }
}
"#,
        )]);
        assert_eq!(
            p.documents["main.tf"],
            json!({
                "locals": [{"a": 1}],
                "resource": {"aws_s3_bucket": {"b": [{
                    "bucket": "${var.name}",
                    "versioning": [{"enabled": true}]
                }]}}
            })
        );
    }

    #[test]
    fn fixtures_parse_with_expected_lines() {
        let p = crate::workload::parser::parse_fixture_dir("terraform");
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.line, r.end_line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("aws_sqs_queue.orders", 9, 12),
                ("aws_sqs_queue.orders_dlq", 13, 16),
                ("aws_kms_key.queue", 19, 21),
                ("data.aws_availability_zones.available", 10, 12),
                ("module.vpc", 14, 20),
                ("aws_security_group.web", 22, 42),
                ("aws_flow_log.vpc", 44, 48),
                ("provider.aws", 1, 3),
                ("provider.aws.us", 5, 8),
                ("aws_s3_bucket.logs", 9, 12),
                ("aws_s3_bucket_versioning.logs", 14, 20),
                ("aws_s3_bucket_server_side_encryption_configuration.logs", 22, 31),
                ("aws_s3_bucket_policy.logs", 33, 48),
                ("aws_s3_bucket_lifecycle_configuration.logs", 50, 60),
            ]
        );
        let r = |a: &str| &res(&p, a).config;
        assert_eq!(r("aws_sqs_queue.orders")["name"], "billing-orders");
        assert_eq!(
            r("aws_sqs_queue.orders_dlq")["kms_master_key_id"],
            "${aws_kms_key.queue.arn}"
        );
        let sg = r("aws_security_group.web");
        assert_eq!(sg["ingress"][0]["dynamic"], true);
        assert_eq!(sg["egress"][0]["cidr_blocks"], json!(["10.0.0.0/16"]));
        assert_eq!(r("aws_flow_log.vpc")["provider"], "${aws.us}");
        assert_eq!(
            r("module.vpc")["azs"],
            "${slice(data.aws_availability_zones.available.names, 0, 2)}"
        );
        let bucket = r("aws_s3_bucket.logs");
        assert_eq!(bucket["bucket"], "acme-prod-logs");
        assert_eq!(bucket["tags"]["Name"], "acme-prod-logs");
        assert_eq!(
            r("aws_s3_bucket_versioning.logs")["versioning_configuration"],
            json!([{"status": "Enabled"}])
        );
        let sse = r("aws_s3_bucket_server_side_encryption_configuration.logs");
        assert_eq!(sse["bucket"], "${aws_s3_bucket.logs.id}");
        assert_eq!(
            sse["rule"][0]["apply_server_side_encryption_by_default"][0]["kms_master_key_id"],
            "${var.kms_key_arn}"
        );
        let policy = r("aws_s3_bucket_policy.logs")["policy"].as_str().unwrap_or_default();
        let policy: serde_json::Value = serde_json::from_str(policy).expect("policy is JSON text");
        assert_eq!(policy["Statement"][0]["Resource"][1], "arn:aws:s3:::acme-prod-logs/*");
        assert_eq!(
            r("aws_s3_bucket_lifecycle_configuration.logs")["rule"][0]["expiration"],
            json!([{"days": 365}])
        );
        assert!(p.documents.contains_key("s3-module/terraform.tfvars"));
        assert!(p.documents.contains_key("json-stack/team.auto.tfvars.json"));
    }
}
