//! [`AuthXConfig`]: every AuthX option, under its snake_case name, with
//! AuthX's defaults except where AuthX's default is insecure.
//!
//! | AuthX option | field | default | differs from AuthX? |
//! |---|---|---|---|
//! | `JWT_ALGORITHM` | `algorithm` | `HS256` | no |
//! | `JWT_DECODE_ALGORITHMS` | `decode_algorithms` | `[]` = only `algorithm` | works here (AuthX ignores it) |
//! | `JWT_SECRET_KEY` | `secret_key` | none | must be at least the hash size |
//! | `JWT_PRIVATE_KEY` / `JWT_PUBLIC_KEY` | `private_key` / `public_key` | none | |
//! | `JWT_PREVIOUS_SECRET_KEY` / `JWT_PREVIOUS_PUBLIC_KEY` | `previous_secret_key` / `previous_public_key` | none | only a bad signature falls back to them |
//! | `JWT_ACCESS_TOKEN_EXPIRES` | `access_token_expires` | 15 min | never "no expiry" |
//! | `JWT_REFRESH_TOKEN_EXPIRES` | `refresh_token_expires` | 20 days | never "no expiry" |
//! | `JWT_ENCODE_AUDIENCE` / `JWT_DECODE_AUDIENCE` | `encode_audience` / `decode_audience` | none | |
//! | `JWT_ENCODE_ISSUER` / `JWT_DECODE_ISSUER` | `encode_issuer` / `decode_issuer` | none | |
//! | `JWT_DECODE_LEEWAY` | `decode_leeway` | 0 | works here |
//! | `JWT_ENCODE_NBF` | `encode_nbf` | `true` | works here (AuthX never emits `nbf`) |
//! | `JWT_IDENTITY_CLAIM` | `identity_claim` | `sub` | works here |
//! | `JWT_ERROR_MESSAGE_KEY` | `error_message_key` | `message` | works here; AuthX declares `msg` but always writes `message` |
//! | `JWT_TOKEN_LOCATION` | `token_location` | `[headers]` | |
//! | `JWT_HEADER_NAME` / `JWT_HEADER_TYPE` | `header_name` / `header_type` | `Authorization` / `Bearer` | scheme is case-insensitive (RFC 6750) |
//! | `JWT_ACCESS_COOKIE_NAME` / `_PATH` | `access_cookie_name` / `access_cookie_path` | `access_token_cookie` / `/` | |
//! | `JWT_REFRESH_COOKIE_NAME` / `_PATH` | `refresh_cookie_name` / `refresh_cookie_path` | `refresh_token_cookie` / `/` | |
//! | `JWT_COOKIE_DOMAIN` | `cookie_domain` | none | |
//! | `JWT_COOKIE_SECURE` | `cookie_secure` | `true` | |
//! | `JWT_COOKIE_SAMESITE` | `cookie_samesite` | `lax` | `none` requires `secure` |
//! | `JWT_COOKIE_HTTP_ONLY` | `cookie_http_only` | `true` | |
//! | `JWT_COOKIE_MAX_AGE` | `cookie_max_age` | none | capped by the token's lifetime |
//! | `JWT_SESSION_COOKIE` | `session_cookie` | `true` | works here: `false` gives cookies the token's lifetime |
//! | `JWT_COOKIE_CSRF_PROTECT` | `cookie_csrf_protect` | `true` | |
//! | `JWT_CSRF_IN_COOKIES` | `csrf_in_cookies` | `true` | |
//! | `JWT_CSRF_METHODS` | `csrf_methods` | POST PUT PATCH DELETE | |
//! | `JWT_ACCESS_CSRF_COOKIE_NAME` / `_PATH` | `access_csrf_cookie_name` / `access_csrf_cookie_path` | `csrf_access_token` / `/` | |
//! | `JWT_REFRESH_CSRF_COOKIE_NAME` / `_PATH` | `refresh_csrf_cookie_name` / `refresh_csrf_cookie_path` | `csrf_refresh_token` / `/` | |
//! | `JWT_ACCESS_CSRF_HEADER_NAME` / `JWT_REFRESH_CSRF_HEADER_NAME` | `access_csrf_header_name` / `refresh_csrf_header_name` | `X-CSRF-TOKEN` | |
//! | `JWT_ACCESS_CSRF_FIELD_NAME` / `JWT_REFRESH_CSRF_FIELD_NAME` | `access_csrf_field_name` / `refresh_csrf_field_name` | `csrf_token` | |
//! | `JWT_CSRF_CHECK_FORM` | `csrf_check_form` | `false` | |
//! | `JWT_QUERY_STRING_NAME` | `query_string_name` | `token` | |
//! | `JWT_JSON_KEY` / `JWT_REFRESH_JSON_KEY` | `json_key` / `refresh_json_key` | `access_token` / `refresh_token` | |
//! | `JWT_IMPLICIT_REFRESH_ROUTE_EXCLUDE` / `_INCLUDE` | `implicit_refresh_route_exclude` / `_include` | `[]` | |
//! | `JWT_IMPLICIT_REFRESH_METHOD_EXCLUDE` / `_INCLUDE` | `implicit_refresh_method_exclude` / `_include` | `[]` | include means include |
//! | `JWT_IMPLICIT_REFRESH_DELTATIME` | `implicit_refresh_deltatime` | 10 min | |
//!
//! Options of our own: `kid` and `previous_kid` (key ids, for rotation by
//! `kid`), `jwks` (more verification keys, as a JWKS document),
//! `max_token_length` (8 KiB), and the development-only escape
//! `dangerous_allow_weak_secret`.

use std::fmt;
use std::time::Duration;

use http::Method;

use crate::error::{Error, Result};
use crate::keys::Algorithm;
use crate::request::TokenLocation;

/// The `SameSite` attribute of the auth cookies.
///
/// ```
/// use authx::SameSite;
/// assert_eq!("strict".parse::<SameSite>().unwrap(), SameSite::Strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// `SameSite=Lax` (the default).
    #[default]
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None`; requires `cookie_secure`.
    None,
}

impl std::str::FromStr for SameSite {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "lax" => Ok(Self::Lax),
            "strict" => Ok(Self::Strict),
            "none" => Ok(Self::None),
            _ => Err(Error::config(format!(
                "cookie_samesite: expected lax, strict or none, got {s:?}"
            ))),
        }
    }
}

/// A secret string whose `Debug` output is redacted.
///
/// ```
/// use authx::config::Secret;
/// let s = Secret::from("a-very-long-and-random-secret-key-value");
/// assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
/// assert_eq!(s.expose().len(), 39);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret's value. Never log it.
    ///
    /// ```
    /// # use authx::config::Secret;
    /// assert_eq!(Secret::from("x").expose(), "x");
    /// ```
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Every AuthX option (see the [module docs](self) for the table).
///
/// Build it with struct-update syntax over [`Default`], or read it from the
/// environment with [`AuthXConfig::from_env`]. Validation happens in
/// [`AuthXConfig::validate`], which [`AuthX::new`](crate::AuthX::new) calls:
/// a bad configuration fails at construction, never at request time.
///
/// ```
/// use authx::{AuthXConfig, TokenLocation};
///
/// let config = AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
///     cookie_secure: false,
///     ..AuthXConfig::default()
/// };
/// config.validate().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct AuthXConfig {
    /// Signing algorithm (`JWT_ALGORITHM`).
    pub algorithm: Algorithm,
    /// Algorithms accepted on verify (`JWT_DECODE_ALGORITHMS`); empty means
    /// `[algorithm]`. Each must have a key.
    pub decode_algorithms: Vec<Algorithm>,
    /// HMAC secret (`JWT_SECRET_KEY`); at least the hash size in bytes.
    pub secret_key: Option<Secret>,
    /// PEM private key for asymmetric algorithms (`JWT_PRIVATE_KEY`).
    pub private_key: Option<Secret>,
    /// PEM public key for asymmetric algorithms (`JWT_PUBLIC_KEY`); derived
    /// from the private key when absent.
    pub public_key: Option<String>,
    /// Previous HMAC secret, still accepted on verify (`JWT_PREVIOUS_SECRET_KEY`).
    pub previous_secret_key: Option<Secret>,
    /// Previous PEM public key, still accepted on verify (`JWT_PREVIOUS_PUBLIC_KEY`).
    pub previous_public_key: Option<String>,
    /// `kid` header of tokens we sign (ours; AuthX has none).
    pub kid: Option<String>,
    /// `kid` of the previous key, so rotated tokens find it by `kid`.
    pub previous_kid: Option<String>,
    /// More verification keys, as a JWKS document (`{"keys": [...]}`, RFC
    /// 7517): another issuer's public keys, or earlier keys kept for
    /// rotation. Each key is bound to one algorithm: its `alg` member, or
    /// for EC and OKP keys the one algorithm of its curve, or for RSA and
    /// `oct` keys without `alg` the configured `algorithm`. Keys whose
    /// algorithm is not accepted, or whose `use`/`key_ops` exclude
    /// verification, are left out. A set mixing HMAC and public keys, a
    /// repeated `kid`, an HMAC key shorter than its hash or an RSA key under
    /// 2048 bits is a configuration error.
    pub jwks: Option<String>,
    /// Access token lifetime (`JWT_ACCESS_TOKEN_EXPIRES`).
    pub access_token_expires: Duration,
    /// Refresh token lifetime (`JWT_REFRESH_TOKEN_EXPIRES`).
    pub refresh_token_expires: Duration,
    /// `aud` of tokens we issue (`JWT_ENCODE_AUDIENCE`).
    pub encode_audience: Vec<String>,
    /// `iss` of tokens we issue (`JWT_ENCODE_ISSUER`).
    pub encode_issuer: Option<String>,
    /// Accepted audiences (`JWT_DECODE_AUDIENCE`); when set, `aud` is
    /// required and one of its values must match exactly.
    pub decode_audience: Vec<String>,
    /// Required issuer (`JWT_DECODE_ISSUER`), matched exactly.
    pub decode_issuer: Option<String>,
    /// Clock-skew allowance for `exp`, `nbf` and `iat` (`JWT_DECODE_LEEWAY`).
    pub decode_leeway: Duration,
    /// Emit `nbf` (`JWT_ENCODE_NBF`).
    pub encode_nbf: bool,
    /// The claim that names the subject (`JWT_IDENTITY_CLAIM`).
    pub identity_claim: String,
    /// The key of the message in error bodies (`JWT_ERROR_MESSAGE_KEY`).
    pub error_message_key: String,
    /// Where tokens are looked for, in order (`JWT_TOKEN_LOCATION`).
    pub token_location: Vec<TokenLocation>,
    /// Header carrying the token (`JWT_HEADER_NAME`).
    pub header_name: String,
    /// Scheme before the token (`JWT_HEADER_TYPE`); empty means a bare token.
    pub header_type: String,
    /// Access token cookie (`JWT_ACCESS_COOKIE_NAME`).
    pub access_cookie_name: String,
    /// Access token cookie path (`JWT_ACCESS_COOKIE_PATH`).
    pub access_cookie_path: String,
    /// Refresh token cookie (`JWT_REFRESH_COOKIE_NAME`).
    pub refresh_cookie_name: String,
    /// Refresh token cookie path (`JWT_REFRESH_COOKIE_PATH`).
    pub refresh_cookie_path: String,
    /// `Domain` of all auth cookies (`JWT_COOKIE_DOMAIN`).
    pub cookie_domain: Option<String>,
    /// `Secure` on all auth cookies (`JWT_COOKIE_SECURE`). Turn off only for
    /// `http://localhost` development.
    pub cookie_secure: bool,
    /// `SameSite` of all auth cookies (`JWT_COOKIE_SAMESITE`).
    pub cookie_samesite: SameSite,
    /// `HttpOnly` on the token cookies (`JWT_COOKIE_HTTP_ONLY`); CSRF
    /// cookies are never HttpOnly.
    pub cookie_http_only: bool,
    /// `Max-Age` of auth cookies (`JWT_COOKIE_MAX_AGE`), never longer than
    /// the token's remaining lifetime.
    pub cookie_max_age: Option<Duration>,
    /// Session cookies (`JWT_SESSION_COOKIE`): when `false` and no
    /// `cookie_max_age` is set, cookies live as long as their token.
    pub session_cookie: bool,
    /// CSRF double-submit for cookie tokens (`JWT_COOKIE_CSRF_PROTECT`).
    pub cookie_csrf_protect: bool,
    /// Set the readable `csrf_*` cookies (`JWT_CSRF_IN_COOKIES`).
    pub csrf_in_cookies: bool,
    /// Methods that are CSRF-checked (`JWT_CSRF_METHODS`).
    pub csrf_methods: Vec<Method>,
    /// (`JWT_ACCESS_CSRF_COOKIE_NAME`)
    pub access_csrf_cookie_name: String,
    /// (`JWT_ACCESS_CSRF_COOKIE_PATH`)
    pub access_csrf_cookie_path: String,
    /// (`JWT_REFRESH_CSRF_COOKIE_NAME`)
    pub refresh_csrf_cookie_name: String,
    /// (`JWT_REFRESH_CSRF_COOKIE_PATH`)
    pub refresh_csrf_cookie_path: String,
    /// (`JWT_ACCESS_CSRF_HEADER_NAME`)
    pub access_csrf_header_name: String,
    /// (`JWT_REFRESH_CSRF_HEADER_NAME`)
    pub refresh_csrf_header_name: String,
    /// (`JWT_ACCESS_CSRF_FIELD_NAME`)
    pub access_csrf_field_name: String,
    /// (`JWT_REFRESH_CSRF_FIELD_NAME`)
    pub refresh_csrf_field_name: String,
    /// Read the CSRF value from a form field when the header is absent
    /// (`JWT_CSRF_CHECK_FORM`).
    pub csrf_check_form: bool,
    /// Query parameter carrying the token (`JWT_QUERY_STRING_NAME`).
    pub query_string_name: String,
    /// JSON body key of access tokens (`JWT_JSON_KEY`).
    pub json_key: String,
    /// JSON body key of refresh tokens (`JWT_REFRESH_JSON_KEY`).
    pub refresh_json_key: String,
    /// Paths never implicitly refreshed (`JWT_IMPLICIT_REFRESH_ROUTE_EXCLUDE`).
    pub implicit_refresh_route_exclude: Vec<String>,
    /// When non-empty, only these paths are implicitly refreshed.
    pub implicit_refresh_route_include: Vec<String>,
    /// Methods never implicitly refreshed.
    pub implicit_refresh_method_exclude: Vec<Method>,
    /// When non-empty, only these methods are implicitly refreshed.
    pub implicit_refresh_method_include: Vec<Method>,
    /// Refresh when less than this remains (`JWT_IMPLICIT_REFRESH_DELTATIME`).
    pub implicit_refresh_deltatime: Duration,
    /// Longest token accepted, in bytes (F6). Ours; default 8 KiB.
    pub max_token_length: usize,
    /// **Development only.** Accept an HMAC secret shorter than the hash
    /// size, such as the seed's `"your-secret-key"`. Refused in production.
    pub dangerous_allow_weak_secret: bool,
}

impl Default for AuthXConfig {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::HS256,
            decode_algorithms: Vec::new(),
            secret_key: None,
            private_key: None,
            public_key: None,
            previous_secret_key: None,
            previous_public_key: None,
            kid: None,
            previous_kid: None,
            jwks: None,
            access_token_expires: Duration::from_secs(15 * 60),
            refresh_token_expires: Duration::from_secs(20 * 24 * 3600),
            encode_audience: Vec::new(),
            encode_issuer: None,
            decode_audience: Vec::new(),
            decode_issuer: None,
            decode_leeway: Duration::ZERO,
            encode_nbf: true,
            identity_claim: "sub".into(),
            error_message_key: "message".into(),
            token_location: vec![TokenLocation::Headers],
            header_name: "Authorization".into(),
            header_type: "Bearer".into(),
            access_cookie_name: "access_token_cookie".into(),
            access_cookie_path: "/".into(),
            refresh_cookie_name: "refresh_token_cookie".into(),
            refresh_cookie_path: "/".into(),
            cookie_domain: None,
            cookie_secure: true,
            cookie_samesite: SameSite::Lax,
            cookie_http_only: true,
            cookie_max_age: None,
            session_cookie: true,
            cookie_csrf_protect: true,
            csrf_in_cookies: true,
            csrf_methods: vec![Method::POST, Method::PUT, Method::PATCH, Method::DELETE],
            access_csrf_cookie_name: "csrf_access_token".into(),
            access_csrf_cookie_path: "/".into(),
            refresh_csrf_cookie_name: "csrf_refresh_token".into(),
            refresh_csrf_cookie_path: "/".into(),
            access_csrf_header_name: "X-CSRF-TOKEN".into(),
            refresh_csrf_header_name: "X-CSRF-TOKEN".into(),
            access_csrf_field_name: "csrf_token".into(),
            refresh_csrf_field_name: "csrf_token".into(),
            csrf_check_form: false,
            query_string_name: "token".into(),
            json_key: "access_token".into(),
            refresh_json_key: "refresh_token".into(),
            implicit_refresh_route_exclude: Vec::new(),
            implicit_refresh_route_include: Vec::new(),
            implicit_refresh_method_exclude: Vec::new(),
            implicit_refresh_method_include: Vec::new(),
            implicit_refresh_deltatime: Duration::from_secs(10 * 60),
            max_token_length: 8 * 1024,
            dangerous_allow_weak_secret: false,
        }
    }
}

impl AuthXConfig {
    /// Whether tokens are looked for in `location` (AuthX's `has_location`).
    ///
    /// ```
    /// use authx::{AuthXConfig, TokenLocation};
    /// assert!(AuthXConfig::default().has_location(TokenLocation::Headers));
    /// assert!(!AuthXConfig::default().has_location(TokenLocation::Cookies));
    /// ```
    #[must_use]
    pub fn has_location(&self, location: TokenLocation) -> bool {
        self.token_location.contains(&location)
    }

    /// Whether issued tokens carry a `csrf` claim: cookies are a location
    /// and cookie CSRF protection is on.
    ///
    /// ```
    /// use authx::{AuthXConfig, TokenLocation};
    /// let c = AuthXConfig { token_location: vec![TokenLocation::Cookies], ..Default::default() };
    /// assert!(c.issues_csrf());
    /// ```
    #[must_use]
    pub fn issues_csrf(&self) -> bool {
        self.cookie_csrf_protect && self.has_location(TokenLocation::Cookies)
    }

    /// The algorithms accepted on verify.
    pub(crate) fn verify_algorithms(&self) -> Vec<Algorithm> {
        if self.decode_algorithms.is_empty() {
            vec![self.algorithm]
        } else {
            self.decode_algorithms.clone()
        }
    }

    /// Checks every option that can be checked without parsing keys; key
    /// material is checked when [`AuthX::new`](crate::AuthX::new) parses it.
    /// Each error names the option.
    ///
    /// ```
    /// use authx::{AuthXConfig, SameSite};
    /// let c = AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     cookie_samesite: SameSite::None,
    ///     cookie_secure: false,
    ///     ..Default::default()
    /// };
    /// let err = c.validate().unwrap_err();
    /// assert!(err.to_string().contains("cookie_samesite"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.token_location.is_empty() {
            return Err(Error::config(
                "token_location: at least one location is required",
            ));
        }
        for (i, loc) in self.token_location.iter().enumerate() {
            if self.token_location[..i].contains(loc) {
                return Err(Error::config(format!(
                    "token_location: {} is listed twice",
                    loc.as_str()
                )));
            }
        }
        if self.access_token_expires.is_zero() {
            return Err(Error::config("access_token_expires: must be positive"));
        }
        if self.refresh_token_expires.is_zero() {
            return Err(Error::config("refresh_token_expires: must be positive"));
        }
        // Lifetimes beyond ~100 years are a typo, and keep time arithmetic
        // far from overflow (C5).
        let century = Duration::from_secs(100 * 366 * 24 * 3600);
        for (name, d) in [
            ("access_token_expires", self.access_token_expires),
            ("refresh_token_expires", self.refresh_token_expires),
            ("decode_leeway", self.decode_leeway),
            (
                "implicit_refresh_deltatime",
                self.implicit_refresh_deltatime,
            ),
        ] {
            if d > century {
                return Err(Error::config(format!("{name}: longer than 100 years")));
            }
        }
        if self.identity_claim.is_empty() {
            return Err(Error::config("identity_claim: must not be empty"));
        }
        if crate::claims::is_registered(&self.identity_claim) && self.identity_claim != "sub" {
            return Err(Error::config(format!(
                "identity_claim: {:?} is a registered claim",
                self.identity_claim
            )));
        }
        if self.error_message_key.is_empty() || self.error_message_key == "error_type" {
            return Err(Error::config(
                "error_message_key: must be non-empty and not 'error_type'",
            ));
        }
        for (name, value) in [
            ("header_name", &self.header_name),
            ("access_csrf_header_name", &self.access_csrf_header_name),
            ("refresh_csrf_header_name", &self.refresh_csrf_header_name),
        ] {
            if http::HeaderName::from_bytes(value.as_bytes()).is_err() {
                return Err(Error::config(format!(
                    "{name}: {value:?} is not a valid header name"
                )));
            }
        }
        if self.header_type.contains(char::is_whitespace) {
            return Err(Error::config("header_type: must be a single word"));
        }
        for (name, value) in [
            ("query_string_name", &self.query_string_name),
            ("json_key", &self.json_key),
            ("refresh_json_key", &self.refresh_json_key),
            ("access_csrf_field_name", &self.access_csrf_field_name),
            ("refresh_csrf_field_name", &self.refresh_csrf_field_name),
        ] {
            if value.is_empty() {
                return Err(Error::config(format!("{name}: must not be empty")));
            }
        }
        for (name, methods) in [
            ("csrf_methods", &self.csrf_methods),
            (
                "implicit_refresh_method_include",
                &self.implicit_refresh_method_include,
            ),
            (
                "implicit_refresh_method_exclude",
                &self.implicit_refresh_method_exclude,
            ),
        ] {
            if let Some(m) = methods
                .iter()
                .find(|m| standard_method(m.as_str()).is_none())
            {
                return Err(Error::config(format!(
                    "{name}: {m} is not a standard HTTP method"
                )));
            }
        }
        self.validate_cookies()?;
        if self.max_token_length < 64 || self.max_token_length > 1024 * 1024 {
            return Err(Error::config(
                "max_token_length: must be between 64 and 1048576 bytes",
            ));
        }
        for alg in self.verify_algorithms() {
            if alg.is_hmac() != self.algorithm.is_hmac() {
                return Err(Error::config(format!(
                    "decode_algorithms: {alg} mixes HMAC and public-key algorithms with algorithm {}",
                    self.algorithm
                )));
            }
        }
        if let Some(kid) = &self.kid {
            crate::keys::check_kid("kid", kid)?;
        }
        if let Some(kid) = &self.previous_kid {
            crate::keys::check_kid("previous_kid", kid)?;
        }
        Ok(())
    }

    fn validate_cookies(&self) -> Result<()> {
        if self.cookie_samesite == SameSite::None && !self.cookie_secure {
            return Err(Error::config(
                "cookie_samesite: SameSite=None requires cookie_secure = true",
            ));
        }
        let cookies = [
            (
                "access_cookie_name",
                &self.access_cookie_name,
                "access_cookie_path",
                &self.access_cookie_path,
            ),
            (
                "refresh_cookie_name",
                &self.refresh_cookie_name,
                "refresh_cookie_path",
                &self.refresh_cookie_path,
            ),
            (
                "access_csrf_cookie_name",
                &self.access_csrf_cookie_name,
                "access_csrf_cookie_path",
                &self.access_csrf_cookie_path,
            ),
            (
                "refresh_csrf_cookie_name",
                &self.refresh_csrf_cookie_name,
                "refresh_csrf_cookie_path",
                &self.refresh_csrf_cookie_path,
            ),
        ];
        for (name_opt, name, path_opt, path) in cookies {
            if name.is_empty() || !name.bytes().all(is_cookie_name_byte) {
                return Err(Error::config(format!(
                    "{name_opt}: {name:?} is not a valid cookie name"
                )));
            }
            if !path.starts_with('/') || path.bytes().any(|b| b == b';' || b.is_ascii_control()) {
                return Err(Error::config(format!(
                    "{path_opt}: must start with '/' and contain no ';'"
                )));
            }
            if name.starts_with("__Host-") {
                if self.cookie_domain.is_some() {
                    return Err(Error::config(format!(
                        "{name_opt}: a __Host- cookie cannot have a Domain (cookie_domain is set)"
                    )));
                }
                if path != "/" {
                    return Err(Error::config(format!(
                        "{path_opt}: a __Host- cookie must have Path=/"
                    )));
                }
                if !self.cookie_secure {
                    return Err(Error::config(format!(
                        "{name_opt}: a __Host- cookie requires cookie_secure"
                    )));
                }
            }
            if name.starts_with("__Secure-") && !self.cookie_secure {
                return Err(Error::config(format!(
                    "{name_opt}: a __Secure- cookie requires cookie_secure"
                )));
            }
        }
        if let Some(domain) = &self.cookie_domain
            && (domain.is_empty()
                || domain
                    .bytes()
                    .any(|b| b == b';' || b.is_ascii_whitespace() || b.is_ascii_control()))
        {
            return Err(Error::config("cookie_domain: not a valid domain"));
        }
        Ok(())
    }

    /// Reads the configuration from the environment variables AuthX reads
    /// (`JWT_SECRET_KEY`, `JWT_TOKEN_LOCATION='["headers","cookies"]'`,
    /// durations as seconds, booleans as `true`/`false`/`1`/`0`, lists as
    /// JSON arrays or comma-separated), over the defaults. Unset variables
    /// keep their default; a variable that does not parse is an error that
    /// names it.
    ///
    /// ```
    /// let config = authx::AuthXConfig::from_env().unwrap();
    /// # let _ = config;
    /// ```
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use authx::{AuthXConfig, TokenLocation};
    ///
    /// let env = HashMap::from([
    ///     ("JWT_TOKEN_LOCATION", r#"["headers","cookies"]"#),
    ///     ("JWT_ACCESS_TOKEN_EXPIRES", "300"),
    /// ]);
    /// let c = AuthXConfig::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
    /// assert_eq!(c.token_location, [TokenLocation::Headers, TokenLocation::Cookies]);
    /// assert_eq!(c.access_token_expires.as_secs(), 300);
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut c = Self::default();
        let env = EnvReader(&lookup);
        env.parse("JWT_ALGORITHM", &mut c.algorithm)?;
        env.list("JWT_DECODE_ALGORITHMS", &mut c.decode_algorithms)?;
        env.secret("JWT_SECRET_KEY", &mut c.secret_key);
        env.secret("JWT_PRIVATE_KEY", &mut c.private_key);
        env.opt_string("JWT_PUBLIC_KEY", &mut c.public_key);
        env.secret("JWT_PREVIOUS_SECRET_KEY", &mut c.previous_secret_key);
        env.opt_string("JWT_PREVIOUS_PUBLIC_KEY", &mut c.previous_public_key);
        env.opt_string("JWT_KID", &mut c.kid);
        env.opt_string("JWT_PREVIOUS_KID", &mut c.previous_kid);
        env.opt_string("JWT_JWKS", &mut c.jwks);
        env.duration("JWT_ACCESS_TOKEN_EXPIRES", &mut c.access_token_expires)?;
        env.duration("JWT_REFRESH_TOKEN_EXPIRES", &mut c.refresh_token_expires)?;
        env.list("JWT_ENCODE_AUDIENCE", &mut c.encode_audience)?;
        env.opt_string("JWT_ENCODE_ISSUER", &mut c.encode_issuer);
        env.list("JWT_DECODE_AUDIENCE", &mut c.decode_audience)?;
        env.opt_string("JWT_DECODE_ISSUER", &mut c.decode_issuer);
        env.duration("JWT_DECODE_LEEWAY", &mut c.decode_leeway)?;
        env.boolean("JWT_ENCODE_NBF", &mut c.encode_nbf)?;
        env.string("JWT_IDENTITY_CLAIM", &mut c.identity_claim);
        env.string("JWT_ERROR_MESSAGE_KEY", &mut c.error_message_key);
        env.list("JWT_TOKEN_LOCATION", &mut c.token_location)?;
        env.string("JWT_HEADER_NAME", &mut c.header_name);
        env.string("JWT_HEADER_TYPE", &mut c.header_type);
        env.string("JWT_ACCESS_COOKIE_NAME", &mut c.access_cookie_name);
        env.string("JWT_ACCESS_COOKIE_PATH", &mut c.access_cookie_path);
        env.string("JWT_REFRESH_COOKIE_NAME", &mut c.refresh_cookie_name);
        env.string("JWT_REFRESH_COOKIE_PATH", &mut c.refresh_cookie_path);
        env.opt_string("JWT_COOKIE_DOMAIN", &mut c.cookie_domain);
        env.boolean("JWT_COOKIE_SECURE", &mut c.cookie_secure)?;
        env.parse("JWT_COOKIE_SAMESITE", &mut c.cookie_samesite)?;
        env.boolean("JWT_COOKIE_HTTP_ONLY", &mut c.cookie_http_only)?;
        if let Some(v) = env.get("JWT_COOKIE_MAX_AGE") {
            c.cookie_max_age = Some(parse_duration("JWT_COOKIE_MAX_AGE", &v)?);
        }
        env.boolean("JWT_SESSION_COOKIE", &mut c.session_cookie)?;
        env.boolean("JWT_COOKIE_CSRF_PROTECT", &mut c.cookie_csrf_protect)?;
        env.boolean("JWT_CSRF_IN_COOKIES", &mut c.csrf_in_cookies)?;
        env.methods("JWT_CSRF_METHODS", &mut c.csrf_methods)?;
        env.string(
            "JWT_ACCESS_CSRF_COOKIE_NAME",
            &mut c.access_csrf_cookie_name,
        );
        env.string(
            "JWT_ACCESS_CSRF_COOKIE_PATH",
            &mut c.access_csrf_cookie_path,
        );
        env.string(
            "JWT_REFRESH_CSRF_COOKIE_NAME",
            &mut c.refresh_csrf_cookie_name,
        );
        env.string(
            "JWT_REFRESH_CSRF_COOKIE_PATH",
            &mut c.refresh_csrf_cookie_path,
        );
        env.string(
            "JWT_ACCESS_CSRF_HEADER_NAME",
            &mut c.access_csrf_header_name,
        );
        env.string(
            "JWT_REFRESH_CSRF_HEADER_NAME",
            &mut c.refresh_csrf_header_name,
        );
        env.string("JWT_ACCESS_CSRF_FIELD_NAME", &mut c.access_csrf_field_name);
        env.string(
            "JWT_REFRESH_CSRF_FIELD_NAME",
            &mut c.refresh_csrf_field_name,
        );
        env.boolean("JWT_CSRF_CHECK_FORM", &mut c.csrf_check_form)?;
        env.string("JWT_QUERY_STRING_NAME", &mut c.query_string_name);
        env.string("JWT_JSON_KEY", &mut c.json_key);
        env.string("JWT_REFRESH_JSON_KEY", &mut c.refresh_json_key);
        env.list(
            "JWT_IMPLICIT_REFRESH_ROUTE_EXCLUDE",
            &mut c.implicit_refresh_route_exclude,
        )?;
        env.list(
            "JWT_IMPLICIT_REFRESH_ROUTE_INCLUDE",
            &mut c.implicit_refresh_route_include,
        )?;
        env.list(
            "JWT_IMPLICIT_REFRESH_METHOD_EXCLUDE",
            &mut c.implicit_refresh_method_exclude,
        )?;
        env.list(
            "JWT_IMPLICIT_REFRESH_METHOD_INCLUDE",
            &mut c.implicit_refresh_method_include,
        )?;
        env.duration(
            "JWT_IMPLICIT_REFRESH_DELTATIME",
            &mut c.implicit_refresh_deltatime,
        )?;
        if let Some(v) = env.get("JWT_MAX_TOKEN_LENGTH") {
            c.max_token_length = v.trim().parse().map_err(|_| {
                Error::config(format!("JWT_MAX_TOKEN_LENGTH: {v:?} is not a number"))
            })?;
        }
        env.boolean(
            "AUTHX_DANGEROUS_ALLOW_WEAK_SECRET",
            &mut c.dangerous_allow_weak_secret,
        )?;
        Ok(c)
    }
}

fn standard_method(name: &str) -> Option<Method> {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    STANDARD.into_iter().find(|m| m.as_str() == name)
}

fn is_cookie_name_byte(b: u8) -> bool {
    // RFC 6265 token characters.
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

struct EnvReader<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> EnvReader<'_, F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }
    fn string(&self, name: &str, out: &mut String) {
        if let Some(v) = self.get(name) {
            *out = v;
        }
    }
    fn opt_string(&self, name: &str, out: &mut Option<String>) {
        if let Some(v) = self.get(name) {
            *out = if v.is_empty() { None } else { Some(v) };
        }
    }
    fn secret(&self, name: &str, out: &mut Option<Secret>) {
        if let Some(v) = self.get(name) {
            *out = if v.is_empty() { None } else { Some(Secret(v)) };
        }
    }
    fn boolean(&self, name: &str, out: &mut bool) -> Result<()> {
        if let Some(v) = self.get(name) {
            *out = match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(Error::config(format!("{name}: {v:?} is not a boolean"))),
            };
        }
        Ok(())
    }
    fn duration(&self, name: &str, out: &mut Duration) -> Result<()> {
        if let Some(v) = self.get(name) {
            *out = parse_duration(name, &v)?;
        }
        Ok(())
    }
    fn parse<T: std::str::FromStr>(&self, name: &str, out: &mut T) -> Result<()> {
        if let Some(v) = self.get(name) {
            *out = v
                .trim()
                .parse()
                .map_err(|_| Error::config(format!("{name}: {v:?} is not a valid value")))?;
        }
        Ok(())
    }
    /// HTTP methods, case-insensitive as AuthX's config is; only the
    /// standard methods, so a typo can never silently switch CSRF off.
    fn methods(&self, name: &str, out: &mut Vec<Method>) -> Result<()> {
        if self.get(name).is_none() {
            return Ok(());
        }
        let mut names: Vec<String> = Vec::new();
        self.list(name, &mut names)?;
        *out = names
            .iter()
            .map(|m| {
                standard_method(&m.to_ascii_uppercase()).ok_or_else(|| {
                    Error::config(format!("{name}: {m:?} is not a standard HTTP method"))
                })
            })
            .collect::<Result<_>>()?;
        Ok(())
    }

    fn list<T: std::str::FromStr>(&self, name: &str, out: &mut Vec<T>) -> Result<()> {
        let Some(v) = self.get(name) else {
            return Ok(());
        };
        let items: Vec<String> = if v.trim_start().starts_with('[') {
            serde_json::from_str(&v).map_err(|_| {
                Error::config(format!("{name}: {v:?} is not a JSON list of strings"))
            })?
        } else {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        *out = items
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|_| Error::config(format!("{name}: {s:?} is not a valid value")))
            })
            .collect::<Result<_>>()?;
        Ok(())
    }
}

fn parse_duration(name: &str, v: &str) -> Result<Duration> {
    let secs: f64 = v
        .trim()
        .parse()
        .map_err(|_| Error::config(format!("{name}: {v:?} is not a number of seconds")))?;
    Duration::try_from_secs_f64(secs).map_err(|_| {
        Error::config(format!(
            "{name}: {v:?} is not a non-negative number of seconds"
        ))
    })
}
