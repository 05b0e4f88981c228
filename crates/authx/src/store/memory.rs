//! The in-memory store: one process, nothing persisted.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Family, Rotation, TokenStore};
use crate::error::{ErrorKind, Result};

#[derive(Default)]
struct State {
    revoked: HashMap<String, i64>,
    cutoffs: HashMap<String, (i64, i64)>,
    /// Family and whether it was revoked. Revoked families are kept until
    /// their expiry so a replay of their tokens stays refused.
    families: HashMap<String, (Family, bool)>,
    by_sub: HashMap<String, HashSet<String>>,
    writes: u32,
    /// The latest "now" a caller passed in; housekeeping follows it.
    last_now: i64,
}

impl State {
    fn purge(&mut self, now_ms: i64) {
        self.revoked.retain(|_, until| *until > now_ms);
        self.cutoffs.retain(|_, (_, until)| *until > now_ms);
        let families = &mut self.families;
        families.retain(|_, (f, _)| f.expires_ms > now_ms);
        self.by_sub.retain(|_, ids| {
            ids.retain(|id| families.contains_key(id));
            !ids.is_empty()
        });
    }

    /// Purges every 1024 writes, so memory stays bounded by live entries.
    fn wrote(&mut self) {
        self.writes = self.writes.wrapping_add(1);
        if self.writes.is_multiple_of(1024) && self.last_now != 0 {
            self.purge(self.last_now);
        }
    }

    fn saw(&mut self, now_ms: i64) {
        self.last_now = self.last_now.max(now_ms);
    }
}

/// A [`TokenStore`] in process memory. Atomic by one mutex; entries vanish
/// once their tokens could no longer verify.
///
/// ```
/// use authx::store::{MemoryStore, TokenStore};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// store.revoke_jti("j1", 10_000).await?;
/// assert!(store.is_jti_revoked("j1", 5_000).await?);
/// assert!(!store.is_jti_revoked("j1", 10_000).await?);
/// # Ok::<(), authx::Error>(())
/// # }).unwrap();
/// ```
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    ///
    /// ```
    /// let store = authx::store::MemoryStore::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T> {
        // A poisoned lock means a panic elsewhere mid-update: fail closed.
        let mut state = self
            .state
            .lock()
            .map_err(|_| ErrorKind::StoreUnavailable("memory store lock poisoned".into()))?;
        Ok(f(&mut state))
    }

    /// How many entries of each kind are held (revoked jtis, subject
    /// cut-offs, families), for tests and metrics.
    ///
    /// ```
    /// assert_eq!(authx::store::MemoryStore::new().len().unwrap(), (0, 0, 0));
    /// ```
    pub fn len(&self) -> Result<(usize, usize, usize)> {
        self.with(|s| (s.revoked.len(), s.cutoffs.len(), s.families.len()))
    }

    /// Whether the store holds nothing.
    ///
    /// ```
    /// assert!(authx::store::MemoryStore::new().is_empty().unwrap());
    /// ```
    pub fn is_empty(&self) -> Result<bool> {
        self.len().map(|l| l == (0, 0, 0))
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn revoke_jti(&self, jti: &str, until_ms: i64) -> Result<()> {
        self.with(|s| {
            let until = s.revoked.entry(jti.to_owned()).or_insert(until_ms);
            *until = (*until).max(until_ms);
            s.wrote();
        })
    }

    async fn is_jti_revoked(&self, jti: &str, now_ms: i64) -> Result<bool> {
        self.with(|s| {
            s.saw(now_ms);
            s.revoked.get(jti).is_some_and(|until| *until > now_ms)
        })
    }

    async fn revoke_subject_before(&self, sub: &str, at_ms: i64, until_ms: i64) -> Result<()> {
        self.with(|s| {
            let entry = s.cutoffs.entry(sub.to_owned()).or_insert((at_ms, until_ms));
            entry.0 = entry.0.max(at_ms);
            entry.1 = entry.1.max(until_ms);
            s.wrote();
        })
    }

    async fn subject_cutoff(&self, sub: &str, now_ms: i64) -> Result<Option<i64>> {
        self.with(|s| {
            s.cutoffs
                .get(sub)
                .filter(|(_, until)| *until > now_ms)
                .map(|(at, _)| *at)
        })
    }

    async fn start_family(&self, family: &Family) -> Result<()> {
        self.with(|s| {
            s.by_sub
                .entry(family.sub.clone())
                .or_default()
                .insert(family.id.clone());
            s.families
                .insert(family.id.clone(), (family.clone(), false));
            s.saw(family.created_ms);
            s.wrote();
        })
    }

    async fn rotate(
        &self,
        family_id: &str,
        presented_jti: &str,
        new_jti: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> Result<Rotation> {
        self.with(|s| {
            s.saw(now_ms);
            s.wrote();
            match s.families.get_mut(family_id) {
                Some((f, revoked @ false)) => {
                    let outcome = f.rotate(presented_jti, new_jti, now_ms, grace_ms);
                    if outcome == Rotation::Reused {
                        *revoked = true;
                    }
                    outcome
                }
                _ => Rotation::Invalid,
            }
        })
    }

    async fn family(&self, family_id: &str, now_ms: i64) -> Result<Option<Family>> {
        self.with(|s| match s.families.get(family_id) {
            Some((f, false)) if f.expires_ms > now_ms => Some(f.clone()),
            _ => None,
        })
    }

    async fn revoke_family(&self, family_id: &str) -> Result<bool> {
        self.with(|s| match s.families.get_mut(family_id) {
            Some((_, revoked)) => !std::mem::replace(revoked, true),
            None => false,
        })
    }

    async fn families(&self, sub: &str, now_ms: i64) -> Result<Vec<Family>> {
        self.with(|s| {
            let mut out: Vec<Family> = s
                .by_sub
                .get(sub)
                .into_iter()
                .flatten()
                .filter_map(|id| s.families.get(id))
                .filter(|(f, revoked)| !revoked && f.expires_ms > now_ms)
                .map(|(f, _)| f.clone())
                .collect();
            out.sort_by(|a, b| {
                b.created_ms
                    .cmp(&a.created_ms)
                    .then_with(|| a.id.cmp(&b.id))
            });
            out
        })
    }

    async fn revoke_families(&self, sub: &str, now_ms: i64) -> Result<usize> {
        self.with(|s| {
            let mut n = 0;
            for id in s.by_sub.get(sub).into_iter().flatten() {
                if let Some((f, revoked)) = s.families.get_mut(id)
                    && !*revoked
                {
                    *revoked = true;
                    if f.expires_ms > now_ms {
                        n += 1;
                    }
                }
            }
            n
        })
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<()> {
        self.with(|s| s.purge(now_ms))
    }
}
