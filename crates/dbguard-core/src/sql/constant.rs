//! Constant folding for WHERE clauses: `WHERE 1=1`, `WHERE 'a'='a'`, `WHERE NOT false`,
//! `WHERE x OR true`... are as unbounded as no WHERE at all. Both front ends (pg_query nodes and
//! sqlparser expressions) reduce their literals to [`Const`] and share these operations. Anything
//! not understood evaluates to `None` (not known to be constant), which is the "bounded" answer:
//! the point is to catch always-true filters, not to prove arbitrary ones.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Const {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Null,
}

impl Const {
    /// The value as a WHERE clause sees it: NULL keeps no row. Integers are truthy the way MySQL
    /// and SQLite read them (PostgreSQL rejects a non-boolean WHERE, so counting it is harmless).
    pub fn truthy(&self) -> Option<bool> {
        match self {
            Const::Bool(b) => Some(*b),
            Const::Int(i) => Some(*i != 0),
            Const::Float(f) => Some(*f != 0.0),
            Const::Null => Some(false),
            Const::Str(s) => parse_bool_text(s).or_else(|| parse_number(s).and_then(|n| n.truthy())),
        }
    }

    fn as_number(&self) -> Option<Const> {
        match self {
            Const::Int(_) | Const::Float(_) => Some(self.clone()),
            Const::Bool(b) => Some(Const::Int(i128::from(*b))),
            Const::Str(s) => parse_number(s),
            Const::Null => None,
        }
    }

    /// Cast to a type named by its (lowercased) last name component.
    pub fn cast(self, type_name: &str) -> Option<Const> {
        if matches!(self, Const::Null) {
            return Some(Const::Null);
        }
        let t = type_name.to_ascii_lowercase();
        match t.as_str() {
            "bool" | "boolean" => match &self {
                Const::Bool(_) => Some(self),
                Const::Int(i) => Some(Const::Bool(*i != 0)),
                Const::Str(s) => parse_bool_text(s).map(Const::Bool),
                _ => None,
            },
            "int" | "int2" | "int4" | "int8" | "integer" | "smallint" | "bigint" | "signed" | "unsigned" => {
                match self.as_number()? {
                    Const::Float(f) => Some(Const::Int(f.round() as i128)),
                    n => Some(n),
                }
            }
            "numeric" | "decimal" | "float" | "float4" | "float8" | "real" | "double" => self.as_number(),
            "text" | "varchar" | "char" | "bpchar" | "character" | "string" => Some(match self {
                Const::Str(s) => Const::Str(s),
                Const::Int(i) => Const::Str(i.to_string()),
                Const::Bool(b) => Const::Str(if b { "true" } else { "false" }.to_string()),
                Const::Float(f) => Const::Str(f.to_string()),
                Const::Null => Const::Null,
            }),
            _ => None,
        }
    }
}

fn parse_bool_text(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

pub(crate) fn parse_number(s: &str) -> Option<Const> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i128>() {
        return Some(Const::Int(i));
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite()).map(Const::Float)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `IS NOT DISTINCT FROM`, MySQL `<=>`: NULL-safe equality.
    NullSafeEq,
}

pub(crate) fn compare(op: Cmp, a: &Const, b: &Const) -> Option<Const> {
    let (a_null, b_null) = (matches!(a, Const::Null), matches!(b, Const::Null));
    if op == Cmp::NullSafeEq {
        if a_null || b_null {
            return Some(Const::Bool(a_null && b_null));
        }
        return compare(Cmp::Eq, a, b);
    }
    if a_null || b_null {
        return Some(Const::Null);
    }
    let ord = match (a, b) {
        (Const::Str(x), Const::Str(y)) => x.cmp(y),
        (Const::Bool(x), Const::Bool(y)) => x.cmp(y),
        (Const::Bool(x), Const::Str(s)) => x.cmp(&parse_bool_text(s)?),
        (Const::Str(s), Const::Bool(y)) => parse_bool_text(s)?.cmp(y),
        _ => match (a.as_number()?, b.as_number()?) {
            (Const::Int(x), Const::Int(y)) => x.cmp(&y),
            (x, y) => to_f64(&x)?.partial_cmp(&to_f64(&y)?)?,
        },
    };
    let r = match op {
        Cmp::Eq | Cmp::NullSafeEq => ord == Ordering::Equal,
        Cmp::NotEq => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::LtEq => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::GtEq => ord != Ordering::Less,
    };
    Some(Const::Bool(r))
}

fn to_f64(c: &Const) -> Option<f64> {
    match c {
        Const::Int(i) => Some(*i as f64),
        Const::Float(f) => Some(*f),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
}

pub(crate) fn arith(op: Arith, a: &Const, b: &Const) -> Option<Const> {
    if matches!(a, Const::Null) || matches!(b, Const::Null) {
        return Some(Const::Null);
    }
    match (a.as_number()?, b.as_number()?) {
        (Const::Int(x), Const::Int(y)) => match op {
            Arith::Add => x.checked_add(y),
            Arith::Sub => x.checked_sub(y),
            Arith::Mul => x.checked_mul(y),
        }
        .map(Const::Int),
        (x, y) => {
            let (x, y) = (to_f64(&x)?, to_f64(&y)?);
            let r = match op {
                Arith::Add => x + y,
                Arith::Sub => x - y,
                Arith::Mul => x * y,
            };
            r.is_finite().then_some(Const::Float(r))
        }
    }
}

/// `v [NOT] BETWEEN [SYMMETRIC] lo AND hi`, three-valued like the engines: `lo <= v AND v <= hi`
/// (SYMMETRIC: either order of the bounds). MySQL and SQLite have no SYMMETRIC.
pub(crate) fn between(v: &Const, lo: &Const, hi: &Const, negated: bool, symmetric: bool) -> Option<Const> {
    let within = |lo: &Const, hi: &Const| and([compare(Cmp::GtEq, v, lo), compare(Cmp::LtEq, v, hi)]);
    let r = if symmetric {
        or([within(lo, hi), within(hi, lo)])
    } else {
        within(lo, hi)
    };
    if negated {
        not(r)
    } else {
        r
    }
}

/// Three-valued AND over already-evaluated operands (`None`: not a constant).
pub(crate) fn and(values: impl IntoIterator<Item = Option<Const>>) -> Option<Const> {
    let mut all_true = true;
    for v in values {
        match v.as_ref().and_then(truth3) {
            Some(Some(false)) => return Some(Const::Bool(false)),
            Some(Some(true)) => {}
            Some(None) => all_true = false,
            None => all_true = false,
        }
    }
    all_true.then_some(Const::Bool(true))
}

/// Three-valued OR: one constant-true operand makes the whole OR true, whatever the others are.
pub(crate) fn or(values: impl IntoIterator<Item = Option<Const>>) -> Option<Const> {
    let mut all_false = true;
    for v in values {
        match v.as_ref().and_then(truth3) {
            Some(Some(true)) => return Some(Const::Bool(true)),
            Some(Some(false)) => {}
            _ => all_false = false,
        }
    }
    all_false.then_some(Const::Bool(false))
}

pub(crate) fn not(v: Option<Const>) -> Option<Const> {
    match truth3(&v?)? {
        Some(b) => Some(Const::Bool(!b)),
        None => Some(Const::Null),
    }
}

/// Some(Some(b)) for a boolean-ish constant, Some(None) for NULL, None when not boolean.
fn truth3(c: &Const) -> Option<Option<bool>> {
    match c {
        Const::Null => Some(None),
        other => other.truthy().map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(
            compare(Cmp::Eq, &Const::Int(1), &Const::Int(1)),
            Some(Const::Bool(true))
        );
        assert_eq!(
            compare(Cmp::Lt, &Const::Int(1), &Const::Float(2.5)),
            Some(Const::Bool(true))
        );
        assert_eq!(
            compare(Cmp::Eq, &Const::Str("a".into()), &Const::Str("a".into())),
            Some(Const::Bool(true))
        );
        assert_eq!(compare(Cmp::Eq, &Const::Null, &Const::Int(1)), Some(Const::Null));
        assert_eq!(or([None, Some(Const::Bool(true))]), Some(Const::Bool(true)));
        assert_eq!(and([None, Some(Const::Bool(true))]), None);
        assert_eq!(not(Some(Const::Bool(false))), Some(Const::Bool(true)));
        assert_eq!(Const::Str("t".into()).cast("bool"), Some(Const::Bool(true)));
        assert_eq!(arith(Arith::Add, &Const::Int(1), &Const::Int(1)), Some(Const::Int(2)));
    }

    #[test]
    fn between_folding() {
        let (one, zero, two) = (Const::Int(1), Const::Int(0), Const::Int(2));
        let t = Some(Const::Bool(true));
        let f = Some(Const::Bool(false));
        assert_eq!(between(&one, &zero, &two, false, false), t);
        assert_eq!(between(&one, &zero, &two, true, false), f);
        assert_eq!(between(&one, &two, &zero, false, false), f);
        assert_eq!(between(&one, &two, &zero, false, true), t);
        assert_eq!(between(&one, &two, &zero, true, false), t);
        // A NULL operand is never known true, negated or not.
        assert_eq!(between(&one, &Const::Null, &two, false, false), None);
        assert_eq!(between(&Const::Null, &zero, &two, true, false), None);
    }
}
