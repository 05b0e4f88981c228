//! [`Sessions`]: the three flows a server needs on top of a
//! [`TokenStore`]: login (start a family, issue a pair), refresh (rotate,
//! issue a pair) and logout (revoke the family and the access token), plus
//! session lists and "log out everywhere".
//!
//! Tokens issued here carry the family id as the `sid` claim, so the
//! store-backed revocation hook ([`StoreRevocation`]) can cut every access
//! token of a session when the session ends.

use std::sync::Arc;
use std::time::Duration;

use crate::claims::{TokenPayload, TokenType};
use crate::error::{ErrorKind, Result};
use crate::store::{Family, Rotation, SESSION_CLAIM, StoreRevocation, TokenStore};
use crate::token::{AuthX, AuthXBuilder, Expiry, TokenOptions, TokenPair, random_id};

/// Who is logging in, for the session list.
///
/// ```
/// let c = authx::sessions::ClientInfo { user_agent: Some("curl/8".into()), ip: None };
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The client address.
    pub ip: Option<String>,
}

/// Tokens issued by a login or a refresh, with their session id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionTokens {
    /// The access and refresh tokens.
    pub pair: TokenPair,
    /// The family (session) id.
    pub session_id: String,
    /// Whether this refresh was a replay inside the grace window that got
    /// the already-issued successor.
    pub grace: bool,
}

/// Login, refresh with rotation and reuse detection, logout, sessions.
///
/// ```
/// use std::sync::Arc;
/// use authx::{AuthX, AuthXConfig, TokenOptions};
/// use authx::sessions::{ClientInfo, Sessions};
/// use authx::store::MemoryStore;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sessions = Sessions::install(
///     AuthX::builder(AuthXConfig {
///         secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///         ..Default::default()
///     }),
///     Arc::new(MemoryStore::new()),
/// )?;
/// let auth = sessions.auth().clone();
/// let login = sessions.login("user1", ClientInfo::default(), &TokenOptions::new().fresh(true)).await?;
/// let refresh = auth.decode_token(&login.pair.refresh_token)?;
/// let next = sessions.refresh(&refresh).await?;
/// // The retired token, replayed after the grace window, revokes the session.
/// # Ok::<(), authx::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Sessions {
    auth: AuthX,
    store: Arc<dyn TokenStore>,
    grace: Duration,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Builds the [`AuthX`] from `builder` with the store-backed
    /// revocation hook (access tokens checked too), and the session flows
    /// over `store`. Grace window: 10 s.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{AuthX, AuthXConfig, sessions::Sessions, store::MemoryStore};
    /// let sessions = Sessions::install(
    ///     AuthX::builder(AuthXConfig {
    ///         secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///         ..Default::default()
    ///     }),
    ///     Arc::new(MemoryStore::new()),
    /// )?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn install(builder: AuthXBuilder, store: Arc<dyn TokenStore>) -> Result<Self> {
        Self::install_with(builder, store, true)
    }

    /// Like [`install`](Self::install); `check_access` off checks only
    /// refresh tokens against the store (no store round trip per API call;
    /// access tokens then live until they expire).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{AuthX, AuthXConfig, sessions::Sessions, store::MemoryStore};
    /// let sessions = Sessions::install_with(
    ///     AuthX::builder(AuthXConfig {
    ///         secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    ///         ..Default::default()
    ///     }),
    ///     Arc::new(MemoryStore::new()),
    ///     false,
    /// )?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    pub fn install_with(
        builder: AuthXBuilder,
        store: Arc<dyn TokenStore>,
        check_access: bool,
    ) -> Result<Self> {
        let revocation =
            StoreRevocation::new(store.clone(), check_access).with_clock(builder.clock_ref());
        let auth = builder.revocation_arc(Arc::new(revocation)).build()?;
        Ok(Self {
            auth,
            store,
            grace: Duration::from_secs(10),
        })
    }

    /// Sets the grace window for concurrent refreshes (default 10 s): a
    /// retired refresh token replayed less than this long from its
    /// rotation (either way: instances' clocks may differ a little) gets
    /// the successor; later, it revokes the session. Zero turns the window
    /// off.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{AuthX, AuthXConfig, sessions::Sessions, store::MemoryStore};
    /// # let sessions = Sessions::install(AuthX::builder(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # }), Arc::new(MemoryStore::new()))?;
    /// let sessions = sessions.with_grace(std::time::Duration::from_secs(5));
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The [`AuthX`] whose extractors consult the store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{AuthX, AuthXConfig, sessions::Sessions, store::MemoryStore};
    /// # let sessions = Sessions::install(AuthX::builder(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # }), Arc::new(MemoryStore::new()))?;
    /// let token = sessions.auth().create_access_token("u")?;
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn auth(&self) -> &AuthX {
        &self.auth
    }

    /// The store.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{AuthX, AuthXConfig, sessions::Sessions, store::MemoryStore};
    /// # let sessions = Sessions::install(AuthX::builder(AuthXConfig {
    /// #     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
    /// #     ..Default::default()
    /// # }), Arc::new(MemoryStore::new()))?;
    /// let store = sessions.store();
    /// # Ok::<(), authx::Error>(())
    /// ```
    #[must_use]
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    fn now_ms(&self) -> i64 {
        self.auth.clock().now_millis()
    }

    fn leeway_ms(&self) -> i64 {
        i64::try_from(self.auth.config().decode_leeway.as_millis()).unwrap_or(i64::MAX)
    }

    fn pair(
        &self,
        sub: &str,
        sid: &str,
        refresh_jti: String,
        refresh_exp_ms: i64,
        base: &TokenOptions,
    ) -> Result<TokenPair> {
        let base = base.clone().claim(SESSION_CLAIM, sid)?;
        let (access_token, access) = self.auth.mint(sub, TokenType::Access, &base)?;
        let exp = std::time::UNIX_EPOCH
            + Duration::from_millis(u64::try_from(refresh_exp_ms).unwrap_or(0));
        let refresh_opts = base
            .fresh(false)
            .expiry(Expiry::At(exp))
            .with_jti(refresh_jti);
        let (refresh_token, refresh) = self.auth.mint(sub, TokenType::Refresh, &refresh_opts)?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            token_type: "bearer".into(),
            access_minted: Some(access),
            refresh_minted: Some(refresh),
        })
    }

    /// Starts a session for `sub` and issues its first pair. `options`
    /// (fresh, scopes, custom claims) apply to the access token; scopes and
    /// custom claims also ride in the refresh token, so refreshed access
    /// tokens keep them.
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when the store cannot be reached.
    pub async fn login(
        &self,
        sub: &str,
        client: ClientInfo,
        options: &TokenOptions,
    ) -> Result<SessionTokens> {
        let now = self.now_ms();
        let lifetime =
            i64::try_from(self.auth.config().refresh_token_expires.as_millis()).unwrap_or(i64::MAX);
        let expires = now
            .div_euclid(1000)
            .saturating_mul(1000)
            .saturating_add(lifetime);
        let sid = random_id();
        let jti = random_id();
        let pair = self.pair(sub, &sid, jti.clone(), expires, options)?;
        let family =
            Family::new(&sid, sub, &jti, now, expires).with_client(client.user_agent, client.ip);
        self.store.start_family(&family).await?;
        Ok(SessionTokens {
            pair,
            session_id: sid,
            grace: false,
        })
    }

    /// Rotates a verified refresh token and issues a new pair.
    ///
    /// # Errors
    /// [`ErrorKind::TokenReuseDetected`] when a retired token is replayed
    /// (the session is then revoked), [`ErrorKind::RevokedToken`] for an
    /// ended or unknown session, [`ErrorKind::RefreshTokenRequired`] for an
    /// access token, [`ErrorKind::StoreUnavailable`] when the store cannot
    /// be reached.
    pub async fn refresh(&self, refresh: &TokenPayload) -> Result<SessionTokens> {
        if refresh.token_type != TokenType::Refresh {
            return Err(ErrorKind::RefreshTokenRequired.into());
        }
        let sid = refresh.session_id().ok_or(ErrorKind::RevokedToken)?;
        let now = self.now_ms();
        let new_jti = random_id();
        let grace = i64::try_from(self.grace.as_millis()).unwrap_or(i64::MAX);
        let (jti, family_exp, grace) = match self
            .store
            .rotate(sid, &refresh.jti, &new_jti, now, grace)
            .await?
        {
            Rotation::Rotated { expires_ms } => (new_jti, expires_ms, false),
            Rotation::Grace {
                successor_jti,
                expires_ms,
            } => (successor_jti, expires_ms, true),
            Rotation::Reused => return Err(ErrorKind::TokenReuseDetected.into()),
            Rotation::Invalid => return Err(ErrorKind::RevokedToken.into()),
        };
        let lifetime =
            i64::try_from(self.auth.config().refresh_token_expires.as_millis()).unwrap_or(i64::MAX);
        let refresh_exp = family_exp.min(now.saturating_add(lifetime));
        let mut options = TokenOptions::new();
        for (k, v) in &refresh.extra {
            if k != SESSION_CLAIM {
                options = options.claim(k.clone(), v.clone())?;
            }
        }
        if let Some(scopes) = &refresh.scopes {
            options = options.scopes(scopes.clone());
        }
        let pair = self.pair(&refresh.sub, sid, jti, refresh_exp, &options)?;
        Ok(SessionTokens {
            pair,
            session_id: sid.to_owned(),
            grace,
        })
    }

    /// Ends the session of the presented tokens: revokes the refresh
    /// token's family and the access token's `jti` (and its family).
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when the store cannot be reached:
    /// logout fails closed rather than pretend.
    pub async fn logout(
        &self,
        refresh: Option<&TokenPayload>,
        access: Option<&TokenPayload>,
    ) -> Result<()> {
        for p in refresh.into_iter().chain(access) {
            if let Some(sid) = p.session_id() {
                self.store.revoke_family(sid).await?;
            }
        }
        if let Some(a) = access {
            let until = (a.exp * 1000.0) as i64;
            self.store
                .revoke_jti(&a.jti, until.saturating_add(self.leeway_ms()))
                .await?;
        }
        Ok(())
    }

    /// Ends every session of `sub` and revokes every token issued to it up
    /// to now (millisecond precision). Returns how many sessions were live.
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when the store cannot be reached.
    pub async fn logout_all(&self, sub: &str) -> Result<usize> {
        let now = self.now_ms();
        let c = self.auth.config();
        let longest = c.access_token_expires.max(c.refresh_token_expires);
        let until = now
            .saturating_add(i64::try_from(longest.as_millis()).unwrap_or(i64::MAX))
            .saturating_add(self.leeway_ms());
        self.store.revoke_subject_before(sub, now, until).await?;
        self.store.revoke_families(sub, now).await
    }

    /// The live sessions of `sub`, newest first.
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when the store cannot be reached.
    pub async fn list(&self, sub: &str) -> Result<Vec<Family>> {
        self.store.families(sub, self.now_ms()).await
    }

    /// Ends one session of `sub`; `false` if it is not one of theirs or
    /// already ended.
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when the store cannot be reached.
    pub async fn end(&self, sub: &str, session_id: &str) -> Result<bool> {
        match self.store.family(session_id, self.now_ms()).await? {
            Some(f) if f.sub == sub => self.store.revoke_family(session_id).await,
            _ => Ok(false),
        }
    }
}

#[cfg(feature = "axum")]
impl axum::extract::FromRef<Sessions> for AuthX {
    /// Lets a router use [`Sessions`] as its state: the extractors find
    /// the store-checking [`AuthX`] in it.
    fn from_ref(sessions: &Sessions) -> AuthX {
        sessions.auth.clone()
    }
}
