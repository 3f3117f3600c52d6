//! A short-lived in-process cache of public catalogue pages.
//!
//! The artwork list is read far more often than the catalogue changes, and a page of 50
//! populated artworks costs three queries and ~40 KB of JSON. Pages are kept for a short
//! time (CATALOGUE_CACHE_MS, default 1000 ms; 0 turns the cache off) and dropped at once
//! when this process commits a change to the catalogue. Another instance's changes show
//! here within that time.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;

const MAX_ENTRIES: usize = 2048;
/// The most page bytes kept at once.
const MAX_BYTES: usize = 64 * 1024 * 1024;
const MAX_KEY: usize = 1024;

#[derive(Debug)]
pub struct PageCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    generation: u64,
    stored: Instant,
    total: i64,
    body: Bytes,
    /// When one request began recomputing this expired page; others keep getting the
    /// expired page meanwhile instead of all recomputing it at once.
    refreshing_since: Option<Instant>,
}

/// How long one request may take to refresh a page before another tries.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(5);

/// A page as it was cached: the total for the paging headers, and the JSON body.
#[derive(Debug, Clone)]
pub struct Page {
    pub total: i64,
    pub body: Bytes,
}

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Read before computing a page; pass to [`PageCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A cached page, or None when the caller should compute it. A page the catalogue
    /// has changed since is never returned. A page that only outlived its time is
    /// returned to everyone but one caller, who refreshes it.
    pub fn get(&self, key: &str) -> Option<Page> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get_mut(key)?;
        if entry.generation != self.generation() {
            return None;
        }
        let page = Page {
            total: entry.total,
            body: entry.body.clone(),
        };
        if entry.stored.elapsed() < self.ttl {
            return Some(page);
        }
        match entry.refreshing_since {
            Some(since) if since.elapsed() < REFRESH_TIMEOUT => Some(page),
            _ => {
                entry.refreshing_since = Some(Instant::now());
                None
            }
        }
    }

    /// Stores a page computed from data read after `generation` was taken; if the
    /// catalogue changed meanwhile the page is already stale and is not kept.
    pub fn put(&self, key: &str, generation: u64, total: i64, body: Bytes) {
        if self.ttl.is_zero() || key.len() > MAX_KEY || generation != self.generation() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let held: usize = entries.values().map(|e| e.body.len()).sum();
        if entries.len() >= MAX_ENTRIES || held + body.len() > MAX_BYTES {
            let (current, ttl) = (self.generation(), self.ttl);
            entries.retain(|_, e| e.generation == current && e.stored.elapsed() < ttl);
            let held: usize = entries.values().map(|e| e.body.len()).sum();
            if entries.len() >= MAX_ENTRIES || held + body.len() > MAX_BYTES {
                entries.clear();
            }
        }
        let entry = Entry {
            generation,
            stored: Instant::now(),
            total,
            body,
            refreshing_since: None,
        };
        entries.insert(key.to_owned(), entry);
    }

    /// Call after committing any change that a catalogue page shows.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Caches that domains keep on the shared state without the state knowing their types:
/// one value of each type, made on first use (like `http::Extensions`, but shared).
#[derive(Default)]
pub struct Memos(Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl Memos {
    /// The value of type `T`, made with `T::default()` the first time.
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut memos = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let memo = memos
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>);
        match Arc::clone(memo).downcast::<T>() {
            Ok(memo) => memo,
            // Unreachable: the entry for T's TypeId holds a T.
            Err(_) => Arc::new(T::default()),
        }
    }
}

/// Values read recently on this instance, each trusted for a second after it was read:
/// what spares a request reading again what another read a moment ago. A change made
/// here forgets its key at once; a change made elsewhere shows within the second.
/// Bounded: when full, the stale entries go, and if that is not enough, all of them.
pub struct Recent<K, V>(Mutex<HashMap<K, (V, Instant)>>);

impl<K, V> Default for Recent<K, V> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    /// How long a value read is trusted.
    pub const FRESH_FOR: Duration = Duration::from_secs(1);
    const MAX: usize = 10_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value read for `key` less than [`Self::FRESH_FOR`] ago, if any.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (value, read) = entries.get(key)?;
        (read.elapsed() < Self::FRESH_FOR).then(|| value.clone())
    }

    /// Keeps `value` as just read for `key`.
    pub fn put(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= Self::MAX {
            entries.retain(|_, (_, read)| read.elapsed() < Self::FRESH_FOR);
            if entries.len() >= Self::MAX {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets `key`: after a change to it, or when it was found gone.
    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_values_are_kept_a_second_and_forgotten_on_request() {
        let recent = Recent::<i64, &str>::default();
        recent.put(1, "one");
        assert_eq!(recent.get(&1), Some("one"));
        recent.forget(&1);
        assert_eq!(recent.get(&1), None);
        recent
            .0
            .lock()
            .unwrap()
            .insert(2, ("two", Instant::now() - Duration::from_secs(2)));
        assert_eq!(recent.get(&2), None, "stale after a second");
    }

    #[test]
    fn memos_hold_one_value_a_type() {
        #[derive(Default)]
        struct Counter(std::sync::atomic::AtomicU64);
        let memos = Memos::default();
        memos.get::<Counter>().0.fetch_add(2, Ordering::Relaxed);
        assert_eq!(memos.get::<Counter>().0.load(Ordering::Relaxed), 2);
        assert!(memos.get::<String>().is_empty());
    }

    #[test]
    fn pages_expire_and_are_dropped_on_change() {
        let cache = PageCache::new(Duration::from_secs(60));
        let g = cache.generation();
        cache.put("page=1", g, 3, Bytes::from_static(b"[1]"));
        assert_eq!(cache.get("page=1").map(|p| p.total), Some(3));
        cache.invalidate();
        assert!(cache.get("page=1").is_none());
        // Computed before the change: not kept.
        cache.put("page=1", g, 3, Bytes::from_static(b"[1]"));
        assert!(cache.get("page=1").is_none());

        let short = PageCache::new(Duration::from_millis(1));
        short.put("k", short.generation(), 1, Bytes::new());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("k").is_none(), "the first caller after expiry refreshes");
        assert!(short.get("k").is_some(), "the others get the expired page meanwhile");
        short.put("k", short.generation(), 2, Bytes::new());
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get("k").is_none());
        short.invalidate();
        assert!(
            short.get("k").is_none() && short.get("k").is_none(),
            "a changed catalogue is never served"
        );

        let off = PageCache::new(Duration::ZERO);
        off.put("k", off.generation(), 1, Bytes::new());
        assert!(off.get("k").is_none());
    }
}
