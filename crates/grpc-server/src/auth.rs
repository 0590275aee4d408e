//! Bearer tokens: a tokens file maps the SHA-256 of each token to a principal and a role. Tokens are never
//! stored or logged in clear, and are compared in constant time.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::metadata::MetadataMap;

use crate::error::{Result, ServiceError};

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read.
    Reader,
    /// Read and write data.
    Editor,
    /// Everything.
    Admin,
}

/// Who calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The principal's name, e.g. `editor@coe`; `anonymous` without a token.
    pub name: String,
    /// Its role; `None` for an anonymous caller.
    pub role: Option<Role>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    principal: String,
    role: Role,
    /// Lowercase hex of the SHA-256 of the token.
    sha256: String,
}

/// The tokens the server accepts, and whether reads need one.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    entries: Vec<([u8; 32], String, Role)>,
    /// Reads need a token too.
    pub require_token_for_reads: bool,
}

/// The SHA-256 of a token, as lowercase hex (what the tokens file holds).
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}

/// Equal in constant time (for equal lengths).
fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Auth {
    /// No tokens: anonymous reads only (or nothing, when reads need a token).
    pub fn anonymous_only(require_token_for_reads: bool) -> Auth {
        Auth { entries: Vec::new(), require_token_for_reads }
    }

    /// Reads a tokens file:
    ///
    /// ```toml
    /// [[token]]
    /// principal = "editor@coe"
    /// role = "editor"            # reader, editor or admin
    /// sha256 = "9f86d081..."     # `cybercrime hash-token TOKEN` prints it
    /// ```
    pub fn load(path: &Path, require_token_for_reads: bool) -> anyhow::Result<Auth> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read tokens file {}: {e}", path.display()))?;
        let file: TokensFile =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("tokens file {}: {}", path.display(), e.message()))?;
        let mut entries = Vec::new();
        for (i, t) in file.token.into_iter().enumerate() {
            let hash = parse_hex32(&t.sha256.to_lowercase()).ok_or_else(|| {
                anyhow::anyhow!(
                    "tokens file {}: token #{}: `sha256` must be 64 hexadecimal digits",
                    path.display(),
                    i + 1
                )
            })?;
            entries.push((hash, t.principal, t.role));
        }
        Ok(Auth { entries, require_token_for_reads })
    }

    /// The principal of a request, from its `authorization: Bearer TOKEN` header.
    pub fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        let Some(value) = metadata.get("authorization") else {
            return Ok(Principal { name: "anonymous".to_owned(), role: None });
        };
        let value =
            value.to_str().map_err(|_| ServiceError::Unauthenticated("the authorization header is not text".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ServiceError::Unauthenticated("the authorization header must be `Bearer TOKEN`".into()))?;
        let hash: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
        // Look at every entry, so that the time taken does not tell which matched.
        let mut found = None;
        for (h, name, role) in &self.entries {
            if ct_eq(h, &hash) && found.is_none() {
                found = Some(Principal { name: name.clone(), role: Some(*role) });
            }
        }
        found.ok_or_else(|| ServiceError::Unauthenticated("the token is not valid".into()))
    }

    /// The principal of a read.
    pub fn reader(&self, metadata: &MetadataMap) -> Result<Principal> {
        let p = self.principal(metadata)?;
        if self.require_token_for_reads && p.role.is_none() {
            return Err(ServiceError::Unauthenticated(
                "this server requires a token: `authorization: Bearer TOKEN`".into(),
            ));
        }
        Ok(p)
    }

    /// The principal of a write: editor or admin.
    pub fn editor(&self, metadata: &MetadataMap) -> Result<Principal> {
        let p = self.principal(metadata)?;
        match p.role {
            None => Err(ServiceError::Unauthenticated("writes need a token: `authorization: Bearer TOKEN`".into())),
            Some(Role::Reader) => Err(ServiceError::PermissionDenied(format!(
                "{} is a reader; writes need the editor or admin role",
                p.name
            ))),
            Some(Role::Editor | Role::Admin) => Ok(p),
        }
    }
}
