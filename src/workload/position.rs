//! The line of one attribute of a resource (a finding's `field`), found in the source text
//! only when a finding names one: parsing keeps no position per attribute, so it stays as
//! fast as before.
//!
//! A field is a path within the resource's `config` as the policy sees it: keys separated by
//! dots, list positions in brackets, a key with dots in it as `["a.b"]`
//! (`spec.containers[0].securityContext.privileged`, `versioning[0].enabled`,
//! `SecurityGroupIngress[1].CidrIp`). The text is walked by indentation (YAML), braces
//! (HCL) or keys in order (JSON) within the resource's lines; the deepest part of the path
//! found gives the line, so a finding never points outside its resource.

use super::input::{Resource, ResourceKind};

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits `a.b[0]["c.d"]` into its steps; `None` for a malformed path.
fn steps(field: &str) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    let mut rest = field.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = if r.starts_with('"') {
                // A quoted key: up to the closing quote not escaped.
                let mut end = None;
                let mut escaped = false;
                for (i, c) in r.char_indices().skip(1) {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => {
                            end = Some(i);
                            break;
                        }
                        _ => escaped = false,
                    }
                }
                let end = end?;
                let key: String = serde_json::from_str(&r[..=end]).ok()?;
                out.push(Step::Key(key));
                r[end + 1..].find(']')? + end + 1
            } else {
                let close = r.find(']')?;
                match r[..close].trim().parse() {
                    Ok(n) => out.push(Step::Index(n)),
                    Err(_) => out.push(Step::Key(r[..close].trim().trim_matches('\'').to_string())),
                }
                close
            };
            rest = &r[close + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The 1-based line of `field` of resource `r` in `text` (the resource's file), or `None`
/// when no part of it is found (the finding then points at the resource).
pub fn field_line(text: &[u8], r: &Resource, field: &str) -> Option<usize> {
    let text = std::str::from_utf8(text).ok()?;
    let mut path = steps(field)?;
    let lines: Vec<&str> = text.lines().collect();
    let (first, last) = (r.line.checked_sub(1)?, r.end_line.min(lines.len()).checked_sub(1)?);
    if first > last {
        return None;
    }
    let json = r.file.ends_with(".json");
    match r.kind {
        ResourceKind::Terraform if !json => hcl(&lines, first, last, &path),
        ResourceKind::Terraform | ResourceKind::TerraformPlan => None,
        ResourceKind::Cloudformation => {
            path.insert(0, Step::Key("Properties".into()));
            if json {
                in_order(&lines, first, last, &path)
            } else {
                let body = yaml_lines(&lines, first + 1, last);
                yaml(&body, &path)
            }
        }
        ResourceKind::Kubernetes if json => in_order(&lines, first, last, &path),
        ResourceKind::Kubernetes => yaml(&yaml_lines(&lines, first, last), &path),
    }
    .map(|l| l + 1)
}

/// A YAML line that matters: its 0-based number, indentation and content (a list item's
/// dash replaced by spaces, so the item's first key sits at the indentation of the others).
#[derive(Clone, Copy)]
struct YLine<'a> {
    at: usize,
    indent: usize,
    text: &'a str,
    item: bool,
}

fn yaml_lines<'a>(lines: &[&'a str], first: usize, last: usize) -> Vec<YLine<'a>> {
    let mut out = Vec::new();
    for (at, line) in lines.iter().enumerate().take(last + 1).skip(first) {
        let content = line.trim_start();
        // A line that closes a flow collection (`]`, `}`) may sit left of the key it belongs
        // to (kubectl accepts it): it ends no block and starts no key.
        if content.is_empty()
            || content.starts_with('#')
            || content.starts_with("---")
            || content.starts_with([']', '}'])
        {
            continue;
        }
        let indent = line.len() - content.len();
        out.push(YLine {
            at,
            indent,
            text: content,
            item: content == "-" || content.starts_with("- "),
        });
    }
    out
}

/// The key a YAML line starts with (`key:`, `"key":`, `'key':`).
fn yaml_key(text: &str) -> Option<&str> {
    let (key, rest) = match text.chars().next()? {
        q @ ('"' | '\'') => {
            let end = text[1..].find(q)? + 1;
            (&text[1..end], &text[end + 1..])
        }
        _ => {
            let end = text.find(':')?;
            (text[..end].trim_end(), &text[end..])
        }
    };
    let rest = rest.trim_start();
    (rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t']))).then_some(key)
}

/// Walks a YAML block (the lines of one mapping or sequence) down the path; the line of the
/// deepest step found.
fn yaml(block: &[YLine], path: &[Step]) -> Option<usize> {
    let mut block: Vec<YLine> = block.to_vec();
    let mut found = None;
    for step in path {
        let Some(base) = block.iter().map(|l| l.indent).min() else {
            break;
        };
        match step {
            Step::Key(k) => {
                // The key at the block's own level (an item's first key is written after its dash).
                let Some(pos) = block.iter().position(|l| {
                    let text = if l.indent == base && l.item {
                        l.text[1..].trim_start()
                    } else {
                        l.text
                    };
                    let level = if l.indent == base && l.item { base } else { l.indent };
                    level == base && yaml_key(text) == Some(k.as_str())
                }) else {
                    break;
                };
                let key = block[pos];
                found = Some(key.at);
                // Its value: the lines indented deeper, or a sequence at the key's own indentation.
                let own = if key.item { key.indent + 2 } else { key.indent };
                block = block[pos + 1..]
                    .iter()
                    .take_while(|l| l.indent > own || (l.indent == own && l.item && !key.item))
                    .copied()
                    .collect();
            }
            Step::Index(n) => {
                let items: Vec<usize> = (0..block.len())
                    .filter(|i| block[*i].indent == base && block[*i].item)
                    .collect();
                let Some(start) = items.get(*n).copied() else { break };
                found = Some(block[start].at);
                let end = items.get(n + 1).copied().unwrap_or(block.len());
                // The item's content: its first line without the dash, then the rest.
                let mut inner: Vec<YLine> = block[start + 1..end].to_vec();
                let first = block[start];
                let after = first.text[1..].trim_start();
                if !after.is_empty() {
                    let indent = first.indent + (first.text.len() - after.len());
                    inner.insert(
                        0,
                        YLine {
                            at: first.at,
                            indent,
                            text: after,
                            item: after == "-" || after.starts_with("- "),
                        },
                    );
                }
                block = inner;
            }
        }
    }
    found
}

/// Brace depth at the start of each line of an HCL text (strings and comments skipped).
fn hcl_depths(lines: &[&str], first: usize, last: usize) -> Vec<i64> {
    let mut depth = 0i64;
    let mut out = Vec::with_capacity(last + 1 - first);
    for line in &lines[first..=last] {
        out.push(depth);
        let mut chars = line.chars().peekable();
        let mut in_string = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' if in_string => {
                    chars.next();
                }
                '"' => in_string = !in_string,
                '#' if !in_string => break,
                '/' if !in_string && chars.peek() == Some(&'/') => break,
                '{' | '[' | '(' if !in_string => depth += 1,
                '}' | ']' | ')' if !in_string => depth -= 1,
                _ => {}
            }
        }
    }
    out
}

/// Whether an HCL line starts with `key` as an attribute (`key =`, `key:`) or a block
/// (`key {`, `key "label" {`, `dynamic "key" {`).
fn hcl_names(line: &str, key: &str) -> bool {
    let line = line.trim_start();
    let unquoted = |s: &str| s.trim_matches('"').to_string();
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else { return false };
    let first = first.trim_end_matches(['=', ':', '{']);
    if unquoted(first) == key {
        let rest = line[line.find(first).unwrap_or(0) + first.len()..].trim_start();
        let rest = rest.trim_start_matches('"').trim_start();
        return rest.is_empty() || rest.starts_with(['=', ':', '{', '"']) || line.trim_end().ends_with('{');
    }
    first == "dynamic" && words.next().map(unquoted).as_deref() == Some(key)
}

/// Walks an HCL block down the path by brace depth; a repeated block's index picks its
/// occurrence.
fn hcl(lines: &[&str], first: usize, last: usize, path: &[Step]) -> Option<usize> {
    let depths = hcl_depths(lines, first, last);
    // The resource's body: after its header line, at depth 1.
    let (mut lo, mut hi, mut level) = (first + 1, last, 1i64);
    let mut found = None;
    let mut i = 0;
    while i < path.len() {
        let Step::Key(k) = &path[i] else {
            i += 1;
            continue; // an index into an attribute's list: stay on the attribute
        };
        let nth = match path.get(i + 1) {
            Some(Step::Index(n)) => *n,
            _ => 0,
        };
        let hits: Vec<usize> = (lo..=hi.min(last))
            .filter(|l| depths[l - first] == level && hcl_names(lines[*l], k))
            .collect();
        let Some(at) = hits.get(nth).or(hits.first()).copied() else {
            break;
        };
        found = Some(at);
        // Its body: the following lines while deeper than the key's level.
        let end = (at + 1..=last)
            .take_while(|l| depths[l - first] > level)
            .last()
            .unwrap_or(at);
        // A block written with its content on the header line has no deeper lines.
        if end == at {
            break;
        }
        lo = at + 1;
        hi = end;
        level += 1;
        // `dynamic "x" { content { … } }`: the attributes are one level further in.
        if lines[at].trim_start().starts_with("dynamic") {
            if let Some(c) = (lo..=hi).find(|l| depths[l - first] == level && hcl_names(lines[*l], "content")) {
                lo = c + 1;
                level += 1;
            }
        }
        i += if matches!(path.get(i + 1), Some(Step::Index(_))) {
            2
        } else {
            1
        };
    }
    found
}

/// JSON: each key of the path found after the previous one, within the resource's lines.
fn in_order(lines: &[&str], first: usize, last: usize, path: &[Step]) -> Option<usize> {
    let mut at = first;
    let mut found = None;
    for step in path {
        let Step::Key(k) = step else { continue };
        let quoted = serde_json::Value::String(k.clone()).to_string();
        let hit = (at..=last).find(|l| {
            lines[*l]
                .match_indices(&quoted)
                .any(|(i, _)| lines[*l][i + quoted.len()..].trim_start().starts_with(':'))
        });
        match hit {
            Some(l) => {
                found = Some(l);
                at = l;
            }
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::SourceFile;

    fn line_of(path: &str, text: &str, address: &str, field: &str) -> Option<usize> {
        let p = crate::workload::parse_files(&[SourceFile::new(path, text)]);
        let r = p.resources.iter().find(|r| r.address == address).expect("resource");
        field_line(text.as_bytes(), r, field)
    }

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            steps(r#"a.b[2]["c.d"].e"#),
            Some(vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(2),
                Step::Key("c.d".into()),
                Step::Key("e".into())
            ])
        );
        assert_eq!(steps(""), None);
        assert_eq!(steps("a[\"x"), None);
    }

    #[test]
    fn kubernetes_fields_by_indentation() {
        let k8s = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: a:1\n  - name: b\n    securityContext:\n      runAsUser: 0\n      privileged: true\n";
        assert_eq!(
            line_of(
                "p.yaml",
                k8s,
                "Pod.default.p",
                "spec.containers[1].securityContext.privileged"
            ),
            Some(12)
        );
        assert_eq!(
            line_of("p.yaml", k8s, "Pod.default.p", "spec.containers[1].name"),
            Some(9)
        );
        assert_eq!(
            line_of("p.yaml", k8s, "Pod.default.p", "spec.containers[0].image"),
            Some(8)
        );
        // The deepest part found: the second container has no `resources`.
        assert_eq!(
            line_of("p.yaml", k8s, "Pod.default.p", "spec.containers[1].resources.limits"),
            Some(9)
        );
        assert_eq!(line_of("p.yaml", k8s, "Pod.default.p", "nothing"), None);
    }

    #[test]
    fn terraform_fields_by_braces() {
        let tf = "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"x\"\n  versioning {\n    enabled = false\n  }\n  versioning {\n    enabled = true # {\n  }\n  tags = {\n    owner = \"me\"\n  }\n}\n";
        assert_eq!(line_of("main.tf", tf, "aws_s3_bucket.a", "bucket"), Some(2));
        assert_eq!(
            line_of("main.tf", tf, "aws_s3_bucket.a", "versioning[0].enabled"),
            Some(4)
        );
        assert_eq!(
            line_of("main.tf", tf, "aws_s3_bucket.a", "versioning[1].enabled"),
            Some(7)
        );
        assert_eq!(line_of("main.tf", tf, "aws_s3_bucket.a", "tags.owner"), Some(10));
    }

    #[test]
    fn cloudformation_fields_under_properties() {
        let cfn = "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: mysql\n      StorageEncrypted: false\n";
        assert_eq!(
            line_of("t.yaml", cfn, "AWS::RDS::DBInstance.Db", "StorageEncrypted"),
            Some(6)
        );
        let json = "{\n  \"Resources\": {\n    \"Db\": {\n      \"Type\": \"AWS::RDS::DBInstance\",\n      \"Properties\": {\n        \"StorageEncrypted\": false\n      }\n    }\n  }\n}\n";
        assert_eq!(
            line_of("t.json", json, "AWS::RDS::DBInstance.Db", "StorageEncrypted"),
            Some(6)
        );
    }
}
