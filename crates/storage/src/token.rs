//! Opaque page tokens: the position after the last item of a page, bound to the list and filter they were
//! issued for, so that a token from another list or a forged one is rejected.

use crate::{Result, StorageError};

/// A 64-bit FNV-1a hash: stable across builds and platforms (std's hasher is not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The token for the page after the item at `seq`, in the list `scope` (the list and its canonical filter).
pub fn encode(scope: &str, seq: i64) -> String {
    let body = format!("{seq:016x}{:016x}", fnv1a(scope.as_bytes()));
    let check = fnv1a(format!("cybercrime-page:{body}").as_bytes());
    format!("{body}{check:016x}")
}

/// The position a token stands for, if it was issued for `scope`. An empty token is the first page.
pub fn decode(scope: &str, token: &str) -> Result<i64> {
    if token.is_empty() {
        return Ok(i64::MIN);
    }
    let bad = |why: &str| StorageError::PageToken(why.to_owned());
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("not a token this service issued"));
    }
    let (body, check) = token.split_at(32);
    if u64::from_str_radix(check, 16).ok() != Some(fnv1a(format!("cybercrime-page:{body}").as_bytes())) {
        return Err(bad("not a token this service issued"));
    }
    let (seq, hash) = body.split_at(16);
    if u64::from_str_radix(hash, 16).ok() != Some(fnv1a(scope.as_bytes())) {
        return Err(bad("issued for another list or filter"));
    }
    u64::from_str_radix(seq, 16).map(|s| s as i64).map_err(|_| bad("not a token this service issued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_scope() {
        let t = encode("activities?status = \"COMPLETED\"", 42);
        assert_eq!(decode("activities?status = \"COMPLETED\"", &t).unwrap(), 42);
        assert!(decode("activities?", &t).unwrap_err().to_string().contains("another list or filter"));
        let mut forged = t.clone();
        forged.replace_range(15..16, if &t[15..16] == "0" { "1" } else { "0" });
        assert!(decode("activities?status = \"COMPLETED\"", &forged).unwrap_err().to_string().contains("not a token"));
        assert!(decode("x", "zz").is_err());
        assert_eq!(decode("x", "").unwrap(), i64::MIN);
    }
}
