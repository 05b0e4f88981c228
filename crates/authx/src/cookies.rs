//! Setting and clearing the auth cookies on a response's `HeaderMap`.
//!
//! - Token cookies are `HttpOnly` (configurable), CSRF cookies never are,
//!   so JavaScript can echo them (K-C1, K-C2).
//! - Every cookie carries `Secure`, `SameSite`, `Path` and `Domain` as
//!   configured; `Max-Age` never exceeds the token's remaining lifetime
//!   (K-C3).
//! - Clearing repeats every attribute, with an empty value, `Max-Age=0` and
//!   an `Expires` in the past (K-C5; AuthX drops `Secure`, and browsers may
//!   then keep the cookie).

use std::time::Duration;

use cookie::{Cookie, CookieBuilder};
use http::header::{CACHE_CONTROL, PRAGMA, SET_COOKIE};
use http::{HeaderMap, HeaderValue};

use crate::claims::TokenType;
use crate::config::SameSite;
use crate::error::{Error, ErrorKind, Result};
use crate::token::{AuthX, TokenPair};

/// Marks a response that carries tokens as uncacheable (H6):
/// `Cache-Control: no-store` and `Pragma: no-cache`.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// authx::cookies::no_store(&mut headers);
/// assert_eq!(headers["cache-control"], "no-store");
/// ```
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

struct CookieNames<'a> {
    token: &'a str,
    token_path: &'a str,
    csrf: &'a str,
    csrf_path: &'a str,
}

impl AuthX {
    fn cookie_names(&self, kind: TokenType) -> CookieNames<'_> {
        let c = self.config();
        match kind {
            TokenType::Access => CookieNames {
                token: &c.access_cookie_name,
                token_path: &c.access_cookie_path,
                csrf: &c.access_csrf_cookie_name,
                csrf_path: &c.access_csrf_cookie_path,
            },
            TokenType::Refresh => CookieNames {
                token: &c.refresh_cookie_name,
                token_path: &c.refresh_cookie_path,
                csrf: &c.refresh_csrf_cookie_name,
                csrf_path: &c.refresh_csrf_cookie_path,
            },
        }
    }

    fn cookie<'c>(
        &self,
        name: &'c str,
        value: &'c str,
        path: &'c str,
        http_only: bool,
    ) -> CookieBuilder<'c> {
        let c = self.config();
        let mut b = Cookie::build((name, value))
            .path(path)
            .secure(c.cookie_secure)
            .http_only(http_only)
            .same_site(match c.cookie_samesite {
                SameSite::Lax => cookie::SameSite::Lax,
                SameSite::Strict => cookie::SameSite::Strict,
                SameSite::None => cookie::SameSite::None,
            });
        if let Some(domain) = &c.cookie_domain {
            b = b.domain(domain.clone());
        }
        b
    }

    /// Sets the access token cookie and, when CSRF cookies are on, its
    /// `csrf_access_token` cookie. The token is verified first (it must be
    /// a valid access token) to read its CSRF claim and lifetime.
    ///
    /// ```
    /// use authx::{AuthX, AuthXConfig, TokenLocation};
    /// let auth = AuthX::new(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     token_location: vec![TokenLocation::Cookies],
    ///     ..Default::default()
    /// })?;
    /// let mut headers = http::HeaderMap::new();
    /// auth.set_access_cookies(&auth.create_access_token("u")?, &mut headers)?;
    /// let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
    /// assert_eq!(cookies.len(), 2);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn set_access_cookies(&self, token: &str, headers: &mut HeaderMap) -> Result<()> {
        self.set_cookies(TokenType::Access, token, headers, None)
    }

    /// Sets the refresh token cookie and its `csrf_refresh_token` cookie.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, TokenLocation};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
    /// #     ..Default::default()
    /// # })?;
    /// let mut headers = http::HeaderMap::new();
    /// auth.set_refresh_cookies(&auth.create_refresh_token("u")?, &mut headers)?;
    /// let last = headers.get_all("set-cookie").iter().last().unwrap().to_str().unwrap();
    /// assert!(last.starts_with("refresh_token_cookie=") && last.contains("HttpOnly"));
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn set_refresh_cookies(&self, token: &str, headers: &mut HeaderMap) -> Result<()> {
        self.set_cookies(TokenType::Refresh, token, headers, None)
    }

    /// Sets the cookies of `kind`, with an explicit `max_age` (still capped
    /// by the token's lifetime).
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, TokenType};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let mut headers = http::HeaderMap::new();
    /// let token = auth.create_access_token("u")?;
    /// auth.set_cookies(TokenType::Access, &token, &mut headers, Some(std::time::Duration::from_secs(60)))?;
    /// assert!(headers["set-cookie"].to_str().unwrap().contains("Max-Age=60"));
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn set_cookies(
        &self,
        kind: TokenType,
        token: &str,
        headers: &mut HeaderMap,
        max_age: Option<Duration>,
    ) -> Result<()> {
        let payload = self.decode_token(token)?;
        if payload.token_type != kind {
            return Err(match kind {
                TokenType::Access => ErrorKind::AccessTokenRequired,
                TokenType::Refresh => ErrorKind::RefreshTokenRequired,
            }
            .into());
        }
        self.set_known_cookies(
            kind,
            token,
            payload.csrf.as_deref(),
            payload.exp,
            headers,
            max_age,
        )
    }

    /// Sets the cookies of the `kind` token of `pair`, as
    /// [`set_cookies`](Self::set_cookies) does. A pair this `AuthX` (or
    /// [`Sessions`](crate::sessions::Sessions)) has just issued carries the
    /// token's CSRF value and expiry, so the token is not verified a second
    /// time; any other pair's token is (a pair read back from JSON, say).
    /// The recorded values belong to the tokens the pair was issued with; a
    /// token put in the pair after that, or edited there, is verified as
    /// [`set_cookies`](Self::set_cookies) would.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, TokenLocation, TokenOptions, TokenType};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
    /// #     ..Default::default()
    /// # })?;
    /// let pair = auth.create_token_pair("u", &TokenOptions::new())?;
    /// let mut headers = http::HeaderMap::new();
    /// auth.set_pair_cookies(TokenType::Refresh, &pair, &mut headers, None)?;
    /// let last = headers.get_all("set-cookie").iter().last().unwrap().to_str().unwrap();
    /// assert!(last.starts_with(&format!("refresh_token_cookie={}", pair.refresh_token)));
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn set_pair_cookies(
        &self,
        kind: TokenType,
        pair: &TokenPair,
        headers: &mut HeaderMap,
        max_age: Option<Duration>,
    ) -> Result<()> {
        let (token, minted) = match kind {
            TokenType::Access => (&pair.access_token, &pair.access_minted),
            TokenType::Refresh => (&pair.refresh_token, &pair.refresh_minted),
        };
        match minted.as_ref().filter(|m| m.is_of(token)) {
            Some(m) => self.set_known_cookies(
                kind,
                token,
                m.csrf.as_deref(),
                m.exp as f64,
                headers,
                max_age,
            ),
            None => self.set_cookies(kind, token, headers, max_age),
        }
    }

    /// The cookies of a token whose type, CSRF value and expiry are known.
    fn set_known_cookies(
        &self,
        kind: TokenType,
        token: &str,
        csrf: Option<&str>,
        exp: f64,
        headers: &mut HeaderMap,
        max_age: Option<Duration>,
    ) -> Result<()> {
        let c = self.config();
        let remaining = (exp - self.clock().now_secs_f64()).floor().max(0.0) as i64;
        let wanted = max_age
            .or(c.cookie_max_age)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let max_age = match (wanted, c.session_cookie) {
            (Some(w), _) => Some(w.min(remaining)),
            (None, false) => Some(remaining),
            (None, true) => None,
        };
        let names = self.cookie_names(kind);
        // The CSRF cookie goes first and the token cookie last: clients that
        // keep only the last `Set-Cookie` (wrk's Lua API does) still get
        // the token, and its CSRF value is inside it.
        let mut jar = Vec::with_capacity(2);
        let csrf = csrf.filter(|v| !v.is_empty());
        if let (true, Some(csrf)) = (c.csrf_in_cookies, csrf) {
            jar.push(self.cookie(names.csrf, csrf, names.csrf_path, false));
        }
        jar.push(self.cookie(names.token, token, names.token_path, c.cookie_http_only));
        for b in jar {
            let b = match max_age {
                Some(s) => b.max_age(cookie::time::Duration::seconds(s)),
                None => b,
            };
            append(headers, &b.build())?;
        }
        Ok(())
    }

    /// Clears the access cookie and its CSRF cookie.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let mut headers = http::HeaderMap::new();
    /// auth.unset_access_cookies(&mut headers)?;
    /// assert!(headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn unset_access_cookies(&self, headers: &mut HeaderMap) -> Result<()> {
        self.unset(TokenType::Access, headers)
    }

    /// Clears the refresh cookie and its CSRF cookie.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let mut headers = http::HeaderMap::new();
    /// auth.unset_refresh_cookies(&mut headers)?;
    /// assert_eq!(headers.get_all("set-cookie").iter().count(), 2);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn unset_refresh_cookies(&self, headers: &mut HeaderMap) -> Result<()> {
        self.unset(TokenType::Refresh, headers)
    }

    /// Clears all four auth cookies.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let mut headers = http::HeaderMap::new();
    /// auth.unset_cookies(&mut headers)?;
    /// assert_eq!(headers.get_all("set-cookie").iter().count(), 4);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn unset_cookies(&self, headers: &mut HeaderMap) -> Result<()> {
        self.unset(TokenType::Access, headers)?;
        self.unset(TokenType::Refresh, headers)
    }

    fn unset(&self, kind: TokenType, headers: &mut HeaderMap) -> Result<()> {
        let c = self.config();
        let names = self.cookie_names(kind);
        let mut jar = vec![self.cookie(names.token, "", names.token_path, c.cookie_http_only)];
        if c.csrf_in_cookies {
            jar.push(self.cookie(names.csrf, "", names.csrf_path, false));
        }
        for b in jar {
            let b = b
                .max_age(cookie::time::Duration::ZERO)
                .expires(cookie::time::OffsetDateTime::UNIX_EPOCH);
            append(headers, &b.build())?;
        }
        Ok(())
    }
}

fn append(headers: &mut HeaderMap, cookie: &Cookie<'_>) -> Result<()> {
    // Tokens and CSRF values (base64url and dots) are left unchanged by
    // percent-encoding, so they skip its per-character formatting; any
    // other value is encoded, so it can never add an attribute.
    let plain = cookie.value().bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_') | (b == b'.'))
    });
    let text = if plain {
        cookie.to_string()
    } else {
        cookie.encoded().to_string()
    };
    let value = HeaderValue::try_from(text)
        .map_err(|_| Error::config("cookie: value is not a valid header value"))?;
    headers.append(SET_COOKIE, value);
    Ok(())
}
