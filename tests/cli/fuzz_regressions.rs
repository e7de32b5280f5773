//! The fuzz targets' regression suite, run by plain `cargo test`: every fuzz entry point
//! (`railyard::fuzzing`) over every seed in `fuzz/seeds/<target>/`, every crash input kept in
//! `fuzz/regressions/<target>/`, deterministic mutations of the seeds, and generated hostile
//! inputs (deep nesting, long lines, NUL bytes, invalid UTF-8). Passing means: no panic, no
//! stack overflow, and the whole file runs in seconds. See `docs/fuzzing.md`.
//!
//! Deeply nested inputs run on the test's own thread (2 MiB stack by default), not on a
//! thread with a bigger stack: that is the point.

use railyard::fuzzing::{self, TARGETS};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted (a missing folder is empty).
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.expect("readable folder").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable file");
            (p, bytes)
        })
        .collect()
}

fn target(name: &str) -> fuzzing::Target {
    TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"))
        .1
}

/// Runs one input, failing with the input's description if it takes unreasonably long. The
/// bound catches a hang or a blow-up (minutes), not a speed target (those are benchmarks):
/// these inputs take about 1 s alone but well over 5 s on a loaded two-core machine.
fn run(name: &str, what: &str, data: &[u8]) {
    let start = Instant::now();
    target(name)(data);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(30), "{name}: {what} took {took:?}");
}

#[test]
fn every_target_has_seeds_and_a_fuzz_binary() {
    for (name, _) in TARGETS {
        assert!(!inputs("seeds", name).is_empty(), "fuzz/seeds/{name}/ is empty");
        let bin = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&bin).unwrap_or_else(|_| panic!("missing {}", bin.display()));
        assert!(
            text.contains(&format!("railyard::fuzzing::{name}(")),
            "{} calls another target",
            bin.display()
        );
    }
}

#[test]
fn seeds_and_regressions() {
    let mut n = 0;
    for (name, _) in TARGETS {
        for kind in ["seeds", "regressions"] {
            for (path, bytes) in inputs(kind, name) {
                run(name, &path.display().to_string(), &bytes);
                n += 1;
            }
        }
    }
    assert!(n > 100, "only {n} inputs");
}

/// Mutations come from the benchmarks' one deterministic generator: the same on every run.
use railyard_fleet::Rng;

#[test]
fn mutated_seeds() {
    const INTERESTING: &[&[u8]] = &[
        b"\0",
        b"\xff",
        b"\xc3",
        b"{",
        b"}",
        b"[",
        b"]",
        b"(",
        b"\"",
        b"${",
        b"%{",
        b"<<EOF\n",
        b"\n",
        b":",
        b"- ",
        b"*a",
        b"&a ",
        b"!!",
        b"---\n",
        b"\t",
        b"\\u0000",
        b"1e999",
        b"-0",
        b"--- file: x/y.tf\n",
    ];
    let mut rng = Rng::new(0x5EED_F00D_CAFE_BABE);
    for (name, _) in TARGETS {
        for (path, seed) in inputs("seeds", name) {
            if seed.is_empty() {
                continue;
            }
            for round in 0..6 {
                let mut data = seed.clone();
                match round {
                    0 => data.truncate(rng.index(data.len())),
                    1 => data.truncate(data.len() / 2),
                    2 => {
                        for _ in 0..4 {
                            let i = rng.index(data.len());
                            data[i] ^= 1 << rng.index(8);
                        }
                    }
                    3 => {
                        let i = rng.index(data.len());
                        let s = INTERESTING[rng.index(INTERESTING.len())];
                        data.splice(i..i, s.iter().copied());
                    }
                    4 => {
                        // Duplicate a slice in place.
                        let a = rng.index(data.len());
                        let b = (a + 1 + rng.index(256)).min(data.len());
                        let chunk = data[a..b].to_vec();
                        data.splice(a..a, chunk);
                    }
                    _ => {
                        let i = rng.index(data.len());
                        data.drain(i..(i + 1 + rng.index(64)).min(data.len()));
                    }
                }
                run(name, &format!("{} mutation {round}", path.display()), &data);
            }
        }
    }
}

const DEEP: usize = 100_000;

fn nest(open: &str, middle: &str, close: &str) -> Vec<u8> {
    let mut s = String::with_capacity(DEEP * (open.len() + close.len()) + middle.len());
    for _ in 0..DEEP {
        s.push_str(open);
    }
    s.push_str(middle);
    for _ in 0..DEEP {
        s.push_str(close);
    }
    s.into_bytes()
}

/// Chains that the parsers take in a loop, not by recursion: long, but not 100,000 long, to
/// keep this test fast in debug builds.
fn chain(link: &str) -> Vec<u8> {
    link.repeat(20_000).into_bytes()
}

fn with(prefix: &str, body: Vec<u8>, suffix: &str) -> Vec<u8> {
    let mut v = prefix.as_bytes().to_vec();
    v.extend(body);
    v.extend(suffix.as_bytes());
    v
}

/// Inputs nested 100,000 levels deep, in every syntax each target reads, closed and unclosed.
fn deep_inputs() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let json_arrays = nest("[", "1", "]");
    let json_objects = nest("{\"a\":", "1", "}");
    let yaml_flow = nest("[", "1", "]");
    let yaml_block = nest("- ", "1", "");
    let yaml_map_flow = nest("{a: ", "1", "}");
    let mut out: Vec<(&str, &str, Vec<u8>)> = Vec::new();
    for t in ["terraform_json", "terraform_plan", "cloudformation", "kubernetes"] {
        out.push((t, "json arrays", with("{\"resource\": ", json_arrays.clone(), "}")));
        out.push((t, "json objects", with("{\"resource\": ", json_objects.clone(), "}")));
        out.push((t, "json unclosed", nest("[", "", "").to_vec()));
    }
    out.push((
        "terraform_plan",
        "plan values",
        with(
            "{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": {\"resources\": [{\"address\": \"a.b\", \"type\": \"a\", \"name\": \"b\", \"values\": ",
            json_objects.clone(),
            "}]}}}",
        ),
    ));
    out.push((
        "terraform_plan",
        "plan child modules",
        with(
            "{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": ",
            nest("{\"child_modules\": [", "{}", "]}"),
            "}}",
        ),
    ));
    for t in ["cloudformation", "kubernetes"] {
        out.push((
            t,
            "yaml flow sequences",
            with("apiVersion: v1\nkind: Pod\nspec: ", yaml_flow.clone(), "\n"),
        ));
        out.push((
            t,
            "yaml flow maps",
            with("apiVersion: v1\nkind: Pod\nspec: ", yaml_map_flow.clone(), "\n"),
        ));
        out.push((
            t,
            "yaml block sequences",
            with("apiVersion: v1\nkind: Pod\nspec:\n  ", yaml_block.clone(), "\n"),
        ));
        out.push((t, "yaml unclosed", with("kind: x\nspec: ", nest("[", "", ""), "")));
        out.push((
            t,
            "yaml aliases",
            b"apiVersion: v1\nkind: Pod\na: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f]\n".to_vec(),
        ));
    }
    out.push((
        "cloudformation",
        "cfn intrinsics",
        with(
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: ",
            nest("{\"Fn::Join\": [\"\", [", "x", "]]}"),
            "\n",
        ),
    ));
    out.push((
        "cloudformation",
        "cfn tags",
        with(
            "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: ",
            nest("!Sub [", "x", "]"),
            "\n",
        ),
    ));
    let hcl: Vec<(&str, Vec<u8>)> = vec![
        (
            "tuples",
            with("resource \"a\" \"b\" {\n  x = ", nest("[", "1", "]"), "\n}\n"),
        ),
        (
            "objects",
            with("resource \"a\" \"b\" {\n  x = ", nest("{a = ", "1", "}"), "\n}\n"),
        ),
        ("parentheses", with("locals {\n  x = ", nest("(", "1", ")"), "\n}\n")),
        ("calls", with("locals {\n  x = ", nest("upper(", "\"a\"", ")"), "\n}\n")),
        ("negations", with("locals {\n  x = ", nest("!", "true", ""), "\n}\n")),
        ("minus", with("locals {\n  x = ", nest("-", "1", ""), "\n}\n")),
        ("sums", with("locals {\n  x = 1", chain("+1"), "\n}\n")),
        (
            "conditionals",
            with("locals {\n  x = ", nest("true ? 1 : ", "2", ""), "\n}\n"),
        ),
        ("templates", with("locals {\n  x = ", nest("\"${", "1", "}\""), "\n}\n")),
        (
            "template ifs",
            with("locals {\n  x = \"", nest("%{ if true }", "a", "%{ endif }"), "\"\n}\n"),
        ),
        (
            "for expressions",
            with("locals {\n  x = ", nest("[for a in ", "[1]", " : a]"), "\n}\n"),
        ),
        (
            "attribute chains",
            with("locals {\n  x = local.a", chain(".b"), "\n}\n"),
        ),
        ("index chains", with("locals {\n  x = local.a", chain("[0]"), "\n}\n")),
        ("splat chains", with("locals {\n  x = local.a", chain("[*]"), "\n}\n")),
        ("blocks", nest("a {\n", "", "}\n")),
        (
            "resource blocks",
            with("resource \"a\" \"b\" {\n", nest("b {\n", "", "}\n"), "}\n"),
        ),
        ("unclosed", nest("a = [{", "", "")),
        ("locals chain", {
            let mut s = String::from("locals {\n  l0 = 1\n");
            for i in 1..500 {
                s.push_str(&format!("  l{i} = local.l{} + 1\n", i - 1));
            }
            s.push_str("}\nresource \"a\" \"b\" {\n  x = local.l499\n}\n");
            s.into_bytes()
        }),
        ("copied locals", {
            let mut s = String::from("locals {\n  big = [");
            s.push_str(&"\"x\", ".repeat(40_000));
            s.push_str("]\n");
            for i in 0..500 {
                s.push_str(&format!("  c{i} = local.big\n"));
            }
            s.push_str("}\nresource \"a\" \"b\" {\n  x = local.c499\n}\n");
            s.into_bytes()
        }),
        ("doubling strings", {
            let mut s = String::from("locals {\n  s0 = \"ab\"\n");
            for i in 1..40 {
                s.push_str(&format!("  s{i} = \"${{local.s{}}}${{local.s{}}}\"\n", i - 1, i - 1));
            }
            s.push_str("}\nresource \"a\" \"b\" {\n  x = local.s39\n}\n");
            s.into_bytes()
        }),
        ("doubling locals", {
            let mut s = String::new();
            for i in 1..40 {
                s.push_str(&format!(
                    "locals {{\n  l{i} = [local.l{}, local.l{}]\n}}\n",
                    i - 1,
                    i - 1
                ));
            }
            s.push_str("locals {\n  l0 = 1\n}\nresource \"a\" \"b\" {\n  x = local.l39\n}\n");
            s.into_bytes()
        }),
    ];
    for (what, data) in hcl {
        out.push(("terraform_hcl", what, data.clone()));
        out.push(("input_builder", what, data));
    }
    for t in ["workloads_toml", "guardrail_toml", "exceptions_toml"] {
        out.push((t, "toml arrays", with("a = ", nest("[", "1", "]"), "\n")));
        out.push((t, "toml inline tables", with("a = ", nest("{a = ", "1", "}"), "\n")));
        out.push((t, "toml dotted keys", with("a", nest(".a", "", ""), " = 1\n")));
        out.push((t, "toml table headers", with("[a", nest(".a", "", ""), "]\n")));
    }
    out
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    for (name, what, data) in deep_inputs() {
        run(name, what, &data);
    }
}

#[test]
fn long_lines_nul_bytes_and_invalid_utf8() {
    let long_line = vec![b'a'; 1 << 20];
    let long_string = with("locals {\n  x = \"", vec![b'a'; 1 << 18], "\"\n}\n");
    let many_lines = b"\n".repeat(1 << 20);
    let nuls = vec![0u8; 1 << 16];
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("long line", long_line),
        ("long string", long_string),
        ("many lines", many_lines),
        ("nul bytes", nuls),
        (
            "invalid utf-8",
            b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc".to_vec(),
        ),
        ("bom", b"\xef\xbb\xbfa = 1\n".to_vec()),
        (
            "separator only",
            b"--- file: \n--- file: ../../x\n--- file: /\n".to_vec(),
        ),
    ];
    let mut rng = Rng::new(42);
    for (name, _) in TARGETS {
        if let Some((_, seed)) = inputs("seeds", name).into_iter().next() {
            let mut with_nuls = seed.clone();
            let mut with_invalid = seed.clone();
            for _ in 0..8 {
                let i = rng.index(with_nuls.len());
                with_nuls.insert(i, 0);
                let j = rng.index(with_invalid.len());
                with_invalid.insert(j, 0xff);
            }
            cases.push(("seed with nul bytes", with_nuls));
            cases.push(("seed with invalid utf-8", with_invalid));
        }
    }
    for (name, _) in TARGETS {
        for (what, data) in &cases {
            run(name, what, data);
        }
    }
}

#[test]
fn file_names_that_are_not_ascii() {
    // Extension checks slice the path near its end: multi-byte characters there must not
    // split a character.
    for path in [
        "€€",
        "ab€€",
        "ab€€.tf",
        "é.tf.json",
        "x/ąę.yaml",
        "日本語.json",
        "a.tf€",
        "€.tfvars",
    ] {
        let data = format!("--- file: {path}\nresource \"a\" \"b\" {{}}\n");
        for name in ["input_builder", "terraform_hcl", "terraform_json"] {
            run(name, path, data.as_bytes());
        }
    }
    let _ = fuzzing::split_files(b"--- file: \xff\xfe\n", "x.tf");
}
