//! Module calls expanded in place, as `terraform plan` would instantiate them.
//!
//! Every folder is still parsed as its own root module; in addition, each `module` block of a
//! root whose `source` is a local path (`./modules/db`, wherever it leads inside the
//! workload, `vendor/` included) or a remote module that `terraform init` recorded in
//! `.terraform/modules/modules.json` is read and its resources added with Terraform's address
//! (`module.db.aws_db_instance.this`, `module.db[0]…`, `module.db["k"]…`), the child's file
//! and line, and `root` naming the calling root folder. The call's arguments are the child's
//! variables: known values replace defaults, unknown ones leave the variable unresolved.
//! Module outputs (`module.db.arn` in the parent) are not resolved: they stay `"${…}"`.
//! A remote module that is not present is listed in `skipped`, never dropped silently.

use super::eval::Evaluator;
use super::model::{Blk, Item};
use super::{file_type, module_context, read_models, resource_of, FileType, Inputs, Models};
use crate::files::{Skipped, SourceFile};
use crate::workload::parser::{ParseError, Parsed};
use hcl::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// Deeper module nesting than this is not expanded (an error at the call).
const MAX_MODULE_DEPTH: usize = 16;
/// A call with more instances than this is not expanded (an error at the call).
const MAX_INSTANCES: usize = 1000;
/// Resources (and module instances) one root module may gain by expansion; past it, an
/// error at the call.
const MAX_EXPANDED: usize = 100_000;

/// Arguments of a `module` block that are not the child's variables.
const META: &[&str] = &["source", "version", "count", "for_each", "providers", "depends_on"];

/// The reason a remote module that is not on disk is skipped.
pub const REMOTE_NOT_PRESENT: &str = "remote module not present (run terraform init or vendor it)";

/// Expands the module calls of the root module in folder `dir` (`configs`, evaluated with
/// `ev`), reading the called folders from `workload` (sorted by path).
pub(super) fn expand(dir: &str, ev: &Evaluator, configs: &Models<'_>, workload: &[&SourceFile], out: &mut Parsed) {
    let calls = |m: &Models<'_>| {
        m.iter().any(|(_, f)| {
            f.items
                .iter()
                .any(|i| matches!(i, Item::Block(b) if b.ident == "module"))
        })
    };
    if !calls(configs) {
        return;
    }
    let mut x = Expander {
        root: if dir.is_empty() { ".".into() } else { dir.to_string() },
        root_dir: dir,
        workload,
        manifest: None,
        loaded: HashMap::new(),
        expanded: 0,
        full: false,
        out,
    };
    x.manifest = x.read_manifest();
    let mut chain = vec![dir.to_string()];
    x.calls(ev, configs, dir, "", "", &mut chain, &[]);
}

struct Expander<'a, 'o> {
    /// `root` of the expanded resources: the root folder, `.` for the workload's top.
    root: String,
    root_dir: &'a str,
    workload: &'a [&'a SourceFile],
    /// `.terraform/modules/modules.json` of the root: module key (`vpc`, `vpc.sub`) to folder.
    manifest: Option<HashMap<String, String>>,
    /// Folders read so far, each parsed once however often it is called.
    loaded: HashMap<String, Rc<Models<'a>>>,
    expanded: usize,
    /// Past [`MAX_EXPANDED`]: nothing more is expanded.
    full: bool,
    out: &'o mut Parsed,
}

/// How many copies of a module a call makes.
enum Instances {
    /// One per key (`""`, `[0]`, `["k"]`), with `count` or `each` for its arguments.
    Known(Vec<(String, Option<(&'static str, Value)>)>),
    /// `count` or `for_each` is not known statically: one copy, its resources marked with
    /// the unresolved expression under that name.
    Unknown(&'static str, serde_json::Value),
}

impl<'a> Expander<'a, '_> {
    /// Expands every `module` block of `configs`, a module in folder `dir` at `prefix`
    /// (`""` or `module.a[0].`), whose call path is `key` (`""` or `a`), under `marks`.
    #[allow(clippy::too_many_arguments)]
    fn calls(
        &mut self,
        ev: &Evaluator,
        configs: &Models<'a>,
        dir: &str,
        prefix: &str,
        key: &str,
        chain: &mut Vec<String>,
        marks: &[(&'static str, serde_json::Value)],
    ) {
        for (f, m) in configs {
            for item in &m.items {
                match item {
                    Item::Block(b) if b.ident == "module" && b.labels.len() == 1 && !self.full => {
                        self.call(ev, f, b, dir, prefix, key, chain, marks)
                    }
                    _ => {}
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        ev: &Evaluator,
        f: &SourceFile,
        b: &Blk,
        dir: &str,
        prefix: &str,
        key: &str,
        chain: &mut Vec<String>,
        marks: &[(&'static str, serde_json::Value)],
    ) {
        let name = &b.labels[0];
        let address = format!("{prefix}module.{name}");
        let key = if key.is_empty() {
            name.clone()
        } else {
            format!("{key}.{name}")
        };
        let error = |message: String| ParseError::new(&f.path, b.line, format!("{address}: {message}"));
        let skip = |reason: String| Skipped {
            path: format!("{}:{}", f.path, b.line),
            reason: format!("{address}: {reason}"),
            kind: Some(crate::workload::ResourceKind::Terraform),
        };
        let source = match b.attr("source").and_then(|e| ev.eval(e)) {
            Some(Value::String(s)) => s,
            _ => {
                self.out
                    .errors
                    .push(error("`source` must be a literal string; module not read".into()));
                return;
            }
        };
        let child_dir = if source.starts_with("./") || source.starts_with("../") {
            match join(dir, &source) {
                Some(d) => d,
                None => {
                    self.out.skipped.push(skip(format!(
                        "local module `{source}` is outside the workload (not read)"
                    )));
                    return;
                }
            }
        } else {
            match self.manifest.as_ref().and_then(|m| m.get(&key)) {
                Some(d) => d.clone(),
                None => {
                    self.out.skipped.push(skip(format!("`{source}`: {REMOTE_NOT_PRESENT}")));
                    return;
                }
            }
        };
        let child = self.load(&child_dir);
        if child.is_empty() {
            let reason = if source.starts_with("./") || source.starts_with("../") {
                format!("local module `{source}`: no Terraform files in `{child_dir}` (not read)")
            } else {
                format!("`{source}`: {REMOTE_NOT_PRESENT}")
            };
            self.out.skipped.push(skip(reason));
            return;
        }
        if chain.contains(&child_dir) {
            self.out.errors.push(error(format!(
                "module `{source}` calls itself through `{child_dir}` (a cycle); not expanded"
            )));
            return;
        }
        if chain.len() > MAX_MODULE_DEPTH {
            self.out.errors.push(error(format!(
                "modules nested deeper than {MAX_MODULE_DEPTH}; not expanded"
            )));
            return;
        }
        let instances = match instances(ev, b) {
            Ok(i) => i,
            Err(message) => {
                self.out.errors.push(error(message.to_string()));
                return;
            }
        };
        let (copies, mark) = match instances {
            Instances::Known(copies) => (copies, None),
            Instances::Unknown(meta, expr) => (vec![(String::new(), None)], Some((meta, expr))),
        };
        let mut marks = marks.to_vec();
        marks.extend(mark);
        chain.push(child_dir.clone());
        for (suffix, each) in copies {
            // An instance counts as work even when its module declares no resource.
            self.expanded += 1;
            if self.full {
                break;
            }
            let with;
            let iev = match each {
                Some((var, value)) => {
                    with = ev.with_var(var, value);
                    &with
                }
                None => ev,
            };
            let inputs: Inputs = b
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Attr(k, e) if !META.contains(&k.as_str()) => Some((k.clone(), iev.eval(e))),
                    _ => None,
                })
                .collect();
            let cev = module_context(&child, &[], Some(&inputs));
            let instance = format!("{address}{suffix}");
            for (cf, cm) in child.iter() {
                for item in &cm.items {
                    let Item::Block(cb) = item else { continue };
                    match resource_of(&cev, cf, cb) {
                        Ok(Some(mut r)) => {
                            r.address = format!("{instance}.{}", r.address);
                            r.root = Some(self.root.clone());
                            mark_unknown(&mut r.config, &marks);
                            self.expanded += 1;
                            if self.expanded > MAX_EXPANDED {
                                self.full = true;
                                self.out.errors.push(error(format!(
                                    "modules expand to more than {MAX_EXPANDED} resources and instances; the rest is not expanded"
                                )));
                                break;
                            }
                            self.out.resources.push(r);
                        }
                        Ok(None) => {}
                        Err(e) => self.out.errors.push(e),
                    }
                }
            }
            self.calls(&cev, &child, &child_dir, &format!("{instance}."), &key, chain, &marks);
        }
        chain.pop();
    }

    /// The configuration files of a folder (`.tf`, `.tf.json`; never its `.tfvars`, which
    /// Terraform reads only for a root module). Errors in them are reported once.
    fn load(&mut self, dir: &str) -> Rc<Models<'a>> {
        if let Some(m) = self.loaded.get(dir) {
            return m.clone();
        }
        // A cached parse of the root is valid only while this folder is unchanged.
        self.out.read.push(dir.to_string());
        let files: Vec<&'a SourceFile> = in_dir(self.workload, dir)
            .filter(|f| matches!(file_type(&f.path), Some(FileType::Tf | FileType::TfJson)))
            .collect();
        let (configs, _) = read_models(&files, self.out, false);
        let m = Rc::new(configs);
        self.loaded.insert(dir.to_string(), m.clone());
        m
    }

    /// The root's `.terraform/modules/modules.json` as module key → folder (relative to the
    /// workload), if the workload has it. A manifest that cannot be read is an error.
    fn read_manifest(&mut self) -> Option<HashMap<String, String>> {
        let path = join(self.root_dir, ".terraform/modules/modules.json")?;
        self.out.read.extend(join(self.root_dir, ".terraform/modules"));
        let file = in_dir(self.workload, &join(self.root_dir, ".terraform/modules")?).find(|f| f.path == path)?;
        #[derive(serde::Deserialize)]
        struct Manifest {
            #[serde(rename = "Modules", default)]
            modules: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            #[serde(rename = "Key")]
            key: String,
            #[serde(rename = "Dir")]
            dir: String,
        }
        let text = String::from_utf8_lossy(&file.bytes);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        match serde_json::from_str::<Manifest>(text) {
            Ok(m) => Some(
                m.modules
                    .into_iter()
                    .filter_map(|e| Some((e.key, join(self.root_dir, &format!("./{}", e.dir))?)))
                    .collect(),
            ),
            Err(e) => {
                self.out.errors.push(ParseError::new(
                    &file.path,
                    e.line().max(1),
                    format!("module manifest is not readable: {e}"),
                ));
                None
            }
        }
    }
}

/// A module call with more instances than Railyard expands (an error, never a silent cut).
#[derive(Debug, thiserror::Error)]
#[error("{0} instances, more than {MAX_INSTANCES}; not expanded")]
struct TooManyInstances(usize);

/// The instances a call makes from its `count` or `for_each`.
fn instances(ev: &Evaluator, b: &Blk) -> Result<Instances, TooManyInstances> {
    let too_many = TooManyInstances;
    if let Some(e) = b.attr("count") {
        let n = match ev.eval(e) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        return match n {
            Some(n) if n >= 0.0 && n.fract() == 0.0 => {
                let n = n as usize;
                if n > MAX_INSTANCES {
                    return Err(too_many(n));
                }
                Ok(Instances::Known(
                    (0..n)
                        .map(|i| {
                            let mut count = hcl::Map::new();
                            count.insert("index".to_string(), Value::from(i as u64));
                            (format!("[{i}]"), Some(("count", Value::Object(count))))
                        })
                        .collect(),
                ))
            }
            _ => Ok(Instances::Unknown("count", ev.resolve(e, 0))),
        };
    }
    if let Some(e) = b.attr("for_each") {
        let entries: Option<Vec<(String, Value)>> = match ev.eval(e) {
            // Terraform iterates a map in key order (`hcl::Map` keeps insertion order).
            Some(Value::Object(map)) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Some(entries)
            }
            // A set of strings: each.key and each.value are the element.
            Some(Value::Array(list)) => list
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Some((s.clone(), Value::String(s))),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(|mut v| {
                    v.sort_by(|a, b| a.0.cmp(&b.0));
                    v.dedup_by(|a, b| a.0 == b.0);
                    v
                }),
            _ => None,
        };
        return match entries {
            Some(entries) if entries.len() > MAX_INSTANCES => Err(too_many(entries.len())),
            Some(entries) => Ok(Instances::Known(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let suffix = format!("[{}]", serde_json::Value::String(k.clone()));
                        let mut each = hcl::Map::new();
                        each.insert("key".to_string(), Value::String(k));
                        each.insert("value".to_string(), v);
                        (suffix, Some(("each", Value::Object(each))))
                    })
                    .collect(),
            )),
            None => Ok(Instances::Unknown("for_each", ev.resolve(e, 0))),
        };
    }
    Ok(Instances::Known(vec![(String::new(), None)]))
}

/// Marks a resource of a module whose `count` / `for_each` is not known: that key of its
/// config holds the call's unresolved expression, unless the resource's own `count` is
/// known to be 0 (it never exists, whatever the module's count).
fn mark_unknown(config: &mut serde_json::Value, marks: &[(&'static str, serde_json::Value)]) {
    let Some(c) = config.as_object_mut() else { return };
    if c.get("count").and_then(serde_json::Value::as_f64) == Some(0.0) {
        return;
    }
    for (meta, expr) in marks {
        c.insert((*meta).to_string(), expr.clone());
    }
}

/// The files directly in folder `dir` ("" for the top), from files sorted by path.
fn in_dir<'f>(files: &'f [&'f SourceFile], dir: &str) -> impl Iterator<Item = &'f SourceFile> + use<'f> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let start = files.partition_point(|f| f.path.as_str() < prefix.as_str());
    let dir = dir.to_string();
    files[start..]
        .iter()
        .take_while(move |f| f.path.starts_with(&prefix))
        .filter(move |f| f.dir() == dir)
        .copied()
}

/// `rel` (`./x`, `../y/z`) from folder `base`, `/`-separated; `None` when it leaves the
/// workload or is absolute.
fn join(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') || rel.get(1..2) == Some(":") {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split(['/', '\\']) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn join_stays_inside_the_workload() {
        assert_eq!(join("envs/prod", "../../modules/db").as_deref(), Some("modules/db"));
        assert_eq!(join("", "./modules/db/").as_deref(), Some("modules/db"));
        assert_eq!(join("a", "./b/../c").as_deref(), Some("a/c"));
        assert_eq!(join("a", "../../x"), None);
        assert_eq!(join("a", "/etc"), None);
    }
}
