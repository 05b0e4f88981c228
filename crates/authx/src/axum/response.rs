//! Setting and clearing the auth cookies from a handler.

use axum::response::{IntoResponseParts, ResponseParts};
use http::HeaderMap;

use crate::{AuthX, Result, TokenPair, TokenType};

/// Auth cookies to set or clear, as a response part. Responses carrying it
/// also get `Cache-Control: no-store` (H6).
///
/// ```
/// use authx::{AuthX, AuthXConfig, TokenLocation, axum::AuthCookies};
/// use axum::{Json, response::IntoResponse};
///
/// # let auth = AuthX::new(AuthXConfig {
/// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
/// #     token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
/// #     ..Default::default()
/// # })?;
/// let refresh = auth.create_refresh_token("user1")?;
/// let cookies = AuthCookies::new(&auth).set_refresh(&refresh)?;
/// let res = (cookies, Json(serde_json::json!({"ok": true}))).into_response();
/// assert_eq!(res.headers().get_all("set-cookie").iter().count(), 2);
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AuthCookies {
    auth: AuthX,
    headers: HeaderMap,
}

impl AuthCookies {
    /// No cookies yet.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let cookies = authx::axum::AuthCookies::new(&auth);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn new(auth: &AuthX) -> Self {
        Self {
            auth: auth.clone(),
            headers: HeaderMap::new(),
        }
    }

    /// Sets the access cookie and its CSRF cookie.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let c = authx::axum::AuthCookies::new(&auth).set_access(&auth.create_access_token("u")?)?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn set_access(mut self, token: &str) -> Result<Self> {
        self.auth
            .set_cookies(TokenType::Access, token, &mut self.headers, None)?;
        Ok(self)
    }

    /// Sets the refresh cookie and its CSRF cookie.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let c = authx::axum::AuthCookies::new(&auth).set_refresh(&auth.create_refresh_token("u")?)?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn set_refresh(mut self, token: &str) -> Result<Self> {
        self.auth
            .set_cookies(TokenType::Refresh, token, &mut self.headers, None)?;
        Ok(self)
    }

    /// Sets the cookies of the `kind` token of a pair (see
    /// [`AuthX::set_pair_cookies`]: a pair just issued is not verified again).
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let pair = auth.create_token_pair("u", &authx::TokenOptions::new())?;
    /// let c = authx::axum::AuthCookies::new(&auth).set_from_pair(authx::TokenType::Refresh, &pair)?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn set_from_pair(mut self, kind: TokenType, pair: &TokenPair) -> Result<Self> {
        self.auth
            .set_pair_cookies(kind, pair, &mut self.headers, None)?;
        Ok(self)
    }

    /// Clears the access cookie and its CSRF cookie.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let c = authx::axum::AuthCookies::new(&auth).unset_access()?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn unset_access(mut self) -> Result<Self> {
        self.auth.unset_access_cookies(&mut self.headers)?;
        Ok(self)
    }

    /// Clears the refresh cookie and its CSRF cookie.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let c = authx::axum::AuthCookies::new(&auth).unset_refresh()?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn unset_refresh(mut self) -> Result<Self> {
        self.auth.unset_refresh_cookies(&mut self.headers)?;
        Ok(self)
    }
}

impl IntoResponseParts for AuthCookies {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        let headers = res.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        crate::cookies::no_store(headers);
        Ok(res)
    }
}
