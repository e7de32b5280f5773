//! Load-time name resolution for Rego modules. regorus resolves a function only when a call
//! is evaluated and treats a reference to a rule that does not exist as *undefined*, so a
//! guardrail copied without `guardrails/lib/` silently produces no findings wherever the
//! missing helper sits (`some b in railyard.buckets`, or any call behind a condition no
//! fixture reaches). Here every call and every `data.` reference of a module is checked
//! against the rules and functions the loaded modules define and the built-ins regorus
//! has, before the guardrail is used: an unresolved one is a load error at `file:line`.
//!
//! The walk reads regorus' serialised AST (feature `ast`), so it follows every construct
//! the parser knows without matching each node type by hand.

use crate::config::ConfigError;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a set of modules defines: full paths of rules and functions (`data.lib.railyard.f`)
/// and of packages (`data.lib.railyard`).
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    rules: BTreeSet<String>,
    packages: BTreeSet<String>,
}

/// One parsed module: its file, source, and AST as JSON.
pub struct Module {
    path: String,
    source: String,
    ast: Value,
}

impl Module {
    /// Parses `source` on its own (no other module is needed to parse).
    pub fn parse(path: &str, source: &str) -> Result<Module, ConfigError> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine
            .add_policy(path.to_string(), source.to_string())
            .map_err(|e| ConfigError::new(path, 1, format!("Rego: {}", first_line(&e))))?;
        let json = engine
            .get_ast_as_json()
            .map_err(|e| ConfigError::new(path, 1, format!("Rego: {}", first_line(&e))))?;
        let mut all: Value =
            serde_json::from_str(&json).map_err(|e| ConfigError::new(path, 1, format!("Rego AST: {e}")))?;
        let ast = all
            .get_mut(0)
            .and_then(|m| m.get_mut("ast"))
            .map(Value::take)
            .ok_or_else(|| ConfigError::new(path, 1, "Rego AST: no module"))?;
        Ok(Module {
            path: path.to_string(),
            source: source.to_string(),
            ast,
        })
    }

    fn package(&self) -> String {
        let parts = self.ast.get("package").and_then(|p| p.get("refr")).and_then(ref_path);
        format!("data.{}", parts.map(|p| p.join(".")).unwrap_or_default())
    }
}

impl Definitions {
    /// Adds what `module` defines.
    pub fn add(&mut self, module: &Module) {
        let package = module.package();
        let rules = module.ast.get("rules").and_then(Value::as_array);
        for rule in rules.into_iter().flatten() {
            let refr = rule
                .get("Spec")
                .and_then(|s| s.get("head"))
                .and_then(|h| h.as_object())
                .and_then(|h| h.values().next())
                .and_then(|v| v.get("refr"))
                .or_else(|| rule.get("Default").and_then(|d| d.get("refr")));
            if let Some(parts) = refr.and_then(ref_path) {
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
    let package = module.package();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for import in module
        .ast
        .get("imports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(parts) = import.get("refr").and_then(ref_path) else {
            continue;
        };
        if parts.first().map(String::as_str) != Some("data") {
            continue; // rego.v1, future.keywords, input.x
        }
        let alias = import
            .get("as")
            .and_then(|s| span_text(&module.source, s))
            .map(str::to_string)
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
    for rule in module.ast.get("rules").and_then(Value::as_array).into_iter().flatten() {
        checker.walk(rule)?;
    }
    Ok(())
}

struct Checker<'a> {
    module: &'a Module,
    defs: &'a Definitions,
    package: String,
    aliases: BTreeMap<String, Vec<String>>,
}

impl Checker<'_> {
    fn error(&self, node: &Value, message: String) -> ConfigError {
        let line = node
            .get("span")
            .and_then(|s| s.get("line"))
            .and_then(Value::as_u64)
            .unwrap_or(1) as usize;
        ConfigError::new(&self.module.path, line, message)
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

    fn walk(&self, node: &Value) -> Result<(), ConfigError> {
        match node {
            Value::Array(items) => items.iter().try_for_each(|v| self.walk(v)),
            Value::Object(map) => {
                if let Some(call) = map.get("Call") {
                    self.call(call)?;
                    return call.get("params").map_or(Ok(()), |params| self.walk(params));
                }
                for key in ["RefDot", "RefBrack", "Var"] {
                    if let Some(inner) = map.get(key) {
                        self.reference(node)?;
                        return self.walk_indexes(key, inner);
                    }
                }
                for (key, value) in map {
                    // Expression references were handled above; a `refr` met here names
                    // something being defined (a rule head, a default rule) or replaced
                    // (the target of `with`, which need not exist): not a read.
                    if key != "refr" && key != "span" {
                        self.walk(value)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Walks the index expressions inside a reference chain (`a[x].b[f(y)]`).
    fn walk_indexes(&self, key: &str, inner: &Value) -> Result<(), ConfigError> {
        if key == "RefBrack" {
            if let Some(index) = inner.get("index") {
                self.walk(index)?;
            }
        }
        match inner.get("refr").and_then(Value::as_object) {
            Some(m) => {
                for key in ["RefDot", "RefBrack"] {
                    if let Some(next) = m.get(key) {
                        return self.walk_indexes(key, next);
                    }
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn reference(&self, node: &Value) -> Result<(), ConfigError> {
        let Some(parts) = ref_prefix(node) else {
            return Ok(());
        };
        let Some(path) = self.data_path(&parts) else {
            return Ok(());
        };
        if self.defs.readable(&path) {
            return Ok(());
        }
        let span = node.as_object().and_then(|m| m.values().next()).unwrap_or(node);
        Err(self.error(
            span,
            format!(
                "Rego: `{}` refers to `{}`, which no loaded module defines{}",
                parts.join("."),
                path.join("."),
                lib_hint(&path)
            ),
        ))
    }

    fn call(&self, call: &Value) -> Result<(), ConfigError> {
        let Some(parts) = call.get("fcn").and_then(ref_path) else {
            return Ok(()); // not a plain name: regorus rejects it when parsing
        };
        let name = parts.join(".");
        let resolved = match self.data_path(&parts) {
            Some(path) => self.defs.rules.contains(&path.join(".")).then_some(()).ok_or(path),
            None => {
                let local = format!("{}.{name}", self.package);
                if self.defs.rules.contains(&local)
                    || name == "print"
                    || regorus::unstable::BUILTINS.contains_key(name.as_str())
                {
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
fn ref_path(node: &Value) -> Option<Vec<String>> {
    let parts = ref_prefix(node)?;
    let whole = count_links(node);
    (parts.len() == whole).then_some(parts)
}

/// The leading names of a reference chain up to its first computed index (`data.x[i].y`
/// gives `data.x`).
fn ref_prefix(node: &Value) -> Option<Vec<String>> {
    let map = node.as_object()?;
    if let Some(var) = map.get("Var") {
        return Some(vec![var.get("value")?.as_str()?.to_string()]);
    }
    if let Some(dot) = map.get("RefDot") {
        let mut parts = ref_prefix(dot.get("refr")?)?;
        if parts.len() == count_links(dot.get("refr")?) {
            parts.push(dot.get("field")?.get(1)?.as_str()?.to_string());
        }
        return Some(parts);
    }
    if let Some(brack) = map.get("RefBrack") {
        let mut parts = ref_prefix(brack.get("refr")?)?;
        if parts.len() == count_links(brack.get("refr")?) {
            if let Some(s) = brack
                .get("index")
                .and_then(|i| i.get("String"))
                .and_then(|s| s.get("value"))
            {
                parts.push(s.as_str()?.to_string());
            }
        }
        return Some(parts);
    }
    None
}

/// How many names a reference chain has, computed indexes included.
fn count_links(node: &Value) -> usize {
    let Some(map) = node.as_object() else { return 0 };
    if map.contains_key("Var") {
        return 1;
    }
    map.get("RefDot")
        .or_else(|| map.get("RefBrack"))
        .and_then(|r| r.get("refr"))
        .map_or(0, |r| 1 + count_links(r))
}

fn span_text<'s>(source: &'s str, span: &Value) -> Option<&'s str> {
    let start = span.get("start")?.as_u64()? as usize;
    let end = span.get("end")?.as_u64()? as usize;
    source.get(start..end)
}

fn first_line(e: &anyhow::Error) -> String {
    format!("{e:#}").lines().next().unwrap_or("invalid Rego").to_string()
}
