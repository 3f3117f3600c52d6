//! Abuse limits on authentication, counted in fixed windows: requests per client
//! address, and failed passwords per account *and* address (the attacker's address is
//! slowed, the victim's is not) under a much higher ceiling per account.
//!
//! On PostgreSQL the counters live in the database, so the limits hold for the whole
//! deployment however many instances serve it; on SQLite (one process) in memory.
//!
//! Behind proxies (`TRUSTED_PROXIES`), the client's address is the right-most address
//! of `Forwarded` / `X-Forwarded-For` that is not a trusted proxy; from anyone else
//! those headers are ignored. IPv6 clients are counted by their /64.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use sqlx::Row;

use crate::clock;
use crate::db::{Backend, Db};
use crate::error::ApiError;

/// At most `max` events in each `window`; `max == 0` turns the limit off.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// A window's start, count and end, in memory.
type Entry = (DateTime<Utc>, u32, DateTime<Utc>);

/// Entries kept in memory before expired ones are dropped.
const TIDY_AT: usize = 10_000;

/// Where the counts are kept.
#[derive(Debug)]
pub enum Counters {
    /// This process's memory: bucket → (window start, count, window end).
    Memory(Mutex<HashMap<String, Entry>>),
    /// The database, shared by every instance (PostgreSQL only: each statement is one
    /// atomic upsert or delete, committed on its own, without a transaction around it).
    Database(Db),
}

impl Counters {
    /// In the database on PostgreSQL, in memory on SQLite.
    pub fn for_db(db: &Db) -> Self {
        match db.backend() {
            Backend::Postgres => Self::Database(db.clone()),
            Backend::Sqlite => Self::Memory(Mutex::default()),
        }
    }

    /// Counts one event in `bucket` at `now`; how long to wait if that was one too many.
    pub async fn hit(&self, bucket: &str, limit: Limit, now: DateTime<Utc>) -> Result<Option<Duration>, sqlx::Error> {
        if limit.max == 0 {
            return Ok(None);
        }
        let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::MAX);
        let (started, count) = match self {
            Self::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
                if map.len() >= TIDY_AT {
                    // Each entry by its own window: a short one's tidying never forgets
                    // a longer one's count.
                    map.retain(|_, (_, _, ends)| *ends > now);
                }
                let entry = map.entry(bucket.to_owned()).or_insert((now, 0, now + window));
                if now - entry.0 >= window {
                    *entry = (now, 0, now + window);
                }
                entry.1 = entry.1.saturating_add(1);
                (entry.0, entry.1)
            }
            Self::Database(db) => {
                // One statement: a new window starts when the old one is over.
                let row = sqlx::query(
                    "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
                     ON CONFLICT (bucket) DO UPDATE SET \
                     hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
                     window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
                     RETURNING window_start, hits",
                )
                .bind(bucket)
                .bind(clock::to_db(now))
                .bind(clock::to_db(now - window))
                .fetch_one(db.pool())
                .await?;
                let started = crate::db::timestamp(&row, "window_start")?;
                (
                    started,
                    u32::try_from(row.try_get::<i64, _>("hits")?).unwrap_or(u32::MAX),
                )
            }
        };
        Ok((count > limit.max).then(|| wait(started, window, now)))
    }

    /// How long until `bucket` may act again, if it is at its limit now.
    pub async fn blocked(
        &self,
        bucket: &str,
        limit: Limit,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, sqlx::Error> {
        if limit.max == 0 {
            return Ok(None);
        }
        let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::MAX);
        let found = match self {
            Self::Memory(map) => map
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(bucket)
                .map(|&(started, count, _)| (started, count)),
            Self::Database(db) => {
                let row = sqlx::query("SELECT window_start, hits FROM rate_limits WHERE bucket = $1")
                    .bind(bucket)
                    .fetch_optional(db.pool())
                    .await?;
                match row {
                    Some(row) => Some((
                        crate::db::timestamp(&row, "window_start")?,
                        u32::try_from(row.try_get::<i64, _>("hits")?).unwrap_or(u32::MAX),
                    )),
                    None => None,
                }
            }
        };
        Ok(match found {
            Some((started, count)) if now - started < window && count >= limit.max => Some(wait(started, window, now)),
            _ => None,
        })
    }

    pub async fn reset(&self, bucket: &str) -> Result<(), sqlx::Error> {
        match self {
            Self::Memory(map) => {
                map.lock().unwrap_or_else(PoisonError::into_inner).remove(bucket);
            }
            Self::Database(db) => {
                sqlx::query("DELETE FROM rate_limits WHERE bucket = $1")
                    .bind(bucket)
                    .execute(db.pool())
                    .await?;
            }
        }
        Ok(())
    }

    /// Forgets windows that started before `before`.
    pub async fn purge(&self, before: DateTime<Utc>) -> Result<(), sqlx::Error> {
        match self {
            Self::Memory(map) => map
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|_, (started, _, _)| *started >= before),
            Self::Database(db) => {
                sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                    .bind(clock::to_db(before))
                    .execute(db.pool())
                    .await?;
            }
        }
        Ok(())
    }
}

fn wait(started: DateTime<Utc>, window: chrono::Duration, now: DateTime<Utc>) -> Duration {
    (started + window - now).to_std().unwrap_or(Duration::ZERO)
}

/// The limits the authentication routes share.
#[derive(Debug)]
pub struct AuthLimits {
    counters: Counters,
    /// Login, registration and password-change requests per client address.
    pub per_address: Limit,
    /// Failed passwords for one account from one address.
    pub failures_per_account_and_address: Limit,
    /// Failed passwords for one account from anywhere: a ceiling against many addresses.
    pub failures_per_account: Limit,
}

/// The longest window a counter lives for.
const LONGEST_WINDOW: Duration = Duration::from_secs(15 * 60);

impl AuthLimits {
    /// Requests per address a minute; wrong passwords per account and address, and per
    /// account, every 15 minutes (0: no limit).
    pub fn new(counters: Counters, per_address: u32, per_account_and_address: u32, per_account: u32) -> Self {
        let limit = |max, window| Limit { max, window };
        Self {
            counters,
            per_address: limit(per_address, Duration::from_secs(60)),
            failures_per_account_and_address: limit(per_account_and_address, LONGEST_WINDOW),
            failures_per_account: limit(per_account, LONGEST_WINDOW),
        }
    }

    /// Counts an authentication request from `client`; 429 beyond the per-address limit.
    pub async fn count_request(&self, client: Option<IpAddr>, now: DateTime<Utc>) -> Result<(), ApiError> {
        let Some(client) = client else { return Ok(()) };
        match self
            .counters
            .hit(&format!("req:{}", bucket(client)), self.per_address, now)
            .await?
        {
            None => Ok(()),
            Some(retry_after) => Err(ApiError::TooManyRequests {
                detail: "Too many login or registration attempts from this address; please wait.".into(),
                retry_after,
            }),
        }
    }

    fn buckets(account: &str, client: Option<IpAddr>) -> (String, String) {
        let client = client.map(bucket).unwrap_or_else(|| "-".into());
        (format!("fail:{account}|{client}"), format!("fail:{account}"))
    }

    /// 429 while this account has had too many wrong passwords from this address, or
    /// from everywhere. Checked before the password, counted after ([`AuthLimits::failed`]):
    /// counting first would refuse the right password to many concurrent logins. The
    /// guesses that slip in between are bounded by the hashing slots (one per core).
    pub async fn check(&self, account: &str, client: Option<IpAddr>, now: DateTime<Utc>) -> Result<(), ApiError> {
        let (here, everywhere) = Self::buckets(account, client);
        let blocked = match self
            .counters
            .blocked(&here, self.failures_per_account_and_address, now)
            .await?
        {
            Some(wait) => Some(wait),
            None => {
                self.counters
                    .blocked(&everywhere, self.failures_per_account, now)
                    .await?
            }
        };
        match blocked {
            None => Ok(()),
            Some(retry_after) => Err(ApiError::TooManyRequests {
                detail: "Too many failed attempts for this account; please wait before trying again.".into(),
                retry_after,
            }),
        }
    }

    /// Counts a wrong password for `account` from `client`.
    pub async fn failed(&self, account: &str, client: Option<IpAddr>, now: DateTime<Utc>) -> Result<(), ApiError> {
        let (here, everywhere) = Self::buckets(account, client);
        self.counters
            .hit(&here, self.failures_per_account_and_address, now)
            .await?;
        self.counters.hit(&everywhere, self.failures_per_account, now).await?;
        Ok(())
    }

    /// The right password: this address starts afresh.
    pub async fn succeeded(&self, account: &str, client: Option<IpAddr>) -> Result<(), ApiError> {
        let (here, _) = Self::buckets(account, client);
        self.counters.reset(&here).await?;
        Ok(())
    }

    /// Forgets counters whose windows are over.
    pub async fn purge(&self, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        let longest = chrono::Duration::from_std(LONGEST_WINDOW).unwrap_or(chrono::Duration::MAX);
        self.counters.purge(now - longest).await
    }
}

/// How a client is counted: its IPv4 address, or its IPv6 /64 (one subscriber's
/// allocation: counting single IPv6 addresses would let one client be millions).
pub fn bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(prefix))
            }
        },
    }
}

/// The header the trusted proxies write the client's address into. Only that one is
/// read: a proxy appends to its own header and passes the other on as the client sent
/// it, so reading both would let a client choose its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

impl ProxyHeader {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(format!("{other:?} is neither x-forwarded-for nor forwarded")),
        }
    }
}

/// The proxies whose forwarding header is believed, and which header that is.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    pub nets: Arc<Vec<IpNet>>,
    pub header: ProxyHeader,
}

impl TrustedProxies {
    /// Reads a comma-separated list of addresses and CIDR blocks.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| format!("{item:?} is not an address or a CIDR block"))?,
            };
            nets.push(net);
        }
        Ok(Self {
            nets: Arc::new(nets),
            header: ProxyHeader::default(),
        })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted proxy; then the
    /// right-most forwarded address that is not one (a client may write anything to
    /// the left of what the proxies appended).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_chain(headers, self.header).into_iter().rev() {
            let Some(hop) = hop else {
                // Unreadable: nothing further left can be believed.
                return client;
            };
            client = canonical(hop);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The forwarded addresses in `which` header, client first. `None` marks an entry that
/// is not an address.
fn forwarded_chain(headers: &HeaderMap, which: ProxyHeader) -> Vec<Option<IpAddr>> {
    if which == ProxyHeader::Forwarded {
        return headers
            .get_all(axum::http::header::FORWARDED)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_address(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| node_address(item.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]`, `[2001:db8::1]:443` or `2001:db8::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| node.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// The client's address, as [`TrustedProxies::client`] finds it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    TrustedProxies: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let proxies = TrustedProxies::from_ref(state);
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| proxies.client(info.0.ip(), &parts.headers)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    #[tokio::test]
    async fn counts_within_a_window_and_forgets_after_it() {
        let counters = Counters::Memory(Mutex::default());
        let limit = Limit {
            max: 2,
            window: Duration::from_secs(60),
        };
        assert_eq!(counters.hit("a", limit, at(0)).await.unwrap(), None);
        assert_eq!(counters.blocked("a", limit, at(1)).await.unwrap(), None);
        assert_eq!(counters.hit("a", limit, at(1)).await.unwrap(), None);
        assert_eq!(
            counters.blocked("a", limit, at(30)).await.unwrap(),
            Some(Duration::from_secs(30))
        );
        assert!(counters.hit("a", limit, at(2)).await.unwrap().is_some());
        assert_eq!(
            counters.hit("b", limit, at(2)).await.unwrap(),
            None,
            "buckets are separate"
        );
        assert_eq!(counters.blocked("a", limit, at(61)).await.unwrap(), None);
        assert_eq!(counters.hit("a", limit, at(61)).await.unwrap(), None);
        counters.reset("a").await.unwrap();
        assert_eq!(counters.blocked("a", limit, at(62)).await.unwrap(), None);
        let off = Limit { max: 0, ..limit };
        for _ in 0..100 {
            assert_eq!(counters.hit("x", off, at(0)).await.unwrap(), None);
        }
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(bucket(a), bucket(b));
        assert_ne!(bucket(a), bucket(c));
        assert_eq!(bucket(a), "2001:db8:1:2::/64");
        assert_eq!(bucket("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(bucket("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.append(*k, v.parse().unwrap());
            }
            map
        };
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        // The right-most untrusted address; what a client wrote to its left is ignored.
        let xff = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.5, 10.9.9.9")]);
        assert_eq!(proxies.client(peer, &xff).to_string(), "203.0.113.5");
        // From an untrusted peer, the headers mean nothing.
        let stranger: IpAddr = "198.51.100.2".parse().unwrap();
        assert_eq!(proxies.client(stranger, &xff), stranger);
        // Only the configured header counts: a client's own Forwarded is ignored behind
        // a proxy that writes X-Forwarded-For, and the other way round.
        let both = headers(&[
            ("forwarded", "for=\"[2001:db8::7]:4711\";proto=https, for=192.0.2.1:80"),
            ("x-forwarded-for", "203.0.113.99"),
        ]);
        assert_eq!(proxies.client(peer, &both).to_string(), "203.0.113.99");
        let rfc = TrustedProxies {
            header: ProxyHeader::Forwarded,
            ..proxies.clone()
        };
        assert_eq!(
            rfc.client(peer, &both).to_string(),
            "2001:db8::7",
            "with ports and brackets"
        );
        // An unreadable hop stops the walk at the last proxy that reported it.
        let garbled = headers(&[("x-forwarded-for", "203.0.113.5, unknown, 10.0.0.7")]);
        assert_eq!(proxies.client(peer, &garbled).to_string(), "10.0.0.7");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
        assert!(TrustedProxies::parse("").unwrap().nets.is_empty());
        assert_eq!(ProxyHeader::parse("Forwarded"), Ok(ProxyHeader::Forwarded));
        assert!(ProxyHeader::parse("x-real-ip").is_err());
    }
}
