//! [`RequireAccessLayer`]: an access token for every route of a group,
//! optionally fresh and with scopes.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::AuthRejection;
use super::extract::authenticate;
use crate::{AuthX, TokenLocation, TokenType};

#[derive(Debug, Default)]
struct Policy {
    fresh: bool,
    scopes: Vec<String>,
    any_scope: bool,
    locations: Option<Vec<TokenLocation>>,
}

/// Requires a verified (and not revoked) access token on every request;
/// the payload goes into the request extensions as
/// [`Authenticated`](super::Authenticated), where the extractors find it.
///
/// ```
/// use authx::{AuthX, AuthXConfig, TokenLocation};
/// use authx::axum::{AccessToken, RequireAccessLayer};
/// use axum::{Router, routing::get};
///
/// let auth = AuthX::new(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     ..Default::default()
/// })?;
/// let admin: Router<AuthX> = Router::new()
///     .route("/admin/users", get(|t: AccessToken| async move { t.sub.clone() }))
///     .layer(RequireAccessLayer::new(auth.clone()).scopes(["admin:*"]).locations(&[TokenLocation::Headers]));
/// let app: Router = admin.with_state(auth);
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RequireAccessLayer {
    auth: AuthX,
    policy: Arc<Policy>,
}

impl RequireAccessLayer {
    /// Any valid access token from the configured locations.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let layer = authx::axum::RequireAccessLayer::new(auth);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn new(auth: AuthX) -> Self {
        Self {
            auth,
            policy: Arc::new(Policy::default()),
        }
    }

    fn policy(mut self, f: impl FnOnce(&mut Policy)) -> Self {
        let mut p = Policy {
            fresh: self.policy.fresh,
            scopes: self.policy.scopes.clone(),
            any_scope: self.policy.any_scope,
            locations: self.policy.locations.clone(),
        };
        f(&mut p);
        self.policy = Arc::new(p);
        self
    }

    /// Requires a fresh token.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let layer = authx::axum::RequireAccessLayer::new(auth).fresh();
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn fresh(self) -> Self {
        self.policy(|p| p.fresh = true)
    }

    /// Requires every one of `scopes` (AuthX's `ns:*` wildcard in the token
    /// grants `ns` and `ns:…`). Missing scopes answer 403.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let layer = authx::axum::RequireAccessLayer::new(auth).scopes(["read", "write"]);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn scopes<I: IntoIterator<Item = S>, S: AsRef<str>>(self, scopes: I) -> Self {
        let scopes: Vec<String> = scopes.into_iter().map(|s| s.as_ref().to_owned()).collect();
        self.policy(move |p| p.scopes = scopes)
    }

    /// Requires any one of the scopes instead of all of them.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let layer = authx::axum::RequireAccessLayer::new(auth).scopes(["a", "b"]).any_scope();
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn any_scope(self) -> Self {
        self.policy(|p| p.any_scope = true)
    }

    /// Narrows the locations searched, among the configured ones.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let layer = authx::axum::RequireAccessLayer::new(auth).locations(&[authx::TokenLocation::Headers]);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn locations(self, locations: &[TokenLocation]) -> Self {
        let locations = locations.to_vec();
        self.policy(move |p| p.locations = Some(locations))
    }
}

impl<S> Layer<S> for RequireAccessLayer {
    type Service = RequireAccess<S>;
    fn layer(&self, inner: S) -> RequireAccess<S> {
        RequireAccess {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`RequireAccessLayer`].
#[derive(Debug, Clone)]
pub struct RequireAccess<S> {
    inner: S,
    layer: RequireAccessLayer,
}

impl<S, B> Service<Request<B>> for RequireAccess<S>
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
        // The clone that was driven to readiness serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let policy = &layer.policy;
            let checked = async {
                let done = authenticate(
                    &layer.auth,
                    &parts,
                    TokenType::Access,
                    policy.locations.as_deref(),
                    policy.fresh,
                )
                .await?;
                done.payload
                    .require_scopes(&policy.scopes, !policy.any_scope)?;
                Ok::<_, crate::Error>(done)
            };
            match checked.await {
                Ok(done) => {
                    parts.extensions.insert(done);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(e) => Ok(AuthRejection::new(&layer.auth, e).into_response()),
            }
        })
    }
}
