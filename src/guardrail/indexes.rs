//! Indexes Railyard adds to the policy `input` in Rust (docs/input.md, `input.kubernetes`):
//! generic views every guardrail of a kind starts from, computed once per workload instead of
//! once per guardrail and engine pass in Rego. They hold no judgement: which field is checked,
//! and what counts as a violation, stays in each guardrail's policy.
//!
//! Built on the converted `regorus::Value`s, so an index entry shares the resource's, pod
//! spec's and container's values with `input.resources` (reference-counted) instead of copying
//! them. `lib.kubernetes` reads these and computes the same lists in Rego when an input has no
//! index (a unit test's hand-written `input`); a test below holds the two equal.

use regorus::Value;

/// Where each pod controller kind keeps its pod spec; the same table as `pod_spec_paths` in
/// `guardrails/lib/kubernetes.rego`.
const POD_SPEC_PATHS: &[(&str, &[&str])] = &[
    ("CronJob", &["spec", "jobTemplate", "spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("Deployment", &["spec", "template", "spec"]),
    ("DeploymentConfig", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    ("Pod", &["spec"]),
    ("PodTemplate", &["template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("ReplicationController", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
];

/// Where a custom resource that runs pods keeps its pod spec, recognised by shape (a
/// `containers` list there) when its kind is none of the above: Argo Rollouts, Knative
/// Services, OpenKruise CloneSets (`spec.template.spec`), KEDA ScaledJobs (the CronJob's
/// path). The same list as `pod_spec_shapes` in `guardrails/lib/kubernetes.rego`.
const POD_SPEC_SHAPES: &[&[&str]] = &[
    &["spec", "template", "spec"],
    &["spec", "jobTemplate", "spec", "template", "spec"],
];

fn key(s: &str) -> Value {
    Value::from(s)
}

fn object(members: Vec<(&str, Value)>) -> Value {
    let mut o = Value::new_object();
    if let Ok(map) = o.as_object_mut() {
        for (k, v) in members {
            map.insert(key(k), v);
        }
    }
    o
}

/// `input.kubernetes` for these converted resources:
/// `pods`: one entry per pod controller manifest (and custom resource that runs pods, see
/// [`POD_SPEC_SHAPES`]), `{resource, path, spec}` (`spec` only when
/// the manifest has one at its kind's `path`), in `input.resources` order;
/// `containers`: one entry per container and init container of a pod spec that is an object,
/// `{resource, container, path, name, init}`.
pub fn kubernetes(resources: &[Value]) -> Value {
    let mut pods = Vec::new();
    let mut containers = Vec::new();
    let (kind, config, type_) = (key("kind"), key("config"), key("type"));
    for r in resources {
        if r[&kind] != key("kubernetes") {
            continue;
        }
        let manifest = &r[&config];
        // As `lib.kubernetes` finds them: listed in `input.types` under a pod controller kind,
        // the pod spec where the manifest's own `kind` keeps it.
        let is_controller = |v: &Value| {
            v.as_string()
                .ok()
                .and_then(|k| POD_SPEC_PATHS.iter().find(|(name, _)| **name == **k))
        };
        let at = |path: &[&str]| {
            path.iter().try_fold(manifest, |v, p| match &v[&key(p)] {
                Value::Undefined => None,
                next => Some(next),
            })
        };
        let path: &[&str] = match (is_controller(&r[&type_]), is_controller(&manifest[&kind])) {
            (Some(_), Some((_, path))) => path,
            (Some(_), None) => continue,
            // Another kind, listed under its own kind: a pod spec where its shape has one.
            (None, _) if r[&type_] == manifest[&kind] && manifest[&kind].as_string().is_ok() => {
                let shaped = POD_SPEC_SHAPES
                    .iter()
                    .find(|path| matches!(at(path).map(|spec| &spec[&key("containers")]), Some(Value::Array(_))));
                match shaped {
                    Some(path) => path,
                    None => continue,
                }
            }
            (None, _) => continue,
        };
        let spec = at(path);
        let dotted = path.join(".");
        let mut pod = vec![("resource", r.clone()), ("path", key(&dotted))];
        if let Some(spec) = spec {
            pod.push(("spec", spec.clone()));
        }
        pods.push(object(pod));
        let Some(spec @ Value::Object(_)) = spec else { continue };
        for (list, init) in [("containers", false), ("initContainers", true)] {
            let items: Vec<Value> = match &spec[&key(list)] {
                Value::Array(a) => a.iter().cloned().collect(),
                Value::Undefined | Value::Null => Vec::new(),
                other => vec![other.clone()],
            };
            for (i, c) in items.into_iter().enumerate() {
                if !matches!(c, Value::Object(_)) {
                    continue;
                }
                let name = match &c[&key("name")] {
                    Value::Undefined => key("<unnamed>"),
                    n => n.clone(),
                };
                containers.push(object(vec![
                    ("resource", r.clone()),
                    ("path", key(&format!("{dotted}.{list}[{i}]"))),
                    ("name", name),
                    ("init", Value::from(init)),
                    ("container", c),
                ]));
            }
        }
    }
    object(vec![
        ("pods", Value::from(pods)),
        ("containers", Value::from(containers)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `query` over `input` with the bundled `lib/` helpers.
    fn eval(input: &Value, query: &str) -> Value {
        let mut engine = regorus::Engine::new();
        let lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("guardrails/lib");
        for f in ["core.rego", "kubernetes.rego"] {
            engine.add_policy_from_file(lib.join(f)).unwrap();
        }
        engine.set_input(input.clone());
        engine.eval_rule(query.to_string()).unwrap()
    }

    fn sorted(v: Value) -> Vec<String> {
        let mut out: Vec<String> = v.as_array().unwrap().iter().map(|e| e.to_json_str().unwrap()).collect();
        out.sort();
        out
    }

    /// Odd shapes included: a spec that is null or a string, containers as one object, a
    /// container that is not an object, no name, a null name, a kind that is not a pod
    /// controller, a manifest whose type and kind differ, a Terraform resource; custom
    /// resources that run pods (recognised by shape), one whose `containers` is no list, one
    /// whose type and kind differ.
    const MANIFESTS: &str = r#"[
      {"kind": "kubernetes", "type": "Deployment", "id": "d", "config": {"kind": "Deployment", "spec": {"template": {"spec": {
         "containers": [{"name": "app", "image": "a:1"}, "not-a-container", {"image": "b"}],
         "initContainers": {"name": "init"}}}}}},
      {"kind": "kubernetes", "type": "CronJob", "id": "c", "config": {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": null}]}}}}}}},
      {"kind": "kubernetes", "type": "Pod", "id": "p0", "config": {"kind": "Pod", "spec": null}},
      {"kind": "kubernetes", "type": "Pod", "id": "p1", "config": {"kind": "Pod", "spec": "{{ .Values.spec }}"}},
      {"kind": "kubernetes", "type": "Pod", "id": "p2", "config": {"kind": "Pod"}},
      {"kind": "kubernetes", "type": "PodTemplate", "id": "t", "config": {"kind": "PodTemplate", "template": {"spec": {"containers": null, "initContainers": [{"name": "i"}]}}}},
      {"kind": "kubernetes", "type": "StatefulSet", "id": "s", "config": {"kind": "StatefulSet", "spec": {"template": {}}}},
      {"kind": "kubernetes", "type": "Service", "id": "svc", "config": {"kind": "Service", "spec": {"containers": [{"name": "x"}]}}},
      {"kind": "kubernetes", "type": "Deployment", "id": "odd", "config": {"kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "j"}]}}}}},
      {"kind": "terraform", "type": "Pod", "id": "tf", "config": {"kind": "Pod", "spec": {"containers": [{"name": "tf"}]}}},
      {"kind": "kubernetes", "type": "Rollout", "id": "ro", "config": {"kind": "Rollout", "spec": {"template": {"spec": {"containers": [{"name": "r"}]}}}}},
      {"kind": "kubernetes", "type": "ScaledJob", "id": "sj", "config": {"kind": "ScaledJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"initContainers": [{"name": "si"}], "containers": [{"name": "s"}]}}}}}}},
      {"kind": "kubernetes", "type": "Gadget", "id": "nolist", "config": {"kind": "Gadget", "spec": {"template": {"spec": {"containers": {"name": "one"}}}}}},
      {"kind": "kubernetes", "type": "Rollout", "id": "renamed", "config": {"kind": "Other", "spec": {"template": {"spec": {"containers": [{"name": "o"}]}}}}}
    ]"#;

    fn input(with_index: bool) -> Value {
        let resources: Vec<Value> = Value::from_json_str(MANIFESTS).unwrap().as_array().unwrap().to_vec();
        let mut types = std::collections::BTreeMap::<String, Vec<usize>>::new();
        for (i, r) in resources.iter().enumerate() {
            types
                .entry(r["type"].as_string().unwrap().to_string())
                .or_default()
                .push(i);
        }
        let mut members = vec![
            (
                "types",
                Value::from_json_str(&serde_json::to_string(&types).unwrap()).unwrap(),
            ),
            ("resources", Value::from(resources.clone())),
        ];
        if with_index {
            members.push(("kubernetes", kubernetes(&resources)));
        }
        object(members)
    }

    #[test]
    fn the_index_lists_what_the_rego_helpers_compute_without_it() {
        let (indexed, plain) = (input(true), input(false));
        for rule in ["pod_containers", "pods", "pod_controllers"] {
            let query = format!("data.lib.kubernetes.{rule}");
            let (a, b) = (eval(&indexed, &query), eval(&plain, &query));
            assert!(!a.as_array().unwrap().is_empty(), "{rule}");
            assert_eq!(sorted(a), sorted(b), "{rule}");
        }
        let ids = |v: Value, field: &str| -> Vec<String> {
            let mut out: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["resource"]["id"].as_string().unwrap(),
                        e[field].to_json_str().unwrap()
                    )
                })
                .collect();
            out.sort();
            out
        };
        let index = kubernetes(&input(false)["resources"].as_array().unwrap().to_vec());
        assert_eq!(
            ids(index["containers"].clone(), "path"),
            [
                "c \"spec.jobTemplate.spec.template.spec.containers[0]\"",
                "d \"spec.template.spec.containers[0]\"",
                "d \"spec.template.spec.containers[2]\"",
                "d \"spec.template.spec.initContainers[0]\"",
                "odd \"spec.template.spec.containers[0]\"",
                "ro \"spec.template.spec.containers[0]\"",
                "sj \"spec.jobTemplate.spec.template.spec.containers[0]\"",
                "sj \"spec.jobTemplate.spec.template.spec.initContainers[0]\"",
                "t \"template.spec.initContainers[0]\"",
            ]
        );
        let pods: Vec<String> = index["pods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| match &e["spec"] {
                Value::Undefined => format!("{} (no spec)", e["resource"]["id"].as_string().unwrap()),
                s => format!(
                    "{} {}",
                    e["resource"]["id"].as_string().unwrap(),
                    serde_json::to_string(s).unwrap()
                ),
            })
            .collect();
        assert_eq!(
            pods,
            [
                "d {\"containers\":[{\"image\":\"a:1\",\"name\":\"app\"},\"not-a-container\",{\"image\":\"b\"}],\"initContainers\":{\"name\":\"init\"}}",
                "c {\"containers\":[{\"name\":null}]}",
                "p0 null",
                "p1 \"{{ .Values.spec }}\"",
                "p2 (no spec)",
                "t {\"containers\":null,\"initContainers\":[{\"name\":\"i\"}]}",
                "s (no spec)",
                "odd {\"containers\":[{\"name\":\"j\"}]}",
                "ro {\"containers\":[{\"name\":\"r\"}]}",
                "sj {\"containers\":[{\"name\":\"s\"}],\"initContainers\":[{\"name\":\"si\"}]}",
            ]
        );
    }
}
