//! Kubernetes manifests (multi-document YAML, or JSON).
//!
//! Every document with a `kind` and a `metadata.name` is a resource `Kind.namespace.name`
//! (namespace `default` when unset, as Checkov does); `kind: List` documents contribute each
//! of their `items`. Helm templates (files containing `{{`) are not claimed: they are not
//! manifests until rendered.

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
        [".yaml", ".yml", ".json"].iter().any(|e| has_ext(path, e))
            && contains(bytes, b"apiVersion")
            && contains(bytes, b"kind")
            && !contains(bytes, b"{{")
            && !CloudFormation.claims(path, bytes)
    }

    fn parse(&self, files: &[&SourceFile]) -> Parsed {
        super::parse_each(files, parse_file)
    }
}

fn parse_file(file: &SourceFile) -> Result<(Json, Vec<Resource>), ParseError> {
    let text = yaml::strip_bom(file.text()?);
    let docs = yaml::guarded(|| {
        if is_json(&file.path, text) {
            yaml::parse_json(text).map(|d| vec![d])
        } else {
            yaml::parse_yaml(text)
        }
    })
    .map_err(|e| ParseError::new(&file.path, e.line, e.message))?;
    let mut resources = Vec::new();
    for doc in &docs {
        match doc.get("kind").and_then(Node::as_str) {
            Some("List") => {
                for item in doc.get("items").and_then(Node::items).unwrap_or_default() {
                    resources.extend(resource(&file.path, item));
                }
            }
            _ => resources.extend(resource(&file.path, doc)),
        }
    }
    let documents = docs.iter().map(|d| yaml::to_json(d, Tags::Ignore)).collect();
    Ok((Json::Array(documents), resources))
}

fn resource(path: &str, doc: &Node) -> Option<Resource> {
    let kind = doc.get("kind")?.as_str()?;
    let metadata = doc.get("metadata")?;
    let name = metadata.get("name")?.as_str().filter(|n| !n.is_empty())?;
    let namespace = metadata
        .get("namespace")
        .and_then(Node::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or("default");
    Some(Resource {
        refs: Vec::new(),
        referenced_by: Vec::new(),
        referenced_by_index: Vec::new(),
        tags: None,
        id: String::new(),
        address: format!("{kind}.{namespace}.{name}"),
        r#type: kind.to_string(),
        name: name.to_string(),
        kind: ResourceKind::Kubernetes,
        mode: "managed".into(),
        file: path.to_string(),
        line: doc.line,
        end_line: doc.end_line.max(doc.line),
        root: None,
        config: yaml::to_json(doc, Tags::Ignore),
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

    #[test]
    fn claims_manifests_only() {
        assert!(Kubernetes.claims("a.yaml", b"apiVersion: v1\nkind: Pod\n"));
        assert!(Kubernetes.claims("a.json", b"{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"));
        assert!(!Kubernetes.claims("a.txt", b"apiVersion: v1\nkind: Pod\n"));
        assert!(!Kubernetes.claims("a.yaml", b"name: x\n"));
        // Helm templates are skipped.
        assert!(!Kubernetes.claims(
            "templates/d.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n"
        ));
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
        assert!(p.resources.is_empty() && p.errors.is_empty());
        assert_eq!(p.documents["e.yaml"], json!([]));
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
        // The Helm chart is not read at all.
        assert!(!p.documents.keys().any(|k| k.starts_with("chart/")));
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
