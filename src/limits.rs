//! Abuse limits on authentication: failed logins per account and auth requests per
//! client address, counted in fixed windows in this process's memory.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;

/// At most `max` events per key in each `window`; `max == 0` turns the limit off.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Entries kept before expired ones are dropped.
const TIDY_AT: usize = 10_000;

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// How long until `key` may act again, if it is over the limit now.
    pub fn blocked(&self, key: &str) -> Option<Duration> {
        if self.max == 0 {
            return None;
        }
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let (started, count) = windows.get(key)?;
        let left = self.window.checked_sub(started.elapsed())?;
        (*count >= self.max).then_some(left)
    }

    /// Counts one event for `key`; how long to wait if that was one too many.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() >= TIDY_AT {
            let window = self.window;
            windows.retain(|_, (started, _)| started.elapsed() < window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        if entry.1 >= self.max {
            return Err(self.window.saturating_sub(entry.0.elapsed()));
        }
        entry.1 += 1;
        Ok(())
    }

    pub fn reset(&self, key: &str) {
        self.windows.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

/// The limits the authentication routes share.
#[derive(Debug)]
pub struct AuthLimits {
    /// Failed logins per account (by lower-cased email, known or not).
    pub login_failures: RateLimiter,
    /// Login and registration requests per client address.
    pub per_ip: RateLimiter,
}

impl AuthLimits {
    pub fn new(login_failures_per_account: u32, auth_requests_per_ip_per_minute: u32) -> Self {
        Self {
            login_failures: RateLimiter::new(login_failures_per_account, Duration::from_secs(15 * 60)),
            per_ip: RateLimiter::new(auth_requests_per_ip_per_minute, Duration::from_secs(60)),
        }
    }

    /// Counts an authentication request from `ip`; 429 beyond the per-address limit.
    pub fn count_request(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(ip) = ip else { return Ok(()) };
        self.per_ip
            .hit(&ip.to_string())
            .map_err(|retry_after| ApiError::TooManyRequests {
                detail: "Too many login or registration attempts from this address; please wait.".into(),
                retry_after,
            })
    }

    /// 429 while an account has had too many failed logins.
    pub fn check_account(&self, email_lower: &str) -> Result<(), ApiError> {
        match self.login_failures.blocked(email_lower) {
            None => Ok(()),
            Some(retry_after) => Err(ApiError::TooManyRequests {
                detail: "Too many failed logins for this account; please wait before trying again.".into(),
                retry_after,
            }),
        }
    }
}

/// The address of the client's connection, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_a_window_and_forgets_after_it() {
        let limiter = RateLimiter::new(2, Duration::from_millis(50));
        assert!(limiter.hit("a").is_ok() && limiter.hit("a").is_ok());
        assert!(limiter.hit("a").is_err());
        assert!(limiter.blocked("a").is_some());
        assert!(limiter.hit("b").is_ok(), "keys are separate");
        std::thread::sleep(Duration::from_millis(60));
        assert!(limiter.blocked("a").is_none());
        assert!(limiter.hit("a").is_ok());
        limiter.reset("a");
        assert!(limiter.blocked("a").is_none());
        let off = RateLimiter::new(0, Duration::from_secs(60));
        assert!((0..100).all(|_| off.hit("x").is_ok()));
    }
}
