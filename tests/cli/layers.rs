//! The layers of `src/` (docs/ARCHITECTURE.md): every top-level module depends only on the
//! modules of lower layers or of its own layer, and no two modules depend on each other,
//! directly or around a loop. Read from the source itself, so `cargo test` fails the day
//! someone adds a `use crate::…` that goes the wrong way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. A module may use modules of its own layer (no cycle allowed) and below.
const LAYERS: &[&[&str]] = &[
    &["limits", "date", "seal", "severity", "config", "files"],
    &["isolate"],
    &["workload", "guardrail"],
    &["evaluate"],
    &["results", "parsed", "gitops", "ledger"],
    &["report"],
    &["output", "notify", "progress", "dashboard"],
    &["workflow"],
    &["cli", "fuzzing"],
];

/// Top-level module → the top-level modules its files name through `crate::`.
fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap()
                .to_string();
            if ["main.rs", "lib.rs", "bin"].contains(&first.as_str()) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let top = first.trim_end_matches(".rs").to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            for used in uses(&code_of(&text)) {
                if used != top {
                    edges.entry(top.clone()).or_default().insert(used);
                }
            }
        }
    }
    edges
}

/// The text without comments and without the unit-test module (tests may reach anywhere).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Module names after `crate::`, including each name of a `crate::{a, b::c}` group.
fn uses(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: those at brace depth 0.
            let mut depth = 0;
            let mut start = true;
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        out.insert(ident(&group[k..]));
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
    out
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn modules_depend_downwards_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges(&src);
    assert!(
        edges.contains_key("workflow") && edges.contains_key("evaluate"),
        "src/ not read: {edges:?}"
    );
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        let Some(lf) = layer_of(from) else {
            wrong.push(format!(
                "src/{from}: not in a layer (add it to LAYERS and docs/ARCHITECTURE.md)"
            ));
            continue;
        };
        for to in tos {
            match layer_of(to) {
                Some(lt) if lt <= lf => {}
                Some(_) => wrong.push(format!("{from} (layer {lf}) uses {to}, a layer above it")),
                None => wrong.push(format!("{from} uses crate::{to}, which is in no layer")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "modules that break the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_cycle_between_top_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges(&src);
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = edges.get(from).into_iter().flatten().cloned().collect();
        while let Some(m) = todo.pop() {
            if seen.insert(m.clone()) {
                todo.extend(edges.get(&m).into_iter().flatten().cloned());
            }
        }
        seen
    };
    let mut cycles = BTreeSet::new();
    for m in edges.keys() {
        let around: BTreeSet<String> = reach(m)
            .into_iter()
            .filter(|o| o == m || reach(o).contains(m))
            .collect();
        if around.len() > 1 || around.contains(m) {
            let mut all = around;
            all.insert(m.clone());
            cycles.insert(all.into_iter().collect::<Vec<_>>().join(", "));
        }
    }
    assert!(cycles.is_empty(), "module cycles: {cycles:?}");
}

#[test]
fn the_scanner_sees_grouped_and_nested_uses() {
    let code = code_of("use crate::{a::X, b};\n// crate::commented\nfn f() { crate::c::d(); my_crate::e(); }\n#[cfg(test)]\nmod tests { use crate::z; }");
    assert_eq!(uses(&code), ["a", "b", "c"].iter().map(|s| s.to_string()).collect());
}
