//! Setup shared by the release-loop CLI tests: bundled guardrails as files of a guardrails
//! repo, the two standard workload repos, the guardrails repo's `main` and `develop`, and
//! reading what a run left behind (the ledger, a branch's tree, a run's output).

use super::{commit, COMPLIANT_TF, UNVERSIONED_TF};
use git2::{Oid, Repository};
use std::path::Path;
use std::process::Output;

/// The files of one bundled guardrail (or `lib`), as (path in the guardrails repo, content).
pub fn bundled(id: &str) -> Vec<(String, String)> {
    super::files_below(&super::bundled_guardrails().join(id))
        .into_iter()
        .map(|(rel, bytes)| {
            (
                format!("guardrails/{id}/{rel}"),
                String::from_utf8(bytes).expect("bundled files are UTF-8"),
            )
        })
        .collect()
}

/// The repository at `path`, made (HEAD on `main`, no commit) when there is none yet.
pub fn open_or_init(path: &Path) -> Repository {
    Repository::open(path).unwrap_or_else(|_| {
        let r = Repository::init(path).unwrap();
        r.set_head("refs/heads/main").unwrap();
        r
    })
}

/// `commit` of owned (path, content) pairs, all written.
pub fn commit_all(repo: &Repository, branch: &str, files: &[(String, String)], message: &str) -> Oid {
    let refs: Vec<(&str, Option<&str>)> = files.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
    commit(repo, branch, &refs, message)
}

/// The two workload repos below `root`: `payments` (compliant, `infra/main.tf`) and `web`
/// (an unversioned bucket, `main.tf`), committed with `messages` [payments, web].
pub fn two_workloads(root: &Path, messages: [&str; 2]) {
    commit(
        &open_or_init(&root.join("payments")),
        "main",
        &[("infra/main.tf", Some(COMPLIANT_TF))],
        messages[0],
    );
    commit(
        &open_or_init(&root.join("web")),
        "main",
        &[("main.tf", Some(UNVERSIONED_TF))],
        messages[1],
    );
}

/// A guardrails repo's history: `main` ("initial") holds `main_files`; `develop`, branched
/// from it, adds `candidates` in one commit named `message`.
pub fn main_and_develop(
    g: &Repository,
    main_files: &[(String, String)],
    candidates: &[(String, String)],
    message: &str,
) {
    commit_all(g, "main", main_files, "initial");
    let main = g.find_reference("refs/heads/main").unwrap().peel_to_commit().unwrap();
    g.branch("develop", &main, false).unwrap();
    commit_all(g, "develop", candidates, message);
}

/// The text of a file at the tip of `railyard/ledger`, if present.
pub fn ledger_file(g: &Repository, path: &str) -> Option<String> {
    let tip = g
        .find_reference("refs/heads/railyard/ledger")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let entry = tip.tree().unwrap().get_path(Path::new(path)).ok()?;
    let blob = entry.to_object(g).unwrap().peel_to_blob().unwrap();
    Some(String::from_utf8(blob.content().to_vec()).unwrap())
}

/// The ledger at the tip of `railyard/ledger`, as one JSON document: the head
/// (`ledger.json`) with every per-workload file's entries under `entries`, keyed
/// `guardrail/workload` (the shape of a layout 1 ledger, with the head's version).
pub fn ledger_json(g: &Repository) -> serde_json::Value {
    let mut head: serde_json::Value = serde_json::from_str(&ledger_file(g, "ledger.json").unwrap()).unwrap();
    let tip = g
        .find_reference("refs/heads/railyard/ledger")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    // Sorted by key, as layout 1 wrote them.
    let mut entries = std::collections::BTreeMap::new();
    if let Ok(dir) = tip.tree().unwrap().get_path(Path::new("workloads")) {
        let dir = dir.to_object(g).unwrap().peel_to_tree().unwrap();
        for e in dir.iter() {
            let blob = g.find_blob(e.id()).unwrap();
            let file: serde_json::Value = serde_json::from_slice(blob.content()).unwrap();
            let workload = file["workload"].as_str().unwrap();
            for (guardrail, entry) in file["entries"].as_object().unwrap() {
                entries.insert(format!("{guardrail}/{workload}"), entry.clone());
            }
        }
    }
    if !entries.is_empty() {
        head["entries"] = serde_json::Value::Object(entries.into_iter().collect());
    }
    head
}

/// [`ledger_json`], pretty-printed.
pub fn ledger_text(g: &Repository) -> String {
    serde_json::to_string_pretty(&ledger_json(g)).unwrap() + "\n"
}

/// A hand commit on `railyard/ledger` of `ledger` (the one-document shape of
/// [`ledger_json`]), written as Railyard's layout 2 files: the head and one file per
/// workload (files of workloads no longer in it are removed; `summary.json` is left as is).
pub fn commit_ledger(g: &Repository, ledger: &serde_json::Value, message: &str) -> Oid {
    let mut head = ledger.clone();
    let entries = head.as_object_mut().unwrap().remove("entries").unwrap_or_default();
    let mut files: std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>> = Default::default();
    for (_, e) in entries.as_object().cloned().unwrap_or_default() {
        let (guardrail, workload) = (e["guardrail"].as_str().unwrap(), e["workload"].as_str().unwrap());
        files
            .entry(workload.to_string())
            .or_default()
            .insert(guardrail.to_string(), e.clone());
    }
    let mut changes: Vec<(String, Option<String>)> = vec![(
        "ledger.json".into(),
        Some(serde_json::to_string_pretty(&head).unwrap() + "\n"),
    )];
    changes.push(("workloads".into(), None));
    for (workload, entries) in files {
        let file = serde_json::json!({"version": head["version"], "workload": workload, "entries": entries});
        changes.push((
            format!("workloads/{workload}.json"),
            Some(serde_json::to_string_pretty(&file).unwrap() + "\n"),
        ));
    }
    let changes: Vec<(&str, Option<&str>)> = changes.iter().map(|(p, c)| (p.as_str(), c.as_deref())).collect();
    commit(g, "railyard/ledger", &changes, message)
}

/// Whether `path` is in the tree at the tip of `branch`.
pub fn on_branch(g: &Repository, branch: &str, path: &str) -> bool {
    let tree = g
        .find_reference(&format!("refs/heads/{branch}"))
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .tree()
        .unwrap();
    tree.get_path(Path::new(path)).is_ok()
}

/// Commit messages on `branch`, newest first.
pub fn log(g: &Repository, branch: &str) -> Vec<String> {
    let mut walk = g.revwalk().unwrap();
    walk.push_ref(&format!("refs/heads/{branch}")).unwrap();
    walk.map(|oid| g.find_commit(oid.unwrap()).unwrap().message().unwrap().to_string())
        .collect()
}

/// A run's stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `railyard ARGS --repo ROOT/guardrails --cache-dir ROOT/cache`: a release-loop run on the
/// sandbox below `root`; callers add the environment their story needs.
pub fn command(root: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(super::bin());
    cmd.args(args);
    // Each command takes only its own options: `check` names its guardrails with
    // `--guardrails` (no `--repo`), `test` reads a folder (neither).
    if !matches!(args.first(), Some(&"check") | Some(&"test")) {
        cmd.arg("--repo").arg(root.join("guardrails"));
    }
    if args.first() != Some(&"test") {
        cmd.arg("--cache-dir").arg(root.join("cache"));
    }
    cmd
}

/// A test's sandbox: a temporary folder holding the guardrails repo, the workload repos and
/// the cache, each by its folder name.
pub trait Root {
    fn root(&self) -> &Path;

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.root().join(rel)
    }

    /// The repository in folder `rel`, made when there is none yet (see [`open_or_init`]).
    fn repo(&self, rel: &str) -> Repository {
        open_or_init(&self.path(rel))
    }
}

/// The usual sandbox: just its folder. Test modules add their own helpers through
/// module-local extension traits (inherent methods would clash across the one test binary).
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    /// An empty temporary folder: the tests write the repos into it.
    pub fn empty() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

impl Root for Sandbox {
    fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// A pipeline's `check` of a checkout of `web` (an unversioned bucket, written to
/// `ROOT/web-checkout`) against the guardrails repo's `main`, on `now`, as JSON.
pub fn check_web(root: &Path, now: &str) -> std::process::Command {
    let checkout = root.join("web-checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    std::fs::write(checkout.join("main.tf"), UNVERSIONED_TF).unwrap();
    let mut cmd = std::process::Command::new(super::bin());
    cmd.arg("check")
        .arg(&checkout)
        .args(["--workload", "web", "--format", "json", "--now", now, "--guardrails"])
        .arg(root.join("guardrails"));
    cmd
}
