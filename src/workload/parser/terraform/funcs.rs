//! The Terraform built-in functions Railyard evaluates statically: pure functions over known
//! values. Anything that needs the provider, the file system or the clock is left undefined, so
//! a call to it stays an unresolved expression.
//!
//! An error whose message starts with [`UNSUPPORTED`] means "cannot decide statically", not
//! "this call fails": `try`/`can` treat it as unknown. hcl-rs gives a function only a
//! `String` to fail with ([`Func`]), so that prefix is the one channel through its evaluator;
//! [`FuncError::Unsupported`] writes it and [`is_unsupported`] / [`mentions_unsupported`]
//! read it, nothing else does.

use hcl::eval::{Context, Func, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};

pub const UNSUPPORTED: &str = "unsupported:";

/// The result hcl-rs requires of a function ([`Func`]).
type R = Result<Value, String>;

/// Why a function call has no value; written into hcl's `String` at the function's edge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FuncError {
    #[error("expected {min}..={max} arguments, got {got}")]
    Arity { min: usize, max: usize, got: usize },
    #[error("expected {what}, got `{got}`")]
    Expected { what: &'static str, got: Value },
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("invalid number")]
    InvalidNumber,
    /// Cannot be decided statically (not "the call fails").
    #[error("{UNSUPPORTED} {0}")]
    Unsupported(String),
    #[error("{0}")]
    Failed(&'static str),
}

impl From<FuncError> for String {
    fn from(e: FuncError) -> String {
        e.to_string()
    }
}

/// Whether the message of a failed call says "cannot decide statically" (see the module doc).
pub fn is_unsupported(message: &str) -> bool {
    message.starts_with(UNSUPPORTED)
}

/// Whether a message hcl wrapped around a failed call's says so (it quotes it inside).
pub fn mentions_unsupported(message: &str) -> bool {
    message.contains(UNSUPPORTED)
}

/// Registers the supported functions `wanted` names in `ctx` (only those an expression calls:
/// a context holding all of them costs more to build than most evaluations).
pub fn register(ctx: &mut Context, wanted: impl Fn(&str) -> bool) {
    let table: &[(&str, Func)] = &[
        ("jsonencode", jsonencode),
        ("jsondecode", jsondecode),
        ("lower", lower),
        ("upper", upper),
        ("title", title),
        ("trimspace", trimspace),
        ("trimprefix", trimprefix),
        ("trimsuffix", trimsuffix),
        ("startswith", startswith),
        ("endswith", endswith),
        ("strcontains", strcontains),
        ("substr", substr),
        ("concat", concat),
        ("merge", merge),
        ("format", format),
        ("join", join),
        ("split", split),
        ("tolist", tolist),
        ("toset", toset),
        ("tomap", tomap),
        ("length", length),
        ("lookup", lookup),
        ("coalesce", coalesce),
        ("coalescelist", coalescelist),
        ("compact", compact),
        ("replace", replace),
        ("tostring", tostring),
        ("tonumber", tonumber),
        ("tobool", tobool),
        ("element", element),
        ("flatten", flatten),
        ("distinct", distinct),
        ("keys", keys),
        ("values", values),
        ("contains", contains),
        ("reverse", reverse),
        ("sort", sort),
        ("zipmap", zipmap),
        ("min", min),
        ("max", max),
        ("abs", abs),
        ("ceil", ceil),
        ("floor", floor),
        ("try", try_),
        ("can", can),
        ("__add", add),
        ("__sub", sub),
        ("__mul", mul),
        ("__div", div),
        ("__mod", rem),
        ("__neg", neg),
    ];
    for (name, f) in table.iter().filter(|(name, _)| wanted(name)) {
        ctx.declare_func(*name, FuncDef::builder().variadic_param(ParamType::Any).build(*f));
    }
}

fn arity(args: &FuncArgs, min: usize, max: usize) -> Result<(), FuncError> {
    if args.len() < min || args.len() > max {
        return Err(FuncError::Arity {
            min,
            max,
            got: args.len(),
        });
    }
    Ok(())
}

fn string(v: &Value) -> Result<String, FuncError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(FuncError::Expected {
            what: "a string",
            got: other.clone(),
        }),
    }
}

fn list(v: &Value) -> Result<&Vec<Value>, FuncError> {
    v.as_array().ok_or_else(|| FuncError::Expected {
        what: "a list",
        got: v.clone(),
    })
}

fn object(v: &Value) -> Result<&Map<String, Value>, FuncError> {
    v.as_object().ok_or_else(|| FuncError::Expected {
        what: "a map",
        got: v.clone(),
    })
}

fn number(v: &Value) -> Result<f64, FuncError> {
    match v {
        Value::Number(n) => n.as_f64().ok_or(FuncError::InvalidNumber),
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| FuncError::NotANumber(s.clone())),
        other => Err(FuncError::Expected {
            what: "a number",
            got: other.clone(),
        }),
    }
}

fn num_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
    }
}

fn sorted_json(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<_> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted_json(v))).collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(sorted_json).collect()),
        other => other,
    }
}

/// Terraform's `jsonencode`: compact, object keys sorted.
fn jsonencode(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    let json = serde_json::to_value(&args[0]).map_err(|e| e.to_string())?;
    serde_json::to_string(&sorted_json(json))
        .map(Value::String)
        .map_err(|e| e.to_string())
}

fn jsondecode(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    let s = string(&args[0])?;
    let json: serde_json::Value = serde_json::from_str(&s).map_err(|e| e.to_string())?;
    hcl::to_value(json).map_err(|e| e.to_string())
}

fn lower(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::String(string(&args[0])?.to_lowercase()))
}

fn upper(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::String(string(&args[0])?.to_uppercase()))
}

fn title(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    let s = string(&args[0])?;
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    Ok(Value::String(out))
}

fn trimspace(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::String(string(&args[0])?.trim().to_string()))
}

fn trimprefix(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    let (s, p) = (string(&args[0])?, string(&args[1])?);
    Ok(Value::String(s.strip_prefix(p.as_str()).unwrap_or(&s).to_string()))
}

fn trimsuffix(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    let (s, p) = (string(&args[0])?, string(&args[1])?);
    Ok(Value::String(s.strip_suffix(p.as_str()).unwrap_or(&s).to_string()))
}

fn startswith(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    Ok(Value::Bool(string(&args[0])?.starts_with(&string(&args[1])?)))
}

fn endswith(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    Ok(Value::Bool(string(&args[0])?.ends_with(&string(&args[1])?)))
}

fn strcontains(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    Ok(Value::Bool(string(&args[0])?.contains(&string(&args[1])?)))
}

fn substr(args: FuncArgs) -> R {
    arity(&args, 3, 3)?;
    let chars: Vec<char> = string(&args[0])?.chars().collect();
    let len = chars.len() as i64;
    let mut off = number(&args[1])? as i64;
    let n = number(&args[2])? as i64;
    if off < 0 {
        off += len;
    }
    if off < 0 || off > len {
        return Err("offset out of range".into());
    }
    let end = if n < 0 { len } else { off.saturating_add(n).min(len) };
    Ok(Value::String(chars[off as usize..end as usize].iter().collect()))
}

fn concat(args: FuncArgs) -> R {
    let mut out = Vec::new();
    for a in args.iter() {
        out.extend(list(a)?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn merge(args: FuncArgs) -> R {
    let mut out = Map::new();
    for a in args.iter() {
        if a.is_null() {
            continue;
        }
        for (k, v) in object(a)? {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

/// `format` with the verbs `%s %d %v %q %f %t %%`, the flags `-`, `+`, `0`, a width and a
/// precision (`%05.2f`, `%-10s`, `%03d`).
fn format(args: FuncArgs) -> R {
    if args.is_empty() {
        return Err("format needs a format string".into());
    }
    let spec = string(&args[0])?;
    let mut rest = args.iter().skip(1);
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut plus, mut zero) = (false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let width: usize = width.parse().unwrap_or(0).min(1024);
        let verb = chars.next().ok_or("format string ends with %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = rest.next().ok_or("not enough arguments for format")?;
        let sign = |n: f64, s: String| if plus && n >= 0.0 { format!("+{s}") } else { s };
        let body = match verb {
            's' | 't' => {
                let s = string(arg)?;
                match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            'd' => {
                let n = number(arg)?;
                if n.fract() != 0.0 {
                    return Err(format!("%d needs a whole number, got {n}"));
                }
                sign(n, format!("{}", n as i64))
            }
            'f' => {
                let n = number(arg)?;
                sign(n, format!("{:.*}", precision.unwrap_or(6).min(64), n))
            }
            'q' => serde_json::to_string(&string(arg)?).map_err(|e| e.to_string())?,
            'v' => match arg {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => string(arg)?,
                other => serde_json::to_string(other).map_err(|e| e.to_string())?,
            },
            other => return Err(FuncError::Unsupported(format!("format verb %{other}")).into()),
        };
        let len = body.chars().count();
        if len >= width {
            out.push_str(&body);
        } else if left {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', width - len));
        } else if zero && matches!(verb, 'd' | 'f') {
            let (sign, digits) = match body.strip_prefix(['-', '+']) {
                Some(d) => (&body[..1], d),
                None => ("", body.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', width - len));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', width - len));
            out.push_str(&body);
        }
    }
    Ok(Value::String(out))
}

fn join(args: FuncArgs) -> R {
    if args.len() < 2 {
        return Err("join needs a separator and at least one list".into());
    }
    let sep = string(&args[0])?;
    let mut parts = Vec::new();
    for l in args.iter().skip(1) {
        for v in list(l)? {
            parts.push(string(v)?);
        }
    }
    Ok(Value::String(parts.join(&sep)))
}

fn split(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    let (sep, s) = (string(&args[0])?, string(&args[1])?);
    if s.is_empty() {
        return Ok(Value::Array(vec![]));
    }
    Ok(Value::Array(
        s.split(sep.as_str()).map(|p| Value::String(p.to_string())).collect(),
    ))
}

fn tolist(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Array(list(&args[0])?.clone()))
}

fn dedup(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// Terraform sets of strings iterate in lexical order.
fn toset(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    let mut out = dedup(list(&args[0])?);
    if out.iter().all(Value::is_string) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    Ok(Value::Array(out))
}

fn tomap(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Object(object(&args[0])?.clone()))
}

fn length(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    let n = match &args[0] {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        Value::String(s) => s.chars().count(),
        other => return Err(format!("cannot take the length of `{other}`")),
    };
    Ok(Value::from(n))
}

fn lookup(args: FuncArgs) -> R {
    arity(&args, 2, 3)?;
    let key = string(&args[1])?;
    match object(&args[0])?.get(&key) {
        Some(v) => Ok(v.clone()),
        None => args
            .get(2)
            .cloned()
            .ok_or_else(|| format!("no key `{key}` and no default")),
    }
}

fn coalesce(args: FuncArgs) -> R {
    args.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty argument".to_string())
}

fn coalescelist(args: FuncArgs) -> R {
    for a in args.iter() {
        if !list(a)?.is_empty() {
            return Ok(a.clone());
        }
    }
    Err("no non-empty list".into())
}

fn compact(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Array(
        list(&args[0])?
            .iter()
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

fn replace(args: FuncArgs) -> R {
    arity(&args, 3, 3)?;
    let (s, from, to) = (string(&args[0])?, string(&args[1])?, string(&args[2])?);
    if from.len() >= 2 && from.starts_with('/') && from.ends_with('/') {
        return Err(FuncError::Unsupported("regular expression replace".into()).into());
    }
    Ok(Value::String(s.replace(&from, &to)))
}

fn tostring(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::String(string(v)?)),
    }
}

fn tonumber(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(num_value(number(v)?)),
    }
}

fn tobool(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    match &args[0] {
        Value::Null => Ok(Value::Null),
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        other => Err(format!("cannot convert `{other}` to bool")),
    }
}

fn element(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    let l = list(&args[0])?;
    if l.is_empty() {
        return Err("element of an empty list".into());
    }
    let i = number(&args[1])?;
    if i < 0.0 {
        return Err("negative index".into());
    }
    Ok(l[(i as usize) % l.len()].clone())
}

fn flatten_into(v: &[Value], out: &mut Vec<Value>, depth: usize) -> Result<(), FuncError> {
    if depth > 64 {
        return Err(FuncError::Failed("nesting too deep"));
    }
    for x in v {
        match x {
            Value::Array(inner) => flatten_into(inner, out, depth + 1)?,
            other => out.push(other.clone()),
        }
    }
    Ok(())
}

fn flatten(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    let mut out = Vec::new();
    flatten_into(list(&args[0])?, &mut out, 0)?;
    Ok(Value::Array(out))
}

fn distinct(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Array(dedup(list(&args[0])?)))
}

fn sorted_entries(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn keys(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Array(
        sorted_entries(object(&args[0])?)
            .into_iter()
            .map(|(k, _)| Value::String(k.clone()))
            .collect(),
    ))
}

fn values(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Array(
        sorted_entries(object(&args[0])?)
            .into_iter()
            .map(|(_, v)| v.clone())
            .collect(),
    ))
}

fn contains(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    Ok(Value::Bool(list(&args[0])?.contains(&args[1])))
}

fn reverse(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Array(list(&args[0])?.iter().rev().cloned().collect()))
}

fn sort(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    let mut items = list(&args[0])?.iter().map(string).collect::<Result<Vec<_>, _>>()?;
    items.sort();
    Ok(Value::Array(items.into_iter().map(Value::String).collect()))
}

fn zipmap(args: FuncArgs) -> R {
    arity(&args, 2, 2)?;
    let (k, v) = (list(&args[0])?, list(&args[1])?);
    if k.len() != v.len() {
        return Err("zipmap lists differ in length".into());
    }
    let mut out = Map::new();
    for (k, v) in k.iter().zip(v) {
        out.insert(string(k)?, v.clone());
    }
    Ok(Value::Object(out))
}

fn numbers(args: &FuncArgs) -> Result<Vec<f64>, FuncError> {
    if args.is_empty() {
        return Err(FuncError::Failed("needs at least one number"));
    }
    args.iter().map(number).collect()
}

fn min(args: FuncArgs) -> R {
    Ok(num_value(numbers(&args)?.into_iter().fold(f64::INFINITY, f64::min)))
}

fn max(args: FuncArgs) -> R {
    Ok(num_value(numbers(&args)?.into_iter().fold(f64::NEG_INFINITY, f64::max)))
}

fn abs(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(num_value(number(&args[0])?.abs()))
}

fn ceil(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(num_value(number(&args[0])?.ceil()))
}

fn floor(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(num_value(number(&args[0])?.floor()))
}

/// Reached only when every argument evaluated (the evaluator handles the lazy cases first).
fn try_(args: FuncArgs) -> R {
    args.first().cloned().ok_or_else(|| "try needs an argument".to_string())
}

fn can(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(Value::Bool(true))
}

/// Arithmetic in f64: no overflow, no division by zero (an error instead).
fn arith(args: &FuncArgs, f: fn(f64, f64) -> f64) -> R {
    arity(args, 2, 2)?;
    let (a, b) = (strict_number(&args[0])?, strict_number(&args[1])?);
    let r = f(a, b);
    if !r.is_finite() {
        return Err("arithmetic result is not a finite number".into());
    }
    Ok(num_value(r))
}

fn strict_number(v: &Value) -> Result<f64, FuncError> {
    match v {
        Value::Number(n) => n.as_f64().ok_or(FuncError::InvalidNumber),
        other => Err(FuncError::Expected {
            what: "a number",
            got: other.clone(),
        }),
    }
}

fn add(args: FuncArgs) -> R {
    arith(&args, |a, b| a + b)
}

fn sub(args: FuncArgs) -> R {
    arith(&args, |a, b| a - b)
}

fn mul(args: FuncArgs) -> R {
    arith(&args, |a, b| a * b)
}

fn div(args: FuncArgs) -> R {
    arith(&args, |a, b| if b == 0.0 { f64::NAN } else { a / b })
}

fn rem(args: FuncArgs) -> R {
    arith(&args, |a, b| if b == 0.0 { f64::NAN } else { a % b })
}

fn neg(args: FuncArgs) -> R {
    arity(&args, 1, 1)?;
    Ok(num_value(-strict_number(&args[0])?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_before_and_only_unsupported_ones_mean_unknown() {
        let e = FuncError::Arity { min: 1, max: 2, got: 3 };
        assert_eq!(e.to_string(), "expected 1..=2 arguments, got 3");
        assert_eq!(
            list(&Value::from(1)).unwrap_err().to_string(),
            "expected a list, got `1`"
        );
        assert_eq!(
            number(&Value::from("x")).unwrap_err().to_string(),
            "`x` is not a number"
        );
        let unsupported: String = FuncError::Unsupported("regular expression replace".into()).into();
        assert_eq!(unsupported, "unsupported: regular expression replace");
        assert!(is_unsupported(&unsupported));
        assert!(!is_unsupported(&String::from(FuncError::InvalidNumber)));
        // A user's text that merely contains the words is not the marker.
        assert!(!is_unsupported("no key `unsupported: x` and no default"));
        assert!(mentions_unsupported("in call to f: unsupported: format verb %q"));
    }
}
