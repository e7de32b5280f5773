//! One model for both Terraform syntaxes: HCL (`.tf`, `.tfvars`) and JSON (`.tf.json`,
//! `.tfvars.json`) files become a list of [`Item`]s with line numbers, plus a plain JSON
//! document of the file for `input.files`.

use super::eval::{json_to_expr, raw};
use crate::workload::parser::LineIndex;
use hcl::edit::structure::{Body, Structure};
use hcl::edit::Span;
use hcl::expr::Expression;

/// Deeper block nesting than this is rejected (hcl-edit already stops at 64).
const MAX_BLOCK_DEPTH: usize = 128;

#[derive(Debug, Clone)]
pub enum Item {
    Attr(String, Expression),
    Block(Blk),
}

#[derive(Debug, Clone)]
pub struct Blk {
    pub ident: String,
    pub labels: Vec<String>,
    pub items: Vec<Item>,
    pub line: usize,
    pub end_line: usize,
}

impl Blk {
    pub fn attr(&self, name: &str) -> Option<&Expression> {
        self.items.iter().find_map(|i| match i {
            Item::Attr(k, v) if k == name => Some(v),
            _ => None,
        })
    }
}

/// A parsed file: its top-level items and its plain JSON document.
pub struct FileModel {
    pub items: Vec<Item>,
    pub document: serde_json::Value,
}

/// Parses HCL text. Errors are (line, message).
pub fn from_hcl(text: &str) -> Result<FileModel, (usize, String)> {
    let body = hcl::edit::parser::parse_body(text).map_err(|e| (e.location().line(), e.message().to_string()))?;
    let items = convert_body(&LineIndex::new(text), body, 0)?;
    let document = document_of(&items, 0);
    Ok(FileModel { items, document })
}

fn convert_body(text: &LineIndex, body: Body, depth: usize) -> Result<Vec<Item>, (usize, String)> {
    let mut items = Vec::new();
    for s in body.into_iter() {
        match s {
            Structure::Attribute(a) => {
                let (line, _) = lines(text, a.span());
                let value = Expression::from(a.value);
                if let Some(name) = miscased_literal(&value, 0) {
                    return Err((
                        line,
                        format!(
                            "`{name}` is not a value: Terraform reads it as a reference and rejects it; write `{}`",
                            name.to_ascii_lowercase()
                        ),
                    ));
                }
                items.push(Item::Attr(a.key.as_str().to_string(), value))
            }
            Structure::Block(b) => {
                let (line, end_line) = lines(text, b.span());
                if depth >= MAX_BLOCK_DEPTH {
                    return Err((line, format!("blocks nested deeper than {MAX_BLOCK_DEPTH}")));
                }
                let ident = b.ident.as_str().to_string();
                let labels = b.labels.iter().map(|l| l.as_str().to_string()).collect();
                let inner = convert_body(text, b.body, depth + 1)?;
                items.push(Item::Block(Blk {
                    ident,
                    labels,
                    items: inner,
                    line,
                    end_line,
                }));
            }
        }
    }
    Ok(items)
}

/// The first bare name in `expr` that is `true`, `false` or `null` spelled with capitals
/// (`False`, `TRUE`, `Null`). Terraform rejects such a name as an invalid reference; reading
/// it as an unresolved value would let `encrypted = False` pass silently. Other bare names
/// (`for` variables, `ignore_changes = [tags]`) are left alone.
fn miscased_literal(expr: &Expression, depth: usize) -> Option<String> {
    use hcl::expr::{ObjectKey, Operation, TraversalOperator};
    if depth > MAX_BLOCK_DEPTH {
        return None;
    }
    let d = depth + 1;
    fn first<'a>(items: impl IntoIterator<Item = &'a Expression>, d: usize) -> Option<String> {
        items.into_iter().find_map(|e| miscased_literal(e, d))
    }
    match expr {
        Expression::Variable(v) => {
            let name = v.as_str();
            let lower = name.to_ascii_lowercase();
            (name != lower && matches!(lower.as_str(), "true" | "false" | "null")).then(|| name.to_string())
        }
        Expression::Array(items) => first(items, d),
        Expression::Object(obj) => obj.iter().find_map(|(k, v)| {
            let key = match k {
                ObjectKey::Expression(e) => miscased_literal(e, d),
                _ => None,
            };
            key.or_else(|| miscased_literal(v, d))
        }),
        Expression::Parenthesis(inner) => miscased_literal(inner, d),
        Expression::Conditional(c) => first([&c.cond_expr, &c.true_expr, &c.false_expr], d),
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => miscased_literal(&u.expr, d),
            Operation::Binary(b) => first([&b.lhs_expr, &b.rhs_expr], d),
        },
        Expression::FuncCall(fc) => first(&fc.args, d),
        // `False.x` is some other invalid reference; only the indices are values here.
        Expression::Traversal(t) => t.operators.iter().find_map(|op| match op {
            TraversalOperator::Index(e) => miscased_literal(e, d),
            _ => None,
        }),
        Expression::ForExpr(f) => first(
            [
                Some(&f.collection_expr),
                f.key_expr.as_ref(),
                Some(&f.value_expr),
                f.cond_expr.as_ref(),
            ]
            .into_iter()
            .flatten(),
            d,
        ),
        _ => None,
    }
}

fn lines(text: &LineIndex, span: Option<std::ops::Range<usize>>) -> (usize, usize) {
    match span {
        Some(r) => {
            let start = text.line(r.start);
            let end = text.line(r.end.saturating_sub(1).max(r.start));
            (start, end.max(start))
        }
        None => (1, 1),
    }
}

/// HCL-to-JSON with blocks as lists: labels become nested object keys and the innermost
/// value is a list of bodies (`resource.aws_s3_bucket.logs = [{…}]`, `locals = [{…}]`).
/// Expressions stay as written (`"${…}"`).
pub fn document_of(items: &[Item], depth: usize) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for item in items {
        match item {
            Item::Attr(k, v) => {
                out.insert(k.clone(), raw(v));
            }
            Item::Block(b) => {
                let body = if depth > MAX_BLOCK_DEPTH {
                    serde_json::Value::Null
                } else {
                    document_of(&b.items, depth + 1)
                };
                insert_block(&mut out, &b.ident, &b.labels, body);
            }
        }
    }
    serde_json::Value::Object(out)
}

fn insert_block(
    map: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    labels: &[String],
    body: serde_json::Value,
) {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| empty_for(!labels.is_empty()));
    match (entry, labels.split_first()) {
        (serde_json::Value::Array(list), None) => list.push(body),
        (serde_json::Value::Object(m), Some((first, rest))) => insert_block(m, first, rest, body),
        _ => {}
    }
}

fn empty_for(labeled: bool) -> serde_json::Value {
    if labeled {
        serde_json::json!({})
    } else {
        serde_json::json!([])
    }
}

/// Parses a `.tf.json` or `.tfvars.json` file. Lines are found by looking for the block's
/// keys in the text; `end_line` is the line of the body's closing brace.
pub fn from_json(text: &str, tfvars: bool) -> Result<FileModel, (usize, String)> {
    let document: serde_json::Value = serde_json::from_str(text).map_err(|e| (e.line().max(1), e.to_string()))?;
    let Some(top) = document.as_object() else {
        return Err((1, "expected a JSON object at the top level".into()));
    };
    let mut items = Vec::new();
    if tfvars {
        for (k, v) in top {
            items.push(Item::Attr(k.clone(), json_to_expr(v)));
        }
        return Ok(FileModel { items, document });
    }
    let mut finder = Finder {
        text,
        lines: LineIndex::new(text),
    };
    for (kind, value) in top {
        let nlabels = match kind.as_str() {
            "resource" | "data" => 2,
            "module" | "provider" | "variable" | "output" => 1,
            "locals" | "terraform" => 0,
            _ => continue,
        };
        let kind_pos = finder.key(0, kind).unwrap_or(0);
        for obj in objects(value) {
            finder.blocks(kind, obj, nlabels, &mut Vec::new(), kind_pos, &mut items);
        }
    }
    Ok(FileModel { items, document })
}

/// A JSON value as a list of objects: an object is one, an array contributes its objects.
fn objects(v: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
    match v {
        serde_json::Value::Object(m) => vec![m],
        serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_object()).collect(),
        _ => vec![],
    }
}

struct Finder<'a> {
    text: &'a str,
    lines: LineIndex,
}

impl Finder<'_> {
    fn blocks(
        &mut self,
        kind: &str,
        obj: &serde_json::Map<String, serde_json::Value>,
        remaining: usize,
        labels: &mut Vec<String>,
        from: usize,
        out: &mut Vec<Item>,
    ) {
        if remaining == 0 {
            let line = self.lines.line(from);
            let end = self.value_end(from).map(|e| self.lines.line(e)).unwrap_or(line);
            // "//" keys are comments in Terraform's JSON syntax.
            let items = obj
                .iter()
                .filter(|(k, _)| k.as_str() != "//")
                .map(|(k, v)| Item::Attr(k.clone(), json_to_expr(v)))
                .collect();
            out.push(Item::Block(Blk {
                ident: kind.to_string(),
                labels: labels.clone(),
                items,
                line,
                end_line: end.max(line),
            }));
            return;
        }
        for (label, value) in obj {
            if label == "//" {
                continue;
            }
            let pos = self.key(from, label).unwrap_or(from);
            labels.push(label.clone());
            for inner in objects(value) {
                self.blocks(kind, inner, remaining - 1, labels, pos, out);
            }
            labels.pop();
        }
    }

    /// Byte offset of `"key"` followed by `:` at or after `from`.
    fn key(&self, from: usize, key: &str) -> Option<usize> {
        let needle = serde_json::to_string(key).ok()?;
        let mut start = from.min(self.text.len());
        while let Some(i) = self.text.get(start..)?.find(&needle) {
            let at = start + i;
            let after = self.text.get(at + needle.len()..)?.trim_start();
            if after.starts_with(':') {
                return Some(at);
            }
            start = at + needle.len();
        }
        None
    }

    /// Byte offset of the bracket closing the value of the key at `key_pos`.
    fn value_end(&self, key_pos: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let colon = key_pos + self.text.get(key_pos..)?.find(':')?;
        let mut i = colon + 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || !(bytes[i] == b'{' || bytes[i] == b'[') {
            return None;
        }
        let mut depth = 0usize;
        let mut in_str = false;
        let mut escaped = false;
        while i < bytes.len() {
            let c = bytes[i];
            if in_str {
                if escaped {
                    escaped = false;
                } else if c == b'\\' {
                    escaped = true;
                } else if c == b'"' {
                    in_str = false;
                }
            } else if c == b'"' {
                in_str = true;
            } else if c == b'{' || c == b'[' {
                depth += 1;
            } else if c == b'}' || c == b']' {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            i += 1;
        }
        None
    }
}
