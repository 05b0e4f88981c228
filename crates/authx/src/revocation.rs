//! The revocation hook: consulted after the signature and claims check,
//! keyed on the verified payload (its `jti`, `sub`, `iat`, session), never
//! on the raw token string as AuthX's blocklist callback is.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::claims::TokenPayload;
use crate::error::Result;

/// A boxed future, as returned by [`RevocationCheck::is_revoked`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Decides whether a verified token has been revoked.
///
/// Implemented for every `Fn(&TokenPayload) -> bool` (a synchronous
/// blocklist), and by the token stores. An `Err` (store unreachable) makes
/// the request fail closed with that error: "unknown" is never "not revoked".
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::{Arc, Mutex};
/// use authx::{AuthX, AuthXConfig, TokenPayload};
///
/// let blocklist = Arc::new(Mutex::new(HashSet::<String>::new()));
/// let list = blocklist.clone();
/// let auth = AuthX::builder(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     ..Default::default()
/// })
/// .revocation(move |p: &TokenPayload| list.lock().map_or(true, |l| l.contains(&p.jti)))
/// .build()?;
/// # Ok::<(), authx::Error>(())
/// ```
pub trait RevocationCheck: Send + Sync + 'static {
    /// `Ok(true)` when the token must be refused.
    fn is_revoked<'a>(&'a self, payload: &'a TokenPayload) -> BoxFuture<'a, Result<bool>>;

    /// Whether tokens of this type are checked at all; `false` skips the
    /// call (and its allocation) on the hot path. Defaults to `true`.
    fn checks(&self, token_type: crate::TokenType) -> bool {
        let _ = token_type;
        true
    }
}

impl<F> RevocationCheck for F
where
    F: Fn(&TokenPayload) -> bool + Send + Sync + 'static,
{
    fn is_revoked<'a>(&'a self, payload: &'a TokenPayload) -> BoxFuture<'a, Result<bool>> {
        let revoked = self(payload);
        Box::pin(std::future::ready(Ok(revoked)))
    }
}

/// An async revocation check from a closure returning a future.
///
/// ```
/// use authx::revocation::AsyncRevocation;
/// let check = AsyncRevocation::new(|jti: String| async move { Ok::<_, authx::Error>(jti == "revoked") });
/// # let _ = check;
/// ```
pub struct AsyncRevocation<F>(F);

impl<F> AsyncRevocation<F> {
    /// Wraps `f`, called with the token's `jti`.
    ///
    /// ```
    /// let _ = authx::revocation::AsyncRevocation::new(|_jti: String| async { Ok::<_, authx::Error>(false) });
    /// ```
    pub fn new(f: F) -> Self {
        Self(f)
    }
}

impl<F> fmt::Debug for AsyncRevocation<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncRevocation")
    }
}

impl<F, Fut> RevocationCheck for AsyncRevocation<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<bool>> + Send + 'static,
{
    fn is_revoked<'a>(&'a self, payload: &'a TokenPayload) -> BoxFuture<'a, Result<bool>> {
        Box::pin((self.0)(payload.jti.clone()))
    }
}
