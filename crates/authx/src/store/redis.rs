//! The Redis store (feature `redis`): shared by many instances.
//!
//! Every check-then-act runs in one Lua script, so it is atomic on the
//! server (S8). A later revocation never shortens an earlier one: expiry
//! only moves later. Expiry follows Redis's clock (real time), whatever
//! "now" the caller passes. Every key expires with the tokens it concerns (`PEXPIREAT`
//! at the token's or family's expiry), so nothing grows without bound.
//!
//! **Deployment:** run Redis with `maxmemory-policy noeviction`. An
//! evicting policy could drop a revocation before the token it revokes
//! expires, and a revoked token would verify again. Persistence (AOF or
//! RDB) decides whether revocations survive a Redis restart.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::batch::{self, RotationBatch};
use super::{Family, Rotation, TokenStore};
use crate::error::{Error, ErrorKind, Result};

const ROTATE: &str = r"
local k = KEYS[1]
local f = redis.call('HMGET', k, 'cur', 'prev', 'rot', 'exp', 'revoked')
if not f[1] or f[5] == '1' then return {'invalid'} end
local now = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
if now >= tonumber(f[4]) then return {'invalid'} end
if ARGV[1] == f[1] then
  redis.call('HSET', k, 'prev', f[1], 'cur', ARGV[2], 'rot', ARGV[3], 'last', ARGV[3])
  return {'rotated', f[4]}
end
if f[2] and f[3] and ARGV[1] == f[2] and math.abs(now - tonumber(f[3])) < grace then
  redis.call('HSET', k, 'last', ARGV[3])
  return {'grace', f[1], f[4]}
end
redis.call('HSET', k, 'revoked', '1')
return {'reused'}
";

const CUTOFF: &str = r"
local old_ttl = redis.call('PEXPIRETIME', KEYS[1])
local cur = redis.call('GET', KEYS[1])
local at = tonumber(ARGV[1])
if cur and tonumber(cur) > at then at = tonumber(cur) end
redis.call('SET', KEYS[1], at, 'KEEPTTL')
if old_ttl ~= -1 and old_ttl < tonumber(ARGV[2]) then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return at
";

const REVOKE_JTI: &str = r"
local old_ttl = redis.call('PEXPIRETIME', KEYS[1])
redis.call('SET', KEYS[1], '1', 'KEEPTTL')
if old_ttl ~= -1 and old_ttl < tonumber(ARGV[1]) then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return 1
";

const REVOKE_FAMILY: &str = r"
if redis.call('HGET', KEYS[1], 'revoked') == '0' then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  return 1
end
return 0
";

/// `ROTATE` for a batch: family `i` is `KEYS[i]`, its presented and new
/// ids, "now" and grace are `ARGV[4i-3..4i]`; one reply per family, in
/// order, each the reply `ROTATE` gives.
const ROTATE_MANY: &str = r"
local out = {}
for i = 1, #KEYS do
  local k = KEYS[i]
  local b = (i - 1) * 4
  local presented, new, now_s = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local now, grace = tonumber(now_s), tonumber(ARGV[b + 4])
  local f = redis.call('HMGET', k, 'cur', 'prev', 'rot', 'exp', 'revoked')
  if not f[1] or f[5] == '1' or now >= tonumber(f[4]) then
    out[i] = {'invalid'}
  elseif presented == f[1] then
    redis.call('HSET', k, 'prev', f[1], 'cur', new, 'rot', now_s, 'last', now_s)
    out[i] = {'rotated', f[4]}
  elseif f[2] and f[3] and presented == f[2] and math.abs(now - tonumber(f[3])) < grace then
    redis.call('HSET', k, 'last', now_s)
    out[i] = {'grace', f[1], f[4]}
  else
    redis.call('HSET', k, 'revoked', '1')
    out[i] = {'reused'}
  end
end
return out
";

/// A [`TokenStore`] in Redis. Run Redis with `maxmemory-policy noeviction`:
/// an evicting policy could drop a revocation before its token expires.
/// Rotations requested at the same moment go to Redis in one script call,
/// each seeing the ones before it (group commit); one connection carries
/// every command, so a batch's keys are always on the same server.
///
/// ```no_run
/// use authx::store::{RedisStore, TokenStore};
/// # async fn demo() -> authx::Result<()> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379", "authx:")?;
/// store.revoke_jti("j1", i64::MAX).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    /// Shared, with the scripts, so a clone (one per batch commit) costs
    /// reference counts only.
    prefix: Arc<str>,
    rotate: Arc<Script>,
    rotate_many: Arc<Script>,
    /// Rotations waiting for their batch (see `store::batch`).
    pending: Arc<RotationBatch>,
    cutoff: Arc<Script>,
    revoke_jti: Arc<Script>,
    revoke_family: Arc<Script>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    ErrorKind::StoreUnavailable(format!("redis: {e}").into()).into()
}

impl RedisStore {
    /// A store at `url` with keys under `prefix`. The connection is made
    /// lazily and remade after failures; each command times out after 2 s,
    /// so an unreachable Redis answers 503 quickly instead of hanging.
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] for a malformed URL, or when called
    /// outside a Tokio runtime.
    pub fn connect(url: &str, prefix: &str) -> Result<Self> {
        // The connection manager spawns its reconnect task on the current
        // runtime: say so instead of panicking outside one.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(unavailable(
                "RedisStore::connect must be called within a Tokio runtime",
            ));
        }
        // TCP_NODELAY: commands from concurrent requests share one
        // multiplexed connection, and Nagle's algorithm would hold each
        // small write until the previous one is acknowledged.
        let info = redis::IntoConnectionInfo::into_connection_info(url)
            .map_err(unavailable)?
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self {
            conn,
            prefix: prefix.into(),
            rotate: Arc::new(Script::new(ROTATE)),
            rotate_many: Arc::new(Script::new(ROTATE_MANY)),
            pending: Arc::default(),
            cutoff: Arc::new(Script::new(CUTOFF)),
            revoke_jti: Arc::new(Script::new(REVOKE_JTI)),
            revoke_family: Arc::new(Script::new(REVOKE_FAMILY)),
        })
    }

    /// Checks that Redis answers (for readiness probes).
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when it does not.
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    /// Commits the pending rotations: one `ROTATE` for a batch of one,
    /// one `ROTATE_MANY` (one round trip, one script call) for more.
    async fn commit_batch(&self) {
        let jobs = self.pending.take();
        if jobs.is_empty() {
            return;
        }
        let mut c = self.conn.clone();
        let outcome = if let [job] = jobs.as_slice() {
            self.rotate
                .key(self.key("fam", &job.family_id))
                .arg(&job.presented)
                .arg(&job.new)
                .arg(job.now_ms)
                .arg(job.grace_ms)
                .invoke_async::<Vec<String>>(&mut c)
                .await
                .map(|reply| vec![reply])
        } else {
            let mut invocation = self.rotate_many.prepare_invoke();
            for job in &jobs {
                invocation
                    .key(self.key("fam", &job.family_id))
                    .arg(&job.presented)
                    .arg(&job.new)
                    .arg(job.now_ms)
                    .arg(job.grace_ms);
            }
            invocation.invoke_async::<Vec<Vec<String>>>(&mut c).await
        };
        let outcome = outcome
            .map_err(|e| e.to_string())
            .and_then(|replies| replies.iter().map(|r| rotation_of(r)).collect());
        batch::reply_all(jobs, outcome, |m| unavailable(m));
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }
}

fn opt(v: Option<&String>) -> Option<String> {
    v.filter(|s| !s.is_empty()).cloned()
}

fn parse_family(id: &str, h: &std::collections::HashMap<String, String>) -> Option<Family> {
    let num = |k: &str| h.get(k).and_then(|v| v.parse::<i64>().ok());
    Some(Family {
        id: id.to_owned(),
        sub: h.get("sub")?.clone(),
        current_jti: h.get("cur")?.clone(),
        previous_jti: opt(h.get("prev")),
        rotated_at_ms: num("rot"),
        user_agent: opt(h.get("ua")),
        ip: opt(h.get("ip")),
        created_ms: num("created")?,
        last_used_ms: num("last")?,
        expires_ms: num("exp")?,
    })
}

/// A `ROTATE` reply as a [`Rotation`].
fn rotation_of(out: &[String]) -> std::result::Result<Rotation, String> {
    let num = |i: usize| {
        out.get(i)
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| "bad reply".to_owned())
    };
    Ok(match out.first().map(String::as_str) {
        Some("rotated") => Rotation::Rotated {
            expires_ms: num(1)?,
        },
        Some("grace") => Rotation::Grace {
            successor_jti: out.get(1).cloned().ok_or_else(|| "bad reply".to_owned())?,
            expires_ms: num(2)?,
        },
        Some("reused") => Rotation::Reused,
        _ => Rotation::Invalid,
    })
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn revoke_jti(&self, jti: &str, until_ms: i64) -> Result<()> {
        let mut c = self.conn.clone();
        self.revoke_jti
            .key(self.key("jti", jti))
            .arg(until_ms)
            .invoke_async::<i64>(&mut c)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    async fn is_jti_revoked(&self, jti: &str, _now_ms: i64) -> Result<bool> {
        let mut c = self.conn.clone();
        c.exists(self.key("jti", jti)).await.map_err(unavailable)
    }

    async fn revoke_subject_before(&self, sub: &str, at_ms: i64, until_ms: i64) -> Result<()> {
        let mut c = self.conn.clone();
        self.cutoff
            .key(self.key("cut", sub))
            .arg(at_ms)
            .arg(until_ms)
            .invoke_async::<i64>(&mut c)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    async fn subject_cutoff(&self, sub: &str, _now_ms: i64) -> Result<Option<i64>> {
        let mut c = self.conn.clone();
        c.get(self.key("cut", sub)).await.map_err(unavailable)
    }

    async fn start_family(&self, f: &Family) -> Result<()> {
        let mut c = self.conn.clone();
        let key = self.key("fam", &f.id);
        let index = self.key("subfam", &f.sub);
        let fields: [(&str, String); 9] = [
            ("sub", f.sub.clone()),
            ("cur", f.current_jti.clone()),
            ("ua", f.user_agent.clone().unwrap_or_default()),
            ("ip", f.ip.clone().unwrap_or_default()),
            ("created", f.created_ms.to_string()),
            ("last", f.last_used_ms.to_string()),
            ("exp", f.expires_ms.to_string()),
            ("revoked", "0".to_owned()),
            ("prev", String::new()),
        ];
        redis::pipe()
            .atomic()
            .hset_multiple(&key, &fields)
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&key)
            .arg(f.expires_ms)
            .ignore()
            .zadd(&index, &f.id, f.expires_ms)
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&index)
            .arg(f.expires_ms)
            .arg("GT")
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&index)
            .arg(f.expires_ms)
            .arg("NX")
            .ignore()
            .query_async::<()>(&mut c)
            .await
            .map_err(unavailable)
    }

    async fn rotate(
        &self,
        family_id: &str,
        presented_jti: &str,
        new_jti: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> Result<Rotation> {
        // Group commit (see `store::batch`): rotations that arrive
        // together go to Redis in one script call.
        batch::rotate(
            &self.pending,
            (family_id, presented_jti, new_jti, now_ms, grace_ms),
            || {
                let store = self.clone();
                async move { store.commit_batch().await }
            },
            |m| unavailable(m),
        )
        .await
    }

    async fn family(&self, family_id: &str, now_ms: i64) -> Result<Option<Family>> {
        let mut c = self.conn.clone();
        let h: std::collections::HashMap<String, String> = c
            .hgetall(self.key("fam", family_id))
            .await
            .map_err(unavailable)?;
        if h.get("revoked").map(String::as_str) != Some("0") {
            return Ok(None);
        }
        Ok(parse_family(family_id, &h).filter(|f| f.expires_ms > now_ms))
    }

    async fn revoke_family(&self, family_id: &str) -> Result<bool> {
        let mut c = self.conn.clone();
        self.revoke_family
            .key(self.key("fam", family_id))
            .invoke_async::<i64>(&mut c)
            .await
            .map(|n| n == 1)
            .map_err(unavailable)
    }

    async fn families(&self, sub: &str, now_ms: i64) -> Result<Vec<Family>> {
        let mut c = self.conn.clone();
        let index = self.key("subfam", sub);
        // Drop index entries of expired families as we go.
        let _: () = c
            .zrembyscore(&index, "-inf", now_ms)
            .await
            .map_err(unavailable)?;
        let ids: Vec<String> = c.zrange(&index, 0, -1).await.map_err(unavailable)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(f) = self.family(&id, now_ms).await? {
                out.push(f);
            }
        }
        out.sort_by(|a, b| {
            b.created_ms
                .cmp(&a.created_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    async fn revoke_families(&self, sub: &str, now_ms: i64) -> Result<usize> {
        let mut c = self.conn.clone();
        let index = self.key("subfam", sub);
        let ids: Vec<String> = c
            .zrangebyscore(&index, now_ms + 1, "+inf")
            .await
            .map_err(unavailable)?;
        let mut n = 0;
        for id in ids {
            if self.revoke_family(&id).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn purge_expired(&self, _now_ms: i64) -> Result<()> {
        Ok(())
    }
}
