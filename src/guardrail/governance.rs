//! Who may waive what: `governance.toml` and `allowed_signers` on `main` of the guardrails
//! repo (never `develop`, where everyone pushes), and the checks that decide whether an
//! exception's approval is verified. The git side (blame, extracting a commit's signature) is
//! the caller's: this module judges what it is handed.

use crate::config::{from_toml, ConfigError};
use crate::guardrail::exceptions::{Approval, Exception};
use serde::Deserialize;
use ssh_key::{HashAlg, PublicKey, SshSig};
use toml::Spanned;

/// The governance file at the root of `main`.
pub const GOVERNANCE_FILE: &str = "governance.toml";
/// Where the allowed signers are read from when `governance.toml` does not say.
pub const DEFAULT_ALLOWED_SIGNERS: &str = "allowed_signers";
/// The namespace git signs commits in.
const GIT_NAMESPACE: &str = "git";

/// `governance.toml` on `main`, parsed, with its allowed signers.
#[derive(Debug, Clone, Default)]
pub struct Governance {
    /// Who may approve an exception (`approved_by`).
    pub approvers: Vec<String>,
    /// Who may approve an exception across workloads or resources (a wildcard scope).
    pub scope_approvers: Vec<String>,
    /// Longest time from `approved_on` to `expires`.
    pub max_lifetime_days: Option<u32>,
    /// Path of the allowed signers file on `main`.
    pub allowed_signers_path: String,
    /// `None` when that file is missing on `main`: nothing can be verified.
    pub signers: Option<Vec<AllowedSigner>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGovernance {
    #[serde(default)]
    approvers: Vec<String>,
    #[serde(default)]
    scope_approvers: Vec<String>,
    max_lifetime_days: Option<Spanned<i64>>,
    allowed_signers: Option<String>,
}

/// One line of an allowed signers file (git's `gpg.ssh.allowedSignersFile` format).
#[derive(Debug, Clone)]
pub struct AllowedSigner {
    /// Comma-separated principal patterns (`*` and `?` wildcards), as written.
    pub principals: Vec<String>,
    /// `namespaces="…"`, when given.
    pub namespaces: Option<Vec<String>>,
    pub key: PublicKey,
}

/// Parses `governance.toml`. `file` names it in messages (`main:governance.toml`).
pub fn parse(file: &str, text: &str) -> Result<Governance, Vec<ConfigError>> {
    let raw: RawGovernance = from_toml(file, text).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let max_lifetime_days = raw.max_lifetime_days.map(|m| {
        let value = *m.get_ref();
        if !(1..=crate::workload::registry::MAX_GRACE_DAYS).contains(&value) {
            errors.push(ConfigError::new(
                file,
                crate::workload::parser::line_of(text, m.span().start),
                format!("`max_lifetime_days` must be between 1 and 3650, not {value}"),
            ));
        }
        value.clamp(1, crate::workload::registry::MAX_GRACE_DAYS) as u32
    });
    for (key, list) in [("approvers", &raw.approvers), ("scope_approvers", &raw.scope_approvers)] {
        if list.iter().any(|a| a.trim().is_empty()) {
            errors.push(ConfigError::new(
                file,
                crate::config::line_of_key(text, key, 1),
                format!("`{key}` must not contain empty strings"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Governance {
        approvers: raw.approvers,
        scope_approvers: raw.scope_approvers,
        max_lifetime_days,
        allowed_signers_path: raw
            .allowed_signers
            .unwrap_or_else(|| DEFAULT_ALLOWED_SIGNERS.to_string()),
        signers: None,
    })
}

/// Parses an allowed signers file: `principals [options] keytype base64 [comment]` per line,
/// `#` comments. Options other than `namespaces` (`cert-authority`, `valid-after`,
/// `valid-before`) are refused rather than ignored: ignoring one would widen what a key may
/// sign.
pub fn parse_allowed_signers(file: &str, text: &str) -> Result<Vec<AllowedSigner>, Vec<ConfigError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields = split_fields(t);
        let is_key_type = |s: &str| s.starts_with("ssh-") || s.starts_with("ecdsa-") || s.starts_with("sk-");
        let (principals, options, rest) = match fields.as_slice() {
            [p, k, rest @ ..] if is_key_type(k) => (p, None, std::iter::once(k).chain(rest).collect::<Vec<_>>()),
            [p, o, rest @ ..] => (p, Some(o), rest.iter().collect::<Vec<_>>()),
            _ => {
                errors.push(ConfigError::new(
                    file,
                    line,
                    "expected `principals [options] keytype key`",
                ));
                continue;
            }
        };
        let mut namespaces: Option<Vec<String>> = None;
        if let Some(options) = options {
            for opt in options.split(',').filter(|o| !o.is_empty()) {
                match opt.split_once('=') {
                    Some((k, v)) if k.eq_ignore_ascii_case("namespaces") => {
                        namespaces = Some(v.trim_matches('"').split(',').map(str::to_string).collect());
                    }
                    // `namespaces="a,b"` was split at its inner comma: the rest is a namespace.
                    None if namespaces.is_some() => {
                        if let Some(n) = namespaces.as_mut() {
                            n.push(opt.trim_matches('"').to_string());
                        }
                    }
                    _ => errors.push(ConfigError::new(
                        file,
                        line,
                        format!("option `{opt}` is not supported (only `namespaces=\"git\"`)"),
                    )),
                }
            }
        }
        if rest.len() < 2 {
            errors.push(ConfigError::new(file, line, "expected a key type and a key"));
            continue;
        }
        match PublicKey::from_openssh(&format!("{} {}", rest[0], rest[1])) {
            Ok(key) => out.push(AllowedSigner {
                principals: principals.split(',').map(str::to_string).collect(),
                namespaces,
                key,
            }),
            Err(e) => errors.push(ConfigError::new(
                file,
                line,
                format!("not a public key this Railyard reads ({e})"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whitespace-separated fields, where a double-quoted part keeps its spaces.
fn split_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A principal pattern of an allowed signers line matches `who` (`*`/`?` wildcards; a
/// leading `!` negates and is never a match).
fn principal_matches(pattern: &str, who: &str) -> bool {
    if pattern.starts_with('!') {
        return false;
    }
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(who))
        .unwrap_or(false)
}

/// One commit behind an exception's lines, as git holds it.
#[derive(Debug, Clone)]
pub struct CommitEvidence {
    pub id: String,
    /// The `gpgsig` header and the signed content, when the commit is signed.
    pub signature: Option<(Vec<u8>, Vec<u8>)>,
}

/// Owners of the registered workloads an exception covers: (workload, owners).
pub type CoveredOwners = Vec<(String, Vec<String>)>;

/// Whether a glob pattern has wildcard characters.
fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{'])
}

/// An exception's scope is wide when its workload is a pattern (it spans workloads,
/// including ones registered later) or its resource pattern starts with a wildcard (it waives
/// whatever a workload holds).
pub fn is_wide(x: &Exception) -> bool {
    is_glob(&x.workload) || x.resource.starts_with(['*', '?', '[', '{'])
}

impl Governance {
    /// Judges one exception: (a) approver listed, (b) not an owner of a workload it covers,
    /// (c) a wide scope needs a scope approver, (d) every commit behind its lines is signed
    /// by the approver's key. `commits` is what blame found, or why it could not be read.
    pub fn judge(
        &self,
        x: &Exception,
        owners: &CoveredOwners,
        commits: Result<Vec<CommitEvidence>, impl std::fmt::Display>,
    ) -> Approval {
        let who = x.approved_by.trim();
        let scope_approver = self.scope_approvers.iter().any(|a| a == who);
        if !scope_approver && !self.approvers.iter().any(|a| a == who) {
            return Approval::Unverified(format!("`{who}` is not an approver in {GOVERNANCE_FILE} on main"));
        }
        if let Some((workload, _)) = owners.iter().find(|(_, o)| o.iter().any(|o| o == who)) {
            return Approval::Unverified(format!(
                "`{who}` owns workload `{workload}`, which this exception covers (no self-approval)"
            ));
        }
        if is_wide(x) && !scope_approver {
            return Approval::Unverified(format!(
                "workload `{}` / resource `{}` is a wildcard scope: it needs a scope approver \
                 (`scope_approvers` in {GOVERNANCE_FILE} on main), and `{who}` is not one",
                x.workload, x.resource
            ));
        }
        let Some(signers) = &self.signers else {
            return Approval::Unverified(format!(
                "no `{}` on main to verify the approver's signature against",
                self.allowed_signers_path
            ));
        };
        let commits = match commits {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => return Approval::Unverified("no commit found for the exception's lines".into()),
            Err(e) => return Approval::Unverified(format!("could not find the commit behind its lines ({e})")),
        };
        for c in &commits {
            if let Err(reason) = verify_commit(signers, who, c, &self.allowed_signers_path) {
                return Approval::Unverified(format!("commit {} {reason}", short(&c.id)));
            }
        }
        Approval::Verified
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Why a commit does not prove the approver's approval; each reads after "commit <id> ".
#[derive(Debug, thiserror::Error)]
enum Unsigned {
    #[error("that last changed the exception's lines is not signed (the approver `{who}` must sign it)")]
    NotSigned { who: String },
    #[error("is not signed with SSH (OpenPGP signatures are not verified; sign with gpg.format=ssh)")]
    NotSsh,
    #[error("has an SSH signature that does not parse ({0})")]
    Malformed(String),
    #[error("is signed in namespace `{0}`, not `git`")]
    Namespace(String),
    #[error("is signed by a key that `{file}` on main does not list")]
    UnknownKey { file: String },
    #[error("is signed by `{signers}` (per `{file}` on main), not by the approver `{who}`")]
    OtherSigner { signers: String, file: String, who: String },
    #[error("has a signature that does not verify (changed after signing, or forged)")]
    BadSignature,
}

/// Checks that `c` carries a valid SSH signature by a key `allowed_signers` lists for `who`.
fn verify_commit(signers: &[AllowedSigner], who: &str, c: &CommitEvidence, file: &str) -> Result<(), Unsigned> {
    let Some((sig, data)) = &c.signature else {
        return Err(Unsigned::NotSigned { who: who.to_string() });
    };
    let text = String::from_utf8_lossy(sig);
    if !text.contains("-----BEGIN SSH SIGNATURE-----") {
        return Err(Unsigned::NotSsh);
    }
    let sig = SshSig::from_pem(text.trim()).map_err(|e| Unsigned::Malformed(e.to_string()))?;
    if sig.namespace() != GIT_NAMESPACE {
        return Err(Unsigned::Namespace(sig.namespace().to_string()));
    }
    let keyed: Vec<&AllowedSigner> = signers
        .iter()
        // By fingerprint: the key as encoded, the same for git, ssh-keygen and Railyard.
        .filter(|s| s.key.fingerprint(HashAlg::Sha256) == sig.public_key().fingerprint(HashAlg::Sha256))
        .filter(|s| {
            s.namespaces
                .as_ref()
                .is_none_or(|n| n.iter().any(|n| n == GIT_NAMESPACE))
        })
        .collect();
    if keyed.is_empty() {
        return Err(Unsigned::UnknownKey { file: file.to_string() });
    }
    if !keyed
        .iter()
        .any(|s| s.principals.iter().any(|p| principal_matches(p, who)))
    {
        let others: Vec<&str> = keyed
            .iter()
            .flat_map(|s| s.principals.iter().map(String::as_str))
            .collect();
        return Err(Unsigned::OtherSigner {
            signers: others.join(", "),
            file: file.to_string(),
            who: who.to_string(),
        });
    }
    let key = &keyed[0].key;
    key.verify(GIT_NAMESPACE, data, &sig)
        .map_err(|_| Unsigned::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_governance_and_refuses_bad_values_with_lines() {
        let g = parse(
            "main:governance.toml",
            "approvers = [\"sec@x\"]\nmax_lifetime_days = 90\n",
        )
        .unwrap();
        assert_eq!(g.approvers, ["sec@x"]);
        assert_eq!(g.max_lifetime_days, Some(90));
        assert_eq!(g.allowed_signers_path, "allowed_signers");
        let err = parse("main:governance.toml", "approvers = []\nmax_lifetime_days = 0\n").unwrap_err();
        assert_eq!(err[0].line, 2);
        let err = parse("main:governance.toml", "aprovers = []\n").unwrap_err();
        assert!(err[0].message.contains("aprovers"), "{err:?}");
    }

    #[test]
    fn allowed_signers_lines_with_and_without_options() {
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKOWt3clqBtiZlz3XlzjSqCFKxvMqEODNBrTA9xPZBtY";
        let text = format!("# team\nsec@x {key} laptop\nops@x,dev@* namespaces=\"git,file\" {key}\n");
        let s = parse_allowed_signers("main:allowed_signers", &text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].principals, ["ops@x", "dev@*"]);
        assert_eq!(
            s[1].namespaces.as_deref(),
            Some(&["git".to_string(), "file".to_string()][..])
        );
        assert!(principal_matches("dev@*", "dev@example"));
        let err = parse_allowed_signers("f", &format!("a cert-authority {key}\nb ssh-ed25519 AAAA\n")).unwrap_err();
        assert_eq!((err[0].line, err[1].line), (1, 2), "{err:?}");
    }
}
