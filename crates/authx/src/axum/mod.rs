//! axum 0.8 integration (feature `axum`, on by default).
//!
//! - Extractors: [`AccessToken`], [`RefreshToken`], [`FreshAccessToken`], [`RotatedSession`],
//!   each narrowed by a location marker ([`HeaderOnly`], [`CookieOnly`],
//!   [`QueryOnly`], [`Configured`]) and optionally typed custom claims;
//!   `Option<AccessToken>` for optional authentication; [`Subject`] for the
//!   app's user type.
//! - Layers: [`RequireAccessLayer`] for route groups (fresh, scopes),
//!   [`ImplicitRefreshLayer`] for cookie-based access tokens.
//! - Responses: [`AuthCookies`] to set and clear cookies from a handler;
//!   every error answers through [`AuthRejection`] with the [`AuthX`]'s
//!   configured body.
//!
//! The state must provide an [`AuthX`] (`AuthX: FromRef<S>`): use it as the
//! router state directly, or derive `FromRef` on your own state.
//!
//! [`AuthX`]: crate::AuthX

mod extract;
mod implicit_refresh;
mod layer;
mod rejection;
mod response;
mod subject;

pub use extract::{
    AccessToken, Authenticated, Configured, CookieOnly, FreshAccessToken, HeaderOnly, Locations,
    NoClaims, QueryOnly, RefreshToken, RotatedSession,
};
pub use implicit_refresh::{ImplicitRefresh, ImplicitRefreshLayer};
pub use layer::{RequireAccess, RequireAccessLayer};
pub use rejection::AuthRejection;
pub use response::AuthCookies;
pub use subject::{LoadSubject, Subject};
