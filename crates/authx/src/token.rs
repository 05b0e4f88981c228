//! [`AuthX`]: token creation and verification.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderName;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};

use crate::claims::{self, TokenPayload, TokenType};
use crate::clock::{Clock, SystemClock};
use crate::config::AuthXConfig;
use crate::error::{Error, ErrorKind, Malformed, Result};
use crate::keys::{Algorithm, KeySet};
use crate::request::RequestToken;
use crate::revocation::RevocationCheck;

/// Builds an [`AuthX`] with a clock, a revocation hook or an error body of
/// the caller's choice.
///
/// ```
/// use authx::{AuthX, AuthXConfig};
/// use serde_json::json;
///
/// let auth = AuthX::builder(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     ..Default::default()
/// })
/// .error_body(|e| (http::StatusCode::UNAUTHORIZED, json!({"detail": e.message()})))
/// .build()?;
/// # Ok::<(), authx::Error>(())
/// ```
#[must_use]
pub struct AuthXBuilder {
    config: AuthXConfig,
    clock: Arc<dyn Clock>,
    revocation: Option<Arc<dyn RevocationCheck>>,
    error_body: Option<Arc<ErrorBodyFn>>,
    verified_cache: usize,
}

impl fmt::Debug for AuthXBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthXBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AuthXBuilder {
    /// Uses `clock` instead of the system clock.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{AuthX, AuthXConfig, clock::ManualClock};
    /// let auth = AuthX::builder(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// }).clock(Arc::new(ManualClock::at_secs(1_700_000_000))).build()?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub(crate) fn clock_ref(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Consults `check` after every successful verification made through
    /// [`AuthX::authenticate`] (and so by the axum extractors and layers).
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, TokenPayload};
    /// let auth = AuthX::builder(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// }).revocation(|p: &TokenPayload| p.sub == "banned").build()?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn revocation(mut self, check: impl RevocationCheck) -> Self {
        self.revocation = Some(Arc::new(check));
        self
    }

    /// Like [`revocation`](Self::revocation), with a shared check.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{AuthX, AuthXConfig, TokenPayload, revocation::RevocationCheck};
    /// let check: Arc<dyn RevocationCheck> = Arc::new(|_: &TokenPayload| false);
    /// let auth = AuthX::builder(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// }).revocation_arc(check).build()?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn revocation_arc(mut self, check: Arc<dyn RevocationCheck>) -> Self {
        self.revocation = Some(check);
        self
    }

    /// Replaces the status and JSON body of error responses.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, Error, ErrorKind};
    /// let auth = AuthX::builder(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// })
    /// .error_body(|e| (e.status(), serde_json::json!({"detail": e.message()})))
    /// .build()?;
    /// let (_, body) = auth.error_body(&Error::from(ErrorKind::ExpiredToken));
    /// assert_eq!(body["detail"], "Token has expired");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn error_body(
        mut self,
        f: impl Fn(&Error) -> (http::StatusCode, Value) + Send + Sync + 'static,
    ) -> Self {
        self.error_body = Some(Arc::new(f));
        self
    }

    /// Keeps up to `capacity` access tokens that passed verification, so a
    /// client presenting the same token again skips the signature check and
    /// the parsing. Off (0) by default.
    ///
    /// What a hit skips is only what cannot change for the same token
    /// string under the same keys and configuration: format, algorithm,
    /// key, signature, claim parsing, audience and issuer. Expiry,
    /// not-before and issued-at are checked on every use, and so are type,
    /// freshness, CSRF and the [revocation hook](Self::revocation). The key
    /// is the whole token, compared byte for byte, and only tokens that
    /// verified are ever stored, so hostile input cannot fill it. Refresh
    /// tokens are not cached (rotation uses each one once). Memory: about
    /// the token's length plus its claims per entry (around 1 KB for the
    /// tokens authx issues by default).
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig};
    /// let auth = AuthX::builder(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// })
    /// .verified_token_cache(4096)
    /// .build()?;
    /// let token = auth.create_access_token("u1")?;
    /// assert_eq!(auth.decode_token(&token)?.sub, "u1"); // verified, then kept
    /// assert_eq!(auth.decode_token(&token)?.sub, "u1"); // from the cache
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn verified_token_cache(mut self, capacity: usize) -> Self {
        self.verified_cache = capacity;
        self
    }

    /// Validates the configuration and parses the keys.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig};
    /// assert!(AuthX::builder(AuthXConfig::default()).build().is_err());
    /// ```
    pub fn build(self) -> Result<AuthX> {
        let config = self.config;
        config.validate()?;
        let keys = KeySet::from_config(&config)?;
        let header = |name: &str, v: &str| {
            HeaderName::from_bytes(v.as_bytes())
                .map_err(|_| Error::config(format!("{name}: {v:?} is not a valid header name")))
        };
        let header_name = header("header_name", &config.header_name)?;
        let access_csrf_header =
            header("access_csrf_header_name", &config.access_csrf_header_name)?;
        let refresh_csrf_header =
            header("refresh_csrf_header_name", &config.refresh_csrf_header_name)?;
        let plain_header = keys
            .signer
            .as_ref()
            .map(|s| encoded_header(s, &Map::new()))
            .transpose()?;
        Ok(AuthX {
            inner: Arc::new(Inner {
                config,
                keys,
                plain_header,
                clock: self.clock,
                revocation: self.revocation,
                error_body: self.error_body,
                verified: (self.verified_cache > 0)
                    .then(|| quick_cache::sync::Cache::new(self.verified_cache)),
                header_name,
                access_csrf_header,
                refresh_csrf_header,
            }),
        })
    }
}

/// The authx engine: a validated configuration, keys parsed once, and a
/// clock. Cheap to clone (one `Arc`); share one per application.
///
/// ```
/// use authx::{AuthX, AuthXConfig};
///
/// let auth = AuthX::new(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     ..Default::default()
/// })?;
/// let access = auth.create_access_token("user1")?;
/// assert_eq!(auth.decode_token(&access)?.sub, "user1");
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Clone)]
pub struct AuthX {
    inner: Arc<Inner>,
}

/// Replaces the body (and status) of error responses: AuthX's
/// `handle_errors` shape by default, `{"detail": ...}` for the seed's
/// handlers, or anything else.
pub type ErrorBodyFn = dyn Fn(&Error) -> (http::StatusCode, Value) + Send + Sync;

struct Inner {
    config: AuthXConfig,
    keys: KeySet,
    /// The encoded header of tokens without extra header fields.
    plain_header: Option<String>,
    clock: Arc<dyn Clock>,
    revocation: Option<Arc<dyn RevocationCheck>>,
    error_body: Option<Arc<ErrorBodyFn>>,
    /// Access tokens that verified, by their whole text; see
    /// [`AuthXBuilder::verified_token_cache`]. A crate rather than a map of
    /// our own: it is bounded, concurrent (sharded locks) and evicts well.
    verified: Option<quick_cache::sync::Cache<CachedToken, Arc<TokenPayload>>>,
    pub(crate) header_name: HeaderName,
    pub(crate) access_csrf_header: HeaderName,
    pub(crate) refresh_csrf_header: HeaderName,
}

impl fmt::Debug for AuthX {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthX")
            .field("config", &self.inner.config)
            .field("keys", &self.inner.keys)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

/// When a token expires: after a duration, or at an instant.
///
/// ```
/// use std::time::Duration;
/// use authx::Expiry;
/// let e = Expiry::from(Duration::from_secs(60));
/// assert!(matches!(e, Expiry::In(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This long after issue.
    In(Duration),
    /// At this instant.
    At(SystemTime),
}

impl From<Duration> for Expiry {
    fn from(d: Duration) -> Self {
        Self::In(d)
    }
}

impl From<SystemTime> for Expiry {
    fn from(t: SystemTime) -> Self {
        Self::At(t)
    }
}

/// Options for one token, as AuthX's `create_*_token` keyword arguments.
///
/// ```
/// use std::time::Duration;
/// use authx::TokenOptions;
///
/// let opts = TokenOptions::new()
///     .fresh(true)
///     .expiry(Duration::from_secs(300))
///     .scopes(["read", "write"])
///     .claim("tenant", "acme")?;
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    fresh: bool,
    expiry: Option<Expiry>,
    data: Map<String, Value>,
    audience: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    headers: Map<String, Value>,
    jti: Option<String>,
}

impl TokenOptions {
    /// No options: a non-fresh token with the configured lifetime.
    ///
    /// ```
    /// let _ = authx::TokenOptions::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks an access token fresh (issued from a password login).
    /// Refresh tokens never carry `fresh`.
    ///
    /// ```
    /// let _ = authx::TokenOptions::new().fresh(true);
    /// ```
    #[must_use]
    pub fn fresh(mut self, fresh: bool) -> Self {
        self.fresh = fresh;
        self
    }

    /// Overrides the configured lifetime.
    ///
    /// ```
    /// let _ = authx::TokenOptions::new().expiry(std::time::Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn expiry(mut self, expiry: impl Into<Expiry>) -> Self {
        self.expiry = Some(expiry.into());
        self
    }

    /// Overrides the configured audience.
    ///
    /// ```
    /// let _ = authx::TokenOptions::new().audience(["api"]);
    /// ```
    #[must_use]
    pub fn audience<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, aud: I) -> Self {
        self.audience = Some(aud.into_iter().map(|s| s.as_ref().to_owned()).collect());
        self
    }

    /// Scopes granted by the token.
    ///
    /// ```
    /// let _ = authx::TokenOptions::new().scopes(["users:read"]);
    /// ```
    #[must_use]
    pub fn scopes<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, scopes: I) -> Self {
        self.scopes = Some(scopes.into_iter().map(|s| s.as_ref().to_owned()).collect());
        self
    }

    /// Merges a serializable struct or map into the claims. It must
    /// serialize to a JSON object, and may not set a registered claim.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Extra { tenant: &'static str }
    /// let opts = authx::TokenOptions::new().data(&Extra { tenant: "acme" })?;
    /// let err = authx::TokenOptions::new().data(&serde_json::json!({"sub": "x"})).unwrap_err();
    /// assert_eq!(err.error_type(), "BadConfigurationError");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn data<T: Serialize + ?Sized>(mut self, data: &T) -> Result<Self> {
        let Value::Object(map) = serde_json::to_value(data)
            .map_err(|e| Error::config(format!("data: cannot serialize ({e})")))?
        else {
            return Err(Error::config("data: must serialize to a JSON object"));
        };
        for (k, v) in map {
            self = self.claim(k, v)?;
        }
        Ok(self)
    }

    /// Adds one custom claim; a registered claim name is refused.
    ///
    /// ```
    /// let opts = authx::TokenOptions::new().claim("role", "admin")?;
    /// assert!(authx::TokenOptions::new().claim("exp", 1).is_err());
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Result<Self> {
        let name = name.into();
        if claims::is_registered(&name) {
            return Err(ErrorKind::ReservedClaim(name).into());
        }
        self.data.insert(name, value.into());
        Ok(self)
    }

    /// Adds a JOSE header member. `alg`, `typ`, `kid` and the members a
    /// verifier must refuse (`crit`, `b64`, `jku`, `x5u`, `jwk`, `x5c`) are
    /// refused here.
    ///
    /// ```
    /// let _ = authx::TokenOptions::new().header("cty", "example")?;
    /// assert!(authx::TokenOptions::new().header("alg", "none").is_err());
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Result<Self> {
        let name = name.into();
        if [
            "alg", "typ", "kid", "crit", "b64", "jku", "x5u", "jwk", "x5c",
        ]
        .contains(&name.as_str())
        {
            return Err(ErrorKind::ReservedClaim(name).into());
        }
        self.headers.insert(name, value.into());
        Ok(self)
    }
}

impl TokenOptions {
    /// The `jti` to issue, for the session flows, which must know a refresh
    /// token's id before it exists. Always a fresh [`random_id`].
    pub(crate) fn with_jti(mut self, jti: String) -> Self {
        self.jti = Some(jti);
        self
    }
}

/// An access and a refresh token issued together (AuthX's `TokenResponse`).
///
/// ```
/// # use authx::{AuthX, AuthXConfig, TokenOptions};
/// # let auth = AuthX::new(AuthXConfig {
/// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
/// #     ..Default::default()
/// # })?;
/// let pair = auth.create_token_pair("u1", &TokenOptions::new().fresh(true))?;
/// assert_eq!(pair.token_type, "bearer");
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct TokenPair {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Always `"bearer"`.
    pub token_type: String,
    /// What minting recorded about the access token (its CSRF value and
    /// expiry), so setting its cookies needs no second verification.
    #[serde(skip)]
    pub(crate) access_minted: Option<Minted>,
    /// The same for the refresh token.
    #[serde(skip)]
    pub(crate) refresh_minted: Option<Minted>,
}

/// Pairs are equal when their tokens are: what minting recorded is a
/// cache of the tokens' own claims, absent from a pair read back from JSON.
impl PartialEq for TokenPair {
    fn eq(&self, other: &Self) -> bool {
        self.access_token == other.access_token
            && self.refresh_token == other.refresh_token
            && self.token_type == other.token_type
    }
}

impl Eq for TokenPair {}

/// The parts of a freshly minted token that cookies need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Minted {
    /// The token's `csrf` claim.
    pub(crate) csrf: Option<String>,
    /// The token's `exp`, seconds.
    pub(crate) exp: i64,
    /// The token itself: a token put in the pair's public field after
    /// minting (or edited there) does not match, and is then verified
    /// instead of trusted.
    token: Box<str>,
}

impl Minted {
    fn new(token: &str, csrf: Option<String>, exp: i64) -> Self {
        Self {
            csrf,
            exp,
            token: token.into(),
        }
    }

    /// Whether this records `token` (and not one that replaced it).
    pub(crate) fn is_of(&self, token: &str) -> bool {
        *self.token == *token
    }
}

/// What [`AuthX::verify_token`] checks beyond signature, time and claims.
///
/// ```
/// let opts = authx::VerifyOptions { verify_fresh: true, ..Default::default() };
/// assert!(opts.verify_type && opts.verify_csrf);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The token's `type` must equal the request token's kind.
    pub verify_type: bool,
    /// An access token must be fresh.
    pub verify_fresh: bool,
    /// Check CSRF when the request token requires it (cookie token,
    /// CSRF-checked method).
    pub verify_csrf: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            verify_type: true,
            verify_fresh: false,
            verify_csrf: true,
        }
    }
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    use aws_lc_rs::rand::SecureRandom as _;
    let mut buf = [0u8; N];
    // aws-lc's DRBG: seeded and periodically reseeded from the OS, fork-safe,
    // and without a system call per identifier (a refresh draws four).
    // Should it ever fail, the OS RNG directly; a token with predictable
    // ids must never be issued.
    if aws_lc_rs::rand::SystemRandom::new().fill(&mut buf).is_err() {
        let _ = getrandom::fill(&mut buf);
    }
    buf
}

/// A new random identifier: 128 bits, base64url (22 characters).
///
/// ```
/// assert_eq!(authx::random_id().len(), 22);
/// ```
#[must_use]
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// Two independent [`random_id`]s from one draw of 32 bytes.
fn random_ids() -> [String; 2] {
    let bytes = random_bytes::<32>();
    let (a, b) = bytes.split_at(16);
    [URL_SAFE_NO_PAD.encode(a), URL_SAFE_NO_PAD.encode(b)]
}

struct OutClaims<'a> {
    identity_claim: &'a str,
    sub: &'a str,
    jti: &'a str,
    token_type: TokenType,
    fresh: Option<bool>,
    csrf: Option<&'a str>,
    iat: i64,
    iat_ms: i64,
    nbf: Option<i64>,
    exp: i64,
    aud: &'a [String],
    iss: Option<&'a str>,
    scopes: Option<&'a [String]>,
    data: &'a Map<String, Value>,
}

impl Serialize for OutClaims<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(self.identity_claim, self.sub)?;
        m.serialize_entry("jti", self.jti)?;
        m.serialize_entry("type", self.token_type.as_str())?;
        if let Some(fresh) = self.fresh {
            m.serialize_entry("fresh", &fresh)?;
        }
        if let Some(csrf) = self.csrf {
            m.serialize_entry("csrf", csrf)?;
        }
        m.serialize_entry("iat", &self.iat)?;
        m.serialize_entry("iat_ms", &self.iat_ms)?;
        if let Some(nbf) = self.nbf {
            m.serialize_entry("nbf", &nbf)?;
        }
        m.serialize_entry("exp", &self.exp)?;
        match self.aud {
            [] => {}
            [one] => m.serialize_entry("aud", one)?,
            many => m.serialize_entry("aud", many)?,
        }
        if let Some(iss) = self.iss {
            m.serialize_entry("iss", iss)?;
        }
        if let Some(scopes) = self.scopes {
            m.serialize_entry("scopes", scopes)?;
        }
        for (k, v) in self.data {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl AuthX {
    /// Validates `config`, parses its keys once, and uses the system clock.
    ///
    /// ```
    /// use authx::{AuthX, AuthXConfig};
    /// let err = AuthX::new(AuthXConfig {
    ///     secret_key: Some("your-secret-key".into()),
    ///     ..Default::default()
    /// }).unwrap_err();
    /// assert!(err.to_string().contains("secret_key"));
    /// ```
    pub fn new(config: AuthXConfig) -> Result<Self> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// Like [`new`](Self::new), with a clock of the caller's choice.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use authx::{AuthX, AuthXConfig, clock::ManualClock};
    /// let clock = ManualClock::at_secs(1_700_000_000);
    /// let auth = AuthX::with_clock(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// }, Arc::new(clock.clone()))?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn with_clock(config: AuthXConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::builder(config).clock(clock).build()
    }

    /// A builder, for a clock, a revocation hook or an error body.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig};
    /// let auth = AuthX::builder(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// }).build()?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn builder(config: AuthXConfig) -> AuthXBuilder {
        AuthXBuilder {
            config,
            clock: Arc::new(SystemClock),
            revocation: None,
            error_body: None,
            verified_cache: 0,
        }
    }

    /// The status and JSON body of the response for `error`: the
    /// configured [`error_body`](AuthXBuilder::error_body), or AuthX's
    /// `{"<error_message_key>": message, "error_type": ...}`.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, Error, ErrorKind};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let (status, body) = auth.error_body(&Error::from(ErrorKind::MissingToken));
    /// assert_eq!(status, 401);
    /// assert_eq!(body["error_type"], "MissingTokenError");
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn error_body(&self, error: &Error) -> (http::StatusCode, Value) {
        match &self.inner.error_body {
            Some(f) => f(error),
            None => (
                error.status(),
                error.to_json(&self.inner.config.error_message_key),
            ),
        }
    }

    /// [`verify_token`](Self::verify_token), then the revocation hook.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig, RequestToken, TokenLocation, TokenPayload, TokenType};
    /// let auth = AuthX::builder(AuthXConfig {
    ///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///     ..Default::default()
    /// }).revocation(|_: &TokenPayload| true).build()?;
    /// let rt = RequestToken::new(auth.create_access_token("u")?, TokenLocation::Headers, TokenType::Access);
    /// let err = tokio_test_block_on(auth.authenticate(&rt, Default::default())).unwrap_err();
    /// assert_eq!(err.error_type(), "RevokedTokenError");
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub async fn authenticate(
        &self,
        token: &RequestToken,
        options: VerifyOptions,
    ) -> Result<TokenPayload> {
        let payload = self.verify_token(token, options)?;
        self.check_revoked(&payload).await?;
        Ok(payload)
    }

    /// Runs the revocation hook on a verified payload.
    ///
    /// ```
    /// # use authx::{AuthX, AuthXConfig};
    /// # let auth = AuthX::new(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let p = auth.decode_token(&auth.create_access_token("u")?)?;
    /// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// assert!(rt.block_on(auth.check_revoked(&p)).is_ok());
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub async fn check_revoked(&self, payload: &TokenPayload) -> Result<()> {
        if let Some(check) = &self.inner.revocation
            && check.checks(payload.token_type)
            && check.is_revoked(payload).await?
        {
            return Err(ErrorKind::RevokedToken.into());
        }
        Ok(())
    }

    /// The configuration.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// assert_eq!(auth.config().header_name, "Authorization");
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn config(&self) -> &AuthXConfig {
        &self.inner.config
    }

    /// The clock.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// assert!(auth.clock().now_millis() > 0);
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    pub(crate) fn header_name(&self) -> &HeaderName {
        &self.inner.header_name
    }

    pub(crate) fn csrf_header(&self, kind: TokenType) -> &HeaderName {
        match kind {
            TokenType::Access => &self.inner.access_csrf_header,
            TokenType::Refresh => &self.inner.refresh_csrf_header,
        }
    }

    /// The public keys as a JWKS document (`{"keys": [...]}`), for
    /// `/.well-known/jwks.json`. Empty for HMAC configurations.
    ///
    /// ```
    /// use authx::{Algorithm, AuthX, AuthXConfig, keys::generate_pem};
    /// let auth = AuthX::new(AuthXConfig {
    ///     algorithm: Algorithm::ES256,
    ///     private_key: Some(generate_pem(Algorithm::ES256)?.into()),
    ///     kid: Some("k1".into()),
    ///     ..Default::default()
    /// })?;
    /// assert_eq!(auth.jwks()["keys"][0]["kid"], "k1");
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn jwks(&self) -> Value {
        self.inner.keys.jwks()
    }

    /// An access token for `uid` with default options.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let token = auth.create_access_token("user1")?;
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn create_access_token(&self, uid: &str) -> Result<String> {
        self.create_token(uid, TokenType::Access, &TokenOptions::default())
    }

    /// An access token for `uid` with `options`.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let t = auth.create_access_token_with("u", &authx::TokenOptions::new().fresh(true))?;
    /// assert!(auth.decode_token(&t)?.fresh);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn create_access_token_with(&self, uid: &str, options: &TokenOptions) -> Result<String> {
        self.create_token(uid, TokenType::Access, options)
    }

    /// A refresh token for `uid` with default options.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let t = auth.create_refresh_token("u")?;
    /// assert_eq!(auth.decode_token(&t)?.token_type, authx::TokenType::Refresh);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn create_refresh_token(&self, uid: &str) -> Result<String> {
        self.create_token(uid, TokenType::Refresh, &TokenOptions::default())
    }

    /// A refresh token for `uid` with `options` (`fresh` is ignored).
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let opts = authx::TokenOptions::new().claim("sid", "s1")?;
    /// let t = auth.create_refresh_token_with("u", &opts)?;
    /// assert_eq!(auth.decode_token(&t)?.extra["sid"], "s1");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn create_refresh_token_with(&self, uid: &str, options: &TokenOptions) -> Result<String> {
        self.create_token(uid, TokenType::Refresh, options)
    }

    /// An access and a refresh token for `uid`. `options` apply to both,
    /// except `expiry`, which applies to the access token only.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let pair = auth.create_token_pair("u", &authx::TokenOptions::new())?;
    /// assert_ne!(pair.access_token, pair.refresh_token);
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn create_token_pair(&self, uid: &str, options: &TokenOptions) -> Result<TokenPair> {
        let (access_token, access) = self.mint(uid, TokenType::Access, options)?;
        let refresh_opts = TokenOptions {
            expiry: None,
            ..options.clone()
        };
        let (refresh_token, refresh) = self.mint(uid, TokenType::Refresh, &refresh_opts)?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "bearer".into(),
            access_minted: Some(access),
            refresh_minted: Some(refresh),
        })
    }

    /// Creates a token of `token_type` for `uid`.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let t = auth.create_token("u", authx::TokenType::Access, &Default::default())?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn create_token(
        &self,
        uid: &str,
        token_type: TokenType,
        options: &TokenOptions,
    ) -> Result<String> {
        self.mint(uid, token_type, options).map(|(token, _)| token)
    }

    /// [`create_token`](Self::create_token), also returning what cookies
    /// need to know of the token.
    pub(crate) fn mint(
        &self,
        uid: &str,
        token_type: TokenType,
        options: &TokenOptions,
    ) -> Result<(String, Minted)> {
        let c = &self.inner.config;
        let Some(signer) = &self.inner.keys.signer else {
            return Err(Error::config(
                "private_key: this AuthX only verifies (no private key configured)",
            ));
        };
        if uid.is_empty() {
            return Err(Error::config("uid: must not be empty"));
        }
        let now_ms = self.inner.clock.now_millis();
        let now = now_ms.div_euclid(1000);
        let lifetime = match token_type {
            TokenType::Access => c.access_token_expires,
            TokenType::Refresh => c.refresh_token_expires,
        };
        let exp = match options.expiry {
            None => now.saturating_add(duration_secs(lifetime)),
            Some(Expiry::In(d)) => now.saturating_add(duration_secs(d)),
            Some(Expiry::At(t)) => t
                .duration_since(UNIX_EPOCH)
                .map(duration_secs)
                .map_err(|_| Error::config("expiry: before 1970"))?,
        };
        if exp <= now {
            return Err(Error::config("expiry: the token would already be expired"));
        }
        if exp as f64 > 253_402_300_799.0 {
            return Err(Error::config("expiry: later than year 9999"));
        }
        // Both ids from one draw when both are needed: the DRBG's cost is
        // mostly per call (see `random_id`'s benchmark).
        let (jti, csrf) = match (options.jti.clone(), c.issues_csrf()) {
            (None, true) => {
                let [jti, csrf] = random_ids();
                (jti, Some(csrf))
            }
            (jti, issues_csrf) => (jti.unwrap_or_else(random_id), issues_csrf.then(random_id)),
        };
        let aud: &[String] = options.audience.as_deref().unwrap_or(&c.encode_audience);
        let claims = OutClaims {
            identity_claim: &c.identity_claim,
            sub: uid,
            jti: &jti,
            token_type,
            fresh: (token_type == TokenType::Access).then_some(options.fresh),
            csrf: csrf.as_deref(),
            iat: now,
            iat_ms: now_ms,
            nbf: c.encode_nbf.then_some(now),
            exp,
            aud,
            iss: c.encode_issuer.as_deref(),
            scopes: options.scopes.as_deref(),
            data: &options.data,
        };
        // The header without extra fields is the same for every token:
        // encoded once, at build.
        let custom_header;
        let header64 = match &self.inner.plain_header {
            Some(h) if options.headers.is_empty() => h.as_str(),
            _ => {
                custom_header = encoded_header(signer, &options.headers)?;
                custom_header.as_str()
            }
        };
        let claims_json = serde_json::to_vec(&claims).map_err(|e| Error::config(e.to_string()))?;
        let mut token = String::with_capacity(header64.len() + claims_json.len() * 4 / 3 + 180);
        token.push_str(header64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims_json, &mut token);
        let signature = signer.sign(token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        if token.len() > c.max_token_length {
            return Err(Error::config(
                "max_token_length: the token with this data is longer than the cap",
            ));
        }
        let minted = Minted::new(&token, csrf, exp);
        Ok((token, minted))
    }

    /// Verifies a token string: format (F1–F10), algorithm and key (A1–A7,
    /// K1–K2), signature, then claims and time (C1–C13). It does not check
    /// the token's type, freshness or CSRF: see [`verify_token`](Self::verify_token).
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let err = auth.decode_token("not.a.token").unwrap_err();
    /// assert_eq!(err.error_type(), "JWTDecodeError");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn decode_token(&self, token: &str) -> Result<TokenPayload> {
        // An over-long token is refused below (F6) without being hashed.
        let cache = (self.inner.verified.as_ref())
            .filter(|_| token.len() <= self.inner.config.max_token_length);
        if let Some(hit) = cache.and_then(|c| c.get(&PresentedToken(token.as_bytes()))) {
            // Only the time checks can change for the same token string.
            self.check_time(hit.exp, hit.nbf, Some(hit.iat))?;
            return Ok(TokenPayload::clone(&hit));
        }
        let identity = &self.inner.config.identity_claim;
        let payload =
            self.with_verified_payload(token, |json| claims::parse_claims(json, identity))?;
        self.check_time(payload.exp, payload.nbf, Some(payload.iat))?;
        self.check_audience_issuer(&payload.aud, payload.iss.as_deref())?;
        if let Some(cache) = cache
            && payload.token_type == TokenType::Access
        {
            cache.insert(
                CachedToken(token.as_bytes().into()),
                Arc::new(payload.clone()),
            );
        }
        Ok(payload)
    }

    /// Verifies a compact JWS and returns its payload bytes: the format,
    /// algorithm, key and signature checks of [`decode_token`](Self::decode_token)
    /// without any claim check. For payloads that are not authx tokens.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let token = auth.create_access_token("u")?;
    /// let payload = auth.verify_jws(&token)?;
    /// assert!(payload.starts_with(b"{"));
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn verify_jws(&self, token: &str) -> Result<Vec<u8>> {
        self.with_verified_payload(token, |payload| Ok(payload.to_vec()))
    }

    /// The checks of [`verify_jws`](Self::verify_jws), handing the decoded
    /// payload to `f` from a stack buffer: no allocation for base64 on the
    /// hot path.
    fn with_verified_payload<R>(
        &self,
        token: &str,
        f: impl FnOnce(&[u8]) -> Result<R>,
    ) -> Result<R> {
        let c = &self.inner.config;
        let bytes = token.as_bytes();
        // F6: cap first, so nothing below scales with hostile input.
        if bytes.len() > c.max_token_length {
            return Err(Malformed::TooLong.into());
        }
        // F1: exactly two dots, found with memchr (vectorised).
        let mut dot_iter = memchr::memchr_iter(b'.', bytes);
        let (Some(d0), Some(d1), None) = (dot_iter.next(), dot_iter.next(), dot_iter.next()) else {
            // F2 outranks F1 for a token with a stray byte (JSON serialization).
            return Err(if has_stray_byte(bytes) {
                Malformed::Alphabet
            } else {
                Malformed::SegmentCount
            }
            .into());
        };
        let dots = [d0, d1];
        let h64 = &bytes[..dots[0]];
        let c64 = &bytes[dots[0] + 1..dots[1]];
        let s64 = &bytes[dots[1] + 1..];
        if h64.is_empty() || c64.is_empty() || s64.is_empty() {
            return Err(if has_stray_byte(bytes) {
                Malformed::Alphabet
            } else {
                Malformed::EmptySegment
            }
            .into());
        }
        let signing_input = &bytes[..dots[1]];

        let (mut header_buf, mut header_heap) = ([0u8; 256], Vec::new());
        let header_json = b64_into(h64, &mut header_buf, &mut header_heap)?;
        let header = claims::parse_header(header_json)?;
        // A1, A2: exact match against the allowlist fixed by configuration.
        let alg = Algorithm::from_alg(&header.alg)
            .filter(|a| self.inner.keys.allows(*a))
            .ok_or(ErrorKind::AlgorithmNotAllowed)?;
        // K1: a kid selects only among configured keys, exactly.
        let kid = header.kid.as_deref();
        if let Some(kid) = kid
            && (kid.len() > crate::keys::MAX_KID_LEN || !self.inner.keys.has_kid(kid))
        {
            return Err(ErrorKind::UnknownKeyId.into());
        }
        let (mut sig_buf, mut sig_heap) = ([0u8; 512], Vec::new());
        let signature = b64_into(s64, &mut sig_buf, &mut sig_heap)?;
        if alg.signature_len().is_some_and(|n| n != signature.len()) {
            return Err(Malformed::SignatureLength.into());
        }
        // C13: the signature is checked before any claim is looked at. Only
        // a bad signature falls through to the previous key.
        let mut candidates = self.inner.keys.candidates(alg, kid).peekable();
        if candidates.peek().is_none() {
            return Err(ErrorKind::UnknownKeyId.into());
        }
        if !candidates.any(|v| v.verify(signing_input, signature)) {
            return Err(ErrorKind::InvalidSignature.into());
        }
        let (mut claims_buf, mut claims_heap) = ([0u8; 1024], Vec::new());
        f(b64_into(c64, &mut claims_buf, &mut claims_heap)?)
    }

    /// Verifies a JWT that need not be an authx token: the checks of
    /// [`verify_jws`](Self::verify_jws), then the payload must be one JSON
    /// object without duplicate members, `exp` is required and checked,
    /// `nbf` and `iat` are checked when present, and `aud`/`iss` as
    /// configured. Returns every claim.
    ///
    /// ```
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let claims = auth.verify_jwt(&auth.create_access_token("u")?)?;
    /// assert_eq!(claims["type"], "access");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn verify_jwt(&self, token: &str) -> Result<Map<String, Value>> {
        let json = self.verify_jws(token)?;
        let claims = claims::parse_object(&json)?;
        let date = |name: &'static str| -> Result<Option<f64>> {
            match claims.get(name) {
                None => Ok(None),
                Some(v) => claims::numeric_date(v)
                    .map(Some)
                    .ok_or_else(|| ErrorKind::InvalidClaim(name).into()),
            }
        };
        let exp = date("exp")?.ok_or(ErrorKind::MissingClaim("exp"))?;
        self.check_time(exp, date("nbf")?, date("iat")?)?;
        let aud: Vec<String> = match claims.get("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or(ErrorKind::InvalidClaim("aud"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ErrorKind::InvalidClaim("aud").into()),
        };
        let iss = match claims.get("iss") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(ErrorKind::InvalidClaim("iss").into()),
        };
        self.check_audience_issuer(&aud, iss)?;
        Ok(claims)
    }

    fn check_time(&self, exp: f64, nbf: Option<f64>, iat: Option<f64>) -> Result<()> {
        let c = &self.inner.config;
        let now = self.inner.clock.now_secs_f64();
        let leeway = c.decode_leeway.as_secs_f64();
        if now >= exp + leeway {
            return Err(ErrorKind::ExpiredToken.into());
        }
        if let Some(nbf) = nbf
            && now + leeway < nbf
        {
            return Err(ErrorKind::ImmatureToken.into());
        }
        if let Some(iat) = iat
            && iat > now + leeway
        {
            return Err(ErrorKind::IssuedInFuture.into());
        }
        Ok(())
    }

    fn check_audience_issuer(&self, aud: &[String], iss: Option<&str>) -> Result<()> {
        let c = &self.inner.config;
        // C7: aud must match exactly when configured; a token addressed to
        // someone while we expect no audience is not for us (RFC 7519 §4.1.3).
        if c.decode_audience.is_empty() {
            if !aud.is_empty() {
                return Err(ErrorKind::InvalidAudience.into());
            }
        } else if !aud.iter().any(|a| c.decode_audience.contains(a)) {
            return Err(ErrorKind::InvalidAudience.into());
        }
        if let Some(want) = &c.decode_issuer
            && iss != Some(want.as_str())
        {
            return Err(ErrorKind::InvalidIssuer.into());
        }
        Ok(())
    }

    /// Verifies a token found in a request, the AuthX way: decode (see
    /// [`decode_token`](Self::decode_token)), then type, freshness and CSRF.
    ///
    /// ```
    /// use authx::{AuthX, AuthXConfig, RequestToken, TokenLocation, TokenType, VerifyOptions};
    /// # let auth = authx::AuthX::new(authx::AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # })?;
    /// let refresh = auth.create_refresh_token("u")?;
    /// let rt = RequestToken::new(refresh, TokenLocation::Headers, TokenType::Access);
    /// let err = auth.verify_token(&rt, VerifyOptions::default()).unwrap_err();
    /// assert_eq!(err.error_type(), "AccessTokenRequiredError");
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn verify_token(
        &self,
        token: &RequestToken,
        options: VerifyOptions,
    ) -> Result<TokenPayload> {
        let payload = self.decode_token(&token.token)?;
        if options.verify_type && payload.token_type != token.kind {
            return Err(match token.kind {
                TokenType::Access => ErrorKind::AccessTokenRequired,
                TokenType::Refresh => ErrorKind::RefreshTokenRequired,
            }
            .into());
        }
        if options.verify_fresh && !(payload.token_type == TokenType::Access && payload.fresh) {
            return Err(ErrorKind::FreshTokenRequired.into());
        }
        if options.verify_csrf && token.csrf_required {
            crate::csrf::check(payload.csrf.as_deref(), token.csrf.as_deref())?;
        }
        Ok(payload)
    }
}

/// The text of a token in the verified-token cache. Found by hash, then
/// compared in constant time (A6): the signature is part of the text, so
/// no lookup reveals how much of a guessed signature matched.
#[derive(Debug)]
struct CachedToken(Box<[u8]>);

/// A presented token, looked up in the cache without copying it.
struct PresentedToken<'a>(&'a [u8]);

fn same_token(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

impl std::hash::Hash for CachedToken {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for CachedToken {
    fn eq(&self, other: &Self) -> bool {
        same_token(&self.0, &other.0)
    }
}

impl Eq for CachedToken {}

impl std::hash::Hash for PresentedToken<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The same bytes hash as `CachedToken` does: the slice's hash.
        self.0.hash(state);
    }
}

impl quick_cache::Equivalent<CachedToken> for PresentedToken<'_> {
    fn equivalent(&self, key: &CachedToken) -> bool {
        same_token(self.0, &key.0)
    }
}

/// The base64url JOSE header of a token signed by `signer`: `alg`, `typ`,
/// `kid` when the key has one, then `extra`.
fn encoded_header(signer: &crate::keys::Signer, extra: &Map<String, Value>) -> Result<String> {
    let mut header = Map::new();
    header.insert("alg".into(), signer.alg().as_str().into());
    header.insert("typ".into(), "JWT".into());
    if let Some(kid) = signer.kid() {
        header.insert("kid".into(), kid.into());
    }
    for (k, v) in extra {
        header.insert(k.clone(), v.clone());
    }
    let json = serde_json::to_vec(&header).map_err(|e| Error::config(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Whether `bytes` holds anything but base64url characters and dots (F2).
/// Only called on the error path: on success, base64 decoding has already
/// checked every byte.
fn has_stray_byte(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
}

fn duration_secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Strict base64url (F2, F3): the engine refuses any byte outside the
/// alphabet, padding, a length ≡ 1 mod 4 and non-zero trailing bits.
/// Decodes into `stack` when it fits, else into `heap`.
fn b64_into<'a>(segment: &[u8], stack: &'a mut [u8], heap: &'a mut Vec<u8>) -> Result<&'a [u8]> {
    // The decoder refuses every byte outside the alphabet; on failure, tell
    // a stray byte (F2) from bad base64 (F3).
    let malformed = || {
        Error::from(if has_stray_byte(segment) {
            Malformed::Alphabet
        } else {
            Malformed::Base64
        })
    };
    if base64::decoded_len_estimate(segment.len()) <= stack.len() {
        let n = URL_SAFE_NO_PAD
            .decode_slice(segment, stack)
            .map_err(|_| malformed())?;
        Ok(&stack[..n])
    } else {
        *heap = URL_SAFE_NO_PAD.decode(segment).map_err(|_| malformed())?;
        Ok(heap)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cached(capacity: usize) -> AuthX {
        AuthX::builder(AuthXConfig {
            secret_key: Some("verified-token-cache-unit-secret-0123456789".into()),
            ..Default::default()
        })
        .verified_token_cache(capacity)
        .build()
        .unwrap()
    }

    fn cached_len(auth: &AuthX) -> usize {
        auth.inner.verified.as_ref().map_or(0, |c| c.len())
    }

    #[test]
    fn only_access_tokens_that_verified_are_kept() {
        let auth = cached(8);
        let access = auth.create_access_token("u1").unwrap();
        let refresh = auth.create_refresh_token("u1").unwrap();
        auth.decode_token(&refresh).unwrap();
        assert_eq!(cached_len(&auth), 0, "a refresh token was cached");
        let mut tampered = access.clone();
        tampered.push('A');
        auth.decode_token(&tampered).unwrap_err();
        auth.decode_token("a.b.c").unwrap_err();
        assert_eq!(cached_len(&auth), 0, "a refused token was cached");
        auth.decode_token(&access).unwrap();
        auth.decode_token(&access).unwrap();
        assert_eq!(cached_len(&auth), 1);
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let auth = cached(8);
        for i in 0..100 {
            let token = auth.create_access_token(&format!("u{i}")).unwrap();
            assert_eq!(auth.decode_token(&token).unwrap().sub, format!("u{i}"));
        }
        assert!(cached_len(&auth) <= 8, "{} entries", cached_len(&auth));
    }

    #[test]
    fn ids_drawn_together_are_independent_and_full_length() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let [a, b] = random_ids();
            assert_eq!((a.len(), b.len()), (22, 22));
            assert!(seen.insert(a) && seen.insert(b), "an id repeated");
        }
    }

    #[test]
    fn a_minted_token_has_distinct_jti_and_csrf() {
        let auth = AuthX::new(AuthXConfig {
            secret_key: Some("verified-token-cache-unit-secret-0123456789".into()),
            token_location: vec![crate::TokenLocation::Headers, crate::TokenLocation::Cookies],
            ..Default::default()
        })
        .unwrap();
        let p = auth
            .decode_token(&auth.create_access_token("u1").unwrap())
            .unwrap();
        let csrf = p.csrf.unwrap();
        assert_eq!((p.jti.len(), csrf.len()), (22, 22));
        assert_ne!(p.jti, csrf);
    }

    #[test]
    fn off_by_default() {
        let auth = AuthX::new(AuthXConfig {
            secret_key: Some("verified-token-cache-unit-secret-0123456789".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(auth.inner.verified.is_none());
        assert!(cached(0).inner.verified.is_none());
    }
}
