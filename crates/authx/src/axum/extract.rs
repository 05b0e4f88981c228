//! Extractors: verified access, refresh and fresh tokens, narrowed per route.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::AuthRejection;
use crate::{AuthX, ErrorKind, FindOptions, TokenLocation, TokenPayload, TokenType, VerifyOptions};

/// Where an extractor may look for its token. The narrowing is part of the
/// handler's signature: `AccessToken<HeaderOnly>` never reads a cookie.
pub trait Locations: Send + Sync + 'static {
    /// The allowed locations, among the configured ones; `None` means all
    /// configured locations.
    const LOCATIONS: Option<&'static [TokenLocation]>;
}

macro_rules! location {
    ($(#[$doc:meta])* $name:ident, $value:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;
        impl Locations for $name {
            const LOCATIONS: Option<&'static [TokenLocation]> = $value;
        }
    };
}

location!(
    /// Every configured location, in configured order.
    Configured, None
);
location!(
    /// Only the `Authorization` header (the seed's `locations=["headers"]`).
    HeaderOnly, Some(&[TokenLocation::Headers])
);
location!(
    /// Only the token cookie (the seed's `locations=["cookies"]`).
    CookieOnly, Some(&[TokenLocation::Cookies])
);
location!(
    /// Only the query string.
    QueryOnly, Some(&[TokenLocation::Query])
);

/// The default for custom claims: none are deserialized.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoClaims;

impl<'de> Deserialize<'de> for NoClaims {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_ignored_any(serde::de::IgnoredAny)
            .map(|_| NoClaims)
    }
}

/// A request whose access token a [`RequireAccessLayer`](super::RequireAccessLayer)
/// has verified, as a request extension. Extractors reuse it instead of
/// verifying twice.
///
/// ```
/// use authx::axum::Authenticated;
/// use axum::Extension;
/// async fn handler(Extension(auth): Extension<Authenticated>) -> String {
///     auth.payload.sub
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The verified claims.
    pub payload: TokenPayload,
    /// Where the token was found.
    pub location: TokenLocation,
}

/// Where to look: the configured locations, or the route's narrowing.
fn find_options(locations: Option<&[TokenLocation]>) -> FindOptions<'_> {
    match locations {
        Some(l) => FindOptions::new().locations(l),
        None => FindOptions::new(),
    }
}

pub(crate) async fn authenticate(
    auth: &AuthX,
    parts: &Parts,
    kind: TokenType,
    locations: Option<&[TokenLocation]>,
    fresh: bool,
) -> Result<Authenticated, crate::Error> {
    if kind == TokenType::Access
        && let Some(done) = parts.extensions.get::<Authenticated>()
        && locations.is_none_or(|l| l.contains(&done.location))
    {
        if fresh && !done.payload.fresh {
            return Err(ErrorKind::FreshTokenRequired.into());
        }
        return Ok(done.clone());
    }
    let find = find_options(locations);
    let rt = auth.get_token_from_request(parts, kind, find)?;
    let opts = VerifyOptions {
        verify_type: true,
        verify_fresh: fresh,
        verify_csrf: true,
    };
    let payload = auth.authenticate(&rt, opts).await?;
    Ok(Authenticated {
        payload,
        location: rt.location,
    })
}

fn custom<T: DeserializeOwned>(payload: &mut TokenPayload) -> Result<T, crate::Error> {
    // Move the map out and back rather than clone it.
    let value = Value::Object(std::mem::take(&mut payload.extra));
    let result = T::deserialize(&value).map_err(|_| ErrorKind::InvalidClaim("custom data").into());
    if let Value::Object(map) = value {
        payload.extra = map;
    }
    result
}

macro_rules! token_extractor {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $fresh:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub struct $name<L = Configured, T = NoClaims> {
            /// The verified claims.
            pub payload: TokenPayload,
            /// Where the token was found.
            pub location: TokenLocation,
            /// The custom claims, typed.
            pub claims: T,
            _locations: PhantomData<L>,
        }

        impl<L, T> Deref for $name<L, T> {
            type Target = TokenPayload;
            fn deref(&self) -> &TokenPayload {
                &self.payload
            }
        }

        impl<S, L, T> FromRequestParts<S> for $name<L, T>
        where
            AuthX: FromRef<S>,
            S: Send + Sync,
            L: Locations,
            T: DeserializeOwned + Send,
        {
            type Rejection = AuthRejection;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthRejection> {
                let auth = AuthX::from_ref(state);
                let run = async {
                    let mut done = authenticate(&auth, parts, $kind, L::LOCATIONS, $fresh).await?;
                    let claims = custom::<T>(&mut done.payload)?;
                    Ok::<_, crate::Error>(Self {
                        payload: done.payload,
                        location: done.location,
                        claims,
                        _locations: PhantomData,
                    })
                };
                run.await.map_err(|e| AuthRejection::new(&auth, e))
            }
        }

        /// `Option<Self>`: `None` when there is no token at all; a token
        /// that is present but bad is still refused.
        impl<S, L, T> OptionalFromRequestParts<S> for $name<L, T>
        where
            AuthX: FromRef<S>,
            S: Send + Sync,
            L: Locations,
            T: DeserializeOwned + Send,
        {
            type Rejection = AuthRejection;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, AuthRejection> {
                match <Self as FromRequestParts<S>>::from_request_parts(parts, state).await {
                    Ok(t) => Ok(Some(t)),
                    Err(r) if r.error().kind() == &ErrorKind::MissingToken => Ok(None),
                    Err(r) => Err(r),
                }
            }
        }
    };
}

token_extractor!(
    /// A verified access token (AuthX's `access_token_required`).
    ///
    /// ```
    /// use authx::axum::{AccessToken, HeaderOnly};
    ///
    /// async fn protected(token: AccessToken<HeaderOnly>) -> String {
    ///     format!("hello {} via {}", token.sub, token.location)
    /// }
    /// let app: axum::Router<authx::AuthX> = axum::Router::new()
    ///     .route("/protected", axum::routing::get(protected));
    /// ```
    AccessToken, TokenType::Access, false
);
token_extractor!(
    /// A verified refresh token (AuthX's `refresh_token_required`); from a
    /// cookie on a CSRF-checked method it must come with the CSRF header.
    ///
    /// ```
    /// use authx::axum::{CookieOnly, RefreshToken};
    ///
    /// async fn refresh(token: RefreshToken<CookieOnly>) -> String {
    ///     token.sub.clone()
    /// }
    /// let app: axum::Router<authx::AuthX> = axum::Router::new()
    ///     .route("/refresh", axum::routing::post(refresh));
    /// ```
    RefreshToken, TokenType::Refresh, false
);
token_extractor!(
    /// A verified, fresh access token (AuthX's `fresh_token_required`).
    ///
    /// ```
    /// use authx::axum::FreshAccessToken;
    ///
    /// async fn change_password(token: FreshAccessToken) -> &'static str {
    ///     "changed"
    /// }
    /// let app: axum::Router<authx::AuthX> = axum::Router::new()
    ///     .route("/password", axum::routing::post(change_password));
    /// ```
    FreshAccessToken, TokenType::Access, true
);

/// A refresh token verified and rotated in one step: the request's refresh
/// token is checked (signature, type, CSRF) and handed to
/// [`Sessions::refresh`](crate::sessions::Sessions::refresh), which checks
/// the session and rotates it atomically in the store.
///
/// Prefer it to [`RefreshToken`] followed by `Sessions::refresh`: with a
/// [`Sessions`](crate::sessions::Sessions) store installed, `RefreshToken`
/// asks the store whether the session is still active, and the rotation
/// then asks again; here the store is asked once, by the rotation, which
/// refuses a revoked, ended or expired session and a replayed token as
/// well.
///
/// ```
/// use authx::axum::{AuthCookies, CookieOnly, RotatedSession};
/// use authx::sessions::Sessions;
/// use authx::TokenType;
/// use axum::response::IntoResponse;
///
/// async fn refresh(
///     axum::extract::State(sessions): axum::extract::State<Sessions>,
///     rotated: RotatedSession<CookieOnly>,
/// ) -> Result<impl IntoResponse, authx::Error> {
///     let cookies = AuthCookies::new(sessions.auth())
///         .set_from_pair(TokenType::Refresh, &rotated.tokens.pair)?;
///     Ok((cookies, rotated.tokens.pair.access_token))
/// }
/// let app: axum::Router<Sessions> = axum::Router::new()
///     .route("/refresh", axum::routing::post(refresh));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RotatedSession<L = Configured> {
    /// The verified claims of the refresh token the client presented.
    pub presented: TokenPayload,
    /// Where that token was found.
    pub location: TokenLocation,
    /// The new pair and its session.
    pub tokens: crate::sessions::SessionTokens,
    _locations: PhantomData<L>,
}

impl<S, L> FromRequestParts<S> for RotatedSession<L>
where
    crate::sessions::Sessions: FromRef<S>,
    S: Send + Sync,
    L: Locations,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthRejection> {
        let sessions = crate::sessions::Sessions::from_ref(state);
        let auth = sessions.auth();
        let run = async {
            let find = find_options(L::LOCATIONS);
            let rt = auth.get_token_from_request(parts, TokenType::Refresh, find)?;
            // Signature, time, type and CSRF; the session is the rotation's
            // to check (the store is asked once).
            let presented = auth.verify_token(&rt, VerifyOptions::default())?;
            let tokens = sessions.refresh(&presented).await?;
            Ok::<_, crate::Error>(Self {
                presented,
                location: rt.location,
                tokens,
                _locations: PhantomData,
            })
        };
        run.await.map_err(|e| AuthRejection::new(auth, e))
    }
}
