//! CSRF double-submit, as AuthX does it, minus its holes.
//!
//! The CSRF value is a random claim (`csrf`, 128 bits) inside the signed
//! token; the client reads it from the non-HttpOnly `csrf_*` cookie and
//! echoes it in the `X-CSRF-TOKEN` header. The header is compared with the
//! claim (not with the cookie), in constant time (X1). Unlike AuthX, an
//! empty header or an empty claim never passes (X2). Access and refresh
//! tokens carry independent values, so one never unlocks the other (X3).
//! The check applies only to tokens read from cookies, for the methods in
//! `csrf_methods` (X4).

use subtle::ConstantTimeEq;

use crate::error::{ErrorKind, Result};

/// Compares the presented CSRF value with the token's claim.
///
/// ```
/// use authx::{csrf, ErrorKind};
/// assert!(csrf::check(Some("abc"), Some("abc")).is_ok());
/// assert_eq!(csrf::check(Some("abc"), None).unwrap_err(), ErrorKind::MissingCsrfToken);
/// assert_eq!(csrf::check(Some("abc"), Some("abd")).unwrap_err(), ErrorKind::CsrfMismatch);
/// assert_eq!(csrf::check(Some(""), Some("")).unwrap_err(), ErrorKind::MissingCsrfToken);
/// ```
pub fn check(claim: Option<&str>, presented: Option<&str>) -> Result<()> {
    let presented = presented
        .filter(|p| !p.is_empty())
        .ok_or(ErrorKind::MissingCsrfToken)?;
    let claim = claim
        .filter(|c| !c.is_empty())
        .ok_or(ErrorKind::CsrfMismatch)?;
    // ct_eq on slices of different lengths returns false without comparing;
    // the length of a random value is not a secret.
    if bool::from(claim.as_bytes().ct_eq(presented.as_bytes())) {
        Ok(())
    } else {
        Err(ErrorKind::CsrfMismatch.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_without_csrf_claim_never_passes() {
        assert_eq!(check(None, Some("x")).unwrap_err(), ErrorKind::CsrfMismatch);
        assert_eq!(
            check(Some(""), Some("x")).unwrap_err(),
            ErrorKind::CsrfMismatch
        );
    }

    #[test]
    fn empty_header_is_missing() {
        assert_eq!(
            check(Some("x"), Some("")).unwrap_err(),
            ErrorKind::MissingCsrfToken
        );
    }

    #[test]
    fn prefix_does_not_match() {
        assert_eq!(
            check(Some("abcdef"), Some("abc")).unwrap_err(),
            ErrorKind::CsrfMismatch
        );
    }
}
