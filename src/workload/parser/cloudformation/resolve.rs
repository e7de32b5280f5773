//! Static evaluation of a template's values, as far as is honest: parameter `Default`s stand
//! in for `Ref`s, `Conditions` are evaluated where their inputs are known, `Fn::If` picks its
//! branch, `AWS::NoValue` removes what it stands for, `Fn::FindInMap`, `Fn::Sub`, `Fn::Join`,
//! `Fn::Select` and `Fn::Split` over known values are computed. Everything else (pseudo
//! parameters such as `AWS::Region`, parameters without a default, resource attributes,
//! imports) stays as the intrinsic function it is, so policies see it as unknown.
//!
//! Works on the template as plain JSON (short-form tags already in long form).

use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::collections::HashMap;

/// A condition's value with the parameter defaults: `Unknown` when an input is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Truth {
    True,
    False,
    Unknown,
}

/// What a value resolves to.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    /// The value; `known` is false when an unresolved intrinsic function remains inside.
    Value { value: Json, known: bool },
    /// `Ref: AWS::NoValue`: the property (or list item) is removed.
    NoValue,
}

impl Out {
    fn known(value: Json) -> Out {
        Out::Value { value, known: true }
    }
    fn unknown(value: Json) -> Out {
        Out::Value { value, known: false }
    }
}

/// Resolved values nest at most this deep (the document is already depth-limited by its
/// parser; this keeps recursion through condition and mapping look-ups bounded too).
const MAX_DEPTH: usize = 256;

/// Parameter types whose `Default` is not the value a `Ref` returns: an SSM parameter type's
/// default is the *name* of the SSM parameter, whose value is only known at deploy time.
fn default_is_value(r#type: &str) -> bool {
    !r#type.starts_with("AWS::SSM::Parameter::Value<")
}

pub(crate) struct Template<'t> {
    /// Parameters with a usable default, as a `Ref` returns them.
    params: HashMap<&'t str, Json>,
    mappings: Option<&'t Map<String, Json>>,
    conditions: Option<&'t Map<String, Json>>,
    /// Evaluated conditions; `None` while one is being evaluated (a cycle is unknown).
    memo: RefCell<HashMap<String, Option<Truth>>>,
}

impl<'t> Template<'t> {
    pub fn new(document: &'t Json) -> Self {
        let mut params = HashMap::new();
        for (name, p) in document
            .get("Parameters")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            let r#type = p.get("Type").and_then(Json::as_str).unwrap_or("String");
            if let Some(default) = p.get("Default").filter(|_| default_is_value(r#type)) {
                if let Some(value) = ref_value(r#type, default) {
                    params.insert(name.as_str(), value);
                }
            }
        }
        Template {
            params,
            mappings: document.get("Mappings").and_then(Json::as_object),
            conditions: document.get("Conditions").and_then(Json::as_object),
            memo: RefCell::new(HashMap::new()),
        }
    }

    /// The value of a named condition.
    pub fn condition(&self, name: &str) -> Truth {
        self.named_condition(name, 0)
    }

    /// `value` with everything known resolved; `None` when it is `AWS::NoValue`.
    pub fn resolve(&self, value: &Json) -> Option<Json> {
        match self.value(value, 0) {
            Out::Value { value, .. } => Some(value),
            Out::NoValue => None,
        }
    }

    fn named_condition(&self, name: &str, depth: usize) -> Truth {
        if let Some(done) = self.memo.borrow().get(name) {
            return done.unwrap_or(Truth::Unknown);
        }
        let Some(expr) = self.conditions.and_then(|c| c.get(name)) else {
            return Truth::Unknown;
        };
        self.memo.borrow_mut().insert(name.to_string(), None);
        let truth = self.truth(expr, depth + 1);
        self.memo.borrow_mut().insert(name.to_string(), Some(truth));
        truth
    }

    /// A condition expression: `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`.
    fn truth(&self, expr: &Json, depth: usize) -> Truth {
        if depth > MAX_DEPTH {
            return Truth::Unknown;
        }
        let Some((function, args)) = intrinsic(expr) else {
            return Truth::Unknown;
        };
        let list = args.as_array().map(Vec::as_slice).unwrap_or_default();
        match function {
            "Condition" => match args.as_str() {
                Some(name) => self.named_condition(name, depth),
                None => Truth::Unknown,
            },
            "Fn::Equals" => match list {
                [a, b] => match (self.value(a, depth + 1), self.value(b, depth + 1)) {
                    (
                        Out::Value {
                            value: a, known: true, ..
                        },
                        Out::Value {
                            value: b, known: true, ..
                        },
                    ) => truth_of(same(&a, &b)),
                    _ => Truth::Unknown,
                },
                _ => Truth::Unknown,
            },
            "Fn::Not" => match list {
                [c] => match self.truth(c, depth + 1) {
                    Truth::True => Truth::False,
                    Truth::False => Truth::True,
                    Truth::Unknown => Truth::Unknown,
                },
                _ => Truth::Unknown,
            },
            "Fn::And" | "Fn::Or" if !list.is_empty() => {
                let (decisive, other) = match function {
                    "Fn::And" => (Truth::False, Truth::True),
                    _ => (Truth::True, Truth::False),
                };
                let values: Vec<Truth> = list.iter().map(|c| self.truth(c, depth + 1)).collect();
                if values.contains(&decisive) {
                    decisive
                } else if values.iter().all(|t| *t == other) {
                    other
                } else {
                    Truth::Unknown
                }
            }
            _ => Truth::Unknown,
        }
    }

    fn value(&self, v: &Json, depth: usize) -> Out {
        if depth > MAX_DEPTH {
            return Out::unknown(v.clone());
        }
        if let Some((function, args)) = intrinsic(v) {
            return self.function(v, function, args, depth);
        }
        match v {
            Json::Object(m) => {
                let mut known = true;
                let mut out = Map::new();
                for (k, item) in m {
                    match self.value(item, depth + 1) {
                        Out::Value { value, known: k_known } => {
                            known &= k_known;
                            out.insert(k.clone(), value);
                        }
                        Out::NoValue => {}
                    }
                }
                Out::Value {
                    value: Json::Object(out),
                    known,
                }
            }
            Json::Array(items) => {
                let mut known = true;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.value(item, depth + 1) {
                        Out::Value { value, known: k_known } => {
                            known &= k_known;
                            out.push(value);
                        }
                        Out::NoValue => {}
                    }
                }
                Out::Value {
                    value: Json::Array(out),
                    known,
                }
            }
            scalar => Out::known(scalar.clone()),
        }
    }

    /// An intrinsic function; `whole` is the `{function: args}` object it came from, kept as
    /// is (with its arguments resolved where that is harmless) when its value is not known.
    fn function(&self, whole: &Json, function: &str, args: &Json, depth: usize) -> Out {
        let keep = |args: Json| {
            let mut m = Map::new();
            m.insert(function.to_string(), args);
            Out::unknown(Json::Object(m))
        };
        let list = args.as_array().map(Vec::as_slice).unwrap_or_default();
        match function {
            "Ref" => match args.as_str() {
                Some("AWS::NoValue") => Out::NoValue,
                Some(name) => match self.params.get(name) {
                    Some(value) => Out::known(value.clone()),
                    // A parameter without default, a pseudo parameter, a resource.
                    None => Out::unknown(whole.clone()),
                },
                None => Out::unknown(whole.clone()),
            },
            "Fn::If" => match list {
                [cond, yes, no] => match cond.as_str().map(|c| self.named_condition(c, depth)) {
                    Some(Truth::True) => self.value(yes, depth + 1),
                    Some(Truth::False) => self.value(no, depth + 1),
                    _ => {
                        // Unknown: both branches stay, each resolved as far as it goes.
                        let branch = |b: &Json| match self.value(b, depth + 1) {
                            Out::Value { value, .. } => value,
                            Out::NoValue => b.clone(),
                        };
                        keep(Json::Array(vec![cond.clone(), branch(yes), branch(no)]))
                    }
                },
                _ => Out::unknown(whole.clone()),
            },
            "Fn::FindInMap" => self.find_in_map(whole, list, depth),
            "Fn::Sub" => self.sub(whole, args, depth),
            "Fn::Join" => match list {
                [sep, items] => match (self.value(sep, depth + 1), self.value(items, depth + 1)) {
                    (
                        Out::Value {
                            value: Json::String(sep),
                            known: true,
                        },
                        Out::Value {
                            value: Json::Array(items),
                            known: true,
                        },
                    ) => match items.iter().map(text).collect::<Option<Vec<_>>>() {
                        Some(parts) => Out::known(Json::String(parts.join(&sep))),
                        None => Out::unknown(whole.clone()),
                    },
                    _ => Out::unknown(whole.clone()),
                },
                _ => Out::unknown(whole.clone()),
            },
            "Fn::Select" => match list {
                [index, items] => match (self.value(index, depth + 1), self.value(items, depth + 1)) {
                    (
                        Out::Value {
                            value: index,
                            known: true,
                        },
                        Out::Value {
                            value: Json::Array(items),
                            known: true,
                        },
                    ) => match text(&index)
                        .and_then(|i| i.parse::<usize>().ok())
                        .and_then(|i| items.get(i))
                    {
                        Some(item) => Out::known(item.clone()),
                        None => Out::unknown(whole.clone()),
                    },
                    _ => Out::unknown(whole.clone()),
                },
                _ => Out::unknown(whole.clone()),
            },
            "Fn::Split" => match list {
                [sep, source] => match (self.value(sep, depth + 1), self.value(source, depth + 1)) {
                    (
                        Out::Value {
                            value: Json::String(sep),
                            known: true,
                        },
                        Out::Value {
                            value: Json::String(source),
                            known: true,
                        },
                    ) if !sep.is_empty() => Out::known(Json::Array(
                        source.split(sep.as_str()).map(|s| Json::String(s.into())).collect(),
                    )),
                    _ => Out::unknown(whole.clone()),
                },
                _ => Out::unknown(whole.clone()),
            },
            // Fn::GetAtt, Fn::ImportValue, Fn::GetAZs, Fn::Base64, Fn::Cidr, Fn::Transform,
            // Condition (outside Conditions), ...: known only at deploy time.
            _ => Out::unknown(whole.clone()),
        }
    }

    /// `[MapName, TopLevelKey, SecondLevelKey]`, with the `AWS::LanguageExtensions` form's
    /// optional fourth argument `{DefaultValue: x}`.
    fn find_in_map(&self, whole: &Json, list: &[Json], depth: usize) -> Out {
        let (keys, default) = match list {
            [a, b, c] => ([a, b, c], None),
            [a, b, c, d] => ([a, b, c], d.get("DefaultValue")),
            _ => return Out::unknown(whole.clone()),
        };
        let mut names = Vec::with_capacity(3);
        for k in keys {
            match self.value(k, depth + 1) {
                Out::Value { value, known: true } => match text(&value) {
                    Some(t) => names.push(t),
                    None => return Out::unknown(whole.clone()),
                },
                _ => return Out::unknown(whole.clone()),
            }
        }
        let found = self
            .mappings
            .and_then(|m| m.get(&names[0]))
            .and_then(|m| m.get(&names[1]))
            .and_then(|m| m.get(&names[2]));
        match found.or(default) {
            Some(v) => self.value(v, depth + 1),
            // A key the map lacks fails the deployment; nothing to assume here.
            None => Out::unknown(whole.clone()),
        }
    }

    /// `Fn::Sub: "text ${Var}"` or `Fn::Sub: ["text ${Var}", {Var: value}]`. Known when every
    /// variable is: one of the given values or a parameter with a default. `${!Literal}` is
    /// the literal `${Literal}`.
    fn sub(&self, whole: &Json, args: &Json, depth: usize) -> Out {
        let (template, vars) = match args {
            Json::String(s) => (s.as_str(), None),
            Json::Array(a) => match a.as_slice() {
                [Json::String(s), Json::Object(vars)] => (s.as_str(), Some(vars)),
                [Json::String(s)] => (s.as_str(), None),
                _ => return Out::unknown(whole.clone()),
            },
            _ => return Out::unknown(whole.clone()),
        };
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                // No closing brace: CloudFormation takes the text literally.
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let value = match vars.and_then(|v| v.get(name.trim())) {
                    Some(v) => self.value(v, depth + 1),
                    None => match self.params.get(name.trim()) {
                        Some(v) => Out::known(v.clone()),
                        None => return Out::unknown(whole.clone()),
                    },
                };
                match value {
                    Out::Value { value, known: true } => match value.as_str() {
                        Some(s) => out.push_str(s),
                        None => match text(&value) {
                            Some(s) => out.push_str(&s),
                            None => return Out::unknown(whole.clone()),
                        },
                    },
                    _ => return Out::unknown(whole.clone()),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Out::known(Json::String(out))
    }
}

/// `{function: args}` when `v` is a one-key object naming an intrinsic function.
fn intrinsic(v: &Json) -> Option<(&str, &Json)> {
    let m = v.as_object()?;
    if m.len() != 1 {
        return None;
    }
    let (k, args) = m.iter().next()?;
    (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k.as_str(), args))
}

/// What `Ref` returns for a parameter of this type with this default: CloudFormation hands
/// parameters over as strings (numbers included), list types as lists of strings.
fn ref_value(r#type: &str, default: &Json) -> Option<Json> {
    let is_list = r#type == "CommaDelimitedList" || r#type.starts_with("List<");
    let default = text(default)?;
    Some(match is_list {
        true => Json::Array(default.split(',').map(|s| Json::String(s.trim().to_string())).collect()),
        false => Json::String(default),
    })
}

/// A scalar as CloudFormation's text (`22`, `true`); `None` for collections and null.
pub(super) fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `Fn::Equals` compares values as CloudFormation passes them: scalars as text.
fn same(a: &Json, b: &Json) -> bool {
    match (text(a), text(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

fn truth_of(b: bool) -> Truth {
    match b {
        true => Truth::True,
        false => Truth::False,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Json {
        json!({
            "Parameters": {
                "Env": {"Type": "String", "Default": "dev"},
                "Port": {"Type": "Number", "Default": 22},
                "Cidr": {"Type": "String", "Default": "0.0.0.0/0"},
                "NoDefault": {"Type": "String"},
                "Subnets": {"Type": "CommaDelimitedList", "Default": "a, b,c"},
                "Ami": {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": "/aws/ami"}
            },
            "Mappings": {"Regions": {"prod": {"Size": "large"}, "dev": {"Size": "small"}}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
                "Unknown": {"Fn::Equals": [{"Ref": "NoDefault"}, "x"]},
                "Region": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
                "DevOrUnknown": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "Unknown"}]},
                "ProdAndUnknown": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "Unknown"}]},
                "DevAndUnknown": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "Unknown"}]},
                "Loop": {"Fn::Not": [{"Condition": "Loop"}]},
                "PortIs22": {"Fn::Equals": [{"Ref": "Port"}, 22]}
            }
        })
    }

    #[test]
    fn conditions_are_three_valued() {
        let doc = template();
        let t = Template::new(&doc);
        for (name, want) in [
            ("IsProd", Truth::False),
            ("IsDev", Truth::True),
            ("Unknown", Truth::Unknown),
            ("Region", Truth::Unknown),
            ("DevOrUnknown", Truth::True),
            ("ProdAndUnknown", Truth::False),
            ("DevAndUnknown", Truth::Unknown),
            ("Loop", Truth::Unknown),
            ("PortIs22", Truth::True),
            ("Missing", Truth::Unknown),
        ] {
            assert_eq!(t.condition(name), want, "{name}");
        }
    }

    /// Long condition chains and deep nesting stay bounded (unknown past the depth limit) and
    /// fast, on the test thread's default stack.
    #[test]
    fn hostile_templates_stay_bounded() {
        let mut conditions = Map::new();
        for i in 0..5000 {
            conditions.insert(
                format!("C{i}"),
                json!({"Fn::Not": [{"Condition": format!("C{}", i + 1)}]}),
            );
        }
        conditions.insert("C5000".into(), json!({"Fn::Equals": ["a", "a"]}));
        let mut wide = Vec::new();
        for i in 0..2000 {
            wide.push(json!({"Condition": format!("C{}", i % 50)}));
        }
        conditions.insert("Wide".into(), json!({"Fn::And": wide}));
        let doc = json!({"Conditions": conditions, "Parameters": {"P": {"Default": "x"}}});
        let t = Template::new(&doc);
        let started = std::time::Instant::now();
        assert_eq!(t.condition("C0"), Truth::Unknown);
        assert_eq!(t.condition("C4990"), Truth::True);
        let _ = t.condition("Wide");
        let mut deep = json!({"Ref": "P"});
        for _ in 0..200 {
            deep = json!({"Fn::If": ["C4999", [deep], {"Fn::Sub": ["${V}", {"V": {"Ref": "P"}}]}]});
        }
        assert!(t.resolve(&deep).is_some());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn values_resolve_as_far_as_known() {
        let doc = template();
        let t = Template::new(&doc);
        let r = |v: Json| t.resolve(&v);
        assert_eq!(r(json!({"Ref": "Cidr"})), Some(json!("0.0.0.0/0")));
        assert_eq!(r(json!({"Ref": "Port"})), Some(json!("22")));
        assert_eq!(r(json!({"Ref": "Subnets"})), Some(json!(["a", "b", "c"])));
        for stays in [
            json!({"Ref": "NoDefault"}),
            json!({"Ref": "AWS::Region"}),
            json!({"Ref": "Ami"}),
            json!({"Ref": "SomeBucket"}),
            json!({"Fn::GetAtt": ["B", "Arn"]}),
            json!({"Fn::Sub": "${AWS::StackName}-${Env}"}),
            json!({"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Size"]}),
        ] {
            assert_eq!(r(stays.clone()), Some(stays));
        }
        assert_eq!(r(json!({"Ref": "AWS::NoValue"})), None);
        assert_eq!(
            r(json!({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}, {"Ref": "Env"}]})),
            Some(json!({"B": [1, "dev"]}))
        );
        assert_eq!(
            r(json!({"Fn::If": ["IsProd", "Enabled", "Suspended"]})),
            Some(json!("Suspended"))
        );
        assert_eq!(
            r(json!({"X": {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, 1]}})),
            Some(json!({}))
        );
        assert_eq!(
            r(json!({"Fn::If": ["Unknown", {"Ref": "Env"}, {"Ref": "AWS::NoValue"}]})),
            Some(json!({"Fn::If": ["Unknown", "dev", {"Ref": "AWS::NoValue"}]}))
        );
        assert_eq!(
            r(json!({"Fn::FindInMap": ["Regions", {"Ref": "Env"}, "Size"]})),
            Some(json!("small"))
        );
        assert_eq!(
            r(json!({"Fn::FindInMap": ["Regions", "test", "Size", {"DefaultValue": "tiny"}]})),
            Some(json!("tiny"))
        );
        assert_eq!(
            r(json!({"Fn::Sub": "${Env}-logs-${!Literal}-${Port}"})),
            Some(json!("dev-logs-${Literal}-22"))
        );
        assert_eq!(
            r(json!({"Fn::Sub": ["${Name}.${Env}", {"Name": {"Fn::If": ["IsDev", "d", "p"]}}]})),
            Some(json!("d.dev"))
        );
        assert_eq!(
            r(json!({"Fn::Sub": ["${Name}", {"Name": {"Ref": "AWS::AccountId"}}]})),
            Some(json!({"Fn::Sub": ["${Name}", {"Name": {"Ref": "AWS::AccountId"}}]}))
        );
        assert_eq!(
            r(json!({"Fn::Join": ["-", [{"Ref": "Env"}, "x", 3]]})),
            Some(json!("dev-x-3"))
        );
        assert_eq!(r(json!({"Fn::Select": [1, {"Ref": "Subnets"}]})), Some(json!("b")));
        // Not a one-key object: plain data, resolved inside.
        assert_eq!(
            r(json!({"Ref": "Env", "Other": 1})),
            Some(json!({"Ref": "Env", "Other": 1}))
        );
    }
}
