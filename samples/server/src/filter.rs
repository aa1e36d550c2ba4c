//! A small `$filter` evaluator: comparisons joined by `and`.
//!
//! Crawlers use a handful of filters (`Hidden eq false` on lists, `ID gt 4200` or
//! `Modified gt datetime'2024-02-10T08:23:03Z'` on items for incremental runs). Supporting
//! exactly that subset keeps the sample honest for those requests; anything richer (`or`,
//! functions, parentheses) is reported as unsupported and the caller decides to ignore it.

use std::cmp::Ordering;

use serde_json::Value;

/// A parsed filter: every clause must hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq)]
struct Clause {
    property: String,
    op: Op,
    value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Filter {
    /// Parses `A op literal and B op literal …`; `None` when the expression is outside the
    /// supported subset.
    pub fn parse(expr: &str) -> Option<Filter> {
        let tokens = tokenize(expr)?;
        let mut clauses = Vec::new();
        for chunk in tokens.split(|t| t.eq_ignore_ascii_case("and")) {
            let [property, op, literal] = chunk else {
                return None;
            };
            let op = match op.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "lt" => Op::Lt,
                "le" => Op::Le,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                _ => return None,
            };
            if !property
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return None;
            }
            clauses.push(Clause {
                property: property.clone(),
                op,
                value: literal_value(literal)?,
            });
        }
        Some(Filter { clauses })
    }

    /// The property names the filter reads.
    pub fn properties(&self) -> impl Iterator<Item = &str> {
        self.clauses.iter().map(|c| c.property.as_str())
    }

    /// Whether an entity passes; `get` returns a property's value (`None` when absent).
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a Value>) -> bool {
        self.clauses.iter().all(|c| {
            let actual = get(&c.property).unwrap_or(&Value::Null);
            compare(actual, c.op, &c.value)
        })
    }
}

fn compare(actual: &Value, op: Op, wanted: &Value) -> bool {
    let ordering = match (actual, wanted) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (op, ordering) {
        (Op::Eq, Some(o)) => o == Ordering::Equal,
        (Op::Ne, Some(o)) => o != Ordering::Equal,
        (Op::Ne, None) => true,
        (Op::Lt, Some(o)) => o == Ordering::Less,
        (Op::Le, Some(o)) => o != Ordering::Greater,
        (Op::Gt, Some(o)) => o == Ordering::Greater,
        (Op::Ge, Some(o)) => o != Ordering::Less,
        (_, None) => false,
    }
}

fn literal_value(token: &str) -> Option<Value> {
    let unquote = |s: &str| -> Option<String> {
        let body = s.strip_prefix('\'')?.strip_suffix('\'')?;
        Some(body.replace("''", "'"))
    };
    if token.starts_with('\'') {
        return unquote(token).map(Value::String);
    }
    if let Some(rest) = token
        .strip_prefix("datetime")
        .or_else(|| token.strip_prefix("DateTime"))
    {
        return unquote(rest).map(Value::String);
    }
    match token.to_ascii_lowercase().as_str() {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        "null" => return Some(Value::Null),
        _ => {}
    }
    if let Ok(i) = token.parse::<i64>() {
        return Some(Value::from(i));
    }
    token
        .trim_end_matches(['m', 'M', 'd', 'D'])
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

/// Splits on spaces outside quoted literals; `None` for parentheses or an open quote.
fn tokenize(expr: &str) -> Option<Vec<String>> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    for c in expr.chars() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                current.push(c);
            }
            '(' | ')' if !in_quote => return None,
            c if c.is_whitespace() && !in_quote => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if in_quote {
        return None;
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    (!tokens.is_empty()).then_some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn passes(expr: &str, entity: &Value) -> Option<bool> {
        Filter::parse(expr).map(|f| f.matches(|k| entity.get(k)))
    }

    #[test]
    fn comparisons_and_conjunctions() {
        let e = json!({"ID": 5, "Hidden": false, "Title": "O'Brien", "Modified": "2024-03-01T00:00:00Z"});
        assert_eq!(passes("Hidden eq false", &e), Some(true));
        assert_eq!(passes("ID gt 4 and ID le 5", &e), Some(true));
        assert_eq!(passes("ID gt 5", &e), Some(false));
        assert_eq!(passes("Title eq 'O''Brien'", &e), Some(true));
        assert_eq!(
            passes("Modified gt datetime'2024-02-10T08:23:03Z'", &e),
            Some(true)
        );
        assert_eq!(passes("Missing eq null", &e), Some(true));
    }

    #[test]
    fn unsupported_expressions_are_none() {
        assert_eq!(Filter::parse("startswith(Title,'a')"), None);
        assert_eq!(Filter::parse("ID gt 1 or ID lt 0"), None);
        assert_eq!(Filter::parse("Title eq 'open"), None);
        assert_eq!(Filter::parse(""), None);
    }
}
