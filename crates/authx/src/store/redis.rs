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

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

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
if f[2] and f[3] and ARGV[1] == f[2] and now - tonumber(f[3]) <= grace then
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

/// A [`TokenStore`] in Redis. Run Redis with `maxmemory-policy noeviction`:
/// an evicting policy could drop a revocation before its token expires.
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
    prefix: String,
    rotate: Script,
    cutoff: Script,
    revoke_jti: Script,
    revoke_family: Script,
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
            prefix: prefix.to_owned(),
            rotate: Script::new(ROTATE),
            cutoff: Script::new(CUTOFF),
            revoke_jti: Script::new(REVOKE_JTI),
            revoke_family: Script::new(REVOKE_FAMILY),
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
        let mut c = self.conn.clone();
        let out: Vec<String> = self
            .rotate
            .key(self.key("fam", family_id))
            .arg(presented_jti)
            .arg(new_jti)
            .arg(now_ms)
            .arg(grace_ms)
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        let num = |i: usize| out.get(i).and_then(|v| v.parse::<i64>().ok());
        Ok(match out.first().map(String::as_str) {
            Some("rotated") => Rotation::Rotated {
                expires_ms: num(1).ok_or_else(|| unavailable("bad reply"))?,
            },
            Some("grace") => Rotation::Grace {
                successor_jti: out
                    .get(1)
                    .cloned()
                    .ok_or_else(|| unavailable("bad reply"))?,
                expires_ms: num(2).ok_or_else(|| unavailable("bad reply"))?,
            },
            Some("reused") => Rotation::Reused,
            _ => Rotation::Invalid,
        })
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
