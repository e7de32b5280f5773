//! Kustomize overlays rendered natively, for the subset most repositories use: `resources` /
//! `bases` (files and folders, recursively), `components`, `namespace`, `namePrefix` /
//! `nameSuffix`, `commonLabels`, `commonAnnotations`, `labels`, `images`, and patches (strategic
//! merge, including `$patch: delete` of a whole object, and JSON 6902, by file or inline, with or
//! without `target`).
//!
//! Why natively: the `kustomize` binary is not available everywhere Railyard runs (CI images,
//! this project's test machines), and an overlay that is never rendered hides what it changes
//! (an overlay that makes a container privileged) from every guardrail. An overlay that uses
//! anything outside the subset (generators, replacements, remote bases, Helm charts) is not
//! half-rendered: it is listed as skipped with the field named, so the workload
//! is *unknown* for the Kubernetes guardrails rather than falsely compliant.
//!
//! Every kustomization that no other kustomization of the workload uses (an overlay, or a base
//! deployed alone) is rendered. A component (`kind: Component`) is applied, as kustomize applies
//! it, to what the kustomization listing it under `components` accumulated from its
//! `resources`: the component's resources are added, and its patches and transformers change
//! them all, before the kustomization's own. A component no kustomization lists is skipped with
//! that reason (its patches have nothing to change on their own). Its objects are Kubernetes resources of their own, kept apart
//! from the same objects read as plain manifests by `root` (the kustomization's folder); their
//! file and line are those of the manifest the object came from. Files used only as patches are
//! not manifests and are not read as resources.

use super::join_path as join;
use super::yaml::{self, Node, Tags};
use super::ParseError;
use crate::files::SourceFile;
use crate::workload::Resource;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// Kustomization nesting deeper than this is refused (a cycle is caught before).
const MAX_DEPTH: usize = 32;

/// What rendering a workload's kustomizations produced.
#[derive(Debug, Default)]
pub struct Rendered {
    pub resources: Vec<Resource>,
    /// Files read as part of a rendering (patches, chart templates): not manifests of their own.
    pub consumed: BTreeSet<String>,
    /// Kustomizations that could not be rendered, with the reason (path, reason).
    pub skipped: Vec<(String, String)>,
    pub errors: Vec<ParseError>,
}

/// Whether a file is a kustomization by name.
pub fn is_kustomization(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "kustomization.yaml" | "kustomization.yml" | "Kustomization")
}

/// One object on its way through the transformers: its document, and where it came from.
#[derive(Debug, Clone)]
struct Object {
    doc: Json,
    file: String,
    line: usize,
    end_line: usize,
}

/// Why a kustomization could not be rendered.
#[derive(Debug)]
enum Failure {
    /// Outside the supported subset, or refers to what the workload does not hold: skipped.
    Unsupported(String),
    /// A file that does not parse: an error with its line.
    Parse(ParseError),
}

struct Renderer<'a> {
    files: BTreeMap<&'a str, &'a SourceFile>,
    consumed: BTreeSet<String>,
}

/// Renders every kustomization of the workload that no other kustomization uses.
pub fn render(files: &[SourceFile]) -> Rendered {
    let mut out = Rendered::default();
    let kustomizations: Vec<&SourceFile> = files.iter().filter(|f| is_kustomization(&f.path)).collect();
    if kustomizations.is_empty() {
        return out;
    }
    let mut r = Renderer {
        files: files.iter().map(|f| (f.path.as_str(), f)).collect(),
        // A kustomization is not a manifest itself.
        consumed: kustomizations.iter().map(|k| k.path.clone()).collect(),
    };
    // Folders some kustomization refers to: those are bases, rendered as part of their users.
    let mut used = BTreeSet::new();
    for k in &kustomizations {
        if let Ok(node) = r.load(&k.path) {
            let uses = ["resources", "bases", "components"]
                .into_iter()
                .flat_map(|key| list(&node, key));
            for entry in uses {
                if let Some(p) = entry.as_str() {
                    used.insert(join(k.dir(), p));
                }
            }
            // A patch is not a manifest, whether or not its kustomization can be rendered: read
            // as one, a fragment would be judged as a resource of its own, in the wrong file.
            r.consumed.extend(patch_files(k.dir(), &node));
        }
    }
    for k in kustomizations {
        if used.contains(k.dir()) {
            continue;
        }
        let mut stack = Vec::new();
        let built = match r.load(&k.path) {
            Ok(node) if is_component(&node) => Err(Failure::Unsupported(format!(
                "{}: a kustomize Component that no kustomization of the workload lists under `components` (it is rendered as part of one)",
                k.path
            ))),
            _ => r.build(k.dir(), &mut stack),
        };
        match built {
            Ok(objects) => {
                for o in objects {
                    if let Some(res) = resource(k.dir(), o) {
                        out.resources.push(res);
                    }
                }
            }
            Err(Failure::Unsupported(reason)) => out.skipped.push((k.path.clone(), reason)),
            Err(Failure::Parse(e)) => out.errors.push(e),
        }
    }
    out.consumed = r.consumed;
    out
}

/// Keys of a kustomization that this renderer applies, or that do not change the objects.
const SUPPORTED: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "commonAnnotations",
    "labels",
    "images",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "sortOptions",
];

impl<'a> Renderer<'a> {
    fn kustomization_in(&self, dir: &str) -> Option<&'a SourceFile> {
        ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .find_map(|n| self.files.get(join(dir, n).as_str()).copied())
    }

    fn load(&self, path: &str) -> Result<Node, Failure> {
        let docs = self.docs(path)?;
        docs.into_iter()
            .next()
            .ok_or_else(|| Failure::Unsupported(format!("{path} is empty")))
    }

    /// The YAML documents of one file of the workload.
    fn docs(&self, path: &str) -> Result<Vec<Node>, Failure> {
        let file = self
            .files
            .get(path)
            .ok_or_else(|| Failure::Unsupported(format!("`{path}` is not in the workload (or was not read)")))?;
        let text = yaml::strip_bom(file.text().map_err(Failure::Parse)?);
        let docs = yaml::guarded(|| yaml::parse_yaml(text, yaml::DuplicateKeys::Refused))
            .map_err(|e| Failure::Parse(ParseError::new(path, e.line, e.message)))?;
        Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
    }

    /// The objects of the kustomization in `dir`, transformed.
    fn build(&mut self, dir: &str, stack: &mut Vec<String>) -> Result<Vec<Object>, Failure> {
        let mut objects = Vec::new();
        self.accumulate(dir, stack, &mut objects, false)?;
        Ok(objects)
    }

    /// Adds the objects of the kustomization in `dir` to `objects`, then applies its patches
    /// and transformers to them all. For a kustomization `objects` starts empty; for a
    /// `component` it holds what the kustomization listing it has accumulated so far.
    fn accumulate(
        &mut self,
        dir: &str,
        stack: &mut Vec<String>,
        objects: &mut Vec<Object>,
        component: bool,
    ) -> Result<(), Failure> {
        if stack.iter().any(|d| d == dir) {
            return Err(Failure::Unsupported(format!("kustomization cycle through `{dir}`")));
        }
        if stack.len() >= MAX_DEPTH {
            return Err(Failure::Unsupported(format!(
                "kustomizations nested deeper than {MAX_DEPTH}"
            )));
        }
        let file = self
            .kustomization_in(dir)
            .ok_or_else(|| Failure::Unsupported(format!("no kustomization in `{dir}`")))?;
        let k = self.load(&file.path)?;
        let Some(entries) = k.entries() else {
            return Err(Failure::Unsupported(format!("{} is not a mapping", file.path)));
        };
        for (key, _) in entries {
            let key = key.as_str().unwrap_or("?");
            if !SUPPORTED.contains(&key) {
                return Err(Failure::Unsupported(format!(
                    "{}: `{key}` is not supported by Railyard's kustomize renderer",
                    file.path
                )));
            }
        }
        // kustomize refuses a component used as a base and a kustomization used as a component.
        if is_component(&k) != component {
            let (listed, is) = match component {
                true => ("`components`", "not a Component (`kind: Component`)"),
                false => ("`resources`", "a Component (list it under `components`)"),
            };
            return Err(Failure::Unsupported(format!(
                "{}: listed under {listed} but {is}",
                file.path
            )));
        }
        stack.push(dir.to_string());
        for entry in list(&k, "resources").into_iter().chain(list(&k, "bases")) {
            let Some(rel) = entry.as_str() else { continue };
            let path = local(dir, &file.path, rel)?;
            if self.kustomization_in(&path).is_some() {
                objects.extend(self.build(&path, stack)?);
            } else if self.files.contains_key(path.as_str()) {
                objects.extend(self.manifests(&path)?);
            } else {
                return Err(Failure::Unsupported(format!(
                    "{}: resource `{rel}` is not in the workload (or was not read)",
                    file.path
                )));
            }
        }
        for entry in list(&k, "components") {
            let Some(rel) = entry.as_str() else { continue };
            let path = local(dir, &file.path, rel)?;
            if self.kustomization_in(&path).is_none() {
                return Err(Failure::Unsupported(format!(
                    "{}: component `{rel}` is not in the workload (or was not read)",
                    file.path
                )));
            }
            self.accumulate(&path, stack, objects, true)?;
        }
        stack.pop();
        self.patch(dir, &file.path, &k, objects)?;
        transform(&k, objects);
        Ok(())
    }

    fn manifests(&self, path: &str) -> Result<Vec<Object>, Failure> {
        let mut out = Vec::new();
        for node in self.docs(path)? {
            let doc = yaml::to_json(&node, Tags::Ignore);
            let items = match doc.get("kind").and_then(Json::as_str) {
                Some("List") => doc.get("items").and_then(Json::as_array).cloned().unwrap_or_default(),
                _ => vec![doc],
            };
            for doc in items {
                out.push(Object {
                    doc,
                    file: path.to_string(),
                    line: node.line,
                    end_line: node.end_line.max(node.line),
                });
            }
        }
        Ok(out)
    }

    fn patch(&mut self, dir: &str, kfile: &str, k: &Node, objects: &mut Vec<Object>) -> Result<(), Failure> {
        let unsupported = |what: &str| Failure::Unsupported(format!("{kfile}: {what}"));
        // patchesStrategicMerge: files (or inline documents) that name their target.
        for entry in list(k, "patchesStrategicMerge") {
            for patch in self.patch_documents(dir, &entry)? {
                apply_strategic(&patch, None, objects).map_err(|e| unsupported(&e.to_string()))?;
            }
        }
        // patches: strategic merge or JSON 6902 (a list of operations), optional target.
        for entry in list(k, "patches") {
            let target = entry.get("target").map(|t| yaml::to_json(t, Tags::Ignore));
            let content = self.patch_source(dir, kfile, &entry, "patches")?;
            for patch in content {
                let patch = yaml::to_json(&patch, Tags::Ignore);
                if patch.is_array() {
                    let target = target
                        .as_ref()
                        .ok_or_else(|| unsupported("a JSON 6902 patch without `target`"))?;
                    apply_json6902(&patch, target, objects).map_err(|e| unsupported(&e.to_string()))?;
                } else {
                    apply_strategic(&patch, target.as_ref(), objects).map_err(|e| unsupported(&e.to_string()))?;
                }
            }
        }
        for entry in list(k, "patchesJson6902") {
            let target = entry
                .get("target")
                .map(|t| yaml::to_json(t, Tags::Ignore))
                .ok_or_else(|| unsupported("patchesJson6902 without `target`"))?;
            let ops = self.patch_source(dir, kfile, &entry, "patchesJson6902")?;
            for ops in ops {
                apply_json6902(&yaml::to_json(&ops, Tags::Ignore), &target, objects)
                    .map_err(|e| unsupported(&e.to_string()))?;
            }
        }
        Ok(())
    }

    /// The documents of a `patches` or `patchesJson6902` entry: its `path` (a file of the
    /// workload, then not a manifest of its own) or its inline `patch`.
    fn patch_source(&mut self, dir: &str, kfile: &str, entry: &Node, field: &str) -> Result<Vec<Node>, Failure> {
        match (entry.get("path"), entry.get("patch")) {
            (Some(p), _) => {
                let path = join(dir, p.as_str().unwrap_or_default());
                self.consumed.insert(path.clone());
                self.docs(&path)
            }
            (None, Some(inline)) => inline_docs(kfile, inline),
            (None, None) => Err(Failure::Unsupported(format!(
                "{kfile}: an entry of `{field}` without `path` or `patch`"
            ))),
        }
    }

    /// The documents of a `patchesStrategicMerge` entry: a file, or an inline document.
    fn patch_documents(&mut self, dir: &str, entry: &Node) -> Result<Vec<Json>, Failure> {
        match entry.as_str() {
            Some(s) if names_a_file(s) => {
                let path = join(dir, s);
                self.consumed.insert(path.clone());
                Ok(self
                    .docs(&path)?
                    .iter()
                    .map(|n| yaml::to_json(n, Tags::Ignore))
                    .collect())
            }
            Some(s) => Ok(yaml::parse_yaml(s, yaml::DuplicateKeys::Refused)
                .map_err(|e| Failure::Unsupported(format!("inline patch: {}", e.message)))?
                .iter()
                .map(|n| yaml::to_json(n, Tags::Ignore))
                .collect()),
            None => Ok(vec![yaml::to_json(entry, Tags::Ignore)]),
        }
    }
}

fn inline_docs(kfile: &str, inline: &Node) -> Result<Vec<Node>, Failure> {
    match inline.as_str() {
        Some(s) => yaml::parse_yaml(s, yaml::DuplicateKeys::Refused)
            .map_err(|e| Failure::Unsupported(format!("{kfile}: inline patch: {}", e.message))),
        None => Ok(vec![inline.clone()]),
    }
}

/// The workload path of an entry of `resources`, `bases` or `components`; a remote one is
/// not rendered.
fn local(dir: &str, kfile: &str, rel: &str) -> Result<String, Failure> {
    if rel.contains("://") || rel.starts_with("github.com/") || rel.contains("?ref=") {
        return Err(Failure::Unsupported(format!("{kfile}: remote resource `{rel}`")));
    }
    Ok(join(dir, rel))
}

/// Whether a `patchesStrategicMerge` entry names a file (rather than holding the patch inline).
fn names_a_file(entry: &str) -> bool {
    !entry.contains('\n') && !entry.trim_start().starts_with('{')
}

/// The files a kustomization names as patches (`patchesStrategicMerge` entries that are paths,
/// and the `path` of `patches` and `patchesJson6902` entries).
fn patch_files(dir: &str, k: &Node) -> Vec<String> {
    let strategic = list(k, "patchesStrategicMerge").into_iter().filter_map(|e| {
        let s = e.as_str()?;
        names_a_file(s).then(|| s.to_string())
    });
    let by_path = ["patches", "patchesJson6902"]
        .into_iter()
        .flat_map(|key| list(k, key))
        .filter_map(|e| e.get("path").and_then(Node::as_str).map(str::to_string));
    strategic.chain(by_path).map(|p| join(dir, &p)).collect()
}

/// Whether a kustomization is a component (`kind: Component`).
fn is_component(k: &Node) -> bool {
    k.get("kind").and_then(Node::as_str) == Some("Component")
}

/// The items of a list-valued key (empty when absent).
fn list(node: &Node, key: &str) -> Vec<Node> {
    node.get(key)
        .and_then(Node::items)
        .map(<[Node]>::to_vec)
        .unwrap_or_default()
}

fn str_at<'j>(doc: &'j Json, path: &[&str]) -> Option<&'j str> {
    path.iter().try_fold(doc, |v, k| v.get(k))?.as_str()
}

/// A patch Railyard does not apply (the workload is then *unknown*, never read unpatched).
#[derive(Debug, thiserror::Error)]
enum Unsupported {
    #[error("patch target `{0}`")]
    Selector(&'static str),
    #[error("a strategic merge patch without kind and metadata.name")]
    NoTarget,
    #[error("a patch whose target {0} matches no resource")]
    NoMatch(Json),
    #[error("a JSON 6902 patch: {0}")]
    Json6902(String),
}

/// Whether an object is the target a patch or selector names (kind, name, namespace; group and
/// version when given).
fn matches_target(o: &Json, target: &Json) -> Result<bool, Unsupported> {
    for unsupported in ["labelSelector", "annotationSelector"] {
        if target.get(unsupported).is_some() {
            return Err(Unsupported::Selector(unsupported));
        }
    }
    let field = |k: &str| target.get(k).and_then(Json::as_str);
    let (group, version) = match str_at(o, &["apiVersion"]) {
        Some(av) => match av.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", av),
        },
        None => ("", ""),
    };
    Ok(field("kind").is_none_or(|k| Some(k) == str_at(o, &["kind"]))
        && field("name").is_none_or(|n| Some(n) == str_at(o, &["metadata", "name"]))
        && field("namespace").is_none_or(|n| Some(n) == str_at(o, &["metadata", "namespace"]))
        && field("group").is_none_or(|g| g == group)
        && field("version").is_none_or(|v| v == version))
}

fn apply_strategic(patch: &Json, target: Option<&Json>, objects: &mut Vec<Object>) -> Result<(), Unsupported> {
    let implied;
    let target = match target {
        Some(t) => t,
        None => {
            let mut t = Map::new();
            for (key, path) in [("kind", vec!["kind"]), ("name", vec!["metadata", "name"])] {
                let v = str_at(patch, &path).ok_or(Unsupported::NoTarget)?;
                t.insert(key.into(), Json::from(v));
            }
            if let Some(ns) = str_at(patch, &["metadata", "namespace"]) {
                t.insert("namespace".into(), Json::from(ns));
            }
            implied = Json::Object(t);
            &implied
        }
    };
    // `$patch: delete` at the top removes the object it names.
    if patch.get("$patch").and_then(Json::as_str) == Some("delete") {
        let before = objects.len();
        let mut kept = Vec::with_capacity(before);
        for o in objects.drain(..) {
            if !matches_target(&o.doc, target)? {
                kept.push(o);
            }
        }
        *objects = kept;
        if objects.len() == before {
            return Err(Unsupported::NoMatch(target.clone()));
        }
        return Ok(());
    }
    let mut hit = false;
    for o in objects.iter_mut() {
        if matches_target(&o.doc, target)? {
            hit = true;
            let mut p = patch.clone();
            if let Some(m) = p.as_object_mut() {
                // A patch given with an explicit target may name another object: the target wins.
                if target.get("name").is_some() || target.get("kind").is_some() {
                    m.remove("kind");
                    m.remove("apiVersion");
                    if let Some(meta) = m.get_mut("metadata").and_then(Json::as_object_mut) {
                        meta.remove("name");
                        meta.remove("namespace");
                    }
                }
            }
            merge(&mut o.doc, &p, "");
        }
    }
    if !hit {
        return Err(Unsupported::NoMatch(target.clone()));
    }
    Ok(())
}

fn apply_json6902(ops: &Json, target: &Json, objects: &mut [Object]) -> Result<(), Unsupported> {
    let patch: json_patch::Patch =
        serde_json::from_value(ops.clone()).map_err(|e| Unsupported::Json6902(e.to_string()))?;
    let mut hit = false;
    for o in objects.iter_mut() {
        if matches_target(&o.doc, target)? {
            hit = true;
            json_patch::patch(&mut o.doc, &patch).map_err(|e| Unsupported::Json6902(e.to_string()))?;
        }
    }
    if !hit {
        return Err(Unsupported::NoMatch(target.clone()));
    }
    Ok(())
}

/// The key that identifies items of a list in a strategic merge, for the lists of the core
/// Kubernetes types that have one; other lists are replaced.
fn merge_key(list: &str) -> Option<&'static str> {
    match list {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            Some("name")
        }
        "volumeMounts" | "volumeDevices" => Some("mountPath"),
        "ports" => Some("containerPort"),
        _ => None,
    }
}

/// Strategic merge of `patch` into `doc` (`key` is the field `doc` is the value of).
fn merge(doc: &mut Json, patch: &Json, key: &str) {
    match (doc, patch) {
        (Json::Object(d), Json::Object(p)) => {
            if p.get("$patch").and_then(Json::as_str) == Some("replace") {
                let mut p = p.clone();
                p.remove("$patch");
                *d = p;
                return;
            }
            for (k, v) in p {
                if k.starts_with("$") {
                    continue;
                }
                match v {
                    Json::Null => {
                        d.remove(k);
                    }
                    v => match d.get_mut(k) {
                        Some(existing) => merge(existing, v, k),
                        None => {
                            d.insert(k.clone(), strip_directives(v));
                        }
                    },
                }
            }
        }
        (Json::Array(d), Json::Array(p)) if merge_key(key).is_some() => {
            let mk = merge_key(key).unwrap_or("name");
            for item in p {
                let id = item.get(mk).cloned();
                let pos = id.as_ref().and_then(|id| d.iter().position(|e| e.get(mk) == Some(id)));
                let delete = item.get("$patch").and_then(Json::as_str) == Some("delete");
                match (pos, delete) {
                    (Some(i), true) => {
                        d.remove(i);
                    }
                    (Some(i), false) => merge(&mut d[i], item, ""),
                    (None, true) => {}
                    (None, false) => d.push(strip_directives(item)),
                }
            }
        }
        (d, p) => *d = strip_directives(p),
    }
}

fn strip_directives(v: &Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// Kinds that live outside namespaces: `namespace` does not apply to them.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "IngressClass",
    "RuntimeClass",
    "PodSecurityPolicy",
];

/// The pod template of a workload object, wherever its kind keeps it.
fn pod_specs(doc: &mut Json) -> Vec<&mut Json> {
    let kind = doc.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
    let path: &[&str] = match kind.as_str() {
        "Pod" => &["spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &["spec", "template", "spec"],
    };
    let mut at = Some(doc);
    for k in path {
        at = at.and_then(|v| v.get_mut(*k));
    }
    at.into_iter().collect()
}

fn object_at<'j>(doc: &'j mut Json, path: &[&str]) -> Option<&'j mut Map<String, Json>> {
    let mut at = doc;
    for k in path {
        let m = at.as_object_mut()?;
        at = m.entry(k.to_string()).or_insert_with(|| Json::Object(Map::new()));
    }
    at.as_object_mut()
}

/// The kustomization's own transformers, applied to the objects its resources produced.
fn transform(k: &Node, objects: &mut [Object]) {
    let text = |key: &str| k.get(key).and_then(Node::as_str).map(str::to_string);
    let pairs = |key: &str| -> Vec<(String, Json)> {
        k.get(key)
            .and_then(Node::entries)
            .map(|e| {
                e.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), yaml::to_json(v, Tags::Ignore))))
                    .collect()
            })
            .unwrap_or_default()
    };
    let namespace = text("namespace");
    let (prefix, suffix) = (
        text("namePrefix").unwrap_or_default(),
        text("nameSuffix").unwrap_or_default(),
    );
    // commonLabels also go into selectors and pod templates; `labels` only where it says so.
    let mut labels: Vec<(Vec<(String, Json)>, bool)> = vec![(pairs("commonLabels"), true)];
    for l in list(k, "labels") {
        let p = l
            .get("pairs")
            .and_then(Node::entries)
            .map(|e| {
                e.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), yaml::to_json(v, Tags::Ignore))))
                    .collect()
            })
            .unwrap_or_default();
        let selectors = l.get("includeSelectors").and_then(Node::as_str) == Some("true");
        labels.push((p, selectors));
    }
    let annotations = pairs("commonAnnotations");
    let images: Vec<Json> = list(k, "images")
        .iter()
        .map(|i| yaml::to_json(i, Tags::Ignore))
        .collect();
    for o in objects.iter_mut() {
        let kind = o.doc.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
        if let Some(ns) = &namespace {
            if !CLUSTER_SCOPED.contains(&kind.as_str()) {
                if let Some(meta) = object_at(&mut o.doc, &["metadata"]) {
                    meta.insert("namespace".into(), Json::from(ns.clone()));
                }
            }
        }
        if (!prefix.is_empty() || !suffix.is_empty()) && kind != "Namespace" && kind != "CustomResourceDefinition" {
            if let Some(meta) = object_at(&mut o.doc, &["metadata"]) {
                if let Some(name) = meta.get("name").and_then(Json::as_str) {
                    let renamed = format!("{prefix}{name}{suffix}");
                    meta.insert("name".into(), Json::from(renamed));
                }
            }
        }
        for (pairs, selectors) in &labels {
            if pairs.is_empty() {
                continue;
            }
            let mut targets: Vec<&[&str]> = vec![&["metadata", "labels"]];
            if *selectors && o.doc.pointer("/spec/template").is_some() {
                targets.push(&["spec", "template", "metadata", "labels"]);
                targets.push(&["spec", "selector", "matchLabels"]);
            }
            for t in targets {
                if let Some(m) = object_at(&mut o.doc, t) {
                    m.extend(pairs.iter().cloned());
                }
            }
        }
        if !annotations.is_empty() {
            if let Some(m) = object_at(&mut o.doc, &["metadata", "annotations"]) {
                m.extend(annotations.iter().cloned());
            }
        }
        if !images.is_empty() {
            for spec in pod_specs(&mut o.doc) {
                for list in ["containers", "initContainers", "ephemeralContainers"] {
                    for c in spec.get_mut(list).and_then(Json::as_array_mut).into_iter().flatten() {
                        if let Some(image) = c.get("image").and_then(Json::as_str) {
                            if let Some(new) = retag(image, &images) {
                                c["image"] = Json::from(new);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The image reference after an `images` entry that names it: `newName`, `newTag`, `digest`.
fn retag(image: &str, images: &[Json]) -> Option<String> {
    // Split `registry:5000/repo/name:tag@sha256:...` into name, tag and digest.
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    let entry = images
        .iter()
        .find(|e| e.get("name").and_then(Json::as_str) == Some(name))?;
    let field = |k: &str| {
        entry
            .get(k)
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
    };
    let new_name = field("newName").unwrap_or_else(|| name.to_string());
    Some(match (field("digest"), field("newTag")) {
        (Some(d), _) => format!("{new_name}@{d}"),
        (None, Some(t)) => format!("{new_name}:{t}"),
        (None, None) => match (tag, digest) {
            (_, Some(d)) => format!("{new_name}@{d}"),
            (Some(t), None) => format!("{new_name}:{t}"),
            (None, None) => new_name,
        },
    })
}

/// The Kubernetes resource of a rendered object, in the overlay's folder (`root`).
fn resource(root: &str, o: Object) -> Option<Resource> {
    let root = if root.is_empty() { "." } else { root };
    super::kubernetes::object(&o.file, o.line, o.end_line, Some(root.to_string()), o.doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files(list: &[(&str, &str)]) -> Vec<SourceFile> {
        list.iter().map(|(p, t)| SourceFile::new(*p, *t)).collect()
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n        - name: side\n          image: busybox\n";

    #[test]
    fn overlay_transforms_and_strategic_patch() {
        let f = files(&[
            ("base/kustomization.yaml", "resources:\n  - deploy.yaml\n"),
            ("base/deploy.yaml", DEPLOY),
            (
                "overlays/prod/kustomization.yaml",
                "resources:\n  - ../../base\nnamespace: prod\nnamePrefix: p-\ncommonLabels:\n  env: prod\nimages:\n  - name: nginx\n    newTag: 1.27.1\npatchesStrategicMerge:\n  - priv.yaml\n",
            ),
            (
                "overlays/prod/priv.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: true\n",
            ),
        ]);
        let r = render(&f);
        assert!(
            r.skipped.is_empty() && r.errors.is_empty(),
            "{:?} {:?}",
            r.skipped,
            r.errors
        );
        assert_eq!(r.resources.len(), 1);
        let d = &r.resources[0];
        assert_eq!(d.address, "Deployment.prod.p-web");
        assert_eq!((d.file.as_str(), d.line), ("base/deploy.yaml", 1));
        assert_eq!(d.root.as_deref(), Some("overlays/prod"));
        let c = &d.config["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["image"], json!("nginx:1.27.1"));
        assert_eq!(c[0]["securityContext"]["privileged"], json!(true));
        assert_eq!(c[1]["image"], json!("busybox"));
        assert_eq!(d.config["metadata"]["labels"]["env"], json!("prod"));
        assert_eq!(d.config["spec"]["selector"]["matchLabels"]["env"], json!("prod"));
        assert!(r.consumed.contains("overlays/prod/priv.yaml"));
    }

    #[test]
    fn json6902_and_inline_patches() {
        let f = files(&[
            ("k/deploy.yaml", DEPLOY),
            (
                "k/kustomization.yaml",
                "resources: [deploy.yaml]\npatches:\n  - target: {kind: Deployment, name: web}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/hostNetwork\n        value: true\n  - patch: |-\n      kind: Deployment\n      metadata:\n        name: web\n      spec:\n        replicas: 3\n",
            ),
        ]);
        let r = render(&f);
        assert!(
            r.skipped.is_empty() && r.errors.is_empty(),
            "{:?} {:?}",
            r.skipped,
            r.errors
        );
        let d = &r.resources[0];
        assert_eq!(d.config["spec"]["template"]["spec"]["hostNetwork"], json!(true));
        assert_eq!(d.config["spec"]["replicas"], json!(3));
    }

    #[test]
    fn unsupported_fields_and_missing_resources_are_skipped_with_the_reason() {
        let f = files(&[
            (
                "a/kustomization.yaml",
                "resources: [d.yaml]\nconfigMapGenerator:\n  - name: x\n",
            ),
            ("a/d.yaml", DEPLOY),
            (
                "b/kustomization.yaml",
                "resources:\n  - https://github.com/x/y//base?ref=v1\n",
            ),
            ("c/kustomization.yaml", "resources: [missing.yaml]\n"),
        ]);
        let r = render(&f);
        assert!(r.resources.is_empty());
        let reasons: Vec<&str> = r.skipped.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(r.skipped.len(), 3, "{reasons:?}");
        assert!(
            reasons[0].contains("`configMapGenerator` is not supported"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("remote resource"), "{reasons:?}");
        assert!(reasons[2].contains("missing.yaml"), "{reasons:?}");
    }

    /// As in GoogleCloudPlatform/microservices-demo: components patch what the overlay's
    /// resources hold, add their own resources, and delete objects.
    #[test]
    fn components_change_what_their_kustomization_accumulated() {
        let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-external\nspec:\n  type: LoadBalancer\n";
        let f = files(&[
            ("base/kustomization.yaml", "resources: [deploy.yaml, svc.yaml]\n"),
            ("base/deploy.yaml", DEPLOY),
            ("base/svc.yaml", svc),
            (
                "overlay/kustomization.yaml",
                "resources: [../base]\ncomponents:\n  - ../components/debug\n  - ../components/private\nnamespace: shop\n",
            ),
            (
                "components/debug/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [tools.yaml]\npatches:\n  - target: {kind: Deployment, name: web}\n    patch: |-\n      - op: add\n        path: /spec/template/spec/hostPID\n        value: true\n",
            ),
            (
                "components/debug/tools.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: tools\nspec:\n  containers:\n    - name: t\n      image: busybox\n",
            ),
            (
                "components/private/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - patch: |-\n      $patch: delete\n      apiVersion: v1\n      kind: Service\n      metadata:\n        name: web-external\n",
            ),
            (
                "lonely/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: p.yaml\n",
            ),
            ("misused/kustomization.yaml", "resources: [../components/debug]\n"),
        ]);
        let r = render(&f);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let addresses: Vec<(&str, &str)> = r
            .resources
            .iter()
            .map(|x| (x.address.as_str(), x.root.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(
            addresses,
            vec![("Deployment.shop.web", "overlay"), ("Pod.shop.tools", "overlay")],
            "the Service deleted, the component's Pod added, the namespace over all"
        );
        assert_eq!(
            r.resources[0].config["spec"]["template"]["spec"]["hostPID"],
            json!(true)
        );
        assert_eq!(
            (r.resources[1].file.as_str(), r.resources[1].line),
            ("components/debug/tools.yaml", 1)
        );
        let reasons: Vec<(&str, &str)> = r.skipped.iter().map(|(p, s)| (p.as_str(), s.as_str())).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons[0].0 == "lonely/kustomization.yaml" && reasons[0].1.contains("no kustomization"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].0 == "misused/kustomization.yaml" && reasons[1].1.contains("list it under `components`"),
            "{reasons:?}"
        );
    }

    #[test]
    fn cycles_are_refused() {
        let f = files(&[
            ("a/kustomization.yaml", "resources: [../b]\n"),
            ("b/kustomization.yaml", "resources: [../a]\n"),
            ("c/kustomization.yaml", "resources: [../a]\n"),
        ]);
        let r = render(&f);
        assert!(r.skipped.iter().any(|(_, s)| s.contains("cycle")), "{:?}", r.skipped);
    }

    #[test]
    fn image_references() {
        let imgs = [json!({"name": "nginx", "newName": "reg.io/nginx", "digest": "sha256:abc"})];
        assert_eq!(retag("nginx:1.2", &imgs).as_deref(), Some("reg.io/nginx@sha256:abc"));
        assert_eq!(retag("busybox", &imgs), None);
        let imgs = [json!({"name": "reg:5000/app", "newTag": "v2"})];
        assert_eq!(retag("reg:5000/app", &imgs).as_deref(), Some("reg:5000/app:v2"));
        assert_eq!(join("overlays/prod", "../../base"), "base");
        assert_eq!(join("", "./a/b.yaml"), "a/b.yaml");
    }
}
