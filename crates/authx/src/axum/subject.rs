//! [`Subject`]: the app's user, loaded from the verified `sub`.

use std::future::Future;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;

use super::AuthRejection;
use super::extract::authenticate;
use crate::{AuthX, Error, ErrorKind, TokenPayload, TokenType};

/// Loads the app's user for a verified token (AuthX's `set_subject_getter`).
/// `Ok(None)` means the user no longer exists: the request gets a 401, not
/// a 500.
///
/// ```
/// use authx::{AuthX, Error, TokenPayload, axum::{LoadSubject, Subject}};
///
/// #[derive(Clone)]
/// struct User { name: String }
///
/// impl LoadSubject<AuthX> for User {
///     async fn load(_state: &AuthX, payload: &TokenPayload) -> Result<Option<Self>, Error> {
///         Ok((payload.sub == "user1").then(|| User { name: payload.sub.clone() }))
///     }
/// }
///
/// async fn me(Subject(user): Subject<User>) -> String { user.name }
/// ```
pub trait LoadSubject<S>: Sized {
    /// Looks the subject up.
    fn load(
        state: &S,
        payload: &TokenPayload,
    ) -> impl Future<Output = Result<Option<Self>, Error>> + Send;
}

/// The current user: a verified access token from the configured locations
/// (or the one a [`RequireAccessLayer`](super::RequireAccessLayer) verified),
/// loaded through [`LoadSubject`].
#[derive(Debug, Clone)]
pub struct Subject<U>(pub U);

impl<S, U> FromRequestParts<S> for Subject<U>
where
    AuthX: FromRef<S>,
    S: Send + Sync,
    U: LoadSubject<S> + Send,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthRejection> {
        let auth = AuthX::from_ref(state);
        let run = async {
            let done = authenticate(&auth, parts, TokenType::Access, None, false).await?;
            U::load(state, &done.payload)
                .await?
                .ok_or_else(|| Error::from(ErrorKind::UnknownSubject))
        };
        run.await
            .map(Subject)
            .map_err(|e| AuthRejection::new(&auth, e))
    }
}
