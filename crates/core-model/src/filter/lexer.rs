//! The filter language's tokens: operators, parentheses, quoted strings (with their two escapes), integers,
//! words and the keywords AND, OR and NOT, each with its byte position.

use super::FilterError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RawOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Has,
}

impl RawOp {
    pub(super) fn text(self) -> &'static str {
        match self {
            RawOp::Eq => "=",
            RawOp::Ne => "!=",
            RawOp::Lt => "<",
            RawOp::Le => "<=",
            RawOp::Gt => ">",
            RawOp::Ge => ">=",
            RawOp::Has => ":",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    LParen,
    RParen,
    Minus,
    Op(RawOp),
    /// A quoted string, without its quotes and with its escapes (already checked) still in.
    Str(&'a str),
    Int(&'a str),
    Word(&'a str),
    And,
    Or,
    Not,
    End,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    pub(super) tok: Tok<'a>,
    pub(super) pos: usize,
}

pub(super) fn describe(tok: Tok<'_>) -> String {
    match tok {
        Tok::LParen => "`(`".to_owned(),
        Tok::RParen => "`)`".to_owned(),
        Tok::Minus => "`-`".to_owned(),
        Tok::Op(op) => format!("`{}`", op.text()),
        Tok::Str(_) => "a string".to_owned(),
        Tok::Int(i) => format!("the integer {i}"),
        Tok::Word(w) => format!("`{w}`"),
        Tok::And => "AND".to_owned(),
        Tok::Or => "OR".to_owned(),
        Tok::Not => "NOT".to_owned(),
        Tok::End => "the end of the filter".to_owned(),
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '=' | '!' | '<' | '>' | ':')
}

#[derive(Debug)]
pub(super) struct Lexer<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn next_token(&mut self) -> Result<Token<'a>, FilterError> {
        let rest = &self.text[self.pos..];
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
        let start = self.pos;
        let rest = trimmed;
        let Some(c) = rest.chars().next() else { return Ok(Token { tok: Tok::End, pos: start }) };
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '-' => (Tok::Minus, 1),
            ':' => (Tok::Op(RawOp::Has), 1),
            '=' => (Tok::Op(RawOp::Eq), 1),
            '!' if rest.starts_with("!=") => (Tok::Op(RawOp::Ne), 2),
            '!' => {
                return Err(FilterError::new(start, "unexpected `!`; the operators are =, !=, <, <=, >, >= and :"));
            }
            '<' if rest.starts_with("<=") => (Tok::Op(RawOp::Le), 2),
            '<' => (Tok::Op(RawOp::Lt), 1),
            '>' if rest.starts_with(">=") => (Tok::Op(RawOp::Ge), 2),
            '>' => (Tok::Op(RawOp::Gt), 1),
            '"' => {
                let len = string_len(rest, start)?;
                (Tok::Str(&rest[1..len - 1]), len)
            }
            _ => {
                let len = rest.find(|c| !is_word_char(c)).unwrap_or(rest.len());
                let word = &rest[..len];
                let tok = match word {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ if word.bytes().all(|b| b.is_ascii_digit()) => Tok::Int(word),
                    _ => Tok::Word(word),
                };
                (tok, len)
            }
        };
        self.pos += len;
        Ok(Token { tok, pos: start })
    }
}

/// The length in bytes of the quoted string `rest` starts with, quotes included; `start` is its position.
fn string_len(rest: &str, start: usize) -> Result<usize, FilterError> {
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok(i + 1),
            '\\' => match chars.next() {
                Some((_, '"' | '\\')) => {}
                Some((_, other)) => {
                    return Err(FilterError::new(
                        start + i,
                        format!("unknown escape `\\{other}` in a string; only \\\" and \\\\ are allowed"),
                    ));
                }
                None => break,
            },
            _ => {}
        }
    }
    Err(FilterError::new(start, "unterminated string: no `\"` closes it"))
}

pub(super) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}
