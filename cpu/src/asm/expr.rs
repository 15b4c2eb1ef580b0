//! Expressions: parsing (GNU as precedence) and evaluation.
//!
//! GNU as ranks binary operators in four levels, which differ from C's: `* / % << >>` bind
//! tightest, then `| & ^ !`, then `+ - == != <> < > <= >=`, then `&& ||`. Arithmetic wraps
//! at 64 bits, `>>` is a logical shift; comparisons give -1 for true and 0 for false, as
//! GNU as does.

use super::lex::{Tk, Tok};

/// An expression tree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    /// A constant.
    Num(i64),
    /// A symbol, with the byte offset of its use (for errors).
    Sym(String, usize),
    /// `.`, the current location.
    Dot,
    /// A unary operator: `-`, `~`, `!`, `+`.
    Un(&'static str, Box<Expr>),
    /// A binary operator, with the byte offset of the operator (for errors).
    Bin(&'static str, Box<Expr>, Box<Expr>, usize),
}

/// An error in an expression: byte offset and message.
pub(crate) type ExprError = (usize, String);

/// Parses tokens as one expression. `local` names the symbol a numeric local label
/// reference (`1b`/`1f`) stands for.
pub(crate) struct Parser<'a, F: FnMut(u64, bool, usize) -> Result<String, ExprError>> {
    toks: &'a [Tok],
    pos: usize,
    end: usize,
    local: F,
    depth: usize,
    /// Operators read so far (bounded so that evaluation cannot recurse too deeply).
    ops: usize,
}

fn level(op: &str) -> Option<u8> {
    Some(match op {
        "*" | "/" | "%" | "<<" | ">>" => 4,
        "|" | "&" | "^" | "!" => 3,
        "+" | "-" | "==" | "!=" | "<>" | "<" | ">" | "<=" | ">=" => 2,
        "&&" | "||" => 1,
        _ => return None,
    })
}

impl<'a, F: FnMut(u64, bool, usize) -> Result<String, ExprError>> Parser<'a, F> {
    /// A parser over `toks`; `end` is the byte offset to report for a missing operand.
    pub(crate) fn new(toks: &'a [Tok], end: usize, local: F) -> Self {
        Parser {
            toks,
            pos: 0,
            end,
            local,
            depth: 0,
            ops: 0,
        }
    }

    /// The tokens not consumed yet.
    pub(crate) fn rest(&self) -> &'a [Tok] {
        &self.toks[self.pos..]
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.col)
    }

    /// Parses a whole expression.
    pub(crate) fn parse(&mut self) -> Result<Expr, ExprError> {
        self.binary(1)
    }

    fn binary(&mut self, min: u8) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        while let Some(t) = self.toks.get(self.pos) {
            // `%name` in operator position is `%` followed by the symbol `name`.
            let (op, lvl) = match &t.kind {
                Tk::P(p) => match level(p) {
                    Some(l) if l >= min => (*p, l),
                    _ => break,
                },
                Tk::Mod(_) if 4 >= min => ("%", 4),
                _ => break,
            };
            let at = t.col;
            self.ops += 1;
            if self.ops > 1000 {
                return Err((
                    at,
                    "expression too long: expected at most 1000 operators".into(),
                ));
            }
            let rhs = if let Tk::Mod(name) = &t.kind {
                let e = Expr::Sym(name.clone(), t.col + 1);
                self.pos += 1;
                e
            } else {
                self.pos += 1;
                self.binary(lvl + 1)?
            };
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs), at);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        self.depth += 1;
        if self.depth > 200 {
            return Err((self.here(), "expression nested too deeply".into()));
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Expr, ExprError> {
        let Some(t) = self.toks.get(self.pos) else {
            return Err((self.end, "expected an expression".into()));
        };
        let col = t.col;
        self.pos += 1;
        match &t.kind {
            Tk::Num(v) => Ok(Expr::Num(*v as i64)),
            Tk::Ident(name) if name == "." => Ok(Expr::Dot),
            Tk::Ident(name) => Ok(Expr::Sym(name.clone(), col)),
            Tk::LocalRef(n, fwd) => {
                let name = (self.local)(*n, *fwd, col)?;
                Ok(Expr::Sym(name, col))
            }
            Tk::P(p @ ("-" | "~" | "!" | "+")) => {
                let e = self.unary()?;
                Ok(match (p, e) {
                    (&"-", Expr::Num(v)) => Expr::Num(v.wrapping_neg()),
                    (&"+", e) => e,
                    (p, e) => Expr::Un(p, Box::new(e)),
                })
            }
            Tk::P("(") => {
                let e = self.binary(1)?;
                match self.toks.get(self.pos) {
                    Some(Tok {
                        kind: Tk::P(")"), ..
                    }) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err((self.here(), "expected `)`".into())),
                }
            }
            Tk::Mod(m) => Err((
                col,
                format!("`%{m}` is only allowed as a whole instruction operand"),
            )),
            Tk::Str(_) => Err((col, "expected an expression, found a string".into())),
            Tk::P(p) => Err((col, format!("expected an expression, found `{p}`"))),
        }
    }
}

/// How symbols get their values during evaluation.
pub(crate) trait Env {
    /// The value of `name`, `Ok(None)` if it is not known (yet), or an error.
    fn symbol(&mut self, name: &str, at: usize) -> Result<Option<i64>, ExprError>;
}

/// Evaluates `e` with `.` = `dot` (`None`: `.` is not known). `Ok(None)` when a symbol
/// (or `.`) is not known.
pub(crate) fn eval(
    e: &Expr,
    env: &mut dyn Env,
    dot: Option<i64>,
) -> Result<Option<i64>, ExprError> {
    Ok(match e {
        Expr::Num(v) => Some(*v),
        Expr::Dot => dot,
        Expr::Sym(name, at) => env.symbol(name, *at)?,
        Expr::Un(op, a) => {
            let Some(a) = eval(a, env, dot)? else {
                return Ok(None);
            };
            Some(match *op {
                "-" => a.wrapping_neg(),
                "~" => !a,
                "!" => (a == 0) as i64,
                _ => a,
            })
        }
        Expr::Bin(op, a, b, at) => {
            let (Some(x), Some(y)) = (eval(a, env, dot)?, eval(b, env, dot)?) else {
                return Ok(None);
            };
            let t = |c: bool| if c { -1 } else { 0 };
            Some(match *op {
                "*" => x.wrapping_mul(y),
                "/" | "%" if y == 0 => return Err((*at, "division by zero".into())),
                "/" => x.wrapping_div(y),
                "%" => x.wrapping_rem(y),
                "<<" => {
                    if (0..64).contains(&y) {
                        x << y
                    } else {
                        0
                    }
                }
                // GNU as shifts right logically (its values are unsigned).
                ">>" => {
                    if (0..64).contains(&y) {
                        ((x as u64) >> y) as i64
                    } else {
                        0
                    }
                }
                "|" => x | y,
                "&" => x & y,
                "^" => x ^ y,
                "!" => x | !y,
                "+" => x.wrapping_add(y),
                "-" => x.wrapping_sub(y),
                "==" => t(x == y),
                "!=" | "<>" => t(x != y),
                "<" => t(x < y),
                ">" => t(x > y),
                "<=" => t(x <= y),
                ">=" => t(x >= y),
                "&&" => (x != 0 && y != 0) as i64,
                "||" => (x != 0 || y != 0) as i64,
                _ => return Err((*at, format!("unknown operator `{op}`"))),
            })
        }
    })
}

/// Collects the symbols `e` mentions, with where they are used.
pub(crate) fn symbols<'e>(e: &'e Expr, out: &mut Vec<(&'e str, usize)>) {
    match e {
        Expr::Sym(n, at) => out.push((n, *at)),
        Expr::Un(_, a) => symbols(a, out),
        Expr::Bin(_, a, b, _) => {
            symbols(a, out);
            symbols(b, out);
        }
        _ => {}
    }
}

/// Whether `e` mentions `.`.
pub(crate) fn has_dot(e: &Expr) -> bool {
    match e {
        Expr::Dot => true,
        Expr::Un(_, a) => has_dot(a),
        Expr::Bin(_, a, b, _) => has_dot(a) || has_dot(b),
        _ => false,
    }
}

/// The byte offset where `e` starts (best effort, for errors).
pub(crate) fn start(e: &Expr) -> Option<usize> {
    match e {
        Expr::Sym(_, at) => Some(*at),
        Expr::Un(_, a) => start(a),
        Expr::Bin(_, a, _, at) => start(a).or(Some(*at)),
        _ => None,
    }
}
