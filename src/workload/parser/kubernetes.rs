//! Kubernetes manifests (multi-document YAML, or JSON).
//!
//! Recognised from parsed content, never from raw bytes: every `.yaml`, `.yml` or `.json` file
//! that no other parser claims is parsed, and a document whose mapping has a string
//! `apiVersion` and a string `kind` is a Kubernetes object, whatever comments or `{{` appear
//! elsewhere in the file. Every object with a `metadata.name` is a resource
//! `Kind.namespace.name` (namespace `default` when unset, as Checkov does); `kind: List`
//! documents contribute each of their `items`. A file without any object is not Kubernetes
//! code and contributes nothing; one that does not parse is an error when it looks like a
//! manifest (its bytes name `apiVersion` and `kind`) or hit a parsing limit, and is not
//! Kubernetes code otherwise. Helm chart templates and kustomize patches never reach this parser (see
//! [`super::helm`] and [`super::kustomize`]).

use super::cloudformation::{is_json, CloudFormation};
use super::yaml::{self, contains, Node, Tags};
use super::{has_ext, ParseError, Parsed, Parser};
use crate::{
    files::SourceFile,
    workload::{Resource, ResourceKind},
};
use serde_json::Value as Json;

pub struct Kubernetes;

impl Parser for Kubernetes {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Kubernetes
    }

    fn claims(&self, path: &str, bytes: &[u8]) -> bool {
        [".yaml", ".yml", ".json"].iter().any(|e| has_ext(path, e)) && !CloudFormation.claims(path, bytes)
    }

    fn parse(&self, files: &[&SourceFile]) -> Parsed {
        let mut out = Parsed::default();
        for file in files {
            match parse_file(file) {
                Ok(Some((document, resources))) => {
                    out.documents.insert(file.path.clone(), document);
                    out.resources.extend(resources);
                }
                Ok(None) => {}
                Err(e) => out.errors.push(e),
            }
        }
        out
    }
    fn per_file(&self) -> bool {
        true
    }
}

/// Whether a YAML document is a Kubernetes object: a mapping with string `apiVersion` and
/// `kind` (a quoted `"v1"` counts; a number or a mapping does not).
fn is_object(doc: &Node) -> bool {
    let string = |key: &str| {
        doc.get(key)
            .is_some_and(|n| matches!(yaml::to_json(n, Tags::Ignore), Json::String(s) if !s.is_empty()))
    };
    string("apiVersion") && string("kind")
}

/// Whether a file that does not parse should be reported: it looks like a manifest, or it
/// stopped at one of the parser's limits (which a hostile file could use to hide one).
fn worth_an_error(bytes: &[u8], error: &yaml::Error) -> bool {
    (contains(bytes, b"apiVersion") && contains(bytes, b"kind")) || error.guard
}

/// The file's documents and resources; `None` when it holds no Kubernetes object.
fn parse_file(file: &SourceFile) -> Result<Option<(Json, Vec<Resource>)>, ParseError> {
    let text = yaml::strip_bom(file.text()?);
    let parsed = yaml::guarded(|| {
        if is_json(&file.path, text) {
            yaml::parse_json(text, yaml::DuplicateKeys::Refused).map(|d| vec![d])
        } else {
            yaml::parse_yaml(text, yaml::DuplicateKeys::Refused)
        }
    });
    let docs = match parsed {
        Ok(docs) => docs,
        Err(e) if worth_an_error(&file.bytes, &e) => {
            let hint = match contains(&file.bytes, b"{{") {
                true => " (Go template syntax outside a Helm chart's templates/ folder?)",
                false => "",
            };
            return Err(ParseError::new(&file.path, e.line, format!("{}{hint}", e.message)));
        }
        Err(_) => return Ok(None),
    };
    if !docs.iter().any(is_object) {
        return Ok(None);
    }
    let mut resources = Vec::new();
    for doc in docs.iter().filter(|d| is_object(d)) {
        let objects = match doc.get("kind").and_then(Node::as_str) {
            Some("List") => doc.get("items").and_then(Node::items).unwrap_or_default(),
            _ => std::slice::from_ref(doc),
        };
        for object in objects {
            match resource(&file.path, object) {
                Some(r) => resources.push(r),
                None => unnamed(&file.path, object, contains(&file.bytes, b"{{"))?,
            }
        }
    }
    let documents = docs.iter().map(|d| yaml::to_json(d, Tags::Ignore)).collect();
    Ok(Some((Json::Array(documents), resources)))
}

/// Kinds that run containers: the guardrails judge them, so one that cannot be a resource
/// (no `metadata.name` nor `generateName`; kubectl refuses it too) is an error, never left out.
/// Other documents with a kind but no name are configuration files (a kubeconfig's `Config`,
/// kubeadm's `ClusterConfiguration`, a kind `Cluster`), not API objects.
const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "PodTemplate",
];

/// The error for an object that is not a resource, when its kind runs containers. `templated`:
/// the file holds `{{`, so a name like `{{ .Name }}` (read as a YAML map) is likely why.
fn unnamed(path: &str, doc: &Node, templated: bool) -> Result<(), ParseError> {
    let Some(kind) = doc
        .get("kind")
        .and_then(Node::as_str)
        .filter(|k| WORKLOAD_KINDS.contains(k))
    else {
        return Ok(());
    };
    let named = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .is_some_and(|n| !n.is_null());
    let why = match (named, templated) {
        (true, true) => {
            "whose `metadata.name` is not a name (Go template syntax outside a Helm chart's templates/ folder?)"
        }
        (true, false) => "whose `metadata.name` is not a name",
        (false, _) => "without `metadata.name` (or `generateName`)",
    };
    Err(ParseError::new(
        path,
        doc.line,
        format!("a {kind} {why}: kubectl refuses it, and it cannot be judged"),
    ))
}

fn resource(path: &str, doc: &Node) -> Option<Resource> {
    object(
        path,
        doc.line,
        doc.end_line.max(doc.line),
        None,
        yaml::to_json(doc, Tags::Ignore),
    )
}

/// The resource of one Kubernetes object (`Kind.namespace.name`, namespace `default` when
/// unset; `name` is `generateName` when only that is given), or `None` for a document without
/// kind or name. Shared by the manifest reader and
/// the renderers (kustomize, Helm), so an object is the same resource however it was read.
pub(super) fn object(path: &str, line: usize, end_line: usize, root: Option<String>, config: Json) -> Option<Resource> {
    let kind = config.get("kind")?.as_str()?.to_string();
    let metadata = config.get("metadata")?;
    // An object created with `generateName` (`kubectl create`, Jobs, Argo and Tekton runs) is
    // named by its prefix: the API server adds a random suffix.
    let name = ["name", "generateName"]
        .iter()
        .find_map(|k| metadata.get(k)?.as_str().filter(|n| !n.is_empty()))?
        .to_string();
    let namespace = metadata
        .get("namespace")
        .and_then(Json::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("default");
    Some(Resource {
        refs: Vec::new(),
        referenced_by: Vec::new(),
        referenced_by_index: Vec::new(),
        tags: None,
        id: String::new(),
        address: format!("{kind}.{namespace}.{name}"),
        r#type: kind,
        name,
        kind: ResourceKind::Kubernetes,
        mode: "managed".into(),
        file: path.to_string(),
        line,
        end_line,
        root,
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(path: &str, text: &str) -> Parsed {
        assert!(Kubernetes.claims(path, text.as_bytes()), "not claimed: {path}");
        Kubernetes.parse(&[&SourceFile::new(path, text)])
    }

    fn lines(p: &Parsed) -> Vec<(&str, usize, usize)> {
        p.resources
            .iter()
            .map(|r| (r.address.as_str(), r.line, r.end_line))
            .collect()
    }

    /// An object named by `generateName` is a resource; a workload kind with no name at all
    /// is an error (it runs containers), a configuration file with a kind is not code.
    #[test]
    fn generate_name_and_unnamed_objects() {
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec: {}\n---\napiVersion: v1\nkind: Config\nclusters: []\n";
        let p = parse("job.yaml", job);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(lines(&p), vec![("Job.default.migrate-", 1, 5)]);
        let unnamed = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: c, image: x}]\n";
        let p = parse("pod.yaml", unnamed);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert_eq!(p.errors[0].line, 6);
        assert!(
            p.errors[0].message.contains("a Pod without `metadata.name`"),
            "{:?}",
            p.errors
        );
        let list =
            "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {}\n";
        assert_eq!(parse("list.yaml", list).errors[0].line, 4);
        let templated = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Name }}\n";
        let p = parse("t.yaml", templated);
        assert!(
            p.errors[0]
                .message
                .contains("`metadata.name` is not a name (Go template"),
            "{:?}",
            p.errors
        );
    }

    #[test]
    fn claims_yaml_and_json_files() {
        assert!(Kubernetes.claims("a.yaml", b"apiVersion: v1\nkind: Pod\n"));
        assert!(Kubernetes.claims("a.json", b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"));
        assert!(!Kubernetes.claims("a.txt", b"apiVersion: v1\nkind: Pod\n"));
        // Claimed, then recognised from the parsed content.
        assert!(Kubernetes.claims("a.yaml", b"name: x\n"));
        // CloudFormation wins.
        assert!(!Kubernetes.claims("t.yaml", b"AWSTemplateFormatVersion: x\nkind: 1\napiVersion: 2\n"));
    }

    #[test]
    fn multi_document_with_and_without_namespace() {
        let text = "\
# a comment
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext: {privileged: false}

---
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
data: {a: b}
";
        let p = parse("k.yaml", text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            lines(&p),
            vec![("Deployment.shop.web", 3, 15), ("Service.default.web", 19, 23)]
        );
        let d = &p.resources[0];
        assert_eq!(
            (d.r#type.as_str(), d.name.as_str(), d.mode.as_str()),
            ("Deployment", "web", "managed")
        );
        assert_eq!(d.kind, ResourceKind::Kubernetes);
        assert_eq!(d.config["spec"]["replicas"], json!(2));
        assert_eq!(
            d.config["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"],
            json!(false)
        );
        // Documents: every non-empty document, including the one without a name.
        let docs = p.documents["k.yaml"].as_array().unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(
            docs[2],
            json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}})
        );
    }

    #[test]
    fn list_kind_contributes_its_items() {
        let text = "\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata:
      name: shop
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata:
      name: reader
    rules: []
";
        let p = parse("list.yaml", text);
        assert_eq!(
            lines(&p),
            vec![("Namespace.default.shop", 4, 7), ("ClusterRole.default.reader", 8, 12)]
        );
        assert_eq!(p.resources[1].config["rules"], json!([]));
    }

    #[test]
    fn json_manifest() {
        let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\", \"namespace\": \"n\"},\n  \"spec\": {}\n}\n";
        let p = parse("p.json", text);
        assert_eq!(lines(&p), vec![("Pod.n.p", 1, 6)]);
        assert_eq!(p.documents["p.json"][0]["metadata"]["name"], json!("p"));
    }

    #[test]
    fn bom_and_crlf_keep_lines() {
        let yaml = "\u{feff}# c\r\napiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: p\r\nspec: {}\r\n";
        assert_eq!(lines(&parse("p.yaml", yaml)), vec![("Pod.default.p", 2, 6)]);
        let json = "\u{feff}{\r\n  \"apiVersion\": \"v1\",\r\n  \"kind\": \"Pod\",\r\n  \"metadata\": {\"name\": \"p\"}\r\n}\r\n";
        assert_eq!(lines(&parse("p.json", json)), vec![("Pod.default.p", 1, 5)]);
    }

    #[test]
    fn syntax_error_has_its_line() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n";
        let p = parse("bad.yaml", text);
        assert!(p.resources.is_empty());
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].line >= 9, "{:?}", p.errors);
        let p = parse(
            "bad.json",
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\"\n  \"metadata\": {}\n}\n",
        );
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 4));
        let p = parse(
            "tab.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: indent\n",
        );
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 5));
    }

    #[test]
    fn empty_file_and_empty_documents() {
        let p = parse("e.yaml", "# apiVersion kind\n---\n---\n");
        assert!(p.resources.is_empty() && p.errors.is_empty() && p.documents.is_empty());
    }

    #[test]
    fn recognised_from_parsed_content() {
        // A comment with template braces hides nothing.
        let text = "# rendered by {{ .Release.Name }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {a: \"{{ x }}\"}\nspec: {}\n";
        assert_eq!(lines(&parse("p.yaml", text)), vec![("Pod.default.p", 2, 7)]);
        // Escaped or quoted keys are the same keys.
        let text = "\"api\\u0056ersion\": v1\n'kind': Pod\nmetadata: {name: q}\n";
        assert_eq!(lines(&parse("q.yaml", text)), vec![("Pod.default.q", 1, 3)]);
        // Not objects: a non-string kind, other YAML files.
        for text in [
            "apiVersion: v1\nkind: 3\nmetadata: {name: n}\n",
            "name: ci\non: push\n",
            "[1, 2]\n",
        ] {
            let p = parse("other.yaml", text);
            assert!(
                p.resources.is_empty() && p.documents.is_empty() && p.errors.is_empty(),
                "{text}"
            );
        }
        // A file that does not parse: an error when it looks like a manifest, else not ours.
        let p = parse(
            "t.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.n }}-web\n",
        );
        assert_eq!((p.errors.len(), p.errors[0].line), (1, 4), "{:?}", p.errors);
        assert!(p.errors[0].message.contains("Go template"), "{:?}", p.errors);
        let p = parse("notes.yaml", "a: [b\n");
        assert!(p.errors.is_empty() && p.resources.is_empty());
        let p = parse("deep.yaml", &"[".repeat(1000));
        assert_eq!(p.errors.len(), 1, "a parsing limit is never silent");
    }

    #[test]
    fn fixtures_through_parse_files() {
        let p = crate::workload::parser::parse_fixture_dir("kubernetes");
        let got: Vec<_> = p
            .resources
            .iter()
            .map(|r| (r.file.as_str(), r.address.as_str(), r.line, r.end_line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("cronjob.json", "CronJob.default.cleanup", 1, 22),
                ("rbac-list.yaml", "ServiceAccount.shop.web", 4, 8),
                ("rbac-list.yaml", "ClusterRole.default.pod-reader", 9, 16),
                ("rbac-list.yaml", "ClusterRoleBinding.default.web-pod-reader", 17, 23),
                ("web.yaml", "Namespace.default.shop", 2, 5),
                ("web.yaml", "Deployment.shop.web", 7, 31),
                ("web.yaml", "Service.shop.web", 33, 42),
                ("web.yaml", "Ingress.shop.web", 44, 59),
            ]
        );
        // The Helm chart's template is not read as a manifest: without `helm` on PATH the
        // chart is listed as skipped.
        assert!(!p.documents.keys().any(|k| k.starts_with("chart/templates")));
        assert_eq!(
            p.skipped,
            vec![crate::files::Skipped {
                path: "chart/Chart.yaml".into(),
                reason: "Helm chart not rendered: helm is not on PATH".into(),
                kind: Some(ResourceKind::Kubernetes),
            }]
        );
        assert_eq!(p.documents["web.yaml"].as_array().unwrap().len(), 4);
        let ingress = p.resources.iter().find(|r| r.r#type == "Ingress").unwrap();
        assert_eq!(
            ingress.config["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"],
            json!("true")
        );
    }

    #[test]
    fn many_documents() {
        let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  key: |\n    value\n\n";
        let text: String = (0..2000)
            .map(|i| format!("---\n{}", doc.replace("{i}", &i.to_string())))
            .collect();
        let started = std::time::Instant::now();
        let p = parse("many.yaml", &text);
        assert_eq!(p.resources.len(), 2000);
        let last = &p.resources[1999];
        assert_eq!(
            (last.address.as_str(), last.line, last.end_line),
            ("ConfigMap.default.c1999", 1999 * 9 + 2, 1999 * 9 + 8)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
