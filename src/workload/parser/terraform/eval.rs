//! Static evaluation of Terraform expressions: `var.*` and `local.*` with known values and the
//! pure functions of [`super::funcs`]. What cannot be resolved honestly stays the expression's
//! text as `"${…}"`, exactly as hcl-rs prints it.

use super::funcs;
use hcl::eval::{Context, ErrorKind, Evaluate};
use hcl::expr::{
    BinaryOp, BinaryOperator, Expression, FuncCall, ObjectKey, Operation, TemplateExpr, TraversalOperator, UnaryOp,
    UnaryOperator,
};
use hcl::template::{Directive, Element};
use hcl::{Map, Template, Value};
use std::collections::HashSet;

/// Deeper expressions than this are left unevaluated (the parser already limits nesting).
pub const MAX_DEPTH: usize = 128;

/// An evaluation context: known variables and locals, and the names known to be unknown.
pub struct Evaluator {
    /// Extra variables (a `dynamic` block's iterator). Each evaluation gets a context with
    /// only the functions, variables and locals the expression mentions: hcl-rs clones the
    /// whole `var` / `local` object for every `var.x` it reads (reading a module with
    /// hundreds of locals was quadratic), and copying every function's definition cost more
    /// than evaluating most expressions.
    extra: Map<String, Value>,
    vars: Map<String, Value>,
    locals: Map<String, Value>,
    /// Variables and locals that exist but have no known value.
    unknown: HashSet<String>,
}

impl Evaluator {
    pub fn new(vars: &Map<String, Value>, locals: &Map<String, Value>, unknown: HashSet<String>) -> Self {
        Evaluator {
            extra: Map::new(),
            vars: vars.clone(),
            locals: locals.clone(),
            unknown,
        }
    }

    /// A copy of this evaluator with one more variable, e.g. the iterator of a `dynamic`
    /// block (`ingress = {key, value}`).
    pub fn with_var(&self, name: &str, value: Value) -> Evaluator {
        let mut extra = self.extra.clone();
        extra.insert(name.to_string(), value);
        Evaluator {
            extra,
            vars: self.vars.clone(),
            locals: self.locals.clone(),
            unknown: self.unknown.clone(),
        }
    }

    /// Evaluates the whole expression, or fails.
    pub fn eval(&self, expr: &Expression) -> Option<Value> {
        let expr = self.lazy_calls(expr, 0);
        self.evaluate(&expr).ok()
    }

    /// hcl-rs evaluation in a context holding the variables and locals `expr` mentions.
    fn evaluate(&self, expr: &Expression) -> Result<Value, hcl::eval::Error> {
        let mut names = Mentions::default();
        names.collect(expr, 0);
        let mut ctx = Context::new();
        funcs::register(&mut ctx, |f| names.funcs.has(f));
        for (k, v) in &self.extra {
            ctx.declare_var(k.clone(), v.clone());
        }
        ctx.declare_var("var", Value::Object(names.var.select(&self.vars)));
        ctx.declare_var("local", Value::Object(names.local.select(&self.locals)));
        expr.evaluate(&ctx)
    }

    /// Whether an evaluation error means "not known statically" rather than "fails".
    fn is_unknown(&self, err: &hcl::eval::Error) -> bool {
        match err.kind() {
            ErrorKind::UndefinedVar(_) | ErrorKind::UndefinedFunc(_) => true,
            ErrorKind::NoSuchKey(k) => self.unknown.contains(k.as_str()),
            ErrorKind::FuncCall(_, msg) => funcs::is_unsupported(msg),
            ErrorKind::Message(msg) => funcs::mentions_unsupported(msg),
            _ => false,
        }
    }

    /// Rewrites `try(…)` and `can(…)` calls whose outcome is decidable into their value:
    /// they must not evaluate all arguments eagerly.
    fn lazy_calls(&self, expr: &Expression, depth: usize) -> Expression {
        if depth > MAX_DEPTH {
            return expr.clone();
        }
        let d = depth + 1;
        match expr {
            Expression::FuncCall(fc) => {
                let mut fc = fc.clone();
                for a in fc.args.iter_mut() {
                    *a = self.lazy_calls(a, d);
                }
                let name = fc.name.name.as_str();
                if fc.name.is_namespaced() || fc.expand_final || !(name == "try" || name == "can") {
                    return Expression::FuncCall(fc);
                }
                if name == "can" && fc.args.len() == 1 {
                    return match self.evaluate(&fc.args[0]) {
                        Ok(_) => Expression::Bool(true),
                        Err(e) if self.is_unknown(&e) => Expression::FuncCall(fc),
                        Err(_) => Expression::Bool(false),
                    };
                }
                if name == "try" {
                    for a in &fc.args {
                        match self.evaluate(a) {
                            Ok(v) => return Expression::from(v),
                            Err(e) if self.is_unknown(&e) => break,
                            Err(_) => continue,
                        }
                    }
                }
                Expression::FuncCall(fc)
            }
            Expression::Array(items) => Expression::Array(items.iter().map(|e| self.lazy_calls(e, d)).collect()),
            Expression::Object(obj) => Expression::Object(
                obj.iter()
                    .map(|(k, v)| {
                        let k = match k {
                            ObjectKey::Expression(e) => ObjectKey::Expression(self.lazy_calls(e, d)),
                            other => other.clone(),
                        };
                        (k, self.lazy_calls(v, d))
                    })
                    .collect(),
            ),
            Expression::Parenthesis(inner) => Expression::Parenthesis(Box::new(self.lazy_calls(inner, d))),
            Expression::Conditional(c) => {
                let mut c = c.clone();
                c.cond_expr = self.lazy_calls(&c.cond_expr, d);
                c.true_expr = self.lazy_calls(&c.true_expr, d);
                c.false_expr = self.lazy_calls(&c.false_expr, d);
                Expression::Conditional(c)
            }
            // hcl-rs's own arithmetic can overflow or divide by zero (a panic); ours cannot.
            Expression::Operation(op) => match op.as_ref() {
                Operation::Unary(u) if u.operator == UnaryOperator::Neg => {
                    call("__neg", vec![self.lazy_calls(&u.expr, d)])
                }
                Operation::Unary(u) => {
                    Expression::from(Operation::Unary(UnaryOp::new(u.operator, self.lazy_calls(&u.expr, d))))
                }
                Operation::Binary(b) => {
                    let lhs = self.lazy_calls(&b.lhs_expr, d);
                    let rhs = self.lazy_calls(&b.rhs_expr, d);
                    let f = match b.operator {
                        BinaryOperator::Plus => "__add",
                        BinaryOperator::Minus => "__sub",
                        BinaryOperator::Mul => "__mul",
                        BinaryOperator::Div => "__div",
                        BinaryOperator::Mod => "__mod",
                        op => return Expression::from(Operation::Binary(BinaryOp::new(lhs, op, rhs))),
                    };
                    call(f, vec![lhs, rhs])
                }
            },
            Expression::Traversal(t) => {
                let mut t = t.clone();
                t.expr = self.lazy_calls(&t.expr, d);
                for op in t.operators.iter_mut() {
                    if let TraversalOperator::Index(e) = op {
                        *e = self.lazy_calls(e, d);
                    }
                }
                Expression::Traversal(t)
            }
            Expression::ForExpr(f) => {
                let mut f = f.clone();
                f.collection_expr = self.lazy_calls(&f.collection_expr, d);
                f.key_expr = f.key_expr.as_ref().map(|e| self.lazy_calls(e, d));
                f.value_expr = self.lazy_calls(&f.value_expr, d);
                f.cond_expr = f.cond_expr.as_ref().map(|e| self.lazy_calls(e, d));
                Expression::ForExpr(f)
            }
            // Templates are evaluated by hcl-rs as a whole: only when they hold no arithmetic.
            Expression::TemplateExpr(t) => match Template::from_expr(t) {
                Ok(tpl) if !template_has_arith(&tpl, d) => expr.clone(),
                _ => call("__unevaluable", vec![]),
            },
            other => other.clone(),
        }
    }

    /// Resolves what can be resolved, element by element; the rest stays `"${…}"` text.
    pub fn resolve(&self, expr: &Expression, depth: usize) -> serde_json::Value {
        if depth > MAX_DEPTH {
            return raw(expr);
        }
        let d = depth + 1;
        match expr {
            Expression::Null => serde_json::Value::Null,
            Expression::Bool(b) => serde_json::Value::Bool(*b),
            Expression::Number(_) | Expression::String(_) => raw(expr),
            Expression::Array(items) => serde_json::Value::Array(items.iter().map(|e| self.resolve(e, d)).collect()),
            Expression::Object(obj) => {
                let mut out = serde_json::Map::new();
                for (k, v) in obj.iter() {
                    out.insert(self.key(k), self.resolve(v, d));
                }
                serde_json::Value::Object(out)
            }
            Expression::Parenthesis(inner) => self.resolve(inner, d),
            Expression::TemplateExpr(t) => match self.eval(expr) {
                Some(v) => to_json(&v),
                None => serde_json::Value::String(self.partial_template(t)),
            },
            Expression::Conditional(c) => match self.eval(expr) {
                Some(v) => to_json(&v),
                None => match self.eval(&c.cond_expr) {
                    Some(Value::Bool(true)) => self.resolve(&c.true_expr, d),
                    Some(Value::Bool(false)) => self.resolve(&c.false_expr, d),
                    _ => raw(expr),
                },
            },
            other => match self.eval(other) {
                Some(v) => to_json(&v),
                None => raw(other),
            },
        }
    }

    fn key(&self, k: &ObjectKey) -> String {
        match k {
            ObjectKey::Identifier(id) => id.to_string(),
            ObjectKey::Expression(Expression::String(s)) => s.clone(),
            ObjectKey::Expression(e) => match self.eval(e) {
                Some(Value::String(s)) => s,
                Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                _ => match raw(e) {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                },
            },
            other => other.to_string(),
        }
    }

    /// Interpolates the known parts of a template; unknown interpolations stay `${…}`.
    /// Templates with directives are all-or-nothing.
    fn partial_template(&self, t: &TemplateExpr) -> String {
        let original = t.to_string();
        if matches!(t, TemplateExpr::Heredoc(_)) {
            return original;
        }
        let Ok(template) = Template::from_expr(t) else {
            return original;
        };
        let mut out = String::new();
        for el in template.elements() {
            match el {
                Element::Literal(s) => out.push_str(s),
                Element::Interpolation(i) => match self.eval(&i.expr) {
                    Some(Value::String(s)) => out.push_str(&s),
                    Some(v @ (Value::Number(_) | Value::Bool(_))) => out.push_str(&v.to_string()),
                    Some(_) => return original,
                    None => match raw(&i.expr) {
                        serde_json::Value::String(s) => out.push_str(&s),
                        _ => return original,
                    },
                },
                Element::Directive(_) => return original,
            }
        }
        out
    }
}

fn call(name: &str, args: Vec<Expression>) -> Expression {
    let mut fc = FuncCall::new(name);
    fc.args = args;
    Expression::FuncCall(Box::new(fc))
}

fn expr_has_arith(e: &Expression, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    let d = depth + 1;
    match e {
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => u.operator == UnaryOperator::Neg || expr_has_arith(&u.expr, d),
            Operation::Binary(b) => {
                matches!(
                    b.operator,
                    BinaryOperator::Plus
                        | BinaryOperator::Minus
                        | BinaryOperator::Mul
                        | BinaryOperator::Div
                        | BinaryOperator::Mod
                ) || expr_has_arith(&b.lhs_expr, d)
                    || expr_has_arith(&b.rhs_expr, d)
            }
        },
        Expression::Array(items) => items.iter().any(|e| expr_has_arith(e, d)),
        Expression::Object(obj) => obj
            .iter()
            .any(|(k, v)| matches!(k, ObjectKey::Expression(k) if expr_has_arith(k, d)) || expr_has_arith(v, d)),
        Expression::TemplateExpr(t) => match Template::from_expr(t) {
            Ok(tpl) => template_has_arith(&tpl, d),
            Err(_) => true,
        },
        Expression::FuncCall(fc) => fc.args.iter().any(|e| expr_has_arith(e, d)),
        Expression::Parenthesis(inner) => expr_has_arith(inner, d),
        Expression::Conditional(c) => {
            expr_has_arith(&c.cond_expr, d) || expr_has_arith(&c.true_expr, d) || expr_has_arith(&c.false_expr, d)
        }
        Expression::Traversal(t) => {
            expr_has_arith(&t.expr, d)
                || t.operators
                    .iter()
                    .any(|op| matches!(op, TraversalOperator::Index(e) if expr_has_arith(e, d)))
        }
        Expression::ForExpr(f) => {
            expr_has_arith(&f.collection_expr, d)
                || f.key_expr.as_ref().is_some_and(|e| expr_has_arith(e, d))
                || expr_has_arith(&f.value_expr, d)
                || f.cond_expr.as_ref().is_some_and(|e| expr_has_arith(e, d))
        }
        _ => false,
    }
}

fn template_has_arith(t: &Template, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    let d = depth + 1;
    t.elements().iter().any(|el| match el {
        Element::Literal(_) => false,
        Element::Interpolation(i) => expr_has_arith(&i.expr, d),
        Element::Directive(dir) => match dir.as_ref() {
            Directive::If(i) => {
                expr_has_arith(&i.cond_expr, d)
                    || template_has_arith(&i.true_template, d)
                    || i.false_template.as_ref().is_some_and(|f| template_has_arith(f, d))
            }
            Directive::For(f) => expr_has_arith(&f.collection_expr, d) || template_has_arith(&f.template, d),
        },
    })
}

/// An expression as hcl-rs prints it: literals as values, templates as their text,
/// everything else as `"${…}"`.
pub fn raw(expr: &Expression) -> serde_json::Value {
    to_json(&Value::from(expr.clone()))
}

pub fn to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A JSON value (from `.tf.json` or `.tfvars.json`) as an expression: strings with `${` or
/// `%{` are templates, as Terraform's JSON syntax reads them.
pub fn json_to_expr(v: &serde_json::Value) -> Expression {
    match v {
        serde_json::Value::Null => Expression::Null,
        serde_json::Value::Bool(b) => Expression::Bool(*b),
        serde_json::Value::Number(n) => hcl::to_value(n).map(Expression::from).unwrap_or(Expression::Null),
        serde_json::Value::String(s) if s.contains("${") || s.contains("%{") => {
            Expression::TemplateExpr(Box::new(TemplateExpr::QuotedString(s.clone())))
        }
        serde_json::Value::String(s) => Expression::String(s.clone()),
        serde_json::Value::Array(a) => Expression::Array(a.iter().map(json_to_expr).collect()),
        serde_json::Value::Object(o) => Expression::Object(
            o.iter()
                .map(|(k, v)| (ObjectKey::Expression(Expression::String(k.clone())), json_to_expr(v)))
                .collect(),
        ),
    }
}

/// The names of one root (`var` or `local`) an expression reads: some, or all of them when
/// it reads the root as a whole (`var["x"]`, `local`) or in a way not followed here.
#[derive(Default)]
enum Names {
    #[default]
    None,
    Some(HashSet<String>),
    All,
}

impl Names {
    fn add(&mut self, name: &str) {
        match self {
            Names::None => *self = Names::Some(HashSet::from([name.to_string()])),
            Names::Some(set) => {
                set.insert(name.to_string());
            }
            Names::All => {}
        }
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Names::None => false,
            Names::All => true,
            Names::Some(set) => set.contains(name),
        }
    }

    fn select(&self, from: &Map<String, Value>) -> Map<String, Value> {
        match self {
            Names::None => Map::new(),
            Names::All => from.clone(),
            Names::Some(set) => set
                .iter()
                .filter_map(|n| Some((n.clone(), from.get(n)?.clone())))
                .collect(),
        }
    }
}

#[derive(Default)]
struct Mentions {
    var: Names,
    local: Names,
    funcs: Names,
}

impl Mentions {
    fn root(&mut self, name: &str) -> Option<&mut Names> {
        match name {
            "var" => Some(&mut self.var),
            "local" => Some(&mut self.local),
            _ => None,
        }
    }

    fn collect(&mut self, expr: &Expression, depth: usize) {
        if depth > MAX_DEPTH {
            self.var = Names::All;
            self.local = Names::All;
            self.funcs = Names::All;
            return;
        }
        let d = depth + 1;
        match expr {
            Expression::Variable(v) => {
                if let Some(n) = self.root(v.as_str()) {
                    *n = Names::All;
                }
            }
            Expression::Traversal(t) => {
                match (&t.expr, t.operators.first()) {
                    (Expression::Variable(v), Some(TraversalOperator::GetAttr(attr)))
                        if self.root(v.as_str()).is_some() =>
                    {
                        if let Some(n) = self.root(v.as_str()) {
                            n.add(attr.as_str());
                        }
                    }
                    _ => self.collect(&t.expr, d),
                }
                for op in &t.operators {
                    if let TraversalOperator::Index(e) = op {
                        self.collect(e, d);
                    }
                }
            }
            Expression::Array(items) => items.iter().for_each(|e| self.collect(e, d)),
            Expression::Object(obj) => {
                for (k, v) in obj.iter() {
                    if let ObjectKey::Expression(e) = k {
                        self.collect(e, d);
                    }
                    self.collect(v, d);
                }
            }
            Expression::Parenthesis(inner) => self.collect(inner, d),
            Expression::Conditional(c) => {
                self.collect(&c.cond_expr, d);
                self.collect(&c.true_expr, d);
                self.collect(&c.false_expr, d);
            }
            Expression::Operation(op) => match op.as_ref() {
                Operation::Unary(u) => self.collect(&u.expr, d),
                Operation::Binary(b) => {
                    self.collect(&b.lhs_expr, d);
                    self.collect(&b.rhs_expr, d);
                }
            },
            Expression::FuncCall(fc) => {
                self.funcs.add(fc.name.name.as_str());
                fc.args.iter().for_each(|e| self.collect(e, d));
            }
            Expression::ForExpr(f) => {
                self.collect(&f.collection_expr, d);
                if let Some(k) = &f.key_expr {
                    self.collect(k, d);
                }
                self.collect(&f.value_expr, d);
                if let Some(c) = &f.cond_expr {
                    self.collect(c, d);
                }
            }
            Expression::TemplateExpr(t) => {
                let text = match t.as_ref() {
                    TemplateExpr::QuotedString(s) => s.as_str(),
                    TemplateExpr::Heredoc(h) => h.template.as_str(),
                };
                self.scan_text(text);
                if text.contains('(') {
                    self.funcs = Names::All; // a call inside `${…}`
                }
            }
            _ => {}
        }
    }

    /// Names read inside template text (`"${var.env}-x"`): `var.NAME` and `local.NAME`
    /// where `var` / `local` start an identifier; any other use of the root reads it all.
    fn scan_text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        for root in ["var", "local"] {
            let mut from = 0;
            while let Some(pos) = text[from..].find(root).map(|p| p + from) {
                from = pos + root.len();
                if pos > 0 && (ident(bytes[pos - 1]) || bytes[pos - 1] == b'.') {
                    continue;
                }
                if bytes.get(from).is_some_and(|b| ident(*b)) {
                    continue; // `variable`, `locals`, `local_x`
                }
                let names = self.root(root).expect("a root");
                if bytes.get(from) == Some(&b'.') {
                    let start = from + 1;
                    let end = bytes[start..]
                        .iter()
                        .position(|b| !ident(*b))
                        .map_or(bytes.len(), |p| start + p);
                    if end > start {
                        names.add(&text[start..end]);
                        continue;
                    }
                }
                *names = Names::All;
            }
        }
    }
}
