//! Errors as responses.

use std::fmt;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::WWW_AUTHENTICATE;
use http::{HeaderValue, StatusCode};
use serde_json::Value;

use crate::{AuthX, Error};

/// Why an authx extractor or layer refused a request. Answers with the
/// error's status (or the one the configured
/// [`error_body`](crate::AuthXBuilder::error_body) chose), its JSON body,
/// `WWW-Authenticate` per RFC 6750 and `Cache-Control: no-store`.
///
/// ```
/// use authx::{AuthX, AuthXConfig, Error, ErrorKind, axum::AuthRejection};
/// use axum::response::IntoResponse;
/// let auth = AuthX::new(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     ..Default::default()
/// })?;
/// let res = AuthRejection::new(&auth, ErrorKind::MissingToken.into()).into_response();
/// assert_eq!(res.status(), 401);
/// assert_eq!(res.headers()["www-authenticate"], "Bearer");
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Debug)]
pub struct AuthRejection {
    error: Error,
    status: StatusCode,
    body: Value,
}

impl AuthRejection {
    /// The response `auth` gives for `error`.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, ErrorKind, axum::AuthRejection};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let r = AuthRejection::new(&auth, ErrorKind::ExpiredToken.into());
    /// assert_eq!(r.error().error_type(), "TokenExpiredError");
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn new(auth: &AuthX, error: Error) -> Self {
        let (status, body) = auth.error_body(&error);
        Self {
            error,
            status,
            body,
        }
    }

    /// The underlying error.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, ErrorKind, axum::AuthRejection};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let r = AuthRejection::new(&auth, ErrorKind::RevokedToken.into());
    /// assert_eq!(r.error().kind(), &ErrorKind::RevokedToken);
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Consumes the rejection, returning the error.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, ErrorKind, axum::AuthRejection};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let e = AuthRejection::new(&auth, ErrorKind::RevokedToken.into()).into_error();
    /// assert_eq!(e.status(), 401);
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn into_error(self) -> Error {
        self.error
    }
}

fn respond(error: &Error, status: StatusCode, body: Value) -> Response {
    let mut res = (status, Json(body)).into_response();
    let headers = res.headers_mut();
    if let Some(challenge) = error.www_authenticate() {
        headers.insert(WWW_AUTHENTICATE, challenge);
    }
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    res
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        respond(&self.error, self.status, self.body)
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// AuthX's default shape: `{"message": ..., "error_type": ...}`, with the
/// error's status and challenge. Use [`AuthRejection`] to honour an
/// [`AuthX`]'s configured body instead.
///
/// ```
/// use authx::{Error, ErrorKind};
/// use axum::response::IntoResponse;
/// let res = Error::from(ErrorKind::InsufficientScope { required: vec![], provided: vec![] }).into_response();
/// assert_eq!(res.status(), 403);
/// ```
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = self.to_json("message");
        respond(&self, self.status(), body)
    }
}
