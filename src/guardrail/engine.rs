//! The only file that speaks to regorus. A guardrail's `policy.rego` (plus the shared helpers
//! in `lib/`) is compiled once into a [`Policy`]; each evaluation sets `input` and reads rule
//! `deny` of the policy's package. Policies run in-process with no network, environment or
//! file access (regorus is built without its `http` and `opa-runtime` features) and under a
//! wall-clock budget, so a runaway guardrail becomes an error for that guardrail only.

use super::Guardrail;
use crate::config::ConfigError;
use crate::limits::Limits;
use std::num::NonZeroU32;

/// What a policy said about one input: one entry per `deny` element.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// Address of the offending resource, when the policy named one.
    pub resource: Option<String>,
    pub message: String,
    /// Optional explicit location from a structured finding.
    pub file: Option<String>,
    pub line: Option<usize>,
    /// The offending resource's `id` (`input.resources[_].id`), when the policy named it:
    /// exact even where several resources share an address.
    #[serde(default)]
    pub id: Option<String>,
    /// The offending attribute, a path within the resource's `config`
    /// (`spec.containers[0].securityContext.privileged`), so the finding points at its line.
    #[serde(default)]
    pub field: Option<String>,
}

/// A policy that could not be evaluated against an input (runtime error, time budget).
#[derive(Debug, Clone, thiserror::Error)]
#[error("guardrail `{guardrail}`: {message}")]
pub struct EvalError {
    pub guardrail: String,
    pub message: String,
    pub kind: EvalErrorKind,
}

/// What stopped an evaluation, told from regorus' typed error rather than its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// regorus' own timer (`--eval-timeout`) stopped it.
    TimedOut,
    /// Any other failure of the policy or of its result's shape.
    Failed,
}

/// A compiled guardrail policy, ready to be evaluated against many inputs.
#[derive(Clone)]
pub struct Policy {
    guardrail: String,
    rule: String,
    build: Build,
}

/// How far a policy's own engine is built. A library's policies are parsed and checked once,
/// in one engine (see [`Parsed`]); most runs evaluate them all in the batch engine built
/// from it, so a guardrail's own engine is only built when it first runs on its own (alone,
/// as a fallback, on fixtures), never at load.
#[derive(Clone)]
enum Build {
    /// Checked when the library loaded; built from this copy of the helpers' engine.
    Pending {
        base: regorus::Engine,
        path: String,
        source: String,
    },
    /// Built. `prepared`: whether [`Policy::prepare`] ran (evaluations happen in child
    /// processes, so the engine here is only ever prepared by that call).
    Ready { engine: regorus::Engine, prepared: bool },
    /// Building failed: the policy is an error wherever it is evaluated.
    Failed(String),
}

impl Build {
    /// The engine, built on first use.
    fn engine(&mut self) -> Result<&mut regorus::Engine, String> {
        if let Build::Pending { base, path, source } = self {
            let mut engine = base.clone();
            *self = match engine.add_policy(path.clone(), source.clone()) {
                Ok(_) => Build::Ready {
                    engine,
                    prepared: false,
                },
                Err(e) => Build::Failed(rego_error(path, &e).to_string()),
            };
        }
        match self {
            Build::Ready { engine, .. } => Ok(engine),
            Build::Failed(message) => Err(message.clone()),
            Build::Pending { .. } => unreachable!("built above"),
        }
    }
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Policy({})", self.guardrail)
    }
}

/// An `input` converted once into regorus' value type and shared across guardrails
/// (conversion costs more than a typical evaluation).
#[derive(Clone)]
pub struct PreparedInput(regorus::Value);

impl PreparedInput {
    pub fn new(input: &serde_json::Value) -> Self {
        PreparedInput(regorus::Value::from(input.clone()))
    }

    /// The workload's `input`, as `PreparedInput::new(&serde_json::to_value(input))` gives
    /// it plus the indexes computed on the converted values ([`super::indexes`]), with its
    /// resources converted on `threads` threads side by side: the input is the largest value a
    /// run builds (several milliseconds for a thousand resources).
    pub fn of(input: &crate::workload::Input, threads: usize) -> Self {
        use regorus::Value;
        let json =
            |v: serde_json::Result<serde_json::Value>| Value::from(v.expect("the input model always serialises"));
        // Pieces taken by whichever thread is free: everything but the resources (mostly
        // the parsed files), then the resources in chunks.
        let chunk = input.resources.len().div_ceil(4 * threads.max(1)).max(1);
        let chunks: Vec<&[crate::workload::Resource]> = input.resources.chunks(chunk).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let rest = std::sync::Mutex::new(None);
        let done: Vec<std::sync::Mutex<Vec<Value>>> =
            chunks.iter().map(|_| std::sync::Mutex::new(Vec::new())).collect();
        let work = || loop {
            match next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
                0 => *lock(&rest) = Some(json(serde_json::to_value(input.without_resources()))),
                k if k <= chunks.len() => {
                    *lock(&done[k - 1]) = chunks[k - 1].iter().map(|r| json(serde_json::to_value(r))).collect();
                }
                _ => break,
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads.max(1) {
                scope.spawn(work);
            }
            work();
        });
        let resources: Vec<Value> = done.into_iter().flat_map(|m| std::mem::take(&mut *lock(&m))).collect();
        let mut object = lock(&rest).take().unwrap_or_else(Value::new_object);
        if let Ok(members) = object.as_object_mut() {
            members.insert(Value::from("kubernetes"), super::indexes::kubernetes(&resources));
            members.insert(Value::from("resources"), Value::from(resources));
        }
        PreparedInput(object)
    }
}

impl Policy {
    /// Compiles the guardrail's policy with the shared helpers.
    pub fn compile(g: &Guardrail, helpers: &[(String, String)]) -> Result<Policy, ConfigError> {
        // Names were resolved when the library loaded ([`super::load_library`]); not redone here,
        // where evaluators compile guardrails again.
        Policy::compile_on(&base_engine(helpers)?, g, helpers, None)
    }

    /// Compiles on a copy of an engine that already holds the helpers (see [`base_engine`]):
    /// the helpers are parsed once per library, not once per guardrail.
    /// `defs` are the helpers' definitions (from [`check_helpers`]): every function and
    /// `data.` reference of the policy must resolve against them, its own rules or a built-in
    /// (`None`: already checked when the library loaded).
    pub fn compile_on(
        base: &regorus::Engine,
        g: &Guardrail,
        helpers: &[(String, String)],
        defs: Option<&super::resolve::Definitions>,
    ) -> Result<Policy, ConfigError> {
        let mut engine = base.clone();
        let package = admit(&mut engine, g, helpers, defs).map_err(|(e, _)| e)?;
        Ok(Policy {
            guardrail: g.id.clone(),
            rule: format!("{package}.deny"),
            build: Build::Ready {
                engine,
                prepared: false,
            },
        })
    }

    /// A policy already parsed and checked (as `package`) whose engine is built from `base`
    /// when first needed.
    fn pending(base: &regorus::Engine, g: &Guardrail, package: &str) -> Policy {
        Policy {
            guardrail: g.id.clone(),
            rule: format!("{package}.deny"),
            build: Build::Pending {
                base: base.clone(),
                path: g.policy_path.clone(),
                source: g.policy.clone(),
            },
        }
    }

    /// Builds the engine if it was not yet, and prepares it (rule analysis, scheduling)
    /// without evaluating any rule of the policy, so clones start prepared and a hostile
    /// policy never runs in this process. A build failure is kept for [`Policy::evaluate`].
    pub fn prepare(&mut self) {
        let _ = self.build.engine();
        if let Build::Ready { engine, prepared } = &mut self.build {
            if !*prepared {
                let _ = engine.eval_query("true".to_string(), false);
                *prepared = true;
            }
        }
    }

    /// Evaluates rule `deny` against the input within `limits` (`eval_timeout`,
    /// `max_findings`).
    pub fn evaluate(&mut self, input: &PreparedInput, limits: &Limits) -> Result<Vec<Violation>, EvalError> {
        let err = |message: String| EvalError {
            guardrail: self.guardrail.clone(),
            message,
            kind: EvalErrorKind::Failed,
        };
        let engine = self.build.engine().map_err(&err)?;
        engine.set_execution_timer_config(timer(limits));
        engine.set_input(input.0.clone());
        let value = engine.eval_rule(self.rule.clone()).map_err(|e| EvalError {
            kind: kind_of(&e),
            ..err(format!("{e:#}"))
        })?;
        // Bounded here, in the evaluating child, before anything is converted or sent to
        // the parent: a million findings would cost gigabytes there and in the ledger.
        let max = limits.max_findings;
        let count = findings_count(&value);
        if count > max {
            return Err(err(too_many_findings(count, max)));
        }
        // Converted directly (not printed and parsed again: a finding costs that per run).
        let json: serde_json::Value = match value {
            regorus::Value::Undefined => return Ok(Vec::new()),
            v => serde_json::to_value(&v).map_err(|e| err(e.to_string()))?,
        };
        let items = match json {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Null => Vec::new(),
            other => return Err(err(format!("rule `deny` must be a set, got {other}"))),
        };
        items
            .into_iter()
            .map(|item| violation(item).map_err(|e| err(e.to_string())))
            .collect()
    }
}

/// Parses `g`'s policy into `engine` and checks it: nesting, Rego syntax, a package of its
/// own (not a helper's) and, with `defs`, that every name it uses resolves. The error says
/// whether the module was left in `engine` (parsed, then refused).
fn admit(
    engine: &mut regorus::Engine,
    g: &Guardrail,
    helpers: &[(String, String)],
    defs: Option<&super::resolve::Definitions>,
) -> Result<String, (ConfigError, bool)> {
    check_nesting(&g.policy_path, &g.policy).map_err(|e| (e, false))?;
    let package = engine
        .add_policy(g.policy_path.clone(), g.policy.clone())
        .map_err(|e| (rego_error(&g.policy_path, &e), false))?;
    if helpers
        .iter()
        .any(|(_, src)| package_of(src).is_some_and(|p| format!("data.{p}") == package))
    {
        let e = ConfigError::new(
            &g.policy_path,
            1,
            format!("package `{package}` is also used by a helper in lib/"),
        );
        return Err((e, true));
    }
    // Fail closed: regorus would report an unknown function only when a call runs, and
    // an unknown rule never (it is undefined, i.e. no finding).
    if let Some(defs) = defs {
        // The module just parsed into `engine`: its AST, not a second parse.
        let module = super::resolve::Module::last_added(&g.policy_path, engine).map_err(|e| (e, true))?;
        let mut own = super::resolve::Definitions::default();
        own.add(&module);
        super::resolve::check_in(&module, &[defs, &own]).map_err(|e| (e, true))?;
    }
    Ok(package)
}

/// A library's Rego parsed once (regorus' parser is most of what loading a library costs):
/// one engine holding the helpers and every policy that has a package of its own, from which
/// [`Batch::build`] makes the batch engine without parsing anything again.
#[derive(Clone)]
pub struct Parsed {
    /// The helpers alone, and the helpers they were parsed from: a batch of some of the
    /// policies starts from `base` instead of parsing the helpers again.
    base: regorus::Engine,
    helpers: Vec<(String, String)>,
    all: regorus::Engine,
    /// (policy path, policy text, package) of each policy in `all`, in order: the batch
    /// uses `all` only when its members are exactly these.
    policies: Vec<(String, String, String)>,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Parsed({} policies)", self.policies.len())
    }
}

/// A guardrail's compiled policy, or why it does not compile.
pub type PolicyOrError = Result<Policy, ConfigError>;

/// Parses and checks the helpers and every guardrail's policy, each once. `Err`: the helpers'
/// errors (every guardrail is then broken). `Ok`: the parsed library and, per guardrail in
/// order, its policy or why it does not compile (exactly [`Policy::compile_on`]'s errors).
pub fn parse_library(
    guardrails: &[Guardrail],
    helpers: &[(String, String)],
) -> Result<(Parsed, Vec<PolicyOrError>), Vec<ConfigError>> {
    let (base, defs) = helpers_engine(helpers)?;
    // Guardrails that share a package never share an engine (their rules would merge): each
    // gets its own, as the batch leaves them out.
    let mut uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for g in guardrails {
        if let Some(p) = package_of(&g.policy) {
            *uses.entry(p).or_default() += 1;
        }
    }
    let mut all = base.clone();
    let mut refused_inside = false;
    let mut policies = Vec::new();
    let mut out = Vec::with_capacity(guardrails.len());
    for g in guardrails {
        let shared = package_of(&g.policy).is_some_and(|p| uses[p] == 1 && p != BATCH_PACKAGE);
        if !shared {
            out.push(Policy::compile_on(&base, g, helpers, Some(&defs)));
            continue;
        }
        match admit(&mut all, g, helpers, Some(&defs)) {
            Ok(package) => {
                out.push(Ok(Policy::pending(&base, g, &package)));
                policies.push((g.policy_path.clone(), g.policy.clone(), package));
            }
            Err((e, inside)) => {
                refused_inside |= inside;
                out.push(Err(e));
            }
        }
    }
    if refused_inside {
        // A refused policy stays in `all` once parsed: rebuilt without it (errors only).
        all = base.clone();
        for (path, source, _) in &policies {
            if all.add_policy(path.clone(), source.clone()).is_err() {
                (all, policies) = (base.clone(), Vec::new()); // the batch parses on its own
                break;
            }
        }
    }
    Ok((
        Parsed {
            base,
            helpers: helpers.to_vec(),
            all,
            policies,
        },
        out,
    ))
}

/// The helpers' engine (see [`base_engine`]) and what they define, each helper parsed once:
/// the errors of [`check_helpers`] when they do not compile or a name does not resolve.
fn helpers_engine(
    helpers: &[(String, String)],
) -> Result<(regorus::Engine, super::resolve::Definitions), Vec<ConfigError>> {
    use super::resolve::Module;
    let mut engine = base_engine(&[]).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut modules = Vec::new();
    for (path, src) in helpers {
        // A helper that fails leaves the engine as it was (regorus adds a module only once
        // it parsed), so the others are still checked.
        match add_module(&mut engine, path, src).and_then(|()| Module::last_added(path, &mut engine)) {
            Ok(m) => modules.push(m),
            Err(e) => errors.push(e),
        }
    }
    resolve_among(&modules, errors).map(|defs| (engine, defs))
}

/// What `modules` define, once every name they use resolves among them; else `errors` (of
/// the modules that did not compile) and theirs.
fn resolve_among(
    modules: &[super::resolve::Module],
    mut errors: Vec<ConfigError>,
) -> Result<super::resolve::Definitions, Vec<ConfigError>> {
    let mut defs = super::resolve::Definitions::default();
    for m in modules {
        defs.add(m);
    }
    errors.extend(modules.iter().filter_map(|m| super::resolve::check(m, &defs).err()));
    if errors.is_empty() {
        Ok(defs)
    } else {
        Err(errors)
    }
}

/// Several compiled guardrails in one engine: the engine is prepared once instead of once per
/// guardrail, and values of the shared helpers (normalised security-group rules) are computed
/// once per input instead of once per guardrail that uses them.
///
/// The members are split into bins, each evaluated in one pass (one engine run): one bin when
/// a workload's guardrails run one after another, more when they run side by side on several
/// workers (each worker with its own copy of the engine). Guardrails that read the same
/// helper value (for example `data.lib.aws.sg_ingress_rules`) share a bin, so the value
/// is still computed once. A failed pass tells nothing about which guardrail failed, so
/// callers fall back to evaluating its members one by one.
#[derive(Clone)]
pub struct Batch {
    engine: regorus::Engine,
    prepared: bool,
    /// Positions (in the caller's list) of the member guardrails.
    members: Vec<usize>,
    /// Each bin's members, as positions in the caller's list.
    bins: Vec<Vec<usize>>,
}

/// Package of the generated module that collects every member's `deny`.
const BATCH_PACKAGE: &str = "railyard_internal_batch";

impl Batch {
    /// Builds a batch of `(position, guardrail)` in up to `bins` bins; `None` when fewer than
    /// two guardrails can share an engine (two guardrails with one package must not merge
    /// their rules).
    /// `parsed`: the library as parsed when it loaded (its helpers must be `helpers`): taken
    /// whole when the members are exactly its policies; otherwise its helpers are, and the
    /// members are parsed here.
    pub fn build(
        guardrails: &[(usize, &Guardrail)],
        helpers: &[(String, String)],
        bins: usize,
        parsed: Option<&Parsed>,
    ) -> Option<Batch> {
        if guardrails.len() < 2 {
            return None; // nothing to share; spares parsing the helpers again
        }
        let mut seen = std::collections::HashMap::new();
        for (_, g) in guardrails {
            *seen.entry(package_of(&g.policy)?).or_insert(0) += 1;
        }
        let mut members = Vec::new();
        for (pos, g) in guardrails {
            let declared = package_of(&g.policy)?;
            if seen[declared] == 1 && declared != BATCH_PACKAGE {
                members.push((*pos, *g));
            }
        }
        let parsed = parsed.filter(|p| p.helpers == helpers);
        let base = parsed.map(|p| &p.base);
        let parsed = parsed.filter(|p| {
            p.policies.len() == members.len()
                && p.policies
                    .iter()
                    .zip(&members)
                    .all(|((path, source, _), (_, g))| *path == g.policy_path && *source == g.policy)
        });
        let mut packages = std::collections::HashMap::new();
        let mut engine = match parsed {
            Some(p) => {
                for ((pos, _), (_, _, package)) in members.iter().zip(&p.policies) {
                    packages.insert(*pos, package.clone());
                }
                p.all.clone()
            }
            None => {
                let mut engine = match base {
                    Some(base) => base.clone(),
                    None => base_engine(helpers).ok()?,
                };
                for (pos, g) in &members {
                    let package = engine.add_policy(g.policy_path.clone(), g.policy.clone()).ok()?;
                    packages.insert(*pos, package);
                }
                engine
            }
        };
        for (pos, g) in &members {
            if package_of(&g.policy).map(|d| format!("data.{d}")).as_ref() != packages.get(pos) {
                return None; // the text and the parser disagree: do not guess
            }
        }
        if members.len() < 2 {
            return None;
        }
        let bins = bin(&members, bins);
        let mut module = format!("package {BATCH_PACKAGE}\n");
        for (b, positions) in bins.iter().enumerate() {
            module.push_str(&format!("\nresults_{b} := {{\n"));
            for pos in positions {
                module.push_str(&format!(
                    "\t\"{pos}\": object.get({}, \"deny\", null),\n",
                    packages[pos]
                ));
            }
            module.push_str("}\n");
        }
        engine.add_policy("railyard-batch.rego".into(), module).ok()?;
        Some(Batch {
            engine,
            prepared: false,
            members: members.iter().map(|(p, _)| *p).collect(),
            bins,
        })
    }

    /// Prepares the engine without evaluating any rule (see [`Policy::prepare`]).
    pub fn prepare(&mut self) {
        if !self.prepared {
            let _ = self.engine.eval_query("true".to_string(), false);
            self.prepared = true;
        }
    }

    /// Positions of the member guardrails.
    pub fn members(&self) -> &[usize] {
        &self.members
    }

    /// Each bin's members (positions).
    pub fn bins(&self) -> &[Vec<usize>] {
        &self.bins
    }

    /// Every member of bin `b` with its violations, in [`Batch::bins`] order; `None` when
    /// the pass failed (a runtime error, the time budget, a malformed `deny`) and members
    /// must be evaluated one by one to find out which.
    pub fn evaluate(&mut self, input: &PreparedInput, b: usize, limits: &Limits) -> Option<Vec<Vec<Violation>>> {
        self.prepare();
        self.engine.set_execution_timer_config(timer(limits));
        self.engine.set_input(input.0.clone());
        let value = self
            .engine
            .eval_rule(format!("data.{BATCH_PACKAGE}.results_{b}"))
            .ok()?;
        // A member over `--max-findings`: evaluated alone, it reports the error.
        let max = limits.max_findings;
        if let regorus::Value::Object(members) = &value {
            if members.values().any(|v| findings_count(v) > max) {
                return None;
            }
        }
        let json = serde_json::to_value(&value).ok()?;
        let mut results = match json {
            serde_json::Value::Object(map) => map,
            _ => return None,
        };
        self.bins
            .get(b)?
            .iter()
            .map(|pos| match results.remove(&pos.to_string())? {
                serde_json::Value::Array(items) => items.into_iter().map(|v| violation(v).ok()).collect(),
                serde_json::Value::Null => Some(Vec::new()),
                _ => None,
            })
            .collect()
    }
}

/// Splits members into up to `bins` bins: guardrails joined (transitively) by a helper value
/// they both read stay together; each unit, in order, goes to the bin with the fewest
/// guardrails, so similar guardrails (neighbours by name) land in different bins.
fn bin(members: &[(usize, &Guardrail)], bins: usize) -> Vec<Vec<usize>> {
    let mut units: Vec<(std::collections::BTreeSet<&str>, Vec<usize>)> = Vec::new();
    for (pos, g) in members {
        let values = helper_values(&g.policy);
        let mut unit = (values, vec![*pos]);
        if !unit.0.is_empty() {
            units.retain(|(v, positions)| {
                if v.is_disjoint(&unit.0) {
                    return true;
                }
                unit.0.extend(v.iter().copied());
                unit.1.extend(positions.iter().copied());
                false
            });
        }
        units.push(unit);
    }
    units.sort_by_key(|(_, positions)| positions.iter().min().copied());
    let n = bins.clamp(1, units.len().max(1));
    let mut out = vec![Vec::new(); n];
    for (_, positions) in units {
        let smallest = (0..n).min_by_key(|b| out[*b].len()).unwrap_or(0);
        out[smallest].extend(positions);
    }
    for b in &mut out {
        b.sort_unstable();
    }
    out
}

/// How many findings a `deny` value holds (a set, or an array).
fn findings_count(v: &regorus::Value) -> usize {
    match v {
        regorus::Value::Set(s) => s.len(),
        regorus::Value::Array(a) => a.len(),
        _ => 0,
    }
}

/// The error of a guardrail that reports more findings than `--max-findings` allows.
pub fn too_many_findings(count: usize, max: usize) -> String {
    format!(
        "the policy reported {count} findings, more than the limit of {max} (see --max-findings); not recorded: the result is an error, never a pass"
    )
}

/// A `deny` element that is not a finding Railyard can read.
#[derive(Debug, thiserror::Error)]
enum BadDeny {
    #[error("a `deny` object needs a string `message`: {0}")]
    NoMessage(serde_json::Value),
    #[error("`deny` elements must be strings or {{resource, message}} objects, got {0}")]
    NotAFinding(serde_json::Value),
}

fn violation(item: serde_json::Value) -> Result<Violation, BadDeny> {
    match item {
        serde_json::Value::String(message) => Ok(Violation {
            resource: None,
            message,
            file: None,
            line: None,
            id: None,
            field: None,
        }),
        serde_json::Value::Object(map) => {
            let text = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let message = text("message")
                .or_else(|| text("msg"))
                .ok_or_else(|| BadDeny::NoMessage(serde_json::Value::Object(map.clone())))?;
            Ok(Violation {
                resource: text("resource"),
                message,
                file: text("file"),
                line: map.get("line").and_then(|v| v.as_u64()).map(|l| l as usize),
                id: text("id"),
                field: field_path(map.get("field")),
            })
        }
        other => Err(BadDeny::NotAFinding(other)),
    }
}

/// A finding's `field`: a dotted path (`a.b[0].c`) as a string, or a list of keys and
/// indices (`["a", "b", 0, "c"]`, handy for keys that contain dots), normalised to the string.
fn field_path(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Array(parts) if !parts.is_empty() => {
            let mut out = String::new();
            for p in parts {
                match p {
                    serde_json::Value::Number(n) => out.push_str(&format!("[{n}]")),
                    // A key with a dot or bracket in it is written `["k.e.y"]`.
                    serde_json::Value::String(k) if k.contains(['.', '[', ']', '"']) => {
                        out.push_str(&format!("[{}]", serde_json::Value::String(k.clone())));
                    }
                    serde_json::Value::String(k) => {
                        if !out.is_empty() {
                            out.push('.');
                        }
                        out.push_str(k);
                    }
                    _ => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// regorus' timer for one evaluation: the run's `--eval-timeout`, checked every 64 steps.
fn timer(limits: &Limits) -> regorus::utils::limits::ExecutionTimerConfig {
    regorus::utils::limits::ExecutionTimerConfig {
        limit: limits.eval_timeout,
        check_interval: NonZeroU32::new(64).expect("64 is not zero"),
    }
}

/// Whether regorus stopped an evaluation for time. Its typed limit error, wherever in the
/// error's chain; some of regorus' paths (built-ins such as the string functions) turn that
/// error into text first, so at this seam with regorus, and only here, its own wording of
/// that error (`LimitError::TimeLimitExceeded`'s Display) counts too. Past this function
/// the kind is a variant.
fn kind_of(e: &anyhow::Error) -> EvalErrorKind {
    let typed = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<regorus::LimitError>(),
            Some(regorus::LimitError::TimeLimitExceeded { .. })
        )
    });
    match typed || format!("{e:#}").contains(REGORUS_TIME_LIMIT) {
        true => EvalErrorKind::TimedOut,
        false => EvalErrorKind::Failed,
    }
}

/// How regorus words `LimitError::TimeLimitExceeded` (regorus 0.14, `utils/limits/error.rs`).
const REGORUS_TIME_LIMIT: &str = "execution exceeded time limit";

/// An engine configured for guardrails (Rego v1, time budget) holding the shared helpers.
/// The timer starts at the default budget; each evaluation sets the run's (`timer`).
pub fn base_engine(helpers: &[(String, String)]) -> Result<regorus::Engine, ConfigError> {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(false);
    engine.set_execution_timer_config(timer(&Limits::default()));
    for (path, src) in helpers {
        check_nesting(path, src)?;
        engine
            .add_policy(path.clone(), src.clone())
            .map_err(|e| rego_error(path, &e))?;
    }
    Ok(engine)
}

/// Adds one more module (a Rego unit-test file) to `engine`, refusing it as a policy would
/// be refused: too deeply nested, or not valid Rego (error at `path:line`).
pub(crate) fn add_module(engine: &mut regorus::Engine, path: &str, src: &str) -> Result<(), ConfigError> {
    check_nesting(path, src)?;
    engine
        .add_policy(path.to_string(), src.to_string())
        .map(|_| ())
        .map_err(|e| rego_error(path, &e))
}

/// Checks the shared helpers compile on their own, so their errors are reported against
/// `lib/` rather than against every guardrail that imports them, and that every name they
/// use resolves among them. Returns what they define, for resolving the guardrails' names.
pub fn check_helpers(helpers: &[(String, String)]) -> Result<super::resolve::Definitions, Vec<ConfigError>> {
    use super::resolve::Module;
    let mut errors = Vec::new();
    let mut modules = Vec::new();
    for (path, src) in helpers {
        if let Err(e) = check_nesting(path, src) {
            errors.push(e);
            continue;
        }
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        if let Err(e) = engine.add_policy(path.clone(), src.clone()) {
            errors.push(rego_error(path, &e));
            continue;
        }
        match Module::last_added(path, &mut engine) {
            Ok(m) => modules.push(m),
            Err(e) => errors.push(e),
        }
    }
    resolve_among(&modules, errors)
}

/// Deepest bracket nesting accepted in a policy: the Rego parser backtracks at every `[` and
/// `{` (comprehension or collection?), so its time doubles with each level (20 levels take
/// seconds, 30 would take hours).
pub const MAX_POLICY_NESTING: usize = 16;

/// Refuses policies nested deeper than [`MAX_POLICY_NESTING`] before regorus parses them.
fn check_nesting(path: &str, src: &str) -> Result<(), ConfigError> {
    let (mut depth, mut line) = (0usize, 1usize);
    let mut chars = src.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => {
                            line += usize::from(c == '\n');
                            break;
                        }
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                    } else if c == '`' {
                        break;
                    }
                }
            }
            '[' | '{' | '(' => {
                depth += 1;
                if depth > MAX_POLICY_NESTING {
                    return Err(ConfigError::new(
                        path,
                        line,
                        format!("Rego: brackets nested deeper than {MAX_POLICY_NESTING} levels"),
                    ));
                }
            }
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Locks a mutex whose holder may have panicked (what it guards, an engine or a value
/// being built, stays usable).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Values of the shared library a policy reads by full path (`data.lib.aws.x` not
/// followed by `(`, which would be a function call), as `docs/guardrails.md` asks.
fn helper_values(policy: &str) -> std::collections::BTreeSet<&str> {
    let is_path = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    policy
        .match_indices("data.lib.")
        .filter_map(|(at, _)| {
            let rest = &policy[at..];
            let end = rest.find(|c: char| !is_path(c)).unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches('.');
            let called = rest[end..].starts_with('(');
            // `data.lib.aws` alone is the package (an import), not a value.
            (!called && path.matches('.').count() >= 3).then_some(path)
        })
        .collect()
}

fn package_of(src: &str) -> Option<&str> {
    src.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package "))
        .map(str::trim)
}

fn rego_error(path: &str, e: &anyhow::Error) -> ConfigError {
    let (line, message) = rego_message(path, &format!("{e:#}"));
    ConfigError::new(path, line, format!("Rego: {message}"))
}

/// The line and message of a regorus error. regorus 0.14 gives errors only as text (an
/// `anyhow::Error` formatted from its spans: `--> path:line:col`, the source line, a caret,
/// `error: …`), so this is the one place that reads that text; the test below pins it to
/// the regorus in use. Text of another shape keeps its first line, at line 1.
fn rego_message(path: &str, text: &str) -> (usize, String) {
    let needle = format!("{path}:");
    let mut line = 1;
    let mut message = text.lines().next().unwrap_or("invalid Rego").to_string();
    if let Some(pos) = text.find(&needle) {
        let rest = &text[pos + needle.len()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = digits.parse() {
            line = n;
        }
        let first = rest.lines().next().unwrap_or("");
        // Drop "line:col: " so the caller's "file:line:" prefix is not repeated.
        message = first.splitn(3, ':').nth(2).unwrap_or(first).trim().to_string();
        if let Some(detail) = text.lines().find(|l| l.contains("error:")) {
            message = detail.split("error:").nth(1).unwrap_or(detail).trim().to_string();
        }
    }
    (line, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn regorus_error_text_gives_line_and_message() {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        let policy = "package p\n\ndeny contains msg if {\n  msg := \n}\n";
        let err = engine.add_policy("g/policy.rego".into(), policy.into()).unwrap_err();
        let (line, message) = rego_message("g/policy.rego", &format!("{err:#}"));
        assert_eq!(
            (line, message.as_str()),
            (4, "expecting `}` while parsing set"),
            "{err:#}"
        );
        assert_eq!(
            rego_message("g/policy.rego", "something else\nmore"),
            (1, "something else".to_string())
        );
    }
    use crate::files::SourceFile;
    use crate::guardrail::{load_guardrail, Metadata};

    fn guardrail(policy: &str) -> Guardrail {
        let meta = "title = \"t\"\nseverity = \"high\"\nremediation = \"fix it\"\n";
        let files = vec![
            SourceFile::new("guardrail.toml", meta),
            SourceFile::new("policy.rego", policy),
        ];
        let _ = std::marker::PhantomData::<Metadata>;
        load_guardrail("g", "guardrails/g", files).unwrap()
    }

    #[test]
    fn the_input_converted_in_parts_is_the_whole_input() {
        let tf = "resource \"aws_s3_bucket\" \"a\" {\n  tags = { owner = \"x\" }\n}\nresource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = aws_s3_bucket.a.id\n}\ndata \"aws_caller_identity\" \"me\" {}\n";
        let k8s = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n";
        let files = vec![
            SourceFile::new("main.tf", tf),
            SourceFile::new("k/pod.yaml", k8s),
            SourceFile::new("more/extra.tf", "resource \"aws_ebs_volume\" \"e\" {\n  count = 0\n}\n"),
        ];
        let p = crate::workload::parse_files(&files);
        let mut resources = p.resources;
        crate::workload::links::link(&mut resources);
        let input = crate::workload::Input::new(Default::default(), resources, p.documents);
        assert_eq!(input.resources.len(), 5);
        let mut whole = PreparedInput::new(&serde_json::to_value(&input).unwrap()).0;
        let index = crate::guardrail::indexes::kubernetes(&whole["resources"].as_array().unwrap().to_vec());
        assert_eq!(index["pods"].as_array().unwrap().len(), 1);
        whole
            .as_object_mut()
            .unwrap()
            .insert(regorus::Value::from("kubernetes"), index);
        for threads in [1, 2, 3, 8] {
            assert!(PreparedInput::of(&input, threads).0 == whole, "{threads} threads");
        }
    }

    #[test]
    fn guardrails_reading_one_helper_value_share_a_bin() {
        let policies = [
            "package a\ndeny contains m if { some r in data.lib.x.rules; m := r }",
            "package b\ndeny contains m if { m := data.lib.x.count(1) }",
            "package c\ndeny contains m if { some r in data.lib.x.rules; some s in data.lib.x.other; m := r }",
            "package d\ndeny contains m if { m := \"d\" }",
            "package e\ndeny contains m if { some r in data.lib.x.other; m := r }",
            "package f\ndeny contains m if { m := \"f\" }",
        ];
        let gs: Vec<Guardrail> = policies.iter().map(|p| guardrail(p)).collect();
        let members: Vec<(usize, &Guardrail)> = gs.iter().enumerate().collect();
        // a, c and e are joined through `rules` and `other`; a function call joins nothing.
        assert_eq!(bin(&members, 3), vec![vec![0, 2, 4], vec![1, 5], vec![3]]);
        assert_eq!(bin(&members, 1), vec![vec![0, 1, 2, 3, 4, 5]]);
        assert_eq!(bin(&members, 10).len(), 4, "no more bins than units");
        let batch = Batch::build(&members, &[], 3, None).expect("a batch");
        assert_eq!(batch.bins(), &[vec![0, 2, 4], vec![1, 5], vec![3]]);
    }

    fn named(id: &str, policy: &str) -> Guardrail {
        let mut g = guardrail(policy);
        g.id = id.to_string();
        g.policy_path = format!("guardrails/{id}/policy.rego");
        g
    }

    #[test]
    fn the_library_parsed_once_evaluates_as_parsing_each_policy_again() {
        let helpers = vec![(
            "guardrails/lib/h.rego".to_string(),
            "package lib.h\nflag(r) if r.bad\n".to_string(),
        )];
        let gs = vec![
            named(
                "a",
                "package a\nimport data.lib.h\ndeny contains r.id if { some r in input.rs; h.flag(r) }\n",
            ),
            // Parsed, then refused (unknown helper): it must not stay in the shared engine.
            named(
                "b",
                "package b\nimport data.lib.h\ndeny contains r.id if { some r in input.rs; h.nope(r) }\n",
            ),
            named("c", "package c\ndeny contains \"c\" if { count(input.rs) > 1 }\n"),
            // One package for two guardrails: each its own engine, never merged.
            named("d1", "package d\ndeny contains \"d1\" if { true }\n"),
            named("d2", "package d\ndeny contains \"d2\" if { input.none }\n"),
            named("e", "package e\ndeny contains \"e\" if { \n"),
        ];
        let (parsed, policies) = parse_library(&gs, &helpers).expect("helpers compile");
        let outcome: Vec<bool> = policies.iter().map(Result::is_ok).collect();
        assert_eq!(outcome, [true, false, true, true, true, false]);
        assert_eq!(
            policies[1].as_ref().err().unwrap().line,
            3,
            "{:?}",
            policies[1].as_ref().err()
        );
        assert_eq!(policies[5].as_ref().err().unwrap().line, 3);
        let paths: Vec<&str> = parsed.policies.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(paths, ["guardrails/a/policy.rego", "guardrails/c/policy.rego"]);
        let input = PreparedInput::new(&serde_json::json!({"rs": [{"id": "x", "bad": true}, {"id": "y"}]}));
        let members: Vec<(usize, &Guardrail)> = [0, 2, 3, 4].iter().map(|i| (*i, &gs[*i])).collect();
        let limits = Limits::default();
        let mut results = Vec::new();
        for parsed in [Some(&parsed), None] {
            let mut batch = Batch::build(&members, &helpers, 1, parsed).expect("a batch");
            assert_eq!(
                batch.members(),
                [0, 2],
                "one package for two guardrails: no batch for them"
            );
            results.push(batch.evaluate(&input, 0, &limits).expect("evaluates"));
        }
        assert_eq!(results[0], results[1]);
        assert_eq!(results[0][0][0].message, "x");
        assert_eq!(results[0][1][0].message, "c");
        // Each guardrail alone (engines built on demand) says what the batch says.
        let mut alone: Vec<Policy> = policies.into_iter().flatten().collect();
        let said: Vec<Vec<String>> = alone
            .iter_mut()
            .map(|p| {
                p.evaluate(&input, &limits)
                    .unwrap()
                    .into_iter()
                    .map(|v| v.message)
                    .collect()
            })
            .collect();
        assert_eq!(said, [vec!["x"], vec!["c"], vec!["d1"], vec![]]);
    }

    #[test]
    fn an_engine_that_fails_to_build_on_demand_is_an_error_never_a_pass() {
        let g = guardrail("package g\ndeny contains \"x\" if { \n");
        let mut p = Policy::pending(&base_engine(&[]).unwrap(), &g, "data.g");
        p.prepare();
        let e = p
            .evaluate(&PreparedInput::new(&serde_json::json!({})), &Limits::default())
            .expect_err("an error");
        assert_eq!(e.kind, EvalErrorKind::Failed);
        assert!(e.message.contains("guardrails/g/policy.rego:"), "{e}");
    }

    #[test]
    fn strings_and_objects_become_violations() {
        let g = guardrail(
            "package g\ndeny contains \"plain\" if input.a\ndeny contains {\"resource\": \"x.y\", \"message\": \"m\"} if input.a\n",
        );
        let mut p = Policy::compile(&g, &[]).unwrap();
        let mut v = p
            .evaluate(&PreparedInput::new(&serde_json::json!({"a": true})), &Limits::default())
            .unwrap();
        v.sort_by(|a, b| a.message.cmp(&b.message));
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].resource.as_deref(), Some("x.y"));
        assert_eq!(v[1].message, "plain");
        assert!(p
            .evaluate(
                &PreparedInput::new(&serde_json::json!({"a": false})),
                &Limits::default()
            )
            .unwrap()
            .is_empty());
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let g = guardrail("package g\n\ndeny contains msg if {\n  msg := \n}\n");
        let e = Policy::compile(&g, &[]).expect_err("must fail");
        assert_eq!(e.file, "guardrails/g/policy.rego");
        assert!(e.line >= 4, "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!(
            "package g\n\n# [[[[ in a comment\ndeny contains msg if {{\n  x := {}{}\n  msg := \"[[[[\"\n}}\n",
            "[".repeat(40),
            "]".repeat(40)
        );
        let e = Policy::compile(&guardrail(&deep), &[]).expect_err("must fail");
        assert_eq!(e.line, 5, "{e}");
        assert!(e.to_string().contains("nested deeper than 16"), "{e}");
        let fine = format!("package g\n\n# [[[[[[[[[[[[[[[[[[[[[[\ndeny contains msg if {{\n  x := {}{}\n  msg := \"[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n}}\n", "[".repeat(8), "]".repeat(8));
        assert!(Policy::compile(&guardrail(&fine), &[]).is_ok());
    }

    #[test]
    fn runtime_errors_are_errors_not_passes() {
        let g = guardrail("package g\ndeny contains msg if {\n  x := input.n / 0\n  msg := sprintf(\"%v\", [x])\n}\n");
        let mut p = Policy::compile(&g, &[]).unwrap();
        let r = p.evaluate(&PreparedInput::new(&serde_json::json!({"n": 1})), &Limits::default());
        assert!(r.is_err(), "{r:?}");
    }

    #[test]
    fn the_time_budget_is_the_runs_and_its_error_is_typed() {
        // 10^10 steps over two small ranges: stopped by the timer, not by memory.
        let spin = "package g\ndeny contains msg if {\n  some i in numbers.range(1, 100000)\n  some j in numbers.range(1, 100000)\n  i + j < 0\n  msg := \"never\"\n}\n";
        let g = guardrail(spin);
        let mut p = Policy::compile(&g, &[]).unwrap();
        let limits = Limits {
            eval_timeout: Duration::from_millis(100),
            ..Limits::default()
        };
        let started = std::time::Instant::now();
        let e = p
            .evaluate(&PreparedInput::new(&serde_json::json!({})), &limits)
            .expect_err("stopped");
        assert_eq!(e.kind, EvalErrorKind::TimedOut, "{e}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        // Any other failure is not a timeout.
        let g = guardrail("package g\ndeny contains msg if {\n  x := input.n / 0\n  msg := sprintf(\"%v\", [x])\n}\n");
        let mut p = Policy::compile(&g, &[]).unwrap();
        let e = p
            .evaluate(&PreparedInput::new(&serde_json::json!({"n": 1})), &limits)
            .expect_err("fails");
        assert_eq!(e.kind, EvalErrorKind::Failed, "{e}");
    }

    #[test]
    fn regorus_words_its_timeout_as_kind_of_expects() {
        let e = regorus::LimitError::TimeLimitExceeded {
            elapsed: Duration::from_secs(2),
            limit: Duration::from_secs(1),
        };
        assert_eq!(kind_of(&anyhow::anyhow!("{e}")), EvalErrorKind::TimedOut);
        assert_eq!(kind_of(&anyhow::Error::new(e)), EvalErrorKind::TimedOut);
        assert_eq!(kind_of(&anyhow::anyhow!("division by zero")), EvalErrorKind::Failed);
    }
}
