//! [`ImplicitRefreshLayer`]: AuthX's implicit refresh middleware, for apps
//! that keep the access token in a cookie.
//!
//! After the inner service answers, if the request carried an access
//! cookie that verifies (signature, time, CSRF for CSRF-checked methods,
//! and the revocation hook) and has less than `implicit_refresh_deltatime`
//! left, a new access token is minted with the same subject, scopes and
//! custom claims (not fresh), and the access and CSRF cookies are reset on
//! the response. Differences from AuthX, on purpose:
//! - `implicit_refresh_method_include` includes (AuthX's excludes);
//! - scopes and custom claims survive; a revoked or expired token is never
//!   refreshed; the CSRF cookie is reset with the new token's value;
//! - on a CSRF-checked method the request's CSRF header must be valid, so a
//!   cross-site request cannot extend a session;
//! - nothing is refreshed on a 401 or 403 answer, or when the handler set
//!   the access cookie itself (login, logout).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::response::Response;
use http::Request;
use http::request::Parts;
use tower_layer::Layer;
use tower_service::Service;

use crate::{AuthX, FindOptions, TokenLocation, TokenOptions, TokenType, VerifyOptions};

/// Refreshes access-token cookies that are close to expiry; see the
/// [implicit refresh guide](crate::guide::implicit_refresh).
///
/// ```
/// use authx::{AuthX, AuthXConfig, TokenLocation, axum::ImplicitRefreshLayer};
/// let auth = AuthX::new(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     token_location: vec![TokenLocation::Cookies],
///     ..Default::default()
/// })?;
/// let app: axum::Router = axum::Router::new().layer(ImplicitRefreshLayer::new(auth));
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ImplicitRefreshLayer {
    auth: AuthX,
}

impl ImplicitRefreshLayer {
    /// Refreshes per `auth`'s `implicit_refresh_*` options.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let layer = authx::axum::ImplicitRefreshLayer::new(auth);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn new(auth: AuthX) -> Self {
        Self { auth }
    }
}

impl<S> Layer<S> for ImplicitRefreshLayer {
    type Service = ImplicitRefresh<S>;
    fn layer(&self, inner: S) -> ImplicitRefresh<S> {
        ImplicitRefresh {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service of [`ImplicitRefreshLayer`].
#[derive(Debug, Clone)]
pub struct ImplicitRefresh<S> {
    inner: S,
    auth: AuthX,
}

/// Whether the route and method filters let this request be refreshed.
fn route_allowed(auth: &AuthX, parts: &Parts) -> bool {
    let c = auth.config();
    // The full path, also under `Router::nest` (which strips the prefix).
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| parts.uri.path(), |u| u.0.path());
    let method = &parts.method;
    c.has_location(TokenLocation::Cookies)
        && (c.implicit_refresh_route_include.is_empty()
            || c.implicit_refresh_route_include.iter().any(|r| r == path))
        && !c.implicit_refresh_route_exclude.iter().any(|r| r == path)
        && (c.implicit_refresh_method_include.is_empty()
            || c.implicit_refresh_method_include.contains(method))
        && !c.implicit_refresh_method_exclude.contains(method)
}

/// A new access token for the request's access cookie, when it is due.
async fn renewal(auth: &AuthX, parts: &Parts) -> Option<String> {
    let find = FindOptions::new().locations(&[TokenLocation::Cookies]);
    let rt = auth
        .get_token_from_request(parts, TokenType::Access, find)
        .ok()?;
    let payload = auth
        .authenticate(&rt, VerifyOptions::default())
        .await
        .ok()?;
    let remaining = payload.exp - auth.clock().now_secs_f64();
    if remaining >= auth.config().implicit_refresh_deltatime.as_secs_f64() {
        return None;
    }
    let mut options = TokenOptions::new().data(&payload.extra).ok()?;
    if let Some(scopes) = payload.scopes {
        options = options.scopes(scopes);
    }
    if !payload.aud.is_empty() {
        options = options.audience(payload.aud);
    }
    auth.create_access_token_with(&payload.sub, &options).ok()
}

impl<S, B> Service<Request<B>> for ImplicitRefresh<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            // Only what the decision needs outlives the request.
            let probe = route_allowed(&auth, &parts).then(|| {
                let mut p = Request::new(());
                *p.method_mut() = parts.method.clone();
                *p.uri_mut() = parts.uri.clone();
                *p.headers_mut() = parts.headers.clone();
                if let Some(original) = parts.extensions.get::<axum::extract::OriginalUri>() {
                    p.extensions_mut().insert(original.clone());
                }
                p.into_parts().0
            });
            let mut res = inner.call(Request::from_parts(parts, body)).await?;
            let Some(probe) = probe else { return Ok(res) };
            let status = res.status();
            let cookie_name = &auth.config().access_cookie_name;
            let handler_set_cookie =
                res.headers()
                    .get_all(http::header::SET_COOKIE)
                    .iter()
                    .any(|v| {
                        v.to_str()
                            .is_ok_and(|s| s.split_once('=').is_some_and(|(n, _)| n == cookie_name))
                    });
            if status == http::StatusCode::UNAUTHORIZED
                || status == http::StatusCode::FORBIDDEN
                || handler_set_cookie
            {
                return Ok(res);
            }
            if let Some(token) = renewal(&auth, &probe).await {
                // A failure to set cookies leaves the old, still valid one.
                if auth.set_access_cookies(&token, res.headers_mut()).is_ok() {
                    crate::cookies::no_store(res.headers_mut());
                }
            }
            Ok(res)
        })
    }
}
