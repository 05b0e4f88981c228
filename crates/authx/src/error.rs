//! Errors: one [`Error`] type, a [`ErrorKind`] per failure, each mapped to an
//! HTTP status, AuthX's `error_type` name and an RFC 6750 `WWW-Authenticate`
//! challenge.

use std::borrow::Cow;
use std::fmt;

use http::{HeaderValue, StatusCode};

/// A specialised `Result` for authx operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way authx can refuse a token, a request or a configuration.
///
/// The kind is boxed so that `Result<T, Error>` stays one pointer wide on the
/// hot path.
///
/// ```
/// use authx::{Error, ErrorKind};
///
/// let err = Error::from(ErrorKind::ExpiredToken);
/// assert_eq!(err.error_type(), "TokenExpiredError");
/// assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
/// ```
pub struct Error(Box<ErrorKind>);

/// Why a token failed the format checks that run before any cryptography.
///
/// ```
/// use authx::{ErrorKind, Malformed};
/// let kind = ErrorKind::Malformed(Malformed::SegmentCount);
/// assert_eq!(kind.error_type(), "JWTDecodeError");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The token is longer than the configured cap (8 KiB by default).
    TooLong,
    /// Not exactly three `.`-separated segments (F1).
    SegmentCount,
    /// One of the three segments is empty (F1).
    EmptySegment,
    /// A byte outside `A-Z a-z 0-9 - _ .` (F2).
    Alphabet,
    /// Invalid base64url: padding, length ≡ 1 mod 4 or non-zero trailing bits (F3).
    Base64,
    /// The header is not one JSON object, or is not UTF-8 (F4).
    Header,
    /// The claims are not one JSON object, or are not UTF-8 (F4).
    Claims,
    /// The same member name appears twice in the header or the claims (F5).
    DuplicateMember,
    /// The signature has the wrong length for the algorithm (A7).
    SignatureLength,
}

impl Malformed {
    fn describe(self) -> &'static str {
        match self {
            Self::TooLong => "token is too long",
            Self::SegmentCount => "token must have exactly three segments",
            Self::EmptySegment => "token has an empty segment",
            Self::Alphabet => "token contains a character outside base64url",
            Self::Base64 => "token segment is not canonical base64url",
            Self::Header => "token header is not a JSON object",
            Self::Claims => "token claims are not a JSON object",
            Self::DuplicateMember => "token has a duplicate member name",
            Self::SignatureLength => "signature has the wrong length",
        }
    }
}

/// The kinds of failure. Grouped as: request shape, token shape, validation,
/// authorization, configuration and infrastructure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    // --- request shape -------------------------------------------------
    /// No token in any allowed location.
    MissingToken,
    /// A CSRF-checked request without a CSRF value (or with an empty one).
    MissingCsrfToken,
    /// The CSRF value does not match the token's `csrf` claim.
    CsrfMismatch,
    /// The same credential was sent twice (two `Authorization` headers, two
    /// auth cookies of one name, two `token` query parameters) (H4).
    DuplicateCredentials,
    /// The `Authorization` header names the bearer scheme but is not exactly
    /// `Bearer <token>` (H1).
    MalformedAuthorizationHeader,
    /// A token found in a JSON body is not a string.
    InvalidJsonToken,

    // --- token shape ---------------------------------------------------
    /// The token failed a format check before any cryptography.
    Malformed(Malformed),
    /// The header uses a feature that is never honoured (`crit`, `b64`,
    /// `jku`, `x5u`, `jwk`, `x5c`); the member name is given (F8, F9, K2).
    ForbiddenHeader(&'static str),
    /// A header member or claim has the wrong JSON type or an impossible
    /// value; its name is given (F10, C4).
    InvalidClaim(&'static str),
    /// A required claim is absent; its name is given (C1, C3, C9, C10, C11).
    MissingClaim(&'static str),

    // --- validation ----------------------------------------------------
    /// `alg` is not in the configured allowlist, or has no key (A1, A2).
    AlgorithmNotAllowed,
    /// `kid` names no configured key (K1).
    UnknownKeyId,
    /// The signature does not verify.
    InvalidSignature,
    /// `now >= exp + leeway` (C1).
    ExpiredToken,
    /// `now < nbf - leeway` (C2).
    ImmatureToken,
    /// `iat` lies in the future beyond the leeway (C3).
    IssuedInFuture,
    /// `aud` does not match the configured audience (C7).
    InvalidAudience,
    /// `iss` does not match the configured issuer (C7).
    InvalidIssuer,
    /// A refresh (or untyped) token where an access token is required.
    AccessTokenRequired,
    /// An access token where a refresh token is required.
    RefreshTokenRequired,
    /// A non-fresh access token on a route that requires a fresh one.
    FreshTokenRequired,
    /// The token was revoked (by `jti`, by subject or by session).
    RevokedToken,
    /// A refresh token that had already been rotated was replayed; its whole
    /// family has been revoked.
    TokenReuseDetected,
    /// The token's subject no longer exists.
    UnknownSubject,

    // --- authorization -------------------------------------------------
    /// The token lacks a required scope.
    InsufficientScope {
        /// The scopes the route requires.
        required: Vec<String>,
        /// The scopes the token carries.
        provided: Vec<String>,
    },

    // --- configuration -------------------------------------------------
    /// The configuration is invalid; the message names the option.
    BadConfiguration(Cow<'static, str>),
    /// Custom data or headers tried to set a registered claim or header.
    ReservedClaim(String),

    // --- infrastructure ------------------------------------------------
    /// The token store could not be reached; the request fails closed.
    StoreUnavailable(Cow<'static, str>),
}

impl ErrorKind {
    /// AuthX's exception class name for this failure (the `error_type` of the
    /// JSON body). Kinds AuthX lacks get a name in the same style.
    ///
    /// ```
    /// use authx::ErrorKind;
    /// assert_eq!(ErrorKind::MissingToken.error_type(), "MissingTokenError");
    /// ```
    #[must_use]
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::MissingToken => "MissingTokenError",
            Self::MissingCsrfToken => "MissingCSRFTokenError",
            Self::CsrfMismatch => "CSRFError",
            Self::DuplicateCredentials => "DuplicateCredentialsError",
            Self::MalformedAuthorizationHeader => "InvalidAuthorizationHeaderError",
            Self::InvalidJsonToken => "InvalidRequestError",
            Self::Malformed(_)
            | Self::ForbiddenHeader(_)
            | Self::InvalidClaim(_)
            | Self::MissingClaim(_)
            | Self::AlgorithmNotAllowed
            | Self::UnknownKeyId
            | Self::ImmatureToken
            | Self::IssuedInFuture => "JWTDecodeError",
            Self::InvalidSignature => "TokenInvalidSignatureError",
            Self::ExpiredToken => "TokenExpiredError",
            Self::InvalidAudience => "TokenInvalidAudienceError",
            Self::InvalidIssuer => "TokenInvalidIssuerError",
            Self::AccessTokenRequired => "AccessTokenRequiredError",
            Self::RefreshTokenRequired => "RefreshTokenRequiredError",
            Self::FreshTokenRequired => "FreshTokenRequiredError",
            Self::RevokedToken => "RevokedTokenError",
            Self::TokenReuseDetected => "TokenReuseError",
            Self::UnknownSubject => "SubjectNotFoundError",
            Self::InsufficientScope { .. } => "InsufficientScopeError",
            Self::BadConfiguration(_) | Self::ReservedClaim(_) => "BadConfigurationError",
            Self::StoreUnavailable(_) => "StoreUnavailableError",
        }
    }

    /// The HTTP status this failure answers with.
    ///
    /// 401 for missing, invalid, expired, revoked, wrong-type,
    /// fresh-required and CSRF failures; 403 for missing scopes; 400 for a
    /// malformed request; 503 when the store is unreachable; 500 for a
    /// configuration error (a programming error, never caused by input).
    /// AuthX answers 422 for decode errors; we follow RFC 6750.
    ///
    /// ```
    /// use authx::ErrorKind;
    /// assert_eq!(ErrorKind::DuplicateCredentials.status(), http::StatusCode::BAD_REQUEST);
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::DuplicateCredentials
            | Self::MalformedAuthorizationHeader
            | Self::InvalidJsonToken => StatusCode::BAD_REQUEST,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::BadConfiguration(_) | Self::ReservedClaim(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The RFC 6750 error code, if this failure has one.
    fn bearer_error(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken => None,
            Self::DuplicateCredentials
            | Self::MalformedAuthorizationHeader
            | Self::InvalidJsonToken => Some("invalid_request"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::BadConfiguration(_) | Self::ReservedClaim(_) | Self::StoreUnavailable(_) => None,
            _ => Some("invalid_token"),
        }
    }

    /// The `WWW-Authenticate` challenge for this failure (RFC 6750 §3), or
    /// `None` for failures that are not about credentials (503, 500).
    ///
    /// ```
    /// use authx::ErrorKind;
    /// let v = ErrorKind::ExpiredToken.www_authenticate().unwrap();
    /// assert_eq!(v, r#"Bearer error="invalid_token""#);
    /// assert_eq!(ErrorKind::MissingToken.www_authenticate().unwrap(), "Bearer");
    /// ```
    #[must_use]
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        match (self.status(), self.bearer_error()) {
            (StatusCode::UNAUTHORIZED, None) => Some(HeaderValue::from_static("Bearer")),
            (_, Some("invalid_token")) => {
                Some(HeaderValue::from_static(r#"Bearer error="invalid_token""#))
            }
            (_, Some("invalid_request")) => Some(HeaderValue::from_static(
                r#"Bearer error="invalid_request""#,
            )),
            (_, Some(_)) => Some(HeaderValue::from_static(
                r#"Bearer error="insufficient_scope""#,
            )),
            _ => None,
        }
    }

    /// A human-readable message. It never contains the token, a key or an
    /// expected signature (H7). Messages of kinds AuthX has are AuthX's.
    ///
    /// ```
    /// use authx::ErrorKind;
    /// assert_eq!(ErrorKind::CsrfMismatch.message(), "CSRF double submit does not match");
    /// ```
    #[must_use]
    pub fn message(&self) -> Cow<'static, str> {
        match self {
            Self::MissingToken => "Missing JWT in request".into(),
            Self::MissingCsrfToken => "Missing CSRF token".into(),
            Self::CsrfMismatch => "CSRF double submit does not match".into(),
            Self::DuplicateCredentials => "Credentials sent more than once".into(),
            Self::MalformedAuthorizationHeader => {
                "Authorization header must be 'Bearer <token>'".into()
            }
            Self::InvalidJsonToken => "Token in the JSON body must be a string".into(),
            Self::Malformed(m) => format!("Invalid Token: {}", m.describe()).into(),
            Self::ForbiddenHeader(name) => {
                format!("Invalid Token: header member '{name}' is not supported").into()
            }
            Self::InvalidClaim(name) => format!("Invalid Token: invalid '{name}'").into(),
            Self::MissingClaim(name) => format!("Invalid Token: missing '{name}'").into(),
            Self::AlgorithmNotAllowed => "Invalid Token: algorithm not allowed".into(),
            Self::UnknownKeyId => "Invalid Token: unknown key id".into(),
            Self::InvalidSignature => "Signature verification failed".into(),
            Self::ExpiredToken => "Token has expired".into(),
            Self::ImmatureToken => "Token is not yet valid".into(),
            Self::IssuedInFuture => "Token is issued in the future".into(),
            Self::InvalidAudience => "Invalid audience".into(),
            Self::InvalidIssuer => "Invalid issuer".into(),
            Self::AccessTokenRequired => "Access token required".into(),
            Self::RefreshTokenRequired => "Refresh token required".into(),
            Self::FreshTokenRequired => "Fresh token required".into(),
            Self::RevokedToken => "Invalid token".into(),
            Self::TokenReuseDetected => "Refresh token reuse detected; session revoked".into(),
            Self::UnknownSubject => "Unknown subject".into(),
            Self::InsufficientScope { required, provided } => {
                format!("Missing required scopes: {required:?}. Provided: {provided:?}").into()
            }
            Self::BadConfiguration(msg) => msg.clone(),
            Self::ReservedClaim(name) => {
                format!("'{name}' is a registered name and cannot be set").into()
            }
            Self::StoreUnavailable(_) => "Token store unavailable".into(),
        }
    }
}

impl Error {
    /// The kind of failure.
    ///
    /// ```
    /// use authx::{Error, ErrorKind};
    /// let err = Error::from(ErrorKind::RevokedToken);
    /// assert_eq!(err.kind(), &ErrorKind::RevokedToken);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Consumes the error, returning its kind.
    ///
    /// ```
    /// use authx::{Error, ErrorKind};
    /// assert_eq!(Error::from(ErrorKind::MissingToken).into_kind(), ErrorKind::MissingToken);
    /// ```
    #[must_use]
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// See [`ErrorKind::error_type`].
    ///
    /// ```
    /// # use authx::{Error, ErrorKind};
    /// assert_eq!(Error::from(ErrorKind::CsrfMismatch).error_type(), "CSRFError");
    /// ```
    #[must_use]
    pub fn error_type(&self) -> &'static str {
        self.0.error_type()
    }

    /// See [`ErrorKind::status`].
    ///
    /// ```
    /// # use authx::{Error, ErrorKind};
    /// assert_eq!(Error::from(ErrorKind::MissingToken).status(), 401);
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }

    /// See [`ErrorKind::message`].
    ///
    /// ```
    /// # use authx::{Error, ErrorKind};
    /// assert_eq!(Error::from(ErrorKind::ExpiredToken).message(), "Token has expired");
    /// ```
    #[must_use]
    pub fn message(&self) -> Cow<'static, str> {
        self.0.message()
    }

    /// See [`ErrorKind::www_authenticate`].
    ///
    /// ```
    /// # use authx::{Error, ErrorKind};
    /// assert!(Error::from(ErrorKind::MissingToken).www_authenticate().is_some());
    /// ```
    #[must_use]
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        self.0.www_authenticate()
    }

    /// The JSON body AuthX's `handle_errors` answers with:
    /// `{"<message_key>": message, "error_type": error_type}`.
    ///
    /// ```
    /// # use authx::{Error, ErrorKind};
    /// let body = Error::from(ErrorKind::MissingToken).to_json("message");
    /// assert_eq!(body["error_type"], "MissingTokenError");
    /// ```
    #[must_use]
    pub fn to_json(&self, message_key: &str) -> serde_json::Value {
        let mut map = serde_json::Map::with_capacity(2);
        map.insert(message_key.to_owned(), self.message().into_owned().into());
        map.insert("error_type".to_owned(), self.error_type().into());
        serde_json::Value::Object(map)
    }

    pub(crate) fn config(msg: impl Into<Cow<'static, str>>) -> Self {
        ErrorKind::BadConfiguration(msg.into()).into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self(Box::new(kind))
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        ErrorKind::Malformed(m).into()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Error").field(&self.0).finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

impl PartialEq<ErrorKind> for Error {
    fn eq(&self, other: &ErrorKind) -> bool {
        *self.0 == *other
    }
}
