//! Finding the access or refresh token in a request: headers, cookies, a
//! JSON body, the query string; in configured order, narrowed per call.

use std::fmt;
use std::str::FromStr;

use http::request::Parts;
use http::{HeaderMap, HeaderName};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::claims::TokenType;
use crate::error::{Error, ErrorKind, Result};
use crate::token::AuthX;

/// Where a token can travel.
///
/// ```
/// use authx::TokenLocation;
/// assert_eq!("cookies".parse::<TokenLocation>().unwrap(), TokenLocation::Cookies);
/// assert_eq!(TokenLocation::Headers.as_str(), "headers");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenLocation {
    /// The `Authorization` header (or the configured header).
    Headers,
    /// The access or refresh cookie.
    Cookies,
    /// A key of a JSON request body.
    Json,
    /// A query-string parameter.
    Query,
}

impl TokenLocation {
    /// AuthX's name for the location.
    ///
    /// ```
    /// assert_eq!(authx::TokenLocation::Query.as_str(), "query");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Headers => "headers",
            Self::Cookies => "cookies",
            Self::Json => "json",
            Self::Query => "query",
        }
    }
}

impl fmt::Display for TokenLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenLocation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "headers" => Ok(Self::Headers),
            "cookies" => Ok(Self::Cookies),
            "json" => Ok(Self::Json),
            "query" => Ok(Self::Query),
            _ => Err(Error::config(format!(
                "token_location: unknown location {s:?} (expected headers, cookies, json or query)"
            ))),
        }
    }
}

/// A token found in a request, not yet verified (AuthX's `RequestToken`).
///
/// ```
/// use authx::{RequestToken, TokenLocation, TokenType};
/// let rt = RequestToken::new("a.b.c".to_string(), TokenLocation::Headers, TokenType::Access);
/// assert!(!rt.csrf_required);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestToken {
    /// The encoded token.
    pub token: String,
    /// Where it was found.
    pub location: TokenLocation,
    /// The CSRF value sent with it (header, or form field when enabled).
    pub csrf: Option<String>,
    /// The kind of token that was asked for.
    pub kind: TokenType,
    /// Whether a CSRF check applies: the token came from a cookie, cookie
    /// CSRF protection is on and the method is CSRF-checked.
    pub csrf_required: bool,
}

impl RequestToken {
    /// A token from `location`, with no CSRF requirement.
    ///
    /// ```
    /// # use authx::{RequestToken, TokenLocation, TokenType};
    /// let rt = RequestToken::new("t".into(), TokenLocation::Json, TokenType::Refresh);
    /// assert_eq!(rt.kind, TokenType::Refresh);
    /// ```
    #[must_use]
    pub fn new(token: String, location: TokenLocation, kind: TokenType) -> Self {
        Self {
            token,
            location,
            csrf: None,
            kind,
            csrf_required: false,
        }
    }
}

impl fmt::Debug for RequestToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token or the CSRF value.
        f.debug_struct("RequestToken")
            .field("location", &self.location)
            .field("kind", &self.kind)
            .field("csrf_required", &self.csrf_required)
            .finish_non_exhaustive()
    }
}

/// Per-call options for finding a token.
///
/// ```
/// use authx::{FindOptions, TokenLocation};
/// let only_cookies = FindOptions::new().locations(&[TokenLocation::Cookies]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FindOptions<'a> {
    locations: Option<&'a [TokenLocation]>,
    json: Option<&'a Value>,
    form: Option<&'a [u8]>,
}

impl<'a> FindOptions<'a> {
    /// Search the configured locations.
    ///
    /// ```
    /// let _ = authx::FindOptions::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Search only these of the configured locations (the seed's
    /// `locations=["headers"]`). A location that is not configured stays
    /// off: narrowing never widens.
    ///
    /// ```
    /// let _ = authx::FindOptions::new().locations(&[authx::TokenLocation::Headers]);
    /// ```
    #[must_use]
    pub fn locations(mut self, locations: &'a [TokenLocation]) -> Self {
        self.locations = Some(locations);
        self
    }

    /// The parsed JSON request body, for the `json` location.
    ///
    /// ```
    /// let body = serde_json::json!({"access_token": "a.b.c"});
    /// let _ = authx::FindOptions::new().json(&body);
    /// ```
    #[must_use]
    pub fn json(mut self, body: &'a Value) -> Self {
        self.json = Some(body);
        self
    }

    /// The `application/x-www-form-urlencoded` request body, for the CSRF
    /// form field (`csrf_check_form`).
    ///
    /// ```
    /// let _ = authx::FindOptions::new().form(b"csrf_token=abc");
    /// ```
    #[must_use]
    pub fn form(mut self, body: &'a [u8]) -> Self {
        self.form = Some(body);
        self
    }
}

/// The only value of `name`, `None` when absent; two or more are refused (H4).
/// Whether `pred` holds for every byte, without an early exit, so the loop
/// compiles to vector compares.
fn all_bytes(bytes: &[u8], pred: impl Fn(u8) -> bool) -> bool {
    bytes.iter().fold(true, |ok, &b| ok & pred(b))
}

/// Header bytes already checked to be ASCII, as a `String` (the UTF-8
/// check is a word-at-a-time ASCII scan; it cannot fail here).
fn ascii_string(bytes: &[u8]) -> Result<String> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| ErrorKind::MalformedAuthorizationHeader.into())
}

fn single_header<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'h http::HeaderValue>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(ErrorKind::DuplicateCredentials.into());
    }
    Ok(first)
}

/// The value of cookie `name` across every `Cookie` header; a cookie sent
/// twice is refused (H4). Hand-split rather than parsed with the `cookie`
/// crate: we need one name, across several headers, with duplicate
/// detection, and without allocating a `Cookie` per pair on the hot path.
fn single_cookie(headers: &HeaderMap, name: &str) -> Result<Option<String>> {
    let mut found: Option<&[u8]> = None;
    for header in headers.get_all(http::header::COOKIE) {
        // Bytes, not `to_str`: one unrelated non-ASCII cookie in the same
        // header must not hide the auth cookie.
        for pair in header.as_bytes().split(|&b| b == b';') {
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (k, v) = (pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii());
            if k == name.as_bytes() {
                if found.is_some() {
                    return Err(ErrorKind::DuplicateCredentials.into());
                }
                let v = v
                    .strip_prefix(b"\"")
                    .and_then(|v| v.strip_suffix(b"\""))
                    .unwrap_or(v);
                found = Some(v);
            }
        }
    }
    // A value that is not UTF-8 is kept (lossily) so verification refuses
    // it as malformed rather than reporting it missing.
    // (`from_utf8` first: its ASCII path is several times cheaper than the
    // lossy decoder on a token-sized value.)
    Ok(found.map(|v| match std::str::from_utf8(v) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(v).into_owned(),
    }))
}

impl AuthX {
    /// The access token of a request, from the configured locations.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let (parts, ()) = http::Request::get("/").header("Authorization", "Bearer a.b.c")
    ///     .body(()).unwrap().into_parts();
    /// let rt = auth.get_access_token_from_request(&parts)?;
    /// assert_eq!(rt.token, "a.b.c");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn get_access_token_from_request(&self, parts: &Parts) -> Result<RequestToken> {
        self.get_token_from_request(parts, TokenType::Access, FindOptions::new())
    }

    /// The refresh token of a request, from the configured locations.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let (parts, ()) = http::Request::post("/refresh").body(()).unwrap().into_parts();
    /// let err = auth.get_refresh_token_from_request(&parts).unwrap_err();
    /// assert_eq!(err.error_type(), "MissingTokenError");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn get_refresh_token_from_request(&self, parts: &Parts) -> Result<RequestToken> {
        self.get_token_from_request(parts, TokenType::Refresh, FindOptions::new())
    }

    /// The token of `kind` from the first allowed location that has one.
    /// A malformed credential in that location is an error, not a reason
    /// to look further; a token in a location that is not allowed is never
    /// read.
    ///
    /// ```
    /// use authx::{AuthX, AuthXConfig, FindOptions, TokenLocation, TokenType};
    /// let auth = AuthX::new(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
    ///     ..Default::default()
    /// })?;
    /// let (parts, ()) = http::Request::get("/").header("Authorization", "Bearer a.b.c")
    ///     .body(()).unwrap().into_parts();
    /// let only_cookies = FindOptions::new().locations(&[TokenLocation::Cookies]);
    /// let err = auth.get_token_from_request(&parts, TokenType::Access, only_cookies).unwrap_err();
    /// assert_eq!(err.error_type(), "MissingTokenError");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn get_token_from_request(
        &self,
        parts: &Parts,
        kind: TokenType,
        options: FindOptions<'_>,
    ) -> Result<RequestToken> {
        let c = self.config();
        for &location in &c.token_location {
            if options
                .locations
                .is_some_and(|allowed| !allowed.contains(&location))
            {
                continue;
            }
            let found = match location {
                TokenLocation::Headers => self.token_from_header(parts)?,
                TokenLocation::Cookies => {
                    let name = match kind {
                        TokenType::Access => &c.access_cookie_name,
                        TokenType::Refresh => &c.refresh_cookie_name,
                    };
                    single_cookie(&parts.headers, name)?.filter(|v| !v.is_empty())
                }
                TokenLocation::Json => {
                    let key = match kind {
                        TokenType::Access => &c.json_key,
                        TokenType::Refresh => &c.refresh_json_key,
                    };
                    match options.json.and_then(|body| body.get(key)) {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(_) => return Err(ErrorKind::InvalidJsonToken.into()),
                    }
                }
                TokenLocation::Query => self.token_from_query(parts)?,
            };
            let Some(token) = found else { continue };
            let mut rt = RequestToken::new(token, location, kind);
            if location == TokenLocation::Cookies
                && c.cookie_csrf_protect
                && c.csrf_methods.contains(&parts.method)
            {
                rt.csrf_required = true;
                rt.csrf = self.csrf_value(parts, kind, options.form)?;
            }
            return Ok(rt);
        }
        Err(ErrorKind::MissingToken.into())
    }

    /// H1: `<type> <token>`, scheme case-insensitive, exactly one token.
    /// Another scheme (say `Basic`) is not a bearer credential: missing.
    fn token_from_header(&self, parts: &Parts) -> Result<Option<String>> {
        let Some(value) = single_header(&parts.headers, self.header_name())? else {
            return Ok(None);
        };
        // What `HeaderValue::to_str` accepts (visible ASCII, space, tab),
        // checked in one branch-free pass the compiler vectorises: this
        // runs on every request, over a few hundred bytes of token, and the
        // per-byte checks of `to_str` and `str::contains` cost more than
        // the rest of finding the token.
        let bytes = value.as_bytes();
        if !all_bytes(bytes, |b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            return Err(ErrorKind::MalformedAuthorizationHeader.into());
        }
        let header_type = self.config().header_type.as_bytes();
        if header_type.is_empty() {
            if bytes.is_empty() || memchr::memchr(b' ', bytes).is_some() {
                return Err(ErrorKind::MalformedAuthorizationHeader.into());
            }
            return ascii_string(bytes).map(Some);
        }
        let (scheme, token) = match memchr::memchr2(b' ', b'\t', bytes) {
            Some(i) => (&bytes[..i], &bytes[i + 1..]),
            None => (bytes, &[][..]),
        };
        if !scheme.eq_ignore_ascii_case(header_type) {
            return Ok(None);
        }
        // Exactly one space between scheme and token (RFC 6750 §2.1).
        if bytes.get(scheme.len()) == Some(&b'\t') {
            return Err(ErrorKind::MalformedAuthorizationHeader.into());
        }
        if token.is_empty() || memchr::memchr2(b' ', b'\t', token).is_some() {
            return Err(ErrorKind::MalformedAuthorizationHeader.into());
        }
        ascii_string(token).map(Some)
    }

    fn token_from_query(&self, parts: &Parts) -> Result<Option<String>> {
        let Some(query) = parts.uri.query() else {
            return Ok(None);
        };
        let name = &self.config().query_string_name;
        let mut found = None;
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if k == name.as_str() {
                if found.is_some() {
                    return Err(ErrorKind::DuplicateCredentials.into());
                }
                found = Some(v.into_owned());
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    fn csrf_value(
        &self,
        parts: &Parts,
        kind: TokenType,
        form: Option<&[u8]>,
    ) -> Result<Option<String>> {
        if let Some(v) = single_header(&parts.headers, self.csrf_header(kind))? {
            return Ok(v.to_str().ok().map(str::to_owned));
        }
        let c = self.config();
        if c.csrf_check_form
            && let Some(body) = form
        {
            let field = match kind {
                TokenType::Access => &c.access_csrf_field_name,
                TokenType::Refresh => &c.refresh_csrf_field_name,
            };
            let mut found = None;
            for (k, v) in form_urlencoded::parse(body) {
                if k == field.as_str() {
                    if found.is_some() {
                        return Err(ErrorKind::DuplicateCredentials.into());
                    }
                    found = Some(v.into_owned());
                }
            }
            return Ok(found);
        }
        Ok(None)
    }
}
