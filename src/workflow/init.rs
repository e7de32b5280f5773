//! `railyard init [DIR]`: a guardrails repository ready for the loop. `main` holds the
//! registry, the shared Rego helpers and the CI files; `develop` adds one example guardrail
//! with fixtures, so the first `observe` has a candidate to evaluate and promote. The work tree
//! is `develop`, where guardrails are written.

use super::Outcome;
use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why `init` did not create the repository.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("`{0}` is not empty: `railyard init` creates a new guardrails repository; give it a new or empty folder")]
    NotEmpty(PathBuf),
    #[error("`{0}` is not a folder")]
    NotADir(PathBuf),
    #[error("{what} `{path}`: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("git, in `{path}`: {source}")]
    Git { path: PathBuf, source: git2::Error },
}

const EXAMPLE: &str = "guardrails/aws-s3-versioning";

/// On `main`: the loop's infrastructure, no guardrail yet.
const MAIN_FILES: &[(&str, &str)] = &[
    ("workloads.toml", include_str!("init/workloads.toml")),
    ("README.md", include_str!("init/README.md")),
    (
        "guardrails/lib/core.rego",
        include_str!("../../guardrails/lib/core.rego"),
    ),
    (
        "guardrails/lib/core_test.rego",
        include_str!("../../guardrails/lib/core_test.rego"),
    ),
    ("guardrails/lib/aws.rego", include_str!("../../guardrails/lib/aws.rego")),
    (
        "guardrails/lib/aws_test.rego",
        include_str!("../../guardrails/lib/aws_test.rego"),
    ),
    (
        "guardrails/lib/kubernetes.rego",
        include_str!("../../guardrails/lib/kubernetes.rego"),
    ),
    (
        "guardrails/lib/kubernetes_test.rego",
        include_str!("../../guardrails/lib/kubernetes_test.rego"),
    ),
    (
        ".github/workflows/railyard.yml",
        include_str!("init/github-workflow.yml"),
    ),
    (".gitlab-ci.yml", include_str!("init/gitlab-ci.yml")),
];

/// On `develop`: the example candidate, a bundled guardrail with some of its fixtures.
const DEVELOP_FILES: &[(&str, &str)] = &[
    (
        "guardrails/aws-s3-versioning/guardrail.toml",
        include_str!("../../guardrails/aws-s3-versioning/guardrail.toml"),
    ),
    (
        "guardrails/aws-s3-versioning/policy.rego",
        include_str!("../../guardrails/aws-s3-versioning/policy.rego"),
    ),
    (
        "guardrails/aws-s3-versioning/exceptions.toml",
        include_str!("init/exceptions.toml"),
    ),
    (
        "guardrails/aws-s3-versioning/tests/pass/legacy_inline.tf",
        include_str!("../../guardrails/aws-s3-versioning/tests/pass/legacy_inline.tf"),
    ),
    (
        "guardrails/aws-s3-versioning/tests/pass/separate_resource/main.tf",
        include_str!("../../guardrails/aws-s3-versioning/tests/pass/separate_resource/main.tf"),
    ),
    (
        "guardrails/aws-s3-versioning/tests/fail/suspended.tf",
        include_str!("../../guardrails/aws-s3-versioning/tests/fail/suspended.tf"),
    ),
    (
        "guardrails/aws-s3-versioning/tests/fail/expected.toml",
        include_str!("init/expected.toml"),
    ),
];

pub fn init(dir: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    prepare(dir)?;
    write_files(dir, MAIN_FILES)?;
    let git = |source| InitError::Git {
        path: dir.to_path_buf(),
        source,
    };
    let repo = Repository::init_opts(dir, RepositoryInitOptions::new().initial_head("main")).map_err(git)?;
    commit_all(
        &repo,
        "refs/heads/main",
        "Guardrails repository: registry, shared helpers, CI",
    )
    .map_err(git)?;
    write_files(dir, DEVELOP_FILES)?;
    commit_all(
        &repo,
        "refs/heads/develop",
        "Add an example guardrail, aws-s3-versioning, as a candidate",
    )
    .map_err(git)?;
    repo.set_head("refs/heads/develop").map_err(git)?;

    let shown = dir.display();
    writeln!(
        out,
        "Created the guardrails repository `{shown}`:\n  main     workloads.toml, guardrails/lib/, .github/workflows/railyard.yml, .gitlab-ci.yml, README.md\n  develop  + {EXAMPLE}/ (a candidate, with pass and fail fixtures)  <- checked out\n\nNext:\n  railyard test {shown}/guardrails       # the fixtures pass\n  $EDITOR {shown}/workloads.toml         # register a workload, then commit it on develop\n  railyard observe --repo {shown}        # evaluate develop's candidates on every workload\n\nIn the CI files, replace ORG/railyard (GitHub) or security/railyard (GitLab) with where your\norganisation keeps Railyard, and set the secrets they name."
    )?;
    Ok(Outcome::Clean)
}

/// Creates `dir` when missing; refuses anything already in it (never overwrites a file).
fn prepare(dir: &Path) -> Result<(), InitError> {
    let io = |what, source| InitError::Io {
        what,
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(InitError::NotADir(dir.to_path_buf())),
        Ok(_) => {
            if std::fs::read_dir(dir).map_err(|e| io("reading", e))?.next().is_some() {
                return Err(InitError::NotEmpty(dir.to_path_buf()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| io("creating", e))?
        }
        Err(e) => return Err(io("reading", e)),
    }
    Ok(())
}

fn write_files(dir: &Path, files: &[(&str, &str)]) -> Result<(), InitError> {
    for (rel, content) in files {
        let path = dir.join(rel);
        let io = |what, source| InitError::Io {
            what,
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("creating", e))?;
        }
        std::fs::write(&path, content).map_err(|e| io("writing", e))?;
    }
    Ok(())
}

/// Commits the whole work tree on `refname`, on top of HEAD's commit when there is one.
fn commit_all(repo: &Repository, refname: &str, message: &str) -> Result<git2::Oid, git2::Error> {
    let mut index = repo.index()?;
    index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    // The user's git identity when configured, as for any commit they make.
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("Railyard init", "railyard@localhost"))?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some(refname), &sig, &sig, message, &tree, &parents)
}
