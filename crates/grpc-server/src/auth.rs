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

/// The shortest token `cybercrime hash-token` accepts, in characters. The tokens file holds unsalted SHA-256
/// hashes, which only protect long random tokens (`cybercrime new-token` makes 64 hexadecimal digits).
pub const MIN_TOKEN_CHARS: usize = 24;

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

/// What users other than the file's owner may do with `path` (`"readable by group or others"`, ...), when
/// anything; `None` when only its owner has access, or when this cannot be known (not Unix, or no metadata).
/// A tokens or password file others can read gives away the hashes of weak tokens or the password itself; one
/// others can write lets them add a token of their own.
pub fn others_access(path: &Path) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        match (mode & 0o044 != 0, mode & 0o022 != 0) {
            (true, true) => Some("readable and writable by group or others"),
            (true, false) => Some("readable by group or others"),
            (false, true) => Some("writable by group or others"),
            (false, false) => None,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
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
    /// sha256 = "9f86d081..."     # `cybercrime new-token` prints it, `cybercrime hash-token` too
    /// ```
    ///
    /// A file others may read or write is served, with a warning in the log.
    pub fn load(path: &Path, require_token_for_reads: bool) -> anyhow::Result<Auth> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read tokens file {}: {e}", path.display()))?;
        if let Some(access) = others_access(path) {
            tracing::warn!(
                file = %path.display(),
                access,
                "the tokens file is {access}: restrict it to the server's user (chmod 600)"
            );
        }
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

    /// The principal of a request, from its `authorization: Bearer TOKEN` header. A request with more than one
    /// `authorization` value is refused (UNAUTHENTICATED) rather than judged by one of them: a proxy that reads
    /// another one would disagree about who calls. The scheme is case-insensitive (RFC 7235: `Bearer`, `bearer`,
    /// `BEARER`); the token is taken without the white space around it.
    pub fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        let mut values = metadata.get_all("authorization").iter();
        let Some(value) = values.next() else {
            return Ok(Principal { name: "anonymous".to_owned(), role: None });
        };
        if values.next().is_some() {
            return Err(ServiceError::Unauthenticated(
                "the request has more than one authorization header: send exactly one, `Bearer TOKEN`".into(),
            ));
        }
        let value =
            value.to_str().map_err(|_| ServiceError::Unauthenticated("the authorization header is not text".into()))?;
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
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

    /// The principal of an admin's call (AdminService).
    pub fn admin(&self, metadata: &MetadataMap) -> Result<Principal> {
        let p = self.principal(metadata)?;
        match p.role {
            None => {
                Err(ServiceError::Unauthenticated("admin methods need a token: `authorization: Bearer TOKEN`".into()))
            }
            Some(Role::Admin) => Ok(p),
            Some(Role::Reader | Role::Editor) => Err(ServiceError::PermissionDenied(format!(
                "{} is not an admin; this method needs the admin role",
                p.name
            ))),
        }
    }

    /// The principal of a call that needs `role` ([`crate::method::Method::role`]): a read, a write or an
    /// admin's call.
    pub fn check(&self, role: Role, metadata: &MetadataMap) -> Result<Principal> {
        match role {
            Role::Reader => self.reader(metadata),
            Role::Editor => self.editor(metadata),
            Role::Admin => self.admin(metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;

    const EDITOR: &str = "editor-token-0123456789abcdef";
    const READER: &str = "reader-token-0123456789abcdef";

    fn auth() -> Auth {
        let entry =
            |token: &str, name: &str, role| (parse_hex32(&hash_token(token)).expect("hash"), name.to_owned(), role);
        Auth {
            entries: vec![entry(EDITOR, "editor@test", Role::Editor), entry(READER, "reader@test", Role::Reader)],
            require_token_for_reads: false,
        }
    }

    fn metadata(values: &[&str]) -> MetadataMap {
        let mut m = MetadataMap::new();
        for v in values {
            m.append("authorization", MetadataValue::try_from(*v).expect("ASCII"));
        }
        m
    }

    fn refusal(values: &[&str]) -> String {
        match auth().principal(&metadata(values)) {
            Err(ServiceError::Unauthenticated(m)) => m,
            other => panic!("{values:?}: not UNAUTHENTICATED: {other:?}"),
        }
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let p = auth().principal(&metadata(&[&format!("{scheme} {EDITOR}")])).expect(scheme);
            assert_eq!((p.name.as_str(), p.role), ("editor@test", Some(Role::Editor)), "{scheme}");
        }
        // White space around the token is not part of it.
        let p = auth().principal(&metadata(&[&format!("Bearer   {EDITOR}  ")])).expect("spaces");
        assert_eq!(p.name, "editor@test");
        for other in [format!("Basic {EDITOR}"), format!("Bearer{EDITOR}"), format!("Bearers {EDITOR}"), EDITOR.into()]
        {
            assert_eq!(refusal(&[&other]), "the authorization header must be `Bearer TOKEN`", "{other}");
        }
        assert_eq!(refusal(&["Bearer not-a-known-token-at-all-xxxx"]), "the token is not valid");
    }

    #[test]
    fn more_than_one_authorization_header_is_refused_whatever_they_hold() {
        let expected = "the request has more than one authorization header: send exactly one, `Bearer TOKEN`";
        let editor = format!("Bearer {EDITOR}");
        let reader = format!("Bearer {READER}");
        for values in [
            vec![editor.as_str(), reader.as_str()],
            vec![reader.as_str(), editor.as_str()],
            vec!["garbage", editor.as_str()],
            vec![editor.as_str(), editor.as_str()],
        ] {
            assert_eq!(refusal(&values), expected, "{values:?}");
        }
        // One header: as before.
        assert_eq!(auth().principal(&metadata(&[&reader])).expect("reader").name, "reader@test");
        assert_eq!(auth().principal(&metadata(&[])).expect("anonymous").name, "anonymous");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_or_write_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tokens.toml");
        std::fs::write(&path, "").expect("write");
        for (mode, expected) in [
            (0o600, None),
            (0o400, None),
            (0o640, Some("readable by group or others")),
            (0o604, Some("readable by group or others")),
            (0o620, Some("writable by group or others")),
            (0o666, Some("readable and writable by group or others")),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            assert_eq!(others_access(&path), expected, "{mode:o}");
        }
    }
}
