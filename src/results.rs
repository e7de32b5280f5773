//! The content-addressed result cache: what every guardrail said about a workload's files,
//! before exceptions, kept between runs so that an observation where nothing changed parses
//! and evaluates nothing, and its cost grows with what changed.
//!
//! Decisions:
//! - One file per workload version: `<cache>/results/<key>.json`, where the key is a SHA-256
//!   of the result format, Railyard's version (the engine and parsers), the workload's name
//!   and team (policies see them in `input.workload`), its `paths`, and the tree id of its
//!   commit. The commit id itself is not in the key: a new commit with the same tree gives
//!   the same results (a policy that quotes `input.workload.commit` in a message would show
//!   the commit that was evaluated first).
//! - Inside, results are keyed by the guardrail's fingerprint: a SHA-256 of its id, policy
//!   path and source, the metadata findings carry (title, severity, remediation, url), the
//!   kinds of code it judges (they decide which unread code makes it unknown) and every
//!   helper in `lib/`. `exceptions.toml` and the fixtures are not part of it: exceptions
//!   are applied after the cache, so approving one needs no re-evaluation.
//! - Unknown results are stored only when the workload's files alone settle them (parse
//!   errors, remote modules that are not present, no code found) and the evaluation added no
//!   problem of its own; never when a repository could not be read, code was left unread by
//!   a limit, a budget stopped a parse or an evaluation, a policy failed, or rendering depends
//!   on this machine's tools. A cached unknown is still unknown: the cache never turns one
//!   into a verdict, it only spares evaluating it again.
//! - Files are written to a temporary file in the same folder and renamed into place, so a
//!   reader (or a concurrent run) sees the old file or the new one, never half of one. A file
//!   that does not parse or does not match its key is ignored (and rewritten).
//! - A rewrite keeps only the results of the guardrails of this run, so files stay small.
//! - With `RAILYARD_LEDGER_KEY` set, each entry carries an HMAC of its content (`mac`): the
//!   documented CI setup restores the cache from other runs, so an entry edited by anyone
//!   without the key (findings emptied, say) fails verification, is reported on stderr and
//!   is evaluated again.

use crate::evaluate::{EvalProblem, Finding, RawEvaluation};
use crate::guardrail::{Guardrail, Library};
use crate::workload::ResourceKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// Bumped when the meaning of a cached result changes, including any change to what the
/// parsers put in the policy input (2: references between resources, dynamic blocks expanded;
/// 3: `tags`, S3 buckets linked by literal name, bounded reading with unread code as errors;
/// 4: `managed`; 5: resource `id` and `root`, findings with `id` and `field` lines; 6: unknown
/// results of workloads whose problems their files settle, with those problems).
pub const FORMAT: u32 = 6;
/// The engine version in every key: results of another Railyard version are not reused.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Fields separated by a byte that cannot occur in them, so ("ab","c") ≠ ("a","bc").
fn digest<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// What the results of a guardrail depend on, exceptions and fixtures excluded.
pub fn guardrail_fingerprint(g: &Guardrail, helpers: &[(String, String)]) -> String {
    let severity = g.meta.severity.as_str();
    // The kinds it judges decide which unread code makes its verdict unknown.
    let kinds = format!("{:?}", g.meta.kinds);
    let mut fields: Vec<&str> = vec![
        &kinds,
        "guardrail",
        &g.id,
        &g.policy_path,
        &g.policy,
        &g.meta.title,
        severity,
        &g.meta.remediation,
        &g.meta.url,
    ];
    for (path, src) in helpers {
        fields.push(path);
        fields.push(src);
    }
    digest(fields)
}

/// Fingerprints of every guardrail of the library, in library order.
pub fn library_fingerprints(library: &Library) -> Vec<String> {
    library
        .guardrails
        .iter()
        .map(|g| guardrail_fingerprint(g, &library.helpers))
        .collect()
}

/// The key of one workload version.
pub fn workload_key(name: &str, team: &str, tree: &str, paths: &[String]) -> String {
    let format = FORMAT.to_string();
    let mut fields = vec!["workload", format.as_str(), ENGINE_VERSION, name, team, tree];
    fields.extend(paths.iter().map(String::as_str));
    digest(fields)
}

/// Layout of an entry (2: findings without their guardrail's metadata, and the workload's
/// settled problems once per workload instead of once per guardrail: a third of the bytes a
/// warm run reads). An entry of another layout is a miss.
const LAYOUT: u32 = 2;

/// The cached results of one workload version.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedWorkload {
    format: u32,
    layout: u32,
    engine: String,
    key: String,
    /// Resources the parsers found (reported without parsing again).
    resources: usize,
    /// The workload's own problems, when its unknown results are cached (settled by its
    /// files: see `PreparedWorkload::settled`), reported without parsing again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    problems: Vec<EvalProblem>,
    /// Its code of one kind that was read but not judged, which makes unknown only the
    /// guardrails that judge that kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    kind_problems: Vec<(ResourceKind, EvalProblem)>,
    /// Guardrail fingerprint → result before exceptions.
    results: BTreeMap<String, CachedResult>,
    /// HMAC-SHA256 of the entry without this field, with `RAILYARD_LEDGER_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

/// One guardrail's result as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedResult {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<CachedFinding>,
    /// Unknown for the workload's own problems (rebuilt for the guardrail on load).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    workload_problems: bool,
    /// Any other problems, as they were.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    problems: Vec<EvalProblem>,
}

/// A finding without what its guardrail's metadata says (guardrail, title, severity,
/// remediation, url: all in the fingerprint, so filled back from the guardrail exactly).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedFinding {
    resource: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    id: String,
    file: String,
    line: usize,
    end_line: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    message: String,
}

impl CachedFinding {
    /// `None` when the finding does not carry its guardrail's metadata (then the result is
    /// not cached rather than cached wrong).
    fn of(f: &Finding, g: &Guardrail) -> Option<CachedFinding> {
        let plain = f.guardrail == g.id
            && f.title == g.meta.title
            && f.severity == g.meta.severity
            && f.remediation == g.meta.remediation
            && f.url == g.meta.url
            && f.deadline.is_none()
            && f.exception.is_none();
        plain.then(|| CachedFinding {
            resource: f.resource.clone(),
            id: f.id.clone(),
            file: f.file.clone(),
            line: f.line,
            end_line: f.end_line,
            field: f.field.clone(),
            message: f.message.clone(),
        })
    }

    fn finding(self, g: &Guardrail) -> Finding {
        Finding {
            guardrail: g.id.clone(),
            title: g.meta.title.clone(),
            severity: g.meta.severity,
            resource: self.resource,
            id: self.id,
            file: self.file,
            line: self.line,
            end_line: self.end_line,
            field: self.field,
            message: self.message,
            remediation: g.meta.remediation.clone(),
            url: g.meta.url.clone(),
            deadline: None,
            exception: None,
        }
    }
}

/// The problems that make `g` unknown on a workload with these settled problems (as
/// `PreparedWorkload::problems_for` gives them).
fn workload_problems_for(
    problems: &[EvalProblem],
    kind_problems: &[(ResourceKind, EvalProblem)],
    g: &Guardrail,
) -> Vec<EvalProblem> {
    let of_kind = kind_problems.iter().filter(|(k, _)| g.meta.judges(*k));
    problems
        .iter()
        .cloned()
        .chain(of_kind.map(|(_, p)| EvalProblem {
            guardrail: Some(g.id.clone()),
            ..p.clone()
        }))
        .collect()
}

impl CachedWorkload {
    /// The bytes the MAC covers: the entry serialised without its MAC.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.mac = None;
        serde_json::to_vec(&unsigned).expect("a cache entry always serialises")
    }
}

/// What the cache knows of a workload version, for the guardrails asked about.
#[derive(Debug, Default)]
pub struct Loaded {
    pub resources: usize,
    /// The workload's own (settled) problems.
    pub problems: Vec<EvalProblem>,
    /// Per guardrail asked about, in that order: its result, when cached.
    pub results: Vec<Option<RawEvaluation>>,
}

/// The workload's settled problems, when its unknown results may be cached.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Settled {
    pub problems: Vec<EvalProblem>,
    pub kind_problems: Vec<(ResourceKind, EvalProblem)>,
}

/// `<cache dir>/results`.
#[derive(Debug, Clone)]
pub struct ResultCache {
    dir: PathBuf,
    key: Option<crate::seal::SealKey>,
}

impl ResultCache {
    pub fn new(dir: impl Into<PathBuf>) -> ResultCache {
        ResultCache {
            dir: dir.into(),
            key: None,
        }
    }

    /// Authenticates entries with `key`: entries are written with a MAC, and one read
    /// without a valid MAC is treated as absent (evaluated again).
    pub fn with_key(mut self, key: Option<crate::seal::SealKey>) -> ResultCache {
        self.key = key;
        self
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The cached results of a workload version for `guardrails` (fingerprint, guardrail);
    /// `None` when absent, unreadable, stale or (with a key) failing verification. The
    /// workload's name is not in the entry (it is in the key).
    pub fn load(&self, key: &str, workload: &str, guardrails: &[(&str, &Guardrail)]) -> Option<Loaded> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let mut c: CachedWorkload = serde_json::from_slice(&bytes).ok()?;
        drop(bytes);
        if !(c.format == FORMAT && c.layout == LAYOUT && c.engine == ENGINE_VERSION && c.key == key) {
            return None;
        }
        if let Some(k) = &self.key {
            let ok = c
                .mac
                .as_deref()
                .is_some_and(|m| k.verify([c.signed_bytes().as_slice()], m));
            if !ok {
                eprintln!(
                    "warning: result cache entry `{}` fails verification with {} (changed, or written without the key): evaluating that workload again",
                    self.path(key).display(),
                    crate::seal::KEY_ENV
                );
                return None;
            }
        }
        let results = guardrails
            .iter()
            .map(|(fp, g)| {
                let r = c.results.remove(*fp)?;
                let mut problems = r.problems;
                if r.workload_problems {
                    problems.extend(workload_problems_for(&c.problems, &c.kind_problems, g));
                }
                Some(RawEvaluation {
                    guardrail: g.id.clone(),
                    workload: workload.to_string(),
                    findings: r.findings.into_iter().map(|f| f.finding(g)).collect(),
                    problems,
                })
            })
            .collect();
        Some(Loaded {
            resources: c.resources,
            problems: c.problems,
            results,
        })
    }

    /// Stores the results atomically (temp file, then rename). Unknown results are dropped
    /// unless `settled` says the caller kept only those whose problems the workload's files
    /// alone decide; `settled` then holds the workload's own problems.
    pub fn store(
        &self,
        key: &str,
        resources: usize,
        settled: Option<Settled>,
        results: &[(&str, &Guardrail, &RawEvaluation)],
    ) -> std::io::Result<()> {
        let keep_unknown = settled.is_some();
        let settled = settled.unwrap_or(Settled {
            problems: Vec::new(),
            kind_problems: Vec::new(),
        });
        let cached = results
            .iter()
            .filter(|(_, _, r)| keep_unknown || !r.is_unknown())
            .filter_map(|(fp, g, r)| {
                let findings = r
                    .findings
                    .iter()
                    .map(|f| CachedFinding::of(f, g))
                    .collect::<Option<Vec<_>>>()?;
                let own = workload_problems_for(&settled.problems, &settled.kind_problems, g);
                let workload_problems = !own.is_empty() && r.problems == own;
                Some((
                    fp.to_string(),
                    CachedResult {
                        findings,
                        workload_problems,
                        problems: if workload_problems {
                            Vec::new()
                        } else {
                            r.problems.clone()
                        },
                    },
                ))
            })
            .collect();
        let mut entry = CachedWorkload {
            format: FORMAT,
            layout: LAYOUT,
            engine: ENGINE_VERSION.to_string(),
            key: key.to_string(),
            resources,
            problems: settled.problems,
            kind_problems: settled.kind_problems,
            results: cached,
            mac: None,
        };
        if let Some(k) = &self.key {
            entry.mac = Some(k.mac([entry.signed_bytes().as_slice()]));
        }
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(&serde_json::to_vec(&entry).map_err(std::io::Error::other)?)?;
        tmp.persist(self.path(key)).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_fields() {
        assert_ne!(digest(["ab", "c"]), digest(["a", "bc"]));
        let k = workload_key("w", "t", "abc", &[]);
        assert_ne!(k, workload_key("w", "t", "abc", &["infra".into()]));
        assert_ne!(k, workload_key("w", "u", "abc", &[]));
        assert_eq!(k, workload_key("w", "t", "abc", &[]));
    }

    fn guardrail(id: &str) -> Guardrail {
        let files = vec![
            crate::files::SourceFile::new(
                "guardrail.toml",
                "title = \"T\"\nseverity = \"high\"\nremediation = \"R\"\n",
            ),
            crate::files::SourceFile::new(
                "policy.rego",
                "package railyard.x\n\ndeny contains f if {\n\tfalse\n\tf := \"x\"\n}\n",
            ),
        ];
        crate::guardrail::load_guardrail(id, id, files).expect("a valid guardrail")
    }

    #[test]
    fn stores_atomically_drops_unknown_results_and_fills_metadata_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResultCache::new(dir.path().join("results"));
        let (a, b) = (guardrail("a"), guardrail("b"));
        let finding = Finding {
            guardrail: "a".into(),
            title: a.meta.title.clone(),
            severity: a.meta.severity,
            resource: "aws_s3_bucket.x".into(),
            id: "aws_s3_bucket.x".into(),
            file: "main.tf".into(),
            line: 3,
            end_line: 5,
            field: Some("acl".into()),
            message: "public".into(),
            remediation: a.meta.remediation.clone(),
            url: a.meta.url.clone(),
            deadline: None,
            exception: None,
        };
        let ok = RawEvaluation {
            guardrail: "a".into(),
            workload: "k1".into(),
            findings: vec![finding],
            problems: Vec::new(),
        };
        let mut bad = RawEvaluation::unreadable("b", "k1", &[]);
        bad.problems.push(EvalProblem {
            guardrail: None,
            file: None,
            line: None,
            message: "x".into(),
        });
        cache
            .store("k1", 3, None, &[("fa", &a, &ok), ("fb", &b, &bad)])
            .unwrap();
        let c = cache.load("k1", "k1", &[("fa", &a), ("fb", &b)]).unwrap();
        assert_eq!(c.resources, 3);
        assert_eq!(c.results[0].as_ref(), Some(&ok));
        assert!(c.results[1].is_none(), "an unsettled unknown is not cached");
        assert!(cache.load("k2", "k1", &[("fa", &a)]).is_none());
        std::fs::write(dir.path().join("results/k3.json"), "{not json").unwrap();
        assert!(cache.load("k3", "k1", &[("fa", &a)]).is_none());
    }

    #[test]
    fn settled_unknowns_come_back_with_each_guardrails_own_problems() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResultCache::new(dir.path().join("results"));
        let (a, mut b) = (guardrail("a"), guardrail("b"));
        b.meta.kinds = vec![ResourceKind::Kubernetes];
        let own = EvalProblem {
            guardrail: None,
            file: Some("x.tf".into()),
            line: Some(1),
            message: "does not parse".into(),
        };
        let kind = EvalProblem {
            guardrail: None,
            file: Some("main.tf".into()),
            line: Some(2),
            message: "remote module not present".into(),
        };
        let settled = || Settled {
            problems: vec![own.clone()],
            kind_problems: vec![(ResourceKind::Terraform, kind.clone())],
        };
        let ra = RawEvaluation::unreadable(
            "a",
            "k1",
            &workload_problems_for(&settled().problems, &settled().kind_problems, &a),
        );
        let rb = RawEvaluation::unreadable(
            "b",
            "k1",
            &workload_problems_for(&settled().problems, &settled().kind_problems, &b),
        );
        assert_eq!(ra.problems.len(), 2, "a judges every kind");
        assert_eq!(rb.problems.len(), 1, "b judges only Kubernetes");
        cache
            .store("k1", 0, Some(settled()), &[("fa", &a, &ra), ("fb", &b, &rb)])
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("results/k1.json")).unwrap();
        assert_eq!(text.matches("does not parse").count(), 1, "stored once: {text}");
        let c = cache.load("k1", "k1", &[("fa", &a), ("fb", &b)]).unwrap();
        assert_eq!(c.results[0].as_ref(), Some(&ra));
        assert_eq!(c.results[1].as_ref(), Some(&rb));
        assert_eq!(c.problems, vec![own]);
    }
}

/// Guardrails whose own fixtures passed, by content: `<cache dir>/fixtures/<digest>`, where the
/// digest covers Railyard's version, the limits, the guardrail's every file (policy,
/// metadata, fixtures, `expected.toml`) and every helper. Only passes are kept: a failure is
/// run again (it is rare, and a limit or a budget may not fail twice). Passing fixtures are a
/// gate to promotion, so with `RAILYARD_LEDGER_KEY` an entry holds an HMAC of its digest and
/// one without a valid MAC counts as not passed (the fixtures run again).
#[derive(Debug, Clone)]
pub struct FixturePasses {
    dir: PathBuf,
    key: Option<crate::seal::SealKey>,
}

impl FixturePasses {
    pub fn new(cache_dir: &std::path::Path, key: Option<crate::seal::SealKey>) -> FixturePasses {
        FixturePasses {
            dir: cache_dir.join("fixtures"),
            key,
        }
    }

    /// What a run of `g`'s fixtures depends on.
    pub fn digest(g: &Guardrail, helpers: &[(String, String)], settings: &crate::limits::RunSettings) -> String {
        let limits = format!("{:?}", settings.limits);
        let mut files: Vec<(&str, &[u8])> = g.files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())).collect();
        files.sort();
        let mut h = Sha256::new();
        let mut field = |b: &[u8]| {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        };
        for f in ["fixtures-v1", ENGINE_VERSION, &limits, &g.id, &g.policy_path] {
            field(f.as_bytes());
        }
        for (path, bytes) in files {
            field(path.as_bytes());
            field(bytes);
        }
        for (path, src) in helpers {
            field(path.as_bytes());
            field(src.as_bytes());
        }
        hex::encode(h.finalize())
    }

    fn mac(&self, digest: &str) -> String {
        match &self.key {
            Some(k) => k.mac([b"railyard-fixtures-passed".as_slice(), digest.as_bytes()]),
            None => String::new(),
        }
    }

    /// Whether fixtures with this digest passed before (and, with a key, the entry verifies).
    pub fn passed(&self, digest: &str) -> bool {
        let Ok(text) = std::fs::read_to_string(self.dir.join(digest)) else {
            return false;
        };
        match &self.key {
            None => true,
            Some(k) => k.verify([b"railyard-fixtures-passed".as_slice(), digest.as_bytes()], &text),
        }
    }

    /// Records a pass (best effort: a failed write only costs running the fixtures again).
    pub fn record(&self, digest: &str) {
        let _ = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
            tmp.write_all(self.mac(digest).as_bytes())?;
            tmp.persist(self.dir.join(digest)).map_err(|e| e.error)?;
            Ok(())
        })();
    }
}
