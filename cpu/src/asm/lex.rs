//! The lexer: source text to statements of tokens, with comments removed.
//!
//! Comments are `#` and `//` to the end of the line and `/* ... */` (which may span lines);
//! `;` separates statements on one line. Every token keeps the byte offset in its line where
//! it starts, so that errors can point at it.

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tk {
    /// A name: a symbol, mnemonic, directive (with its `.`), register or `.` itself.
    Ident(String),
    /// A number (as written; a value above `i64::MAX` wraps when used).
    Num(u64),
    /// A string constant, escapes resolved.
    Str(Vec<u8>),
    /// A numeric local label reference: `1b` (false) or `1f` (true).
    LocalRef(u64, bool),
    /// `%name`: a relocation modifier such as `%hi` (or `%` followed by a name).
    Mod(String),
    /// Punctuation or an operator.
    P(&'static str),
}

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tok {
    /// What it is.
    pub kind: Tk,
    /// Its byte offset in the line.
    pub col: usize,
    /// The byte offset just past it.
    pub end: usize,
}

/// One statement: the tokens between `;`, line ends and comments.
#[derive(Clone, Debug)]
pub(crate) struct Stmt {
    /// The line, 0-based.
    pub line: usize,
    /// The tokens (never empty).
    pub toks: Vec<Tok>,
    /// The byte offset just past the statement's text (where a missing operand would go).
    pub end: usize,
}

/// A lexical error: line (0-based), byte offset, message.
pub(crate) type LexError = (usize, usize, String);

const PUNCTS: [&str; 24] = [
    "<<", ">>", "==", "!=", "<=", ">=", "&&", "||", "<>", ",", "(", ")", "+", "-", "*", "/", "%",
    "&", "|", "^", "~", "!", ":", "=",
];
const PUNCTS1: [&str; 3] = ["<", ">", "@"];

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'.' || c == b'$'
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'$'
}

/// Reads one escape after a backslash at `s[*i]` (the character after `\`).
fn escape(s: &[u8], i: &mut usize) -> u8 {
    let c = s[*i];
    *i += 1;
    match c {
        b'n' => b'\n',
        b't' => b'\t',
        b'r' => b'\r',
        b'b' => 8,
        b'f' => 12,
        b'v' => 11,
        b'a' => 7,
        b'e' => 27,
        b'0'..=b'7' => {
            let mut v: u32 = (c - b'0') as u32;
            let mut n = 1;
            while n < 3 && *i < s.len() && (b'0'..=b'7').contains(&s[*i]) {
                v = v * 8 + (s[*i] - b'0') as u32;
                *i += 1;
                n += 1;
            }
            v as u8
        }
        b'x' | b'X' => {
            let mut v: u32 = 0;
            while *i < s.len() && s[*i].is_ascii_hexdigit() {
                v = (v * 16 + (s[*i] as char).to_digit(16).unwrap_or(0)) & 0xff;
                *i += 1;
            }
            v as u8
        }
        other => {
            // Keep to character boundaries: skip the rest of a multi-byte character.
            while *i < s.len() && s[*i] & 0xc0 == 0x80 {
                *i += 1;
            }
            other
        }
    }
}

/// Splits the source into statements. Errors are collected; the statement with an error is
/// dropped.
pub(crate) fn lex(source: &str) -> (Vec<Stmt>, Vec<LexError>) {
    let mut stmts = Vec::new();
    let mut errors = Vec::new();
    let mut in_comment = false;
    for (ln, line) in source.split('\n').enumerate() {
        let s = line.as_bytes();
        let mut i = 0;
        let mut toks: Vec<Tok> = Vec::new();
        let mut bad = false;
        let mut flush = |toks: &mut Vec<Tok>, bad: &mut bool, end: usize| {
            if !toks.is_empty() && !*bad {
                stmts.push(Stmt {
                    line: ln,
                    toks: std::mem::take(toks),
                    end,
                });
            }
            toks.clear();
            *bad = false;
        };
        while i < s.len() {
            if in_comment {
                if s[i] == b'*' && s.get(i + 1) == Some(&b'/') {
                    in_comment = false;
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            let c = s[i];
            let start = i;
            if c == b' ' || c == b'\t' || c == b'\r' || c == 0x0c || c == 0x0b {
                i += 1;
                continue;
            }
            if c == b'#' || (c == b'/' && s.get(i + 1) == Some(&b'/')) {
                break;
            }
            if c == b'/' && s.get(i + 1) == Some(&b'*') {
                in_comment = true;
                i += 2;
                continue;
            }
            if c == b';' {
                flush(&mut toks, &mut bad, i);
                i += 1;
                continue;
            }
            if bad {
                i += 1;
                continue;
            }
            let mut err = |msg: String, at: usize| {
                errors.push((ln, at, msg));
            };
            let kind = if ident_start(c) {
                while i < s.len() && ident_char(s[i]) {
                    i += 1;
                }
                Tk::Ident(line[start..i].to_string())
            } else if c.is_ascii_digit() {
                match number(s, &mut i) {
                    Ok(k) => k,
                    Err(m) => {
                        err(m, start);
                        bad = true;
                        continue;
                    }
                }
            } else if c == b'"' {
                i += 1;
                let mut v = Vec::new();
                let mut closed = false;
                while i < s.len() {
                    match s[i] {
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        b'\\' if i + 1 < s.len() => {
                            i += 1;
                            v.push(escape(s, &mut i));
                        }
                        b => {
                            v.push(b);
                            i += 1;
                        }
                    }
                }
                if !closed {
                    err("unterminated string: expected a closing `\"`".into(), start);
                    bad = true;
                    continue;
                }
                Tk::Str(v)
            } else if c == b'\'' {
                i += 1;
                if i >= s.len() {
                    err("expected a character after `'`".into(), start);
                    bad = true;
                    continue;
                }
                let v = if s[i] == b'\\' && i + 1 < s.len() {
                    i += 1;
                    escape(s, &mut i) as u64
                } else {
                    // A whole UTF-8 character counts as its code point.
                    let ch = line[i..].chars().next().unwrap_or('\0');
                    i += ch.len_utf8();
                    ch as u64
                };
                if i < s.len() && s[i] == b'\'' {
                    i += 1;
                }
                Tk::Num(v)
            } else if c == b'%' && i + 1 < s.len() && ident_start(s[i + 1]) && s[i + 1] != b'.' {
                i += 1;
                let b = i;
                while i < s.len() && ident_char(s[i]) {
                    i += 1;
                }
                Tk::Mod(line[b..i].to_string())
            } else if let Some(p) = PUNCTS
                .iter()
                .chain(PUNCTS1.iter())
                .find(|p| s[i..].starts_with(p.as_bytes()))
            {
                i += p.len();
                Tk::P(p)
            } else {
                let ch = line[i..].chars().next().unwrap_or('?');
                err(format!("unexpected character `{ch}`"), start);
                bad = true;
                i += ch.len_utf8().max(1);
                continue;
            };
            toks.push(Tok {
                kind,
                col: start,
                end: i,
            });
        }
        let end = line.trim_end().len();
        let last = toks.last().map_or(0, |t: &Tok| t.end);
        flush(&mut toks, &mut bad, end.max(last));
    }
    (stmts, errors)
}

fn number(s: &[u8], i: &mut usize) -> Result<Tk, String> {
    let start = *i;
    let mut end = start;
    while end < s.len() && ident_char(s[end]) {
        end += 1;
    }
    let text = std::str::from_utf8(&s[start..end]).unwrap_or("");
    *i = end;
    let bad = || format!("invalid number `{text}`");
    let radix = |digits: &str, radix: u32| -> Result<u64, String> {
        if digits.is_empty() {
            return Err(bad());
        }
        let mut v: u64 = 0;
        for ch in digits.chars() {
            let d = ch.to_digit(radix).ok_or_else(bad)?;
            v = v
                .checked_mul(radix as u64)
                .and_then(|v| v.checked_add(d as u64))
                .ok_or_else(|| format!("number `{text}` does not fit in 64 bits"))?;
        }
        Ok(v)
    };
    let lower = text.to_ascii_lowercase();
    // A local label reference: digits then `b` or `f`.
    if lower.len() >= 2 {
        let (head, last) = lower.split_at(lower.len() - 1);
        if (last == "b" || last == "f") && head.bytes().all(|b| b.is_ascii_digit()) {
            let n = radix(head, 10)?;
            return Ok(Tk::LocalRef(n, last == "f"));
        }
    }
    let v = if let Some(h) = lower.strip_prefix("0x") {
        radix(h, 16)?
    } else if let Some(b) = lower.strip_prefix("0b") {
        radix(b, 2)?
    } else if lower.len() > 1 && lower.starts_with('0') {
        radix(&lower[1..], 8)?
    } else {
        radix(&lower, 10)?
    };
    Ok(Tk::Num(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_comments() {
        let (s, e) =
            lex("a: addi a0, a0, 1 # c\n/* x\n y */ li t0, 0x10; j 1b // z\n.ascii \"a\\n\"");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(s.len(), 4);
        assert_eq!(s[1].line, 2);
        assert_eq!(s[1].toks[3].kind, Tk::Num(16));
        assert_eq!(s[2].toks[1].kind, Tk::LocalRef(1, false));
        assert_eq!(s[3].toks[1].kind, Tk::Str(b"a\n".to_vec()));
    }

    #[test]
    fn numbers() {
        let (s, _) = lex("x 010 0b101 'a' '\\n' 12f '\\é' \"\\é\"");
        let k: Vec<_> = s[0].toks.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(
            k[1..],
            [
                Tk::Num(8),
                Tk::Num(5),
                Tk::Num(97),
                Tk::Num(10),
                Tk::LocalRef(12, true),
                // An escaped multi-byte character keeps its first byte.
                Tk::Num(0xc3),
                Tk::Str(vec![0xc3]),
            ]
        );
    }
}
