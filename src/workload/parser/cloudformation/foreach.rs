//! `Fn::ForEach` loops of the `AWS::LanguageExtensions` transform, expanded as CloudFormation
//! expands them: each `Fn::ForEach::Name: [Identifier, Collection, {OutputKey: Resource}]` in
//! `Resources` makes one resource per item of the collection, its logical id the output key
//! with `${Identifier}` (or `&{Identifier}`, non-alphanumerics dropped) replaced, and
//! `Ref: Identifier` and `${Identifier}` in `Fn::Sub` inside it replaced by the item. Loops
//! nest (up to 5 deep, CloudFormation's limit).
//!
//! A loop whose collection is not known without deploying (a parameter without a default, an
//! output of another resource) is an error naming it: the resources it makes cannot be judged,
//! and skipping them silently would make the template look compliant.

use super::super::yaml::{self, Node, Tags};
use super::resolve::{text, Template};
use crate::workload::parser::ParseError;
use serde_json::Value as Json;

/// CloudFormation's limit on nested loops.
const MAX_NESTING: usize = 5;

/// Resources one template's loops may make before it is refused (CloudFormation allows 500
/// resources per template).
const MAX_EXPANDED: usize = 5_000;

/// The loop prefix of a `Resources` key.
pub(super) const PREFIX: &str = "Fn::ForEach::";

/// One entry of `Resources` once loops are expanded.
pub(super) struct Entry<'n> {
    pub logical_id: String,
    pub value: &'n Node,
    /// The line of its key (for a resource a loop makes, the loop's output key).
    pub line: usize,
    /// Loop identifiers in scope, with their values.
    pub bindings: Vec<(String, String)>,
}

/// The resources of `Resources` (its `entries`), loops expanded, in order.
pub(super) fn expand<'n>(
    path: &str,
    entries: &'n [(Node, Node)],
    template: &Template,
) -> Result<Vec<Entry<'n>>, ParseError> {
    let mut out = Vec::new();
    walk(path, entries, template, &[], 0, &mut out)?;
    Ok(out)
}

fn walk<'n>(
    path: &str,
    entries: &'n [(Node, Node)],
    template: &Template,
    bindings: &[(String, String)],
    depth: usize,
    out: &mut Vec<Entry<'n>>,
) -> Result<(), ParseError> {
    for (key, value) in entries {
        let logical_id = match &key.value {
            yaml::Value::Scalar { text, .. } => text.as_str(),
            _ => return Err(ParseError::new(path, key.line, "a logical id must be a plain name")),
        };
        if logical_id == "Fn::Transform" {
            return Err(ParseError::new(
                path,
                key.line,
                "`Fn::Transform` in `Resources` writes resources when the template is deployed (`AWS::Include` of a snippet, or a macro): what they are is not known here; check the processed template (`aws cloudformation get-template --template-stage Processed`)",
            ));
        }
        let Some(name) = logical_id.strip_prefix(PREFIX) else {
            out.push(Entry {
                logical_id: substitute_key(logical_id, bindings),
                value,
                line: key.line,
                bindings: bindings.to_vec(),
            });
            continue;
        };
        let err = |message: String| ParseError::new(path, key.line, format!("`{PREFIX}{name}`: {message}"));
        if depth >= MAX_NESTING {
            return Err(err(format!("loops nested deeper than {MAX_NESTING}")));
        }
        let (identifier, collection, output) = match value.items() {
            Some([identifier, collection, output]) => (identifier, collection, output),
            _ => {
                return Err(err(
                    "must be a list of an identifier, a collection and an output map".to_string()
                ))
            }
        };
        let identifier = identifier
            .as_str()
            .ok_or_else(|| err("its identifier must be a name".to_string()))?;
        let Some(output) = output.entries() else {
            return Err(err("its output must be a map of logical ids to resources".to_string()));
        };
        let items = collection_items(collection, template, bindings).ok_or_else(|| {
            err("its collection is not known before deployment (a list of strings, or a parameter with a default, is); the resources it makes cannot be evaluated".to_string())
        })?;
        for item in items {
            let mut inner = bindings.to_vec();
            inner.push((identifier.to_string(), item));
            walk(path, output, template, &inner, depth + 1, out)?;
            if out.len() > MAX_EXPANDED {
                return Err(err(format!("makes more than {MAX_EXPANDED} resources")));
            }
        }
    }
    Ok(())
}

/// The items of a loop's collection when they are known: a list of scalars, or what a
/// parameter's default gives (a `CommaDelimitedList`), outer identifiers replaced.
fn collection_items(collection: &Node, template: &Template, bindings: &[(String, String)]) -> Option<Vec<String>> {
    items_of(
        &substitute(&yaml::to_json(collection, Tags::CloudFormation), bindings),
        template,
    )
}

/// A collection's items as text when they are all known scalars (a list, or what a parameter's
/// default gives).
fn items_of(collection: &Json, template: &Template) -> Option<Vec<String>> {
    match template.resolve(collection)? {
        Json::Array(items) => items.iter().map(text).collect(),
        _ => None,
    }
}

/// A logical id with `${Identifier}` and `&{Identifier}` replaced.
fn substitute_key(key: &str, bindings: &[(String, String)]) -> String {
    let mut key = key.to_string();
    for (identifier, value) in bindings {
        let alphanumeric: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
        key = key
            .replace(&format!("${{{identifier}}}"), value)
            .replace(&format!("&{{{identifier}}}"), &alphanumeric);
    }
    key
}

/// A value with `Ref: Identifier` replaced by the item, and `${Identifier}` (and `&{...}`) in
/// `Fn::Sub` strings and keys.
pub(super) fn substitute(value: &Json, bindings: &[(String, String)]) -> Json {
    if bindings.is_empty() {
        return value.clone();
    }
    match value {
        Json::Object(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().expect("one entry");
            match (k.as_str(), v) {
                ("Ref", Json::String(name)) => {
                    if let Some((_, item)) = bindings.iter().rev().find(|(i, _)| i == name) {
                        return Json::String(item.clone());
                    }
                    value.clone()
                }
                ("Fn::Sub", Json::String(s)) => serde_json::json!({"Fn::Sub": substitute_key(s, bindings)}),
                ("Fn::Sub", Json::Array(parts)) => {
                    let mut parts: Vec<Json> = parts.iter().map(|p| substitute(p, bindings)).collect();
                    if let Some(Json::String(s)) = parts.first_mut() {
                        *s = substitute_key(s, bindings);
                    }
                    serde_json::json!({"Fn::Sub": parts})
                }
                _ => serde_json::json!({ substitute_key(k, bindings): substitute(v, bindings) }),
            }
        }
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (substitute_key(k, bindings), substitute(v, bindings)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(|i| substitute(i, bindings)).collect()),
        other => other.clone(),
    }
}

/// Properties with their own `Fn::ForEach` loops expanded (a loop key in any map of them is
/// replaced by the entries it makes); `Err(loop name)` when a collection is not known.
pub(super) fn expand_properties(value: &Json, template: &Template) -> Result<Json, String> {
    expand_in(value, template, 0)
}

/// The error for a property loop whose collection is not known.
pub(super) fn unknown_property_loop(name: &str) -> String {
    format!("`{name}` in the properties: its collection is not known before deployment, or it is not [identifier, collection, output map]; the properties it makes cannot be evaluated")
}

fn expand_in(value: &Json, template: &Template, depth: usize) -> Result<Json, String> {
    match value {
        Json::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                if !k.starts_with(PREFIX) {
                    out.insert(k.clone(), expand_in(v, template, depth)?);
                    continue;
                }
                let parts = v.as_array().map(Vec::as_slice).unwrap_or_default();
                let [Json::String(identifier), collection, Json::Object(output)] = parts else {
                    return Err(k.clone());
                };
                if depth >= MAX_NESTING {
                    return Err(k.clone());
                }
                let Some(items) = items_of(collection, template) else {
                    return Err(k.clone());
                };
                for item in items {
                    let made = substitute(&Json::Object(output.clone()), &[(identifier.clone(), item)]);
                    if let Json::Object(made) = expand_in(&made, template, depth + 1)? {
                        out.extend(made);
                    }
                }
            }
            Ok(Json::Object(out))
        }
        Json::Array(items) => items
            .iter()
            .map(|i| expand_in(i, template, depth))
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array),
        other => Ok(other.clone()),
    }
}
