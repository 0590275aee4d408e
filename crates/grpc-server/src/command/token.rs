//! The token `cybercrime hash-token` reads from standard input.

use std::io::IsTerminal;

use anyhow::Context;

/// The token of `hash-token`: one line of standard input, its line ending removed; refused when it is not fit
/// for a tokens file (too short, or holding characters an `authorization` header cannot carry as sent).
pub(crate) fn read_token() -> anyhow::Result<String> {
    use std::io::{BufRead, Read};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("cybercrime: type the token and press Enter");
    }
    let mut lock = stdin.lock();
    let mut line = String::new();
    lock.read_line(&mut line).context("cannot read the token from standard input")?;
    let mut rest = String::new();
    if !stdin.is_terminal() {
        lock.read_to_string(&mut rest).context("cannot read standard input")?;
    }
    let token = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
    if !rest.is_empty() {
        anyhow::bail!("standard input holds more than one line: give the token alone, on one line");
    }
    if token.is_empty() {
        anyhow::bail!("no token on standard input: `cybercrime hash-token < token.txt`");
    }
    if let Some(c) = token.chars().find(|c| !c.is_ascii_graphic()) {
        anyhow::bail!(
            "the token holds {c:?}: a token is printable ASCII without spaces (it travels in an HTTP header, and \
             the server ignores the spaces around it)"
        );
    }
    let n = token.chars().count();
    if n < grpc_server::auth::MIN_TOKEN_CHARS {
        anyhow::bail!(
            "the token has {n} characters: a token needs at least {} (the tokens file keeps only its unsalted \
             SHA-256, which protects long random tokens only); `cybercrime new-token` makes one",
            grpc_server::auth::MIN_TOKEN_CHARS
        );
    }
    Ok(token.to_owned())
}
