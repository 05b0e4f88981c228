//! [`TokenPayload`]: the registered and authx claims of a verified token,
//! plus any custom data; and the one-pass strict parsers of the JOSE header
//! and the claims set.
//!
//! The parsers are hand-written serde visitors rather than derived structs
//! because the checklist needs what derive cannot give in one pass:
//! duplicate detection for *unknown* members (F5), a specific error per
//! mistyped claim (F10, C4), float NumericDates (C6), and a configurable
//! identity claim.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Malformed, Result};

/// Names a caller may not set through custom data or headers.
const REGISTERED: [&str; 12] = [
    "sub",
    "jti",
    "iat",
    "nbf",
    "exp",
    "type",
    "fresh",
    "csrf",
    "scopes",
    "aud",
    "iss",
    "login_type",
];

pub(crate) fn is_registered(name: &str) -> bool {
    REGISTERED.contains(&name)
}

/// Longest `jti` accepted (C10).
const MAX_JTI_LEN: usize = 256;
/// Latest NumericDate accepted: 9999-12-31T23:59:59Z (C4, C5).
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// Whether a token is an access or a refresh token (the `type` claim).
///
/// ```
/// use authx::TokenType;
/// assert_eq!(TokenType::Refresh.as_str(), "refresh");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// A short-lived token for API calls.
    Access,
    /// A long-lived token that only buys new access tokens.
    Refresh,
}

impl TokenType {
    /// The `type` claim value.
    ///
    /// ```
    /// assert_eq!(authx::TokenType::Access.as_str(), "access");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The claims of a verified token.
///
/// Times are seconds since the epoch as `f64`: NumericDates may be
/// fractional (RFC 7519 §2), and AuthX emits a fractional `exp`.
///
/// ```
/// use authx::{AuthX, AuthXConfig};
///
/// let auth = AuthX::new(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     ..Default::default()
/// })?;
/// let token = auth.create_access_token("user1")?;
/// let payload = auth.decode_token(&token)?;
/// assert_eq!(payload.sub, "user1");
/// assert!(payload.exp > payload.iat);
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TokenPayload {
    /// The subject (the configured identity claim, `sub` by default).
    pub sub: String,
    /// The unique token id.
    pub jti: String,
    /// Issued at.
    pub iat: f64,
    /// Issued at, in milliseconds (`iat_ms`, ours): lets "revoke everything
    /// issued before T" tell apart tokens issued in the same second.
    pub iat_ms: Option<i64>,
    /// Expires at.
    pub exp: f64,
    /// Not before, when present.
    pub nbf: Option<f64>,
    /// Access or refresh.
    pub token_type: TokenType,
    /// Whether the access token came from a fresh login.
    pub fresh: bool,
    /// The CSRF double-submit value, when the token was issued for cookies.
    pub csrf: Option<String>,
    /// Scopes granted, when present.
    pub scopes: Option<Vec<String>>,
    /// Audiences (empty when absent).
    pub aud: Vec<String>,
    /// Issuer, when present.
    pub iss: Option<String>,
    /// Every other claim, as sent.
    pub extra: Map<String, Value>,
}

impl TokenPayload {
    /// The custom claims as a typed value.
    ///
    /// ```
    /// use authx::{AuthX, AuthXConfig, TokenOptions};
    /// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    /// struct Role { role: String }
    ///
    /// let auth = AuthX::new(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// })?;
    /// let opts = TokenOptions::new().data(&Role { role: "admin".into() })?;
    /// let token = auth.create_access_token_with("u1", &opts)?;
    /// let role: Role = auth.decode_token(&token)?.custom()?;
    /// assert_eq!(role.role, "admin");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn custom<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&Value::Object(self.extra.clone()))
            .map_err(|_| ErrorKind::InvalidClaim("custom data").into())
    }

    /// Whether the token grants `required` scopes: all of them, or any one
    /// when `all` is false. A token scope `ns:*` grants `ns` and every
    /// `ns:...` (AuthX's wildcard); a bare `*` grants nothing special.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, TokenOptions};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let opts = TokenOptions::new().scopes(["users:*"]);
    /// let p = auth.decode_token(&auth.create_access_token_with("u", &opts)?)?;
    /// assert!(p.has_scopes(&["users:read"], true));
    /// assert!(!p.has_scopes(&["admin"], true));
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn has_scopes<S: AsRef<str>>(&self, required: &[S], all: bool) -> bool {
        if required.is_empty() {
            return true;
        }
        let provided = self.scopes.as_deref().unwrap_or_default();
        let granted = |r: &str| provided.iter().any(|p| scope_matches(r, p));
        if all {
            required.iter().all(|r| granted(r.as_ref()))
        } else {
            required.iter().any(|r| granted(r.as_ref()))
        }
    }

    /// [`has_scopes`](Self::has_scopes), as a `Result` with
    /// [`ErrorKind::InsufficientScope`] (403) on failure.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, TokenOptions};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let p = auth.decode_token(&auth.create_access_token_with("u", &TokenOptions::new().scopes(["read"]))?)?;
    /// assert!(p.require_scopes(&["read"], true).is_ok());
    /// assert_eq!(p.require_scopes(&["write"], true).unwrap_err().status(), 403);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn require_scopes<S: AsRef<str>>(&self, required: &[S], all: bool) -> Result<()> {
        if self.has_scopes(required, all) {
            return Ok(());
        }
        Err(ErrorKind::InsufficientScope {
            required: required.iter().map(|s| s.as_ref().to_owned()).collect(),
            provided: self.scopes.clone().unwrap_or_default(),
        }
        .into())
    }

    /// The session (refresh family) the token belongs to: its `sid` claim.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let p = auth.decode_token(&auth.create_access_token("u")?)?;
    /// assert_eq!(p.session_id(), None);
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn session_id(&self) -> Option<&str> {
        self.extra
            .get(crate::store::SESSION_CLAIM)
            .and_then(Value::as_str)
    }

    /// When the token was issued, in milliseconds: `iat_ms`, or `iat` when
    /// the issuer did not send it.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let p = auth.decode_token(&auth.create_access_token("u")?)?;
    /// assert_eq!(p.issued_at_ms() / 1000, p.iat as i64);
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn issued_at_ms(&self) -> i64 {
        self.iat_ms.unwrap_or((self.iat * 1000.0) as i64)
    }

    /// Seconds until expiry at `now` (negative once expired).
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let p = auth.decode_token(&auth.create_access_token("u")?)?;
    /// assert!(p.seconds_until_expiry(p.iat) > 0.0);
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn seconds_until_expiry(&self, now_secs: f64) -> f64 {
        self.exp - now_secs
    }
}

/// AuthX's `match_scope`: exact, or a provided `ns:*` matching `ns` and `ns:…`.
pub(crate) fn scope_matches(required: &str, provided: &str) -> bool {
    if required == provided {
        return true;
    }
    match provided.strip_suffix(":*") {
        Some(ns) if !ns.is_empty() => {
            required == ns
                || required
                    .strip_prefix(ns)
                    .is_some_and(|rest| rest.starts_with(':'))
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Records the specific failure while serde unwinds with a generic error.
#[derive(Default)]
struct Failure(Cell<Option<ErrorKind>>);

impl Failure {
    fn fail<E: de::Error>(&self, kind: ErrorKind) -> E {
        // Keep the first failure: it is the one that stopped the parse.
        let prev = self.0.take();
        self.0.set(Some(prev.unwrap_or(kind)));
        E::custom("rejected")
    }

    fn into_error(self, fallback: Malformed) -> Error {
        self.0
            .into_inner()
            .map_or_else(|| fallback.into(), Error::from)
    }
}

/// A string that borrows from the input when it has no escapes.
struct Str<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(v.to_owned().into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(v.into()))
            }
        }
        d.deserialize_str(V)
    }
}

/// A NumericDate: a non-negative, finite number no later than year 9999.
struct NumericDate(f64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                if v > MAX_NUMERIC_DATE as u64 {
                    return Err(E::custom("out of range"));
                }
                // In range, so exactly representable.
                Ok(NumericDate(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("negative"))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() && (0.0..=MAX_NUMERIC_DATE).contains(&v) {
                    Ok(NumericDate(v))
                } else {
                    Err(E::custom("out of range"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `aud`: one string or an array of strings.
struct Audience(Vec<String>);

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience(vec![v.to_owned()]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Audience(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// The JOSE header, as far as we honour it.
#[derive(Debug)]
pub(crate) struct Header<'a> {
    pub(crate) alg: std::borrow::Cow<'a, str>,
    pub(crate) kid: Option<std::borrow::Cow<'a, str>>,
}

struct HeaderVisitor<'f> {
    failure: &'f Failure,
}

impl<'de> Visitor<'de> for HeaderVisitor<'_> {
    type Value = Header<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'de>, A::Error> {
        let mut alg = None;
        let mut kid = None;
        let mut typ_seen = false;
        let mut others: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match key.0.as_ref() {
                "alg" => {
                    if alg.is_some() {
                        return Err(self.failure.fail(Malformed::DuplicateMember.into_kind()));
                    }
                    let v = map.next_value::<Str<'de>>().map_err(|_: A::Error| {
                        self.failure
                            .fail::<A::Error>(ErrorKind::InvalidClaim("alg"))
                    })?;
                    alg = Some(v.0);
                }
                "kid" => {
                    if kid.is_some() {
                        return Err(self.failure.fail(Malformed::DuplicateMember.into_kind()));
                    }
                    let v = map.next_value::<Str<'de>>().map_err(|_: A::Error| {
                        self.failure
                            .fail::<A::Error>(ErrorKind::InvalidClaim("kid"))
                    })?;
                    kid = Some(v.0);
                }
                "typ" => {
                    if typ_seen {
                        return Err(self.failure.fail(Malformed::DuplicateMember.into_kind()));
                    }
                    typ_seen = true;
                    map.next_value::<Str<'de>>().map_err(|_: A::Error| {
                        self.failure
                            .fail::<A::Error>(ErrorKind::InvalidClaim("typ"))
                    })?;
                }
                // Extensions we do not understand must not be ignored (F9), an
                // unencoded payload is never accepted (F8), and keys are never
                // fetched from the token itself (K2).
                "crit" => return Err(self.failure.fail(ErrorKind::ForbiddenHeader("crit"))),
                "b64" => return Err(self.failure.fail(ErrorKind::ForbiddenHeader("b64"))),
                "jku" => return Err(self.failure.fail(ErrorKind::ForbiddenHeader("jku"))),
                "x5u" => return Err(self.failure.fail(ErrorKind::ForbiddenHeader("x5u"))),
                "jwk" => return Err(self.failure.fail(ErrorKind::ForbiddenHeader("jwk"))),
                "x5c" => return Err(self.failure.fail(ErrorKind::ForbiddenHeader("x5c"))),
                other => {
                    if others.iter().any(|o| o == other) {
                        return Err(self.failure.fail(Malformed::DuplicateMember.into_kind()));
                    }
                    others.push(other.to_owned());
                    // Parsed, not skipped: skipping would not check UTF-8
                    // or surrogates in the value (F4).
                    map.next_value::<Value>()?;
                }
            }
        }
        let Some(alg) = alg else {
            return Err(self.failure.fail(ErrorKind::MissingClaim("alg")));
        };
        Ok(Header { alg, kid })
    }
}

impl Malformed {
    fn into_kind(self) -> ErrorKind {
        ErrorKind::Malformed(self)
    }
}

/// The decoded segment as text: one UTF-8 check over the whole segment
/// (an ASCII fast path, as claims nearly always are) lets serde_json parse
/// from a `str` and skip checking each string again.
fn utf8(json: &[u8], malformed: Malformed) -> Result<&str> {
    std::str::from_utf8(json).map_err(|_| malformed.into_kind().into())
}

pub(crate) fn parse_header(json: &[u8]) -> Result<Header<'_>> {
    let failure = Failure::default();
    let mut de = serde_json::Deserializer::from_str(utf8(json, Malformed::Header)?);
    let header = de
        .deserialize_map(HeaderVisitor { failure: &failure })
        .and_then(|h| de.end().map(|()| h));
    header.map_err(|_| failure.into_error(Malformed::Header))
}

/// Which claim each bit of the seen-set stands for.
#[derive(Clone, Copy)]
enum Field {
    Sub = 0,
    Jti,
    Iat,
    IatMs,
    Exp,
    Nbf,
    Type,
    Fresh,
    Csrf,
    Scopes,
    Aud,
    Iss,
}

struct ClaimsVisitor<'f> {
    identity_claim: &'f str,
    failure: &'f Failure,
}

impl<'de> Visitor<'de> for ClaimsVisitor<'_> {
    type Value = TokenPayload;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWT claims object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenPayload, A::Error> {
        let fail = |k: ErrorKind| self.failure.fail::<A::Error>(k);
        let mut seen: u16 = 0;
        let mut sub = None;
        let mut jti = None;
        let mut iat = None;
        let mut iat_ms = None;
        let mut exp = None;
        let mut nbf = None;
        let mut token_type = None;
        let mut fresh = None;
        let mut csrf = None;
        let mut scopes = None;
        let mut aud = Vec::new();
        let mut iss = None;
        let mut extra = Map::new();

        while let Some(key) = map.next_key::<Str<'de>>()? {
            let key = key.0;
            let field = if key == self.identity_claim {
                Field::Sub
            } else {
                match key.as_ref() {
                    "jti" => Field::Jti,
                    "iat" => Field::Iat,
                    "iat_ms" => Field::IatMs,
                    "exp" => Field::Exp,
                    "nbf" => Field::Nbf,
                    "type" => Field::Type,
                    "fresh" => Field::Fresh,
                    "csrf" => Field::Csrf,
                    "scopes" => Field::Scopes,
                    "aud" => Field::Aud,
                    "iss" => Field::Iss,
                    _ => {
                        let value = map.next_value::<Value>()?;
                        if extra.insert(key.into_owned(), value).is_some() {
                            return Err(fail(Malformed::DuplicateMember.into_kind()));
                        }
                        continue;
                    }
                }
            };
            let bit = 1u16 << (field as u16);
            if seen & bit != 0 {
                return Err(fail(Malformed::DuplicateMember.into_kind()));
            }
            seen |= bit;
            match field {
                Field::Sub => {
                    let v = map
                        .next_value::<String>()
                        .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("sub")))?;
                    if v.is_empty() {
                        return Err(fail(ErrorKind::InvalidClaim("sub")));
                    }
                    sub = Some(v);
                }
                Field::Jti => {
                    let v = map
                        .next_value::<String>()
                        .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("jti")))?;
                    if v.is_empty() || v.len() > MAX_JTI_LEN {
                        return Err(fail(ErrorKind::InvalidClaim("jti")));
                    }
                    jti = Some(v);
                }
                Field::Iat => {
                    iat = Some(
                        map.next_value::<NumericDate>()
                            .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("iat")))?
                            .0,
                    );
                }
                Field::IatMs => {
                    let v = map
                        .next_value::<u64>()
                        .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("iat_ms")))?;
                    iat_ms = Some(
                        i64::try_from(v).map_err(|_| fail(ErrorKind::InvalidClaim("iat_ms")))?,
                    );
                }
                Field::Exp => {
                    exp = Some(
                        map.next_value::<NumericDate>()
                            .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("exp")))?
                            .0,
                    );
                }
                Field::Nbf => {
                    nbf = Some(
                        map.next_value::<NumericDate>()
                            .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("nbf")))?
                            .0,
                    );
                }
                Field::Type => {
                    let v = map
                        .next_value::<Str<'de>>()
                        .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("type")))?;
                    token_type = Some(match v.0.as_ref() {
                        "access" => TokenType::Access,
                        "refresh" => TokenType::Refresh,
                        _ => return Err(fail(ErrorKind::InvalidClaim("type"))),
                    });
                }
                Field::Fresh => {
                    fresh = Some(
                        map.next_value::<bool>()
                            .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("fresh")))?,
                    );
                }
                Field::Csrf => {
                    csrf = Some(
                        map.next_value::<String>()
                            .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("csrf")))?,
                    );
                }
                Field::Scopes => {
                    scopes = map
                        .next_value::<Option<Vec<String>>>()
                        .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("scopes")))?;
                }
                Field::Aud => {
                    aud = map
                        .next_value::<Audience>()
                        .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("aud")))?
                        .0;
                }
                Field::Iss => {
                    iss = Some(
                        map.next_value::<String>()
                            .map_err(|_: A::Error| fail(ErrorKind::InvalidClaim("iss")))?,
                    );
                }
            }
        }

        let sub = sub.ok_or_else(|| fail(ErrorKind::MissingClaim("sub")))?;
        let jti = jti.ok_or_else(|| fail(ErrorKind::MissingClaim("jti")))?;
        let iat = iat.ok_or_else(|| fail(ErrorKind::MissingClaim("iat")))?;
        let exp = exp.ok_or_else(|| fail(ErrorKind::MissingClaim("exp")))?;
        let token_type = token_type.ok_or_else(|| fail(ErrorKind::MissingClaim("type")))?;
        // iat_ms must be the same instant as iat, to the second.
        if let Some(ms) = iat_ms
            && ms.div_euclid(1000) as f64 != iat.floor()
        {
            return Err(fail(ErrorKind::InvalidClaim("iat_ms")));
        }
        Ok(TokenPayload {
            sub,
            jti,
            iat,
            iat_ms,
            exp,
            nbf,
            token_type,
            fresh: fresh.unwrap_or(false),
            csrf,
            scopes,
            aud,
            iss,
            extra,
        })
    }
}

pub(crate) fn parse_claims(json: &[u8], identity_claim: &str) -> Result<TokenPayload> {
    let failure = Failure::default();
    let mut de = serde_json::Deserializer::from_str(utf8(json, Malformed::Claims)?);
    let claims = de
        .deserialize_map(ClaimsVisitor {
            identity_claim,
            failure: &failure,
        })
        .and_then(|c| de.end().map(|()| c));
    claims.map_err(|_| failure.into_error(Malformed::Claims))
}

/// Any JSON object, refusing duplicate member names at the top level (F5).
pub(crate) fn parse_object(json: &[u8]) -> Result<Map<String, Value>> {
    struct V<'f>(&'f Failure);
    impl<'de> Visitor<'de> for V<'_> {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value::<Value>()?;
                if out.insert(key, value).is_some() {
                    return Err(self.0.fail(Malformed::DuplicateMember.into_kind()));
                }
            }
            Ok(out)
        }
    }
    let failure = Failure::default();
    let mut de = serde_json::Deserializer::from_slice(json);
    let obj = de
        .deserialize_map(V(&failure))
        .and_then(|o| de.end().map(|()| o));
    obj.map_err(|_| failure.into_error(Malformed::Claims))
}

/// A NumericDate from a parsed JSON value, with the same rules as claims.
pub(crate) fn numeric_date(v: &Value) -> Option<f64> {
    NumericDate::deserialize(v).ok().map(|d| d.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Result<TokenPayload> {
        parse_claims(json.as_bytes(), "sub")
    }

    const OK: &str = r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access"}"#;

    #[test]
    fn minimal_claims_parse() {
        let p = claims(OK).unwrap();
        assert_eq!(p.sub, "u");
        assert!(!p.fresh);
    }

    #[test]
    fn duplicate_known_claim_is_rejected() {
        let e = claims(r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"refresh","type":"access"}"#)
            .unwrap_err();
        assert_eq!(e, ErrorKind::Malformed(Malformed::DuplicateMember));
    }

    #[test]
    fn duplicate_unknown_claim_is_rejected() {
        let e = claims(r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","x":1,"x":2}"#)
            .unwrap_err();
        assert_eq!(e, ErrorKind::Malformed(Malformed::DuplicateMember));
    }

    #[test]
    fn escaped_duplicate_is_still_a_duplicate() {
        let e = claims(
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","typ\u0065":"refresh"}"#,
        )
        .unwrap_err();
        assert_eq!(e, ErrorKind::Malformed(Malformed::DuplicateMember));
    }

    #[test]
    fn float_numeric_dates_are_accepted() {
        let p = claims(r#"{"sub":"u","jti":"j","iat":1,"exp":1795755483.730561,"type":"access"}"#)
            .unwrap();
        assert!((p.exp - 1_795_755_483.730_561).abs() < 1e-6);
    }

    #[test]
    fn wrong_typed_time_claims_are_rejected() {
        for bad in [r#""2""#, "true", "null", "[2]", "-1", "1e300", "-0.5", "{}"] {
            let json = format!(r#"{{"sub":"u","jti":"j","iat":1,"exp":{bad},"type":"access"}}"#);
            assert_eq!(
                claims(&json).unwrap_err(),
                ErrorKind::InvalidClaim("exp"),
                "{bad}"
            );
        }
    }

    #[test]
    fn missing_claims_are_named() {
        for (name, json) in [
            ("sub", r#"{"jti":"j","iat":1,"exp":2,"type":"access"}"#),
            ("jti", r#"{"sub":"u","iat":1,"exp":2,"type":"access"}"#),
            ("iat", r#"{"sub":"u","jti":"j","exp":2,"type":"access"}"#),
            ("exp", r#"{"sub":"u","jti":"j","iat":1,"type":"access"}"#),
            ("type", r#"{"sub":"u","jti":"j","iat":1,"exp":2}"#),
        ] {
            assert_eq!(claims(json).unwrap_err(), ErrorKind::MissingClaim(name));
        }
    }

    #[test]
    fn non_objects_and_trailing_garbage_are_rejected() {
        for bad in [
            "[]",
            r#""x""#,
            "null",
            "1",
            &format!("{OK}x"),
            &format!("{OK}{{}}"),
        ] {
            assert_eq!(
                claims(bad).unwrap_err(),
                ErrorKind::Malformed(Malformed::Claims),
                "{bad}"
            );
        }
    }

    #[test]
    fn scope_wildcards_follow_authx() {
        assert!(scope_matches("users", "users:*"));
        assert!(scope_matches("users:read", "users:*"));
        assert!(!scope_matches("usersx", "users:*"));
        assert!(!scope_matches("users", "*"));
        assert!(!scope_matches("users:*", "users:read"));
    }

    #[test]
    fn header_forbidden_members_are_named() {
        for m in ["crit", "b64", "jku", "x5u", "jwk", "x5c"] {
            let json = format!(r#"{{"alg":"HS256","{m}":[]}}"#);
            assert_eq!(
                parse_header(json.as_bytes()).unwrap_err(),
                ErrorKind::ForbiddenHeader(m)
            );
        }
    }

    #[test]
    fn header_duplicate_alg_is_rejected() {
        let e = parse_header(br#"{"alg":"HS256","alg":"none"}"#).unwrap_err();
        assert_eq!(e, ErrorKind::Malformed(Malformed::DuplicateMember));
    }

    #[test]
    fn header_wrong_types_are_named() {
        assert_eq!(
            parse_header(br#"{"alg":1}"#).unwrap_err(),
            ErrorKind::InvalidClaim("alg")
        );
        assert_eq!(
            parse_header(br#"{"alg":null}"#).unwrap_err(),
            ErrorKind::InvalidClaim("alg")
        );
        assert_eq!(
            parse_header(br#"{"alg":"HS256","kid":5}"#).unwrap_err(),
            ErrorKind::InvalidClaim("kid")
        );
        assert_eq!(
            parse_header(br#"{"alg":"HS256","typ":[]}"#).unwrap_err(),
            ErrorKind::InvalidClaim("typ")
        );
        assert_eq!(
            parse_header(br#"{"typ":"JWT"}"#).unwrap_err(),
            ErrorKind::MissingClaim("alg")
        );
    }
}
