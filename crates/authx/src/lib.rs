#![doc = include_str!("docs/crate.md")]
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[cfg(feature = "axum")]
pub mod axum;
pub mod claims;
pub mod clock;
pub mod config;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod keys;
pub mod request;
pub mod revocation;
pub mod sessions;
pub mod store;
mod token;

/// Guides: topic pages that go beyond the API reference, each with
/// examples that compile and run as tests.
pub mod guide {
    #[cfg_attr(feature = "axum", doc = include_str!("docs/locations.md"))]
    #[cfg_attr(
        not(feature = "axum"),
        doc = "Token locations (this guide needs the `axum` feature)."
    )]
    pub mod locations {}

    #[doc = include_str!("docs/csrf.md")]
    pub mod csrf {}

    #[cfg_attr(feature = "axum", doc = include_str!("docs/refresh.md"))]
    #[cfg_attr(
        not(feature = "axum"),
        doc = "Access and refresh tokens (this guide needs the `axum` feature)."
    )]
    pub mod refresh {}

    #[cfg_attr(feature = "axum", doc = include_str!("docs/scopes.md"))]
    #[cfg_attr(
        not(feature = "axum"),
        doc = "Scopes (this guide needs the `axum` feature)."
    )]
    pub mod scopes {}

    #[cfg_attr(feature = "axum", doc = include_str!("docs/implicit_refresh.md"))]
    #[cfg_attr(
        not(feature = "axum"),
        doc = "Implicit refresh (this guide needs the `axum` feature)."
    )]
    pub mod implicit_refresh {}

    #[cfg_attr(feature = "axum", doc = include_str!("docs/rotation.md"))]
    #[cfg_attr(
        not(feature = "axum"),
        doc = "Rotation, sessions and stores (this guide needs the `axum` feature)."
    )]
    pub mod rotation {}

    #[doc = include_str!("docs/security.md")]
    pub mod security {}
}

pub use claims::{TokenPayload, TokenType};
pub use config::{AuthXConfig, SameSite};
pub use error::{Error, ErrorKind, Malformed, Result};
pub use keys::Algorithm;
pub use request::{FindOptions, RequestToken, TokenLocation};
pub use token::{
    AuthX, AuthXBuilder, ErrorBodyFn, Expiry, TokenOptions, TokenPair, VerifyOptions, random_id,
};
