//! A short-lived in-process cache of public catalogue pages.
//!
//! The artwork list is read far more often than the catalogue changes, and a page of 50
//! populated artworks costs three queries and ~40 KB of JSON. Pages are kept for a short
//! time (CATALOGUE_CACHE_MS, default 1000 ms; 0 turns the cache off) and dropped at once
//! when this process commits a change to the catalogue. Another instance's changes show
//! here within that time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;

const MAX_ENTRIES: usize = 2048;
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
}

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

    pub fn get(&self, key: &str) -> Option<Page> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        let fresh = entry.generation == self.generation() && entry.stored.elapsed() < self.ttl;
        fresh.then(|| Page {
            total: entry.total,
            body: entry.body.clone(),
        })
    }

    /// Stores a page computed from data read after `generation` was taken; if the
    /// catalogue changed meanwhile the page is already stale and is not kept.
    pub fn put(&self, key: &str, generation: u64, total: i64, body: Bytes) {
        if self.ttl.is_zero() || key.len() > MAX_KEY || generation != self.generation() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key.to_owned(),
            Entry {
                generation,
                stored: Instant::now(),
                total,
                body,
            },
        );
    }

    /// Call after committing any change that a catalogue page shows.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(short.get("k").is_none());

        let off = PageCache::new(Duration::ZERO);
        off.put("k", off.generation(), 1, Bytes::new());
        assert!(off.get("k").is_none());
    }
}
