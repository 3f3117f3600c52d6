//! What every request can reach: the database, configuration, clock, keys, caches and
//! limits. At the bottom of the house: it imports no domain and no face.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Memos, PageCache};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::limits::{AuthLimits, Counters, TrustedProxies};
use crate::live::Hub;
use crate::search::Slot;
use crate::storage::Media;
use crate::tokens::Keys;

/// What every handler can reach. Cloned for every request, so behind one reference
/// count: a clone is one atomic increment, not one for each part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub keys: Arc<Keys>,
    /// Public catalogue pages; invalidate after committing a change they show.
    pub catalogue: Arc<PageCache>,
    /// The catalogue's search index (`artworks::search`).
    pub search: Slot,
    /// Uploaded images: storage and URLs.
    pub media: Arc<Media>,
    /// Rate limits on login and registration.
    pub limits: Arc<AuthLimits>,
    /// Live events for this instance's open streams.
    pub live: Arc<Hub>,
    /// The domains' own in-memory caches (see `members::find_recent`).
    pub memos: Memos,
}

impl axum::extract::FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        state.config.trusted_proxies.clone()
    }
}

impl AppState {
    pub fn new(db: Db, config: Config, clock: Clock) -> anyhow::Result<Self> {
        let keys = Arc::new(Keys::new(&config.secret_key));
        let catalogue = Arc::new(PageCache::new(Duration::from_millis(config.catalogue_cache_ms)));
        let media = Arc::new(Media::from_config(&config)?);
        let limits = Arc::new(AuthLimits::new(
            Counters::for_db(&db),
            config.auth_requests_per_ip_per_minute,
            config.login_failures_per_account,
            config.login_failures_per_account_ceiling,
        ));
        let live = Arc::new(Hub::new(config.streams_per_member, config.streams_max));
        Ok(Self(Arc::new(Shared {
            memos: Memos::default(),
            live,
            db,
            config: Arc::new(config),
            clock,
            keys,
            catalogue,
            search: Slot::default(),
            media,
            limits,
        })))
    }

    /// The start of a whole list, read in chunks of the configured size.
    pub fn first_chunk(&self) -> crate::paging::Cursor {
        crate::paging::Cursor::start(self.config.list_chunk_rows)
    }
}
