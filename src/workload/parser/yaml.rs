//! A small YAML/JSON document model shared by the CloudFormation and Kubernetes parsers.
//!
//! YAML is read from `saphyr-parser`'s event stream rather than through a ready-made loader so
//! that we keep what policies and reports need and nothing that can hurt us:
//!
//! * every node knows its first and last line (1-based, inclusive);
//! * tags are kept (`!Ref`, `!GetAtt`, ...), so CloudFormation short forms can become long forms;
//! * nesting deeper than [`MAX_DEPTH`] and alias expansion beyond [`MAX_ALIAS_NODES`] nodes are
//!   errors, not a stack overflow or a "billion laughs" memory blow-up.
//!
//! JSON documents are validated by `serde_json` (which reports the line of a syntax error and
//! refuses nesting deeper than 128) and then walked once more to record lines.

use saphyr_parser::{Event, Parser as EventParser, ScalarStyle, Span};
use serde_json::{Map as JsonMap, Number, Value as Json};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// Deepest nesting of collections accepted in one document.
pub(crate) const MAX_DEPTH: usize = 128;
/// Most nodes that alias (`*name`) expansion may add to one file.
pub(crate) const MAX_ALIAS_NODES: usize = 100_000;

/// A YAML tag as far as we care.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tag {
    None,
    /// A local tag such as `!Ref` (the suffix, `Ref`).
    Local(String),
    /// A core-schema tag such as `!!str` (the suffix, `str`).
    Core(String),
    /// Any other tag.
    Other,
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A scalar as written; `plain` is false for quoted and block scalars (always strings).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// One node of a document with its lines.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub line: usize,
    pub end_line: usize,
    pub tag: Tag,
    pub value: Value,
}

/// A syntax error or an exceeded limit, with its line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Error {
    pub line: usize,
    pub message: String,
    /// Stopped by a guard against hostile input (nesting depth, alias expansion, an alias to
    /// itself), not by a plain syntax error: a file could use one to hide a manifest.
    pub guard: bool,
}

impl Error {
    fn new(line: usize, message: impl Into<String>) -> Self {
        Error {
            line: line.max(1),
            message: message.into(),
            guard: false,
        }
    }

    fn guard(line: usize, message: impl Into<String>) -> Self {
        Error {
            guard: true,
            ..Error::new(line, message)
        }
    }

    /// A parser's own error (saphyr's, serde_json's): their recursion limits are known only by
    /// their words, read here at the edge and nowhere else.
    fn external(line: usize, message: String) -> Self {
        let guard = ["nesting", "alias", "recursion"].iter().any(|w| message.contains(w));
        Error {
            guard,
            ..Error::new(line, message)
        }
    }
}

impl Node {
    /// The value of `key` in a mapping (the last one if the key repeats).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn items(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this is the null scalar of an empty document (or an explicit `~`/`null`).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if self.tag == Tag::None && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// (number of nodes, height) of this subtree.
    fn measure(&self) -> (usize, usize) {
        match &self.value {
            Value::Scalar { .. } => (1, 0),
            Value::Seq(items) => items.iter().fold((1, 1), |(n, h), c| {
                let (cn, ch) = c.measure();
                (n + cn, h.max(ch + 1))
            }),
            Value::Map(entries) => entries.iter().fold((1, 1), |(n, h), (k, v)| {
                let (kn, kh) = k.measure();
                let (vn, vh) = v.measure();
                (n + kn + vn, h.max(kh.max(vh) + 1))
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// YAML

enum Frame {
    Seq {
        items: Vec<Node>,
        line: usize,
        tag: Tag,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        line: usize,
        tag: Tag,
        anchor: usize,
    },
}

fn convert_tag(tag: Option<Cow<'_, saphyr_parser::Tag>>) -> Tag {
    match tag {
        None => Tag::None,
        Some(t) if t.handle == "!" => Tag::Local(t.suffix.clone()),
        Some(t) if t.handle == "tag:yaml.org,2002:" => Tag::Core(t.suffix.clone()),
        Some(_) => Tag::Other,
    }
}

struct Builder<'t> {
    lines: Vec<&'t str>,
    stack: Vec<Frame>,
    root: Option<Node>,
    docs: Vec<Node>,
    anchors: HashMap<usize, (Node, usize, usize)>,
    alias_nodes: usize,
    /// For each open collection, whether it is a flow one (`[`, `{`).
    flow: Vec<bool>,
    duplicates: DuplicateKeys,
}

impl Builder<'_> {
    /// Whether the collection that starts at `span` is a flow one: its first character is a
    /// bracket.
    fn is_flow(&self, span: &Span) -> bool {
        self.lines
            .get(span.start.line().wrapping_sub(1))
            .and_then(|l| l.chars().nth(span.start.col()))
            .is_some_and(|c| c == '[' || c == '{')
    }

    /// Last line of a scalar: its end marker, or the last non-blank line before it when the
    /// marker sits at the start of a line (block scalars end on the next line).
    fn scalar_end(&self, span: &Span) -> usize {
        let (start, end) = (span.start.line(), span.end.line());
        let before_end_is_blank = || {
            self.lines
                .get(end - 1)
                .is_none_or(|l| l.chars().take(span.end.col()).all(char::is_whitespace))
        };
        if end > start && before_end_is_blank() {
            let mut line = end - 1;
            while line > start && self.lines.get(line - 1).is_none_or(|l| l.trim().is_empty()) {
                line -= 1;
            }
            line
        } else {
            end.max(start)
        }
    }

    fn add(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            let (size, height) = node.measure();
            self.anchors.insert(anchor, (node.clone(), size, height));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }

    fn event(&mut self, ev: Event<'_>, span: Span) -> Result<(), Error> {
        let line = span.start.line();
        match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => self.root = None,
            Event::DocumentEnd => {
                if let Some(root) = self.root.take() {
                    self.docs.push(root);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    line,
                    end_line: self.scalar_end(&span),
                    tag: convert_tag(tag),
                    value: Value::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                };
                self.add(node, anchor);
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(Error::guard(line, format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                let tag = convert_tag(tag.clone());
                let frame = if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        line,
                        tag,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        line,
                        tag,
                        anchor,
                    }
                };
                self.stack.push(frame);
                let flow = self.is_flow(&span);
                self.flow.push(flow);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.flow.pop();
                let Some(frame) = self.stack.pop() else {
                    return Err(Error::new(line, "unbalanced collection end"));
                };
                // A flow collection ends at its bracket; a block one at its last child.
                let flow_end = if span.end.index() > span.start.index() { line } else { 0 };
                let (node, anchor) = match frame {
                    Frame::Seq {
                        items,
                        line,
                        tag,
                        anchor,
                    } => {
                        let end = items.iter().map(|n| n.end_line).fold(line.max(flow_end), usize::max);
                        (
                            Node {
                                line,
                                end_line: end,
                                tag,
                                value: Value::Seq(items),
                            },
                            anchor,
                        )
                    }
                    Frame::Map {
                        mut entries,
                        key,
                        line,
                        tag,
                        anchor,
                    } => {
                        if self.duplicates == DuplicateKeys::Refused {
                            unique_keys(&entries)?;
                        }
                        if let Some(k) = key {
                            // A key without a value (cannot normally happen): value null.
                            let null = Node {
                                line: k.end_line,
                                end_line: k.end_line,
                                tag: Tag::None,
                                value: Value::Scalar {
                                    text: String::new(),
                                    plain: true,
                                },
                            };
                            entries.push((k, null));
                        }
                        let end = entries
                            .iter()
                            .map(|(k, v)| k.end_line.max(v.end_line))
                            .fold(line.max(flow_end), usize::max);
                        (
                            Node {
                                line,
                                end_line: end,
                                tag,
                                value: Value::Map(entries),
                            },
                            anchor,
                        )
                    }
                };
                self.add(node, anchor);
            }
            Event::Alias(id) => {
                let Some((node, size, height)) = self.anchors.get(&id) else {
                    return Err(Error::guard(line, "alias to an unknown or unfinished anchor"));
                };
                if self.stack.len() + height > MAX_DEPTH {
                    return Err(Error::guard(
                        line,
                        format!("alias expands to nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(Error::guard(
                        line,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    ));
                }
                let mut node = node.clone();
                node.line = line;
                node.end_line = span.end.line().max(line);
                self.add(node, 0);
            }
        }
        Ok(())
    }
}

/// What a mapping that gives a key twice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DuplicateKeys {
    /// An error naming both lines: kubectl (sigs.k8s.io/yaml), kustomize, Argo CD and Flux
    /// refuse such a manifest, so what it would deploy is not known (a guardrail judging
    /// `privileged: false` given last would pass a file that no tool reads that way).
    Refused,
    /// The last value counts, as in every tool that accepts them: CloudFormation templates go
    /// through the SAM CLI's PyYAML (AWS's own samples give keys twice).
    LastWins,
}

/// A key given twice in one mapping, as an error naming both lines. Merge keys (`<<`) are
/// exempt.
fn unique_keys(entries: &[(Node, Node)]) -> Result<(), Error> {
    fn key(k: &Node) -> Option<&str> {
        match &k.value {
            Value::Scalar { text, plain } if !(*plain && text == "<<" && k.tag == Tag::None) => Some(text),
            _ => None,
        }
    }
    if entries.len() < 2 {
        return Ok(());
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    for (k, _) in entries {
        let Some(text) = key(k) else { continue };
        if let Some(first) = seen.insert(text, k.line) {
            return Err(Error::new(
                k.line,
                format!(
                    "`{text}` is given twice in one mapping (lines {first} and {}): kubectl refuses it, and which value counts would be a guess",
                    k.line
                ),
            ));
        }
    }
    Ok(())
}

/// Most lines [`parse_yaml`] re-indents in one file before it gives up.
const MAX_BRACKET_FIXES: usize = 1000;

/// Where the scanner stopped: its (1-based) line and (0-based char) column, and whether a flow
/// collection was open there.
#[derive(Debug, Clone, Copy)]
struct Stop {
    line: usize,
    col: usize,
    in_flow: bool,
}

/// Parses a YAML stream into its documents (empty documents are dropped).
///
/// saphyr-parser 0.0.12 holds flow content to the YAML 1.2 indentation rule, which kubectl
/// (go-yaml), PyYAML and CloudFormation do not: indentation has no meaning inside a flow
/// collection or a quoted scalar (YAML 1.2 §8.1.1; saphyr issue 73), and real templates close
/// `args: [\n    "--x"\n  ]` left of the items, or continue `Policy: !Sub '{\n  ...\n  }'` at
/// the key's own column. When the parser stops with "invalid indentation" at a token that opens
/// its line inside a flow collection, or "invalid indentation in quoted scalar", the lines at
/// fault are re-indented (spaces only, so every line number stays the same; a quoted scalar
/// drops the leading spaces of its continuation lines, so its value is unchanged) and the
/// text parsed again. Only a position the parser reached as a token, or the inside of a quoted
/// scalar it started, is touched: never a block scalar, never block structure.
pub(crate) fn parse_yaml(text: &str, duplicates: DuplicateKeys) -> Result<Vec<Node>, Error> {
    let mut patched: Option<String> = None;
    let mut fixes = 0;
    // Each retry parses the whole text again: bound the work as well as the count.
    let budget = 64 * text.len().max(1 << 16);
    loop {
        let current = patched.as_deref().unwrap_or(text);
        match parse_events(current, duplicates) {
            Ok(docs) => return Ok(docs),
            Err((error, Some(stop))) if fixes < MAX_BRACKET_FIXES && (fixes + 1) * current.len() <= budget => {
                let fixed = match error.message.as_str() {
                    "invalid indentation" | "invalid indentation in flow construct" => {
                        reindent_flow_line(current, stop)
                    }
                    "invalid indentation in quoted scalar" => reindent_quoted_scalar(current, stop),
                    _ => None,
                };
                match fixed {
                    Some(fixed) => {
                        patched = Some(fixed);
                        fixes += 1;
                    }
                    None => return Err(error),
                }
            }
            Err((error, _)) => return Err(error),
        }
    }
}

/// The indentation (leading spaces) of a line.
fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `lines` joined again, with line `i` (0-based) indented by `widths[i]` spaces where given.
fn with_indents(lines: &[&str], widths: &BTreeMap<usize, usize>) -> String {
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum::<usize>() + 64 * widths.len());
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match widths.get(&i) {
            Some(&width) => {
                out.push_str(&" ".repeat(width));
                out.push_str(l.trim_start_matches(' '));
            }
            None => out.push_str(l),
        }
    }
    out
}

/// The text with the line the parser stopped on moved right to the indentation of the
/// previous non-blank line (at least one column past where it stopped), or `None` unless the
/// token it stopped at opens that line and is flow content: a closing bracket, or anything
/// while a flow collection is open.
fn reindent_flow_line(text: &str, stop: Stop) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let target = *lines.get(stop.line.checked_sub(1)?)?;
    let (lead, rest) = target.split_at(target.char_indices().nth(stop.col)?.0);
    if !lead.chars().all(|c| c == ' ') || rest.is_empty() {
        return None;
    }
    if !(stop.in_flow || rest.starts_with(']') || rest.starts_with('}')) {
        return None;
    }
    let previous = lines[..stop.line - 1]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| indent_of(l));
    let width = previous.max(stop.col + 1);
    Some(with_indents(&lines, &BTreeMap::from([(stop.line - 1, width)])))
}

/// The line (0-based) of the first unescaped closing quote of the scalar opened by `opening`
/// at `col` of line `first`; `None` when a document marker or the end of the text comes first.
fn closing_quote_line(lines: &[&str], first: usize, col: usize, opening: char) -> Option<usize> {
    for (i, line) in lines.iter().enumerate().skip(first) {
        if i > first && (line.starts_with("---") || line.starts_with("...")) {
            return None;
        }
        let mut chars = line.chars().skip(if i == first { col + 1 } else { 0 }).peekable();
        while let Some(c) = chars.next() {
            match c {
                // '' is a quote inside a single-quoted scalar.
                '\'' if opening == '\'' && chars.next_if_eq(&'\'').is_none() => return Some(i),
                '\\' if opening == '"' => {
                    chars.next();
                }
                '"' if opening == '"' => return Some(i),
                _ => {}
            }
        }
    }
    None
}

/// The text with every continuation line of the quoted scalar that starts where the parser
/// stopped indented at least as far as its opening quote, or `None` when no quoted scalar
/// starts there or it does not end.
fn reindent_quoted_scalar(text: &str, stop: Stop) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let first = stop.line.checked_sub(1)?;
    let opening = lines.get(first)?.chars().nth(stop.col)?;
    if opening != '\'' && opening != '"' {
        return None;
    }
    let end = closing_quote_line(&lines, first, stop.col, opening)?;
    let widths: BTreeMap<usize, usize> = (first + 1..=end)
        .filter(|&i| !lines[i].trim().is_empty() && indent_of(lines[i]) < stop.col)
        .map(|i| (i, stop.col))
        .collect();
    if widths.is_empty() {
        return None;
    }
    Some(with_indents(&lines, &widths))
}

/// One parse of the event stream; a scanner error also gives its (line, column).
#[allow(clippy::type_complexity)]
fn parse_events(text: &str, duplicates: DuplicateKeys) -> Result<Vec<Node>, (Error, Option<Stop>)> {
    let mut b = Builder {
        lines: text.split('\n').collect(),
        stack: Vec::new(),
        root: None,
        docs: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        flow: Vec::new(),
        duplicates,
    };
    for ev in EventParser::new_from_str(text) {
        match ev {
            Ok((ev, span)) => b.event(ev, span).map_err(|e| (e, None))?,
            Err(e) => {
                let stop = Stop {
                    line: e.marker().line(),
                    col: e.marker().col(),
                    in_flow: b.flow.contains(&true),
                };
                return Err((Error::external(stop.line, e.info().to_string()), Some(stop)));
            }
        }
    }
    Ok(b.docs.into_iter().filter(|d| !d.is_null()).collect())
}

// ---------------------------------------------------------------------------------------------
// JSON

/// Parses a JSON document: `serde_json` checks it (error line, depth limit), then a light walk
/// over the already valid text records lines.
pub(crate) fn parse_json(text: &str, duplicates: DuplicateKeys) -> Result<Node, Error> {
    if let Err(e) = serde_json::from_str::<Json>(text) {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        return Err(Error::external(e.line(), msg));
    }
    let mut w = JsonWalker {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        duplicates,
        duplicate: None,
    };
    let node = w.value(0);
    if let Some(e) = w.duplicate {
        return Err(e);
    }
    node.ok_or_else(|| Error::new(w.line, "malformed JSON"))
}

struct JsonWalker<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    duplicates: DuplicateKeys,
    /// A key given twice in one object, when refused; the walk stops there.
    duplicate: Option<Error>,
}

impl JsonWalker<'_> {
    fn ws(&mut self) {
        while let Some(&c) = self.bytes.get(self.pos) {
            match c {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH + 1 {
            return None;
        }
        self.ws();
        let line = self.line;
        let scalar = |text: String, plain: bool| Value::Scalar { text, plain };
        let value = match self.peek()? {
            b'{' => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.ws();
                    match self.peek()? {
                        b'}' => break,
                        b',' => self.pos += 1,
                        b'"' => {
                            let kline = self.line;
                            let k = self.string()?;
                            let key = Node {
                                line: kline,
                                end_line: kline,
                                tag: Tag::None,
                                value: scalar(k, false),
                            };
                            self.ws();
                            if self.peek()? != b':' {
                                return None;
                            }
                            self.pos += 1;
                            let v = self.value(depth + 1)?;
                            entries.push((key, v));
                        }
                        _ => return None,
                    }
                }
                self.pos += 1;
                if self.duplicates == DuplicateKeys::Refused {
                    if let Err(e) = unique_keys(&entries) {
                        self.duplicate = Some(e);
                        return None;
                    }
                }
                Value::Map(entries)
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    match self.peek()? {
                        b']' => break,
                        b',' => self.pos += 1,
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
                self.pos += 1;
                Value::Seq(items)
            }
            b'"' => scalar(self.string()?, false),
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'))
                {
                    self.pos += 1;
                }
                scalar(self.text.get(start..self.pos)?.to_string(), true)
            }
        };
        Some(Node {
            line,
            end_line: self.line,
            tag: Tag::None,
            value,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// To plain JSON

/// How local tags (`!Ref`) are turned into JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tags {
    /// CloudFormation short forms become their long forms.
    CloudFormation,
    /// Tags are dropped; the tagged value stays.
    Ignore,
}

/// The node as plain JSON.
pub(crate) fn to_json(node: &Node, tags: Tags) -> Json {
    let value = match &node.value {
        Value::Scalar { text, plain } => scalar(text, *plain, &node.tag, tags),
        Value::Seq(items) => Json::Array(items.iter().map(|n| to_json(n, tags)).collect()),
        Value::Map(entries) => mapping(entries, tags),
    };
    match (&node.tag, tags) {
        (Tag::Local(name), Tags::CloudFormation) => intrinsic(name, value),
        _ => value,
    }
}

fn key_string(key: &Node, tags: Tags) -> String {
    match &key.value {
        Value::Scalar { text, .. } => text.clone(),
        _ => to_json(key, tags).to_string(),
    }
}

fn mapping(entries: &[(Node, Node)], tags: Tags) -> Json {
    let is_merge =
        |k: &Node| k.tag == Tag::None && matches!(&k.value, Value::Scalar { text, plain: true } if text == "<<");
    let mut obj = JsonMap::new();
    for (k, v) in entries.iter().filter(|(k, _)| !is_merge(k)) {
        obj.insert(key_string(k, tags), to_json(v, tags));
    }
    // YAML merge keys (`<<: *defaults`): explicit keys win, earlier merged maps win.
    for (_, v) in entries.iter().filter(|(k, _)| is_merge(k)) {
        let sources: Vec<&Node> = match &v.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![v],
        };
        for source in sources {
            if let Json::Object(m) = to_json(source, tags) {
                for (mk, mv) in m {
                    obj.entry(mk).or_insert(mv);
                }
            }
        }
    }
    Json::Object(obj)
}

fn intrinsic(name: &str, value: Json) -> Json {
    let (key, value) = match name {
        "Ref" => ("Ref".to_string(), value),
        "Condition" => ("Condition".to_string(), value),
        "GetAtt" => {
            let v = match value {
                Json::String(s) => match s.split_once('.') {
                    Some((a, b)) => Json::Array(vec![Json::String(a.into()), Json::String(b.into())]),
                    None => Json::Array(vec![Json::String(s)]),
                },
                other => other,
            };
            ("Fn::GetAtt".to_string(), v)
        }
        other => (format!("Fn::{other}"), value),
    };
    let mut m = JsonMap::new();
    m.insert(key, value);
    Json::Object(m)
}

fn scalar(text: &str, plain: bool, tag: &Tag, tags: Tags) -> Json {
    match tag {
        Tag::Core(t) => match t.as_str() {
            "null" => Json::Null,
            "bool" => resolve_plain(text)
                .filter(Json::is_boolean)
                .unwrap_or_else(|| Json::String(text.into())),
            "int" | "float" => resolve_plain(text)
                .filter(Json::is_number)
                .unwrap_or_else(|| Json::String(text.into())),
            _ => Json::String(text.into()),
        },
        // `!GetAZs ''` and `!GetAZs` alike: a tagged empty scalar is the empty string.
        Tag::Local(_) if text.is_empty() => Json::String(String::new()),
        _ if plain => resolve_yaml11(text, tags)
            .or_else(|| resolve_plain(text))
            .unwrap_or_else(|| Json::String(text.into())),
        _ => Json::String(text.into()),
    }
}

/// Plain scalars the deploying tools read as YAML 1.1, where the 1.2 core schema reads a
/// string or another number: kubectl (sigs.k8s.io/yaml, go-yaml v2) reads `yes`/`no`/`on`/`off`
/// and `y`/`n` as booleans, CloudFormation (YAML 1.1, SnakeYAML) all but `y`/`n`, and both read
/// `0644` as octal. A manifest writing `privileged: yes` runs privileged; `defaultMode: 0644` is
/// 420. Keys are left as written.
fn resolve_yaml11(text: &str, tags: Tags) -> Option<Json> {
    let kubectl = tags == Tags::Ignore;
    match text {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Some(Json::Bool(true)),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Some(Json::Bool(false)),
        "y" | "Y" if kubectl => return Some(Json::Bool(true)),
        "n" | "N" if kubectl => return Some(Json::Bool(false)),
        _ => {}
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => (-1, d),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let octal = digits
        .strip_prefix('0')
        .filter(|d| !d.is_empty() && d.bytes().all(|c| (b'0'..=b'7').contains(&c)))?;
    let n = i64::from_str_radix(octal, 8).ok()?;
    Some(Json::Number((sign * n).into()))
}

/// YAML 1.2 core schema resolution of a plain scalar; `None` means "a string".
fn resolve_plain(text: &str) -> Option<Json> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Json::Null),
        "true" | "True" | "TRUE" => return Some(Json::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Json::Bool(false)),
        _ => {}
    }
    let first = *text.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(oct) = text.strip_prefix("0o") {
        return u64::from_str_radix(oct, 8).ok().map(|n| Json::Number(n.into()));
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(|n| Json::Number(n.into()));
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(n) = text.parse::<i64>() {
            return Some(Json::Number(n.into()));
        }
        if let Ok(n) = unsigned.parse::<u64>() {
            if !text.starts_with('-') {
                return Some(Json::Number(n.into()));
            }
        }
        return text.parse::<f64>().ok().and_then(Number::from_f64).map(Json::Number);
    }
    if is_float(unsigned) {
        return text.parse::<f64>().ok().and_then(Number::from_f64).map(Json::Number);
    }
    None
}

/// `( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// Whether `needle` occurs in `hay` (for the parsers' cheap looks at a file's bytes).
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The text without a leading byte-order mark (editors on Windows write one; JSON parsers
/// refuse it).
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Runs a parse step, turning a panic in a dependency into an error instead of a crash.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Error::new(1, "internal error while parsing this file")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Json {
        let docs = parse_yaml(text, DuplicateKeys::Refused).unwrap();
        to_json(&docs[0], Tags::CloudFormation)
    }

    #[test]
    fn yaml_1_1_booleans_and_octals_as_the_deploying_tools_read_them() {
        let text = "a: yes\nb: Off\nc: y\nd: 'yes'\ne: 0644\nf: 0\ng: 089\nh: -010\nyes: 1\n";
        let doc = &parse_yaml(text, DuplicateKeys::Refused).unwrap()[0];
        assert_eq!(
            to_json(doc, Tags::Ignore),
            json!({"a": true, "b": false, "c": true, "d": "yes", "e": 420, "f": 0, "g": 89, "h": -8, "yes": 1})
        );
        // CloudFormation's YAML 1.1 has no `y`/`n` booleans.
        assert_eq!(to_json(doc, Tags::CloudFormation)["c"], json!("y"));
        assert_eq!(to_json(doc, Tags::CloudFormation)["a"], json!(true));
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let v = one("a: true\nb: 'true'\nc: 12\nd: 1.5\ne: ~\nf: 0o17\ng: 0x1f\nh: 1e3\ni: hello\nj: !!str 12\nk: '12'\nl: -3\nm: .inf\nn: 1.2.3\n");
        assert_eq!(
            v,
            json!({"a": true, "b": "true", "c": 12, "d": 1.5, "e": null, "f": 15, "g": 31, "h": 1000.0,
                   "i": "hello", "j": "12", "k": "12", "l": -3, "m": ".inf", "n": "1.2.3"})
        );
    }

    #[test]
    fn lines_of_nodes() {
        let text = "# c\na: 1\nb:\n  c: |\n    x\n    y\n\n  d: [1,\n    2]\ne: 3\n";
        let doc = &parse_yaml(text, DuplicateKeys::Refused).unwrap()[0];
        assert_eq!((doc.line, doc.end_line), (2, 10));
        let b = doc.get("b").unwrap();
        assert_eq!((b.line, b.end_line), (4, 9));
        let c = b.get("c").unwrap();
        assert_eq!(c.end_line, 6);
    }

    #[test]
    fn merge_keys() {
        let v = one("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n");
        assert_eq!(v["m"], json!({"y": 3, "x": 1}));
    }

    #[test]
    fn alias_bomb_is_an_error() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_yaml(&text, DuplicateKeys::Refused).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let text = "[".repeat(100_000);
        // saphyr-parser has its own limit; either way it is an error on line 1.
        let err = parse_yaml(&text, DuplicateKeys::Refused).unwrap_err();
        assert_eq!(err.line, 1, "{err:?}");
        let text = "a: ".to_string() + &"{b: ".repeat(200);
        let err = parse_yaml(&text, DuplicateKeys::Refused).unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("recursion"),
            "{err:?}"
        );
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        let err = parse_json(&text, DuplicateKeys::Refused).unwrap_err();
        assert!(err.message.contains("recursion"), "{err:?}");
        let text = "a:\n".to_string() + &(1..200).map(|i| format!("{}b:\n", "  ".repeat(i))).collect::<String>();
        assert!(parse_yaml(&text, DuplicateKeys::Refused).is_err());
    }

    #[test]
    fn self_referencing_alias_is_an_error() {
        assert!(parse_yaml("a: &x\n  b: *x\n", DuplicateKeys::Refused).is_err());
    }

    #[test]
    fn json_lines_and_values() {
        let text = "{\n\t\"a\": {\n\t\t\"b\": [1, 2.5, true, null, \"s\\\"q\"]\n\t},\n  \"c\": \"x\"\n}\n";
        let node = parse_json(text, DuplicateKeys::Refused).unwrap();
        assert_eq!((node.line, node.end_line), (1, 6));
        let a = node.get("a").unwrap();
        assert_eq!((a.line, a.end_line), (2, 4));
        assert_eq!(node.entries().unwrap()[1].0.line, 5);
        assert_eq!(
            to_json(&node, Tags::Ignore),
            json!({"a": {"b": [1, 2.5, true, null, "s\"q"]}, "c": "x"})
        );
    }

    #[test]
    fn json_error_line() {
        let err = parse_json("{\n  \"a\": 1,\n  \"b\": ,\n}\n", DuplicateKeys::Refused).unwrap_err();
        assert_eq!(err.line, 3);
    }

    /// Mutated copies of the fixtures (bytes dropped, duplicated, replaced) go through every
    /// parser: errors are fine, panics (caught or not) are not.
    #[test]
    fn mutated_fixtures_never_panic() {
        use crate::workload::parser::PARSERS;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let (files, _) = crate::files::read_dir(&root, Default::default()).unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        const NOISE: &[u8] = b"{}[],:-!&*'\"\n \t#|>?%@`\\\xff";
        for file in &files {
            for _ in 0..60 {
                let mut bytes = file.bytes.clone();
                for _ in 0..1 + next(4) {
                    let at = next(bytes.len());
                    match next(3) {
                        0 => {
                            bytes.remove(at.min(bytes.len().saturating_sub(1)));
                        }
                        1 => bytes.insert(at, NOISE[next(NOISE.len())]),
                        _ => {
                            let end = (at + next(40)).min(bytes.len());
                            let chunk = bytes[at..end].to_vec();
                            bytes.splice(at..at, chunk);
                        }
                    }
                }
                let mutated = crate::files::SourceFile::new(file.path.clone(), bytes);
                for parser in PARSERS
                    .iter()
                    .filter(|p| p.kind() != crate::workload::ResourceKind::Terraform)
                {
                    let out = parser.parse(&[&mutated]);
                    assert!(
                        !out.errors.iter().any(|e| e.message.contains("internal error")),
                        "{:?}",
                        out.errors
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tolerant_tests {
    use super::*;
    use serde_json::json;

    fn lines_of(node: &Node) -> (usize, usize) {
        (node.line, node.end_line)
    }

    /// What kubectl and PyYAML accept: a flow collection closed left of its last (quoted) item.
    #[test]
    fn flow_collections_closed_at_the_parent_indentation() {
        let text = "spec:\n  args: [\n    \"--x\",\n    \"--y\"\n  ]\n  env: {\n    \"a\": 1\n  }\n  b: [\n    'z'\n]\n  c: 2\ntop: [\n  \"t\"\n]\nlast: 3\n";
        let docs = parse_yaml(text, DuplicateKeys::Refused).unwrap();
        let doc = &docs[0];
        assert_eq!(
            to_json(doc, Tags::Ignore),
            json!({"spec": {"args": ["--x", "--y"], "env": {"a": 1}, "b": ["z"], "c": 2}, "top": ["t"], "last": 3})
        );
        let spec = doc.get("spec").unwrap();
        assert_eq!(lines_of(spec.get("args").unwrap()), (2, 5));
        assert_eq!(lines_of(&spec.get("args").unwrap().items().unwrap()[1]), (4, 4));
        assert_eq!(lines_of(spec.get("env").unwrap()), (6, 8));
        assert_eq!(lines_of(spec.get("b").unwrap()), (9, 11));
        assert_eq!(lines_of(spec.get("c").unwrap()), (12, 12));
        assert_eq!(lines_of(doc.get("top").unwrap()), (13, 15));
        assert_eq!(lines_of(doc.get("last").unwrap()), (16, 16));
        assert_eq!(lines_of(doc), (1, 16));
    }

    /// What CloudFormation and PyYAML accept (AWS's own serverless-patterns templates): a
    /// quoted scalar continued at its key's column, values folded as usual.
    #[test]
    fn quoted_scalars_continued_at_the_key_column() {
        let text = "Policies:\n  - PolicyName: p\n    PolicyDocument: !Sub '{\n        \"Version\": \"2012\",\n        \"It''s\": \"x\"\n    }'\n  - PolicyName: q\n    Doc: \"a \\\"b\\\"\n  c\\\n  d\n\n  e\"\nAfter: 1\n";
        let docs = parse_yaml(text, DuplicateKeys::Refused).unwrap();
        let doc = &docs[0];
        assert_eq!(
            to_json(doc, Tags::Ignore),
            json!({
                "Policies": [
                    {"PolicyName": "p", "PolicyDocument": "{ \"Version\": \"2012\", \"It's\": \"x\" }"},
                    {"PolicyName": "q", "Doc": "a \"b\" cd\ne"}
                ],
                "After": 1
            })
        );
        let items = doc.get("Policies").unwrap().items().unwrap();
        assert_eq!(lines_of(items[0].get("PolicyDocument").unwrap()), (3, 6));
        assert_eq!(lines_of(items[1].get("Doc").unwrap()), (8, 12));
        assert_eq!(lines_of(doc.get("After").unwrap()), (13, 13));
        // One that never closes, or meets a document marker, stays an error.
        assert!(parse_yaml("a:\n  b: 'x\n  y\n", DuplicateKeys::Refused).is_err());
        assert!(parse_yaml("a:\n  b: \"x\n---\nc: 1\"\n", DuplicateKeys::Refused).is_err());
    }

    /// Flow collections whose items (not only the closing bracket) sit at or left of the key:
    /// an inline JSON schema, a list of tagged items.
    #[test]
    fn flow_items_at_the_parent_indentation() {
        let text = "R:\n  Properties:\n    Resource: [\n    !Sub \"arn:${X}\",\n    plain\n    ]\n    Schema: {\"a\": 1,\n    \"b\": [1,\n    2],\n    c: d\n    }\n    Next: 2\n";
        let docs = parse_yaml(text, DuplicateKeys::Refused).unwrap();
        let props = docs[0].get("R").unwrap().get("Properties").unwrap();
        assert_eq!(
            to_json(props, Tags::Ignore),
            json!({"Resource": ["arn:${X}", "plain"], "Schema": {"a": 1, "b": [1, 2], "c": "d"}, "Next": 2})
        );
        assert_eq!(lines_of(props.get("Resource").unwrap()), (3, 6));
        assert_eq!(lines_of(props.get("Schema").unwrap()), (7, 11));
        assert_eq!(lines_of(props.get("Next").unwrap()), (12, 12));
        // Block structure is never re-indented: a misplaced key stays an error on its line.
        let err = parse_yaml("a:\n  b: 1\n c: 2\n", DuplicateKeys::Refused).unwrap_err();
        assert_eq!(err.line, 3, "{err:?}");
        let err = parse_yaml("a:\n  - x\n - y\n", DuplicateKeys::Refused).unwrap_err();
        assert_eq!(err.line, 3, "{err:?}");
    }

    #[test]
    fn keys_given_twice_are_refused_or_the_last_counts() {
        let text = "a:\n  b: 1\n  <<: {c: 2}\n  <<: {d: 3}\n  x: true\n  \"x\": false\n";
        let err = parse_yaml(text, DuplicateKeys::Refused).unwrap_err();
        assert_eq!(err.line, 6);
        assert!(
            err.message
                .contains("`x` is given twice in one mapping (lines 5 and 6)"),
            "{err:?}"
        );
        let docs = parse_yaml(text, DuplicateKeys::LastWins).unwrap();
        assert_eq!(to_json(&docs[0], Tags::Ignore)["a"]["x"], json!(false));
        let json_text = "{\n  \"a\": {\"p\": true,\n    \"p\": false}\n}";
        let err = parse_json(json_text, DuplicateKeys::Refused).unwrap_err();
        assert!(err.message.contains("(lines 2 and 3)"), "{err:?}");
        let doc = parse_json(json_text, DuplicateKeys::LastWins).unwrap();
        assert_eq!(to_json(&doc, Tags::Ignore)["a"]["p"], json!(false));
        // The same key in different mappings is not a duplicate.
        assert!(parse_yaml("- {a: 1}\n- {a: 2}\n", DuplicateKeys::Refused).is_ok());
    }

    #[test]
    fn block_scalars_are_never_reindented() {
        // A `]` inside a literal block is content: a real indentation error elsewhere stays one.
        let text = "a: |\n  x\n  ]\nb:\n  c: 1\n   d: 2\n";
        let err = parse_yaml(text, DuplicateKeys::Refused).unwrap_err();
        assert_eq!(err.line, 6, "{err:?}");
        let docs = parse_yaml("a: |\n  x\n  ]\nb: [\n  \"q\"\n]\n", DuplicateKeys::Refused).unwrap();
        assert_eq!(to_json(&docs[0], Tags::Ignore), json!({"a": "x\n]\n", "b": ["q"]}));
    }

    #[test]
    fn crlf_keeps_lines() {
        let text = "a: 1\r\nspec:\r\n  args: [\r\n    \"--x\"\r\n  ]\r\n  k: |\r\n    v\r\n  z: 2\r\n";
        let doc = &parse_yaml(text, DuplicateKeys::Refused).unwrap()[0];
        let spec = doc.get("spec").unwrap();
        assert_eq!(lines_of(spec.get("args").unwrap()), (3, 5));
        assert_eq!(lines_of(spec.get("z").unwrap()), (8, 8));
        assert_eq!(to_json(spec, Tags::Ignore)["z"], json!(2));
        // Every node has the lines it has with LF endings.
        fn all(n: &Node, out: &mut Vec<(usize, usize)>) {
            out.push((n.line, n.end_line));
            match &n.value {
                Value::Scalar { .. } => {}
                Value::Seq(items) => items.iter().for_each(|i| all(i, out)),
                Value::Map(entries) => entries.iter().for_each(|(k, v)| {
                    all(k, out);
                    all(v, out)
                }),
            }
        }
        let lf = &parse_yaml(&text.replace("\r\n", "\n"), DuplicateKeys::Refused).unwrap()[0];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        all(doc, &mut a);
        all(lf, &mut b);
        assert_eq!(a, b);
        assert_eq!(to_json(doc, Tags::Ignore), to_json(lf, Tags::Ignore));
    }

    #[test]
    fn many_brackets_and_hostile_input_stay_bounded() {
        let one = "  - args: [\n      \"--x\"\n    ]\n";
        let text = format!("items:\n{}", one.repeat(300));
        let docs = parse_yaml(&text, DuplicateKeys::Refused).unwrap();
        let items = docs[0].get("items").unwrap().items().unwrap();
        assert_eq!(items.len(), 300);
        assert_eq!(lines_of(items[299].get("args").unwrap()), (2 + 299 * 3, 4 + 299 * 3));
        let started = std::time::Instant::now();
        let text = format!("a:\n{}", "  b: [\n    \"x\"\n  ]\n".repeat(3000));
        let _ = parse_yaml(&text, DuplicateKeys::Refused);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
