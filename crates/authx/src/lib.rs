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

pub use claims::{TokenPayload, TokenType};
pub use config::{AuthXConfig, SameSite};
pub use error::{Error, ErrorKind, Malformed, Result};
pub use keys::Algorithm;
pub use request::{FindOptions, RequestToken, TokenLocation};
pub use token::{
    AuthX, AuthXBuilder, ErrorBodyFn, Expiry, TokenOptions, TokenPair, VerifyOptions, random_id,
};
