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
        let mut out = Parsed::default();
        let mut configs: Vec<(&SourceFile, FileModel)> = Vec::new();
        let mut tfvars: Vec<(&SourceFile, FileModel)> = Vec::new();
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
            let parsed = match ft {
                FileType::Tf | FileType::Tfvars => model::from_hcl(text),
                FileType::TfJson => model::from_json(text, false),
                FileType::TfvarsJson => model::from_json(text, true),
            };
            match parsed {
                Ok(m) => {
                    out.documents.insert(f.path.clone(), m.document.clone());
                    match ft {
                        FileType::Tf | FileType::TfJson => configs.push((f, m)),
                        FileType::Tfvars | FileType::TfvarsJson => tfvars.push((f, m)),
                    }
                }
                Err((line, message)) => out.errors.push(ParseError::new(&f.path, line, message)),
            }
        }

        let ev = module_context(&configs, &tfvars);
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
        out
    }
}

/// Variable values (defaults, then tfvars in Terraform's order) and locals resolved to a
/// fixpoint, as one evaluation context for the module.
fn module_context(
    configs: &[(&SourceFile, FileModel)],
    tfvars: &[(&SourceFile, FileModel)],
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
                    if let Some(v) = b.attr("default").and_then(|d| empty.eval(d)) {
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

    let mut unknown: HashSet<String> = declared
        .into_iter()
        .filter(|n| !vars.contains_key(n))
        .collect();
    let mut locals: Map<String, Value> = Map::new();
    let mut pending = locals_src;
    loop {
        let ev = Evaluator::new(&vars, &locals, HashSet::new());
        let before = pending.len();
        pending.retain(|(k, e)| match ev.eval(e) {
            Some(v) => {
                locals.insert(k.clone(), v);
                false
            }
            None => true,
        });
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    unknown.extend(pending.into_iter().map(|(k, _)| k));
    Evaluator::new(&vars, &locals, unknown)
}

/// The resource of a top-level block, if it is one.
fn resource_of(ev: &Evaluator, f: &SourceFile, b: &Blk) -> Result<Option<Resource>, ParseError> {
    let (address, r#type, name, mode) = match (b.ident.as_str(), b.labels.as_slice()) {
        ("resource", [t, n]) => (format!("{t}.{n}"), t.clone(), n.clone(), "managed"),
        ("data", [t, n]) => (format!("data.{t}.{n}"), t.clone(), n.clone(), "data"),
        ("module", [n]) => (
            format!("module.{n}"),
            "module".to_string(),
            n.clone(),
            "module",
        ),
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
                format!(
                    "a {} block needs {want} label(s), found {}",
                    b.ident,
                    labels.len()
                ),
            ));
        }
        _ => return Ok(None),
    };
    Ok(Some(Resource {
        address,
        r#type,
        name,
        kind: ResourceKind::Terraform,
        mode: mode.to_string(),
        file: f.path.clone(),
        line: b.line,
        end_line: b.end_line,
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
                let mut content = b
                    .items
                    .iter()
                    .find_map(|i| match i {
                        Item::Block(c) if c.ident == "content" => {
                            Some(config_of(ev, &c.items, depth + 1))
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| serde_json::json!({}));
                if let Some(obj) = content.as_object_mut() {
                    obj.insert("dynamic".into(), serde_json::Value::Bool(true));
                }
                push_block(&mut out, &b.labels[0], content);
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

fn push_block(
    out: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    value: serde_json::Value,
) {
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

    fn parse(files: &[(&str, &str)]) -> Parsed {
        let files: Vec<SourceFile> = files
            .iter()
            .map(|(p, t)| SourceFile::new(*p, t.as_bytes()))
            .collect();
        let refs: Vec<&SourceFile> = files.iter().collect();
        Terraform.parse(&refs)
    }

    #[test]
    fn smoke() {
        let p = parse(&[(
            "main.tf",
            "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
        )]);
        println!("{:#?}", p);
        assert_eq!(p.resources.len(), 1);
    }
}
