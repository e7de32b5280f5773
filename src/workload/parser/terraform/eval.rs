//! Static evaluation of Terraform expressions: `var.*` and `local.*` with known values and the
//! pure functions of [`super::funcs`]. What cannot be resolved honestly stays the expression's
//! text as `"${…}"`, exactly as hcl-rs prints it.

use super::funcs;
use hcl::eval::{Context, ErrorKind, Evaluate};
use hcl::expr::{Expression, ObjectKey, TemplateExpr};
use hcl::template::Element;
use hcl::{Map, Template, Value};
use std::collections::HashSet;

/// Deeper expressions than this are left unevaluated (the parser already limits nesting).
pub const MAX_DEPTH: usize = 128;

/// An evaluation context: known variables and locals, and the names known to be unknown.
pub struct Evaluator {
    ctx: Context<'static>,
    /// Variables and locals that exist but have no known value.
    unknown: HashSet<String>,
}

impl Evaluator {
    pub fn new(
        vars: &Map<String, Value>,
        locals: &Map<String, Value>,
        unknown: HashSet<String>,
    ) -> Self {
        let mut ctx = Context::new();
        ctx.declare_var("var", Value::Object(vars.clone()));
        ctx.declare_var("local", Value::Object(locals.clone()));
        funcs::register(&mut ctx);
        Evaluator { ctx, unknown }
    }

    /// Evaluates the whole expression, or fails.
    pub fn eval(&self, expr: &Expression) -> Option<Value> {
        let expr = self.lazy_calls(expr, 0);
        expr.evaluate(&self.ctx).ok()
    }

    /// Whether an evaluation error means "not known statically" rather than "fails".
    fn is_unknown(&self, err: &hcl::eval::Error) -> bool {
        match err.kind() {
            ErrorKind::UndefinedVar(_) | ErrorKind::UndefinedFunc(_) => true,
            ErrorKind::NoSuchKey(k) => self.unknown.contains(k.as_str()),
            ErrorKind::FuncCall(_, msg) => msg.starts_with(funcs::UNSUPPORTED),
            ErrorKind::Message(msg) => msg.contains(funcs::UNSUPPORTED),
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
                    return match fc.args[0].evaluate(&self.ctx) {
                        Ok(_) => Expression::Bool(true),
                        Err(e) if self.is_unknown(&e) => Expression::FuncCall(fc),
                        Err(_) => Expression::Bool(false),
                    };
                }
                if name == "try" {
                    for a in &fc.args {
                        match a.evaluate(&self.ctx) {
                            Ok(v) => return Expression::from(v),
                            Err(e) if self.is_unknown(&e) => break,
                            Err(_) => continue,
                        }
                    }
                }
                Expression::FuncCall(fc)
            }
            Expression::Array(items) => {
                Expression::Array(items.iter().map(|e| self.lazy_calls(e, d)).collect())
            }
            Expression::Object(obj) => Expression::Object(
                obj.iter()
                    .map(|(k, v)| (k.clone(), self.lazy_calls(v, d)))
                    .collect(),
            ),
            Expression::Parenthesis(inner) => {
                Expression::Parenthesis(Box::new(self.lazy_calls(inner, d)))
            }
            Expression::Conditional(c) => {
                let mut c = c.clone();
                c.cond_expr = self.lazy_calls(&c.cond_expr, d);
                c.true_expr = self.lazy_calls(&c.true_expr, d);
                c.false_expr = self.lazy_calls(&c.false_expr, d);
                Expression::Conditional(c)
            }
            Expression::Operation(op) => {
                let mut op = op.clone();
                match op.as_mut() {
                    hcl::expr::Operation::Unary(u) => u.expr = self.lazy_calls(&u.expr, d),
                    hcl::expr::Operation::Binary(b) => {
                        b.lhs_expr = self.lazy_calls(&b.lhs_expr, d);
                        b.rhs_expr = self.lazy_calls(&b.rhs_expr, d);
                    }
                }
                Expression::Operation(op)
            }
            Expression::Traversal(t) => {
                let mut t = t.clone();
                t.expr = self.lazy_calls(&t.expr, d);
                Expression::Traversal(t)
            }
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
            Expression::Array(items) => {
                serde_json::Value::Array(items.iter().map(|e| self.resolve(e, d)).collect())
            }
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
        serde_json::Value::Number(n) => hcl::to_value(n)
            .map(Expression::from)
            .unwrap_or(Expression::Null),
        serde_json::Value::String(s) if s.contains("${") || s.contains("%{") => {
            Expression::TemplateExpr(Box::new(TemplateExpr::QuotedString(s.clone())))
        }
        serde_json::Value::String(s) => Expression::String(s.clone()),
        serde_json::Value::Array(a) => Expression::Array(a.iter().map(json_to_expr).collect()),
        serde_json::Value::Object(o) => Expression::Object(
            o.iter()
                .map(|(k, v)| {
                    (
                        ObjectKey::Expression(Expression::String(k.clone())),
                        json_to_expr(v),
                    )
                })
                .collect(),
        ),
    }
}
