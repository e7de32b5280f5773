//! Load-time name resolution for Rego modules. regorus resolves a function only when a call
//! is evaluated and treats a reference to a rule that does not exist as *undefined*, so a
//! guardrail copied without `guardrails/lib/` silently produces no findings wherever the
//! missing helper sits (`some b in railyard.buckets`, or any call behind a condition no
//! fixture reaches). Here every call and every `data.` reference of a module is checked
//! against the rules and functions the loaded modules define and the built-ins regorus
//! has, before the guardrail is used: an unresolved one is a load error at `file:line`.
//!
//! The walk reads the typed AST of the module regorus parsed for evaluation (no second
//! parse, no serialisation): the `match`es below are exhaustive, so a regorus upgrade that
//! adds a construct fails to compile here instead of being skipped silently.

use crate::config::ConfigError;
use regorus::unstable::{Expr, Literal, Module as Ast, Query, Ref, Rule, RuleAssign, RuleHead};
use std::collections::{BTreeMap, BTreeSet};

/// What a set of modules defines: full paths of rules and functions (`data.lib.railyard.f`)
/// and of packages (`data.lib.railyard`).
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    rules: BTreeSet<String>,
    packages: BTreeSet<String>,
}

/// One parsed module: its file and the AST regorus built for it.
pub struct Module {
    path: String,
    ast: Ref<Ast>,
}

impl Module {
    /// The module most recently added to `engine` (by `add_policy`), which parsed `path`.
    pub fn last_added(path: &str, engine: &mut regorus::Engine) -> Result<Module, ConfigError> {
        let ast = engine
            .get_modules()
            .last()
            .cloned()
            .ok_or_else(|| ConfigError::new(path, 1, "Rego AST: no module"))?;
        Ok(Module {
            path: path.to_string(),
            ast,
        })
    }

    /// The module's Rego unit tests, OPA's convention: rules (not functions) whose name
    /// starts with `test_`, as (full path, name, line), one entry per name in file order.
    pub fn test_rules(&self) -> Vec<(String, String, usize)> {
        let package = self.package();
        let mut out: Vec<(String, String, usize)> = Vec::new();
        for rule in &self.ast.policy {
            let Rule::Spec {
                head: RuleHead::Compr { refr, .. },
                ..
            } = rule.as_ref()
            else {
                continue;
            };
            if let Some([name]) = ref_path(refr).as_deref() {
                // A test written in several bodies is one rule: listed (and run) once.
                if name.starts_with("test_") && !out.iter().any(|(_, n, _)| n == name) {
                    out.push((format!("{package}.{name}"), name.clone(), refr.span().line as usize));
                }
            }
        }
        out
    }

    fn package(&self) -> String {
        let parts = ref_path(&self.ast.package.refr);
        format!("data.{}", parts.map(|p| p.join(".")).unwrap_or_default())
    }
}

impl Definitions {
    /// Adds what `module` defines.
    pub fn add(&mut self, module: &Module) {
        let package = module.package();
        for rule in &module.ast.policy {
            let refr = match rule.as_ref() {
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. } => refr,
                },
                Rule::Default { refr, .. } => refr,
            };
            if let Some(parts) = ref_path(refr) {
                // `a.b.c := 1` defines `a`, `a.b` and `a.b.c` as paths one may read.
                for n in 1..=parts.len() {
                    self.rules.insert(format!("{package}.{}", parts[..n].join(".")));
                }
            }
        }
        let mut p = package.as_str();
        loop {
            self.packages.insert(p.to_string());
            match p.rsplit_once('.') {
                Some((parent, _)) => p = parent,
                None => break,
            }
        }
    }

    /// Whether reading `path` (a `data.` reference) can reach something defined: a rule, a
    /// value inside a rule, or a package (a prefix of defined rules).
    fn readable(&self, path: &[String]) -> bool {
        (1..=path.len()).any(|n| self.rules.contains(&path[..n].join("."))) || self.packages.contains(&path.join("."))
    }
}

/// Checks every call and `data.` reference of `module` resolves against `defs` (which
/// must include the module's own definitions) or regorus' built-ins.
pub fn check(module: &Module, defs: &Definitions) -> Result<(), ConfigError> {
    check_in(module, &[defs])
}

/// [`check`] against what several sets define together (the helpers' and the module's own,
/// without copying the helpers' for each policy).
pub fn check_in(module: &Module, defs: &[&Definitions]) -> Result<(), ConfigError> {
    let package = module.package();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for import in &module.ast.imports {
        let Some(parts) = ref_path(&import.refr) else {
            continue;
        };
        if parts.first().map(String::as_str) != Some("data") {
            continue; // rego.v1, future.keywords, input.x
        }
        let alias = import
            .r#as
            .as_ref()
            .map(|s| s.text().to_string())
            .or_else(|| parts.last().cloned())
            .unwrap_or_default();
        aliases.insert(alias, parts);
    }
    let checker = Checker {
        module,
        defs,
        package,
        aliases,
    };
    module.ast.policy.iter().try_for_each(|rule| checker.rule(rule))
}

struct Checker<'a> {
    module: &'a Module,
    defs: &'a [&'a Definitions],
    package: String,
    aliases: BTreeMap<String, Vec<String>>,
}

impl Checker<'_> {
    /// Whether a rule or function of this full path is defined.
    fn defined(&self, path: &str) -> bool {
        self.defs.iter().any(|d| d.rules.contains(path))
    }

    fn error(&self, expr: &Expr, message: String) -> ConfigError {
        ConfigError::new(&self.module.path, expr.span().line as usize, message)
    }

    /// The `data.` path a reference names, with import aliases replaced; `None` when it
    /// starts elsewhere (`input`, a local variable).
    fn data_path(&self, parts: &[String]) -> Option<Vec<String>> {
        let first = parts.first()?;
        if first == "data" {
            return Some(parts.to_vec());
        }
        let import = self.aliases.get(first)?;
        Some(import.iter().chain(&parts[1..]).cloned().collect())
    }

    // The `refr` of a rule head or default rule names what is being defined, not a read;
    // its arguments and values are read.
    fn rule(&self, rule: &Rule) -> Result<(), ConfigError> {
        match rule {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Compr { assign, .. } => self.assign(assign.as_ref())?,
                    RuleHead::Set { key, .. } => key.iter().try_for_each(|k| self.expr(k))?,
                    RuleHead::Func { args, assign, .. } => {
                        args.iter().try_for_each(|a| self.expr(a))?;
                        self.assign(assign.as_ref())?;
                    }
                }
                bodies.iter().try_for_each(|body| {
                    self.assign(body.assign.as_ref())?;
                    self.query(&body.query)
                })
            }
            Rule::Default { args, value, .. } => {
                args.iter().try_for_each(|a| self.expr(a))?;
                self.expr(value)
            }
        }
    }

    fn assign(&self, assign: Option<&RuleAssign>) -> Result<(), ConfigError> {
        assign.map_or(Ok(()), |a| self.expr(&a.value))
    }

    fn query(&self, query: &Query) -> Result<(), ConfigError> {
        for stmt in &query.stmts {
            match &stmt.literal {
                Literal::SomeVars { .. } => {}
                Literal::SomeIn {
                    key, value, collection, ..
                } => {
                    key.iter().try_for_each(|k| self.expr(k))?;
                    self.expr(value)?;
                    self.expr(collection)?;
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => self.expr(expr)?,
                Literal::Every { domain, query, .. } => {
                    self.expr(domain)?;
                    self.query(query)?;
                }
            }
            // The target of `with` is replaced, and need not exist: only its value is read.
            stmt.with_mods.iter().try_for_each(|w| self.expr(&w.r#as))?;
        }
        Ok(())
    }

    fn expr(&self, expr: &Expr) -> Result<(), ConfigError> {
        match expr {
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => Ok(()),
            Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => {
                self.reference(expr)?;
                self.indexes(expr)
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().try_for_each(|e| self.expr(e)),
            Expr::Object { fields, .. } => fields.iter().try_for_each(|(_, k, v)| {
                self.expr(k)?;
                self.expr(v)
            }),
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term)?;
                self.query(query)
            }
            Expr::ObjectCompr { key, value, query, .. } => {
                self.expr(key)?;
                self.expr(value)?;
                self.query(query)
            }
            Expr::Call { fcn, params, .. } => {
                self.call(expr, fcn)?;
                params.iter().try_for_each(|e| self.expr(e))
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs)?;
                self.expr(rhs)
            }
            Expr::Membership {
                key, value, collection, ..
            } => {
                key.iter().try_for_each(|k| self.expr(k))?;
                self.expr(value)?;
                self.expr(collection)
            }
        }
    }

    /// Walks the index expressions inside a reference chain (`a[x].b[f(y)]`).
    fn indexes(&self, expr: &Expr) -> Result<(), ConfigError> {
        match expr {
            Expr::RefBrack { refr, index, .. } => {
                self.expr(index)?;
                self.indexes(refr)
            }
            Expr::RefDot { refr, .. } => self.indexes(refr),
            _ => Ok(()),
        }
    }

    fn reference(&self, expr: &Expr) -> Result<(), ConfigError> {
        let Some(parts) = ref_prefix(expr) else {
            return Ok(());
        };
        let Some(path) = self.data_path(&parts) else {
            return Ok(());
        };
        if self.defs.iter().any(|d| d.readable(&path)) {
            return Ok(());
        }
        Err(self.error(
            expr,
            format!(
                "Rego: `{}` refers to `{}`, which no loaded module defines{}",
                parts.join("."),
                path.join("."),
                lib_hint(&path)
            ),
        ))
    }

    fn call(&self, call: &Expr, fcn: &Expr) -> Result<(), ConfigError> {
        let Some(parts) = ref_path(fcn) else {
            return Ok(()); // not a plain name: regorus rejects it when parsing
        };
        let name = parts.join(".");
        let resolved = match self.data_path(&parts) {
            Some(path) => self.defined(&path.join(".")).then_some(()).ok_or(path),
            None => {
                let local = format!("{}.{name}", self.package);
                if self.defined(&local) || name == "print" || regorus::unstable::BUILTINS.contains_key(name.as_str()) {
                    Ok(())
                } else {
                    Err(vec![local])
                }
            }
        };
        resolved.map_err(|path| {
            self.error(
                call,
                format!(
                    "Rego: call to undefined function `{name}`{}",
                    if path.join(".") == format!("{}.{name}", self.package) {
                        String::from(" (neither a built-in nor defined in this package)")
                    } else if path.join(".") != name {
                        format!(" (`{}`){}", path.join("."), lib_hint(&path))
                    } else {
                        lib_hint(&path).to_string()
                    }
                ),
            )
        })
    }
}

fn lib_hint(path: &[String]) -> &'static str {
    if path.get(1).map(String::as_str) == Some("lib") {
        "; is the shared library `guardrails/lib/` present?"
    } else {
        ""
    }
}

/// A reference made only of names (`a.b.c`, `a["b"]`), as path components.
fn ref_path(expr: &Expr) -> Option<Vec<String>> {
    let parts = ref_prefix(expr)?;
    (parts.len() == count_links(expr)).then_some(parts)
}

/// The leading names of a reference chain up to its first computed index (`data.x[i].y`
/// gives `data.x`).
fn ref_prefix(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Var { value, .. } => Some(vec![value.as_string().ok()?.to_string()]),
        Expr::RefDot { refr, field, .. } => {
            let mut parts = ref_prefix(refr)?;
            if parts.len() == count_links(refr) {
                parts.push(field.1.as_string().ok()?.to_string());
            }
            Some(parts)
        }
        Expr::RefBrack { refr, index, .. } => {
            let mut parts = ref_prefix(refr)?;
            if parts.len() == count_links(refr) {
                if let Expr::String { value, .. } = index.as_ref() {
                    parts.push(value.as_string().ok()?.to_string());
                }
            }
            Some(parts)
        }
        _ => None,
    }
}

/// How many names a reference chain has, computed indexes included.
fn count_links(expr: &Expr) -> usize {
    match expr {
        Expr::Var { .. } => 1,
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => 1 + count_links(refr),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str, src: &str) -> Module {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine.add_policy(path.to_string(), src.to_string()).unwrap();
        Module::last_added(path, &mut engine).unwrap()
    }

    #[test]
    fn test_rules_are_the_test_prefixed_rules_not_functions() {
        let src = "package lib.core_test\n\ntest_a if { true }\n\ntest_a if { false }\n\ntest_helper(x) := x\n\nfixture := 1\n\ntest_b := false\n";
        let m = module("lib/core_test.rego", src);
        assert_eq!(
            m.test_rules(),
            [
                ("data.lib.core_test.test_a".to_string(), "test_a".to_string(), 3),
                ("data.lib.core_test.test_b".to_string(), "test_b".to_string(), 11),
            ]
        );
    }

    const LIB: &str =
        "package lib.railyard\n\nbuckets := [b | some b in input.resources]\n\nversioned(b) if b.versioning\n";

    fn resolve(policy: &str) -> Result<(), String> {
        let lib = module("lib/railyard.rego", LIB);
        let own = module("p/policy.rego", policy);
        let mut defs = Definitions::default();
        defs.add(&lib);
        check(&lib, &defs).map_err(|e| e.to_string())?;
        defs.add(&own);
        check(&own, &defs).map_err(|e| format!("{}:{}: {}", e.file, e.line, e.message))
    }

    #[test]
    fn resolve_accepts_defined_names_builtins_and_with_targets() {
        let ok = "package p\n\nimport data.lib.railyard as ry\n\ndeny contains f if {\n\tsome b in ry.buckets\n\tnot ry.versioned(b)\n\tevery t in object.keys(b) { is_string(t) }\n\tf := sprintf(\"%v\", [local(b)])\n}\n\nlocal(x) := x\n\nt if { deny with data.nowhere.at_all as 1 }\n";
        assert_eq!(resolve(ok), Ok(()));
    }

    #[test]
    fn resolve_names_undefined_functions_and_rules_with_their_line() {
        let call = "package p\n\nimport data.lib.railyard\n\ndeny contains f if {\n\tsome b in input.resources\n\tf := [x | x := railyard.versionedx(b)]\n}\n";
        let err = resolve(call).unwrap_err();
        assert!(err.starts_with("p/policy.rego:7: Rego: call to undefined function `railyard.versionedx` (`data.lib.railyard.versionedx`); is the shared library"), "{err}");
        let rule = "package p\n\nimport data.lib.railyard\n\ndeny contains f if {\n\tsome b in railyard.bucketz\n\tf := b\n}\n";
        let err = resolve(rule).unwrap_err();
        assert!(err.starts_with("p/policy.rego:6: Rego: `railyard.bucketz` refers to `data.lib.railyard.bucketz`, which no loaded module defines"), "{err}");
        let local = "package p\n\ndeny contains f if {\n\tf := {\"k\": helper(input.x)}\n}\n";
        let err = resolve(local).unwrap_err();
        assert_eq!(err, "p/policy.rego:4: Rego: call to undefined function `helper` (neither a built-in nor defined in this package)");
        // An index inside a reference chain is walked too.
        let index = "package p\n\ndeny contains f if {\n\tf := input.a[nope(1)]\n}\n";
        assert!(resolve(index).unwrap_err().contains("`nope`"));
    }
}
