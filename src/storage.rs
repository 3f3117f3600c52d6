//! Where images are stored and how their URLs look: the media store, built from the
//! configuration, with the limits its workers share.

use std::sync::Arc;

use anyhow::{bail, Context};
use object_store::ObjectStore;

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::imaging::{self, Limits};

/// Where images are stored and how their URLs look.
pub struct Media {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) public_url: String,
    pub(crate) base_url: Option<String>,
    pub(crate) limits: Limits,
    pub max_upload_bytes: u64,
    /// Decoding and resizing are CPU-bound: at most this many at once.
    pub(crate) workers: Arc<tokio::sync::Semaphore>,
    /// Upload requests reading their files at once; each holds at most one file.
    pub(crate) requests: Arc<tokio::sync::Semaphore>,
    /// The memory decoding may take across all workers, in MiB: each image holds what
    /// it needs while it is processed.
    pub(crate) memory: Arc<tokio::sync::Semaphore>,
    pub(crate) memory_budget_mib: u32,
}

/// A stored object's absolute URL ([`Media::url_of`]).
pub struct MediaUrl<'a> {
    media: &'a Media,
    key: &'a str,
}

impl std::fmt::Display for MediaUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.media.base_url {
            Some(base) => write!(f, "{base}{}", self.key),
            None => write!(f, "{}/media/{}", self.media.public_url, self.key),
        }
    }
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("store", &self.store.to_string())
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl Media {
    /// Opens the store that STORAGE_URL names: a folder under the data directory by
    /// default, `s3://bucket[/prefix]` for S3 (endpoint and credentials from the
    /// standard AWS variables), or `file:///path`.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let store: Arc<dyn ObjectStore> = match config.storage_url.as_deref() {
            None => Arc::new(local_store(&config.data_dir.join("media"))?),
            Some(url) if url.starts_with("file://") => {
                Arc::new(local_store(std::path::Path::new(&url["file://".len()..]))?)
            }
            Some(url) if url.starts_with("s3://") => {
                let rest = &url["s3://".len()..];
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    bail!("STORAGE_URL: no bucket in {url:?}");
                }
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .with_context(|| format!("STORAGE_URL {url}"))?;
                let prefix = prefix.trim_matches('/');
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
                }
            }
            Some(other) => bail!("STORAGE_URL must be s3://bucket[/prefix] or file:///path, not {other:?}"),
        };
        Ok(Self {
            store,
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            base_url: config.media_base_url.clone(),
            limits: Limits {
                max_pixels: config.max_upload_pixels,
                max_side: config.image_max_side,
                thumbnail_side: config.thumbnail_side,
            },
            max_upload_bytes: config.max_upload_bytes,
            workers: Arc::new(tokio::sync::Semaphore::new(config.image_workers)),
            requests: Arc::new(tokio::sync::Semaphore::new(config.image_workers * 2)),
            memory: Arc::new(tokio::sync::Semaphore::new(config.image_memory_budget_mib as usize)),
            memory_budget_mib: config.image_memory_budget_mib,
        })
    }

    /// The absolute URL a stored object is served at.
    pub fn url(&self, key: &str) -> String {
        self.url_of(key).to_string()
    }

    /// The URL a stored object is served at, written where it is displayed.
    pub fn url_of<'a>(&'a self, key: &'a str) -> MediaUrl<'a> {
        MediaUrl { media: self, key }
    }

    /// What an image URL refers to, however it is spelled. Repeated slashes and dot
    /// segments are resolved, percent-escapes decoded, and loopback names taken as one
    /// host; a URL elsewhere whose last segment is a media key may be an alias of this
    /// server (another name, an address), so its key is checked against the uploads too.
    pub fn media_ref(&self, url: &str) -> MediaRef {
        let Ok(url) = url::Url::parse(url) else {
            return MediaRef::External;
        };
        let segments: Vec<String> = url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let path = format!("/{}", segments.join("/"));
        let own = url::Url::parse(&format!("{}/media/", self.public_url)).ok();
        let base = self.base_url.as_deref().and_then(|b| url::Url::parse(b).ok());
        let prefix = [own, base].into_iter().flatten().find(|prefix| {
            same_host(prefix, &url)
                && prefix.port_or_known_default() == url.port_or_known_default()
                && path.starts_with(prefix.path())
        });
        let clean = url.query().is_none() && url.fragment().is_none();
        match prefix {
            Some(prefix) => {
                let key = &path[prefix.path().len()..];
                if clean && valid_key(key) {
                    MediaRef::Ours(key.to_owned())
                } else {
                    MediaRef::Malformed
                }
            }
            None => match segments.last() {
                Some(last) if valid_key(last) => MediaRef::Alias(last.clone()),
                _ => MediaRef::External,
            },
        }
    }

    /// Takes from the memory budget what processing this image will need (measured from
    /// its header), waiting while other images hold it; 413 if it could never fit.
    pub(crate) async fn reserve_memory(&self, bytes: &[u8]) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
        let (width, height) = imaging::inspect(bytes)?;
        if u64::from(width) * u64::from(height) > self.limits.max_pixels {
            return Err(ApiError::from(imaging::ProcessError::TooManyPixels {
                width,
                height,
                max: self.limits.max_pixels,
            }));
        }
        let needed = imaging::memory_needed(width, height, self.limits).div_ceil(1 << 20);
        let needed = u32::try_from(needed)
            .ok()
            .filter(|&mib| mib <= self.memory_budget_mib)
            .ok_or_else(|| {
                ApiError::PayloadTooLarge(format!(
                    "A {width} × {height} image needs more memory to process than this server allows; \
                     send a smaller one."
                ))
            })?;
        self.memory
            .clone()
            .acquire_many_owned(needed.max(1))
            .await
            .map_err(|e| ApiError::Internal(e.into()))
    }

    pub(crate) async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let _permit = self.workers.acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| ApiError::Internal(e.into()))
    }
}

/// What an image URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRef {
    /// An image elsewhere.
    External,
    /// An object of ours, by its key.
    Ours(String),
    /// Maybe ours under another name: ours if an upload has this key.
    Alias(String),
    /// Our media address, but no object's (a bad key, a query).
    Malformed,
}

/// The same host, with `localhost`, 127.0.0.1 and ::1 taken as one.
fn same_host(a: &url::Url, b: &url::Url) -> bool {
    let loopback = |u: &url::Url| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    (loopback(a) && loopback(b))
        || a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
}

fn local_store(dir: &std::path::Path) -> anyhow::Result<object_store::local::LocalFileSystem> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    object_store::local::LocalFileSystem::new_with_prefix(dir).with_context(|| format!("opening {}", dir.display()))
}

/// `<64 hex digits>[_thumb].(jpg|png)`: nothing else is ever looked up in the store.
pub fn valid_key(key: &str) -> bool {
    let Some((stem, extension)) = key.rsplit_once('.') else {
        return false;
    };
    let hash = stem.strip_suffix("_thumb").unwrap_or(stem);
    matches!(extension, "jpg" | "png")
        && hash.len() == 64
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Media {
    /// A stored image's bytes; 404 when there is no such image.
    pub async fn read(&self, key: &str) -> ApiResult<axum::body::Bytes> {
        let not_found = || ApiError::not_found("No such image.");
        if !valid_key(key) {
            return Err(not_found());
        }
        match self.store.get(&object_store::path::Path::from(key)).await {
            Ok(result) => result.bytes().await.map_err(|e| ApiError::Internal(e.into())),
            Err(object_store::Error::NotFound { .. }) => Err(not_found()),
            Err(e) => Err(ApiError::Internal(e.into())),
        }
    }

    /// A slot for an upload request to read its files in: a few at once, each holding
    /// one file at a time, so uploads take bounded memory.
    pub async fn reading_slot(&self) -> ApiResult<tokio::sync::OwnedSemaphorePermit> {
        self.requests
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.into()))
    }

    /// Whether a stored image exists.
    pub async fn exists(&self, key: &str) -> bool {
        valid_key(key) && self.store.head(&object_store::path::Path::from(key)).await.is_ok()
    }
}

pub fn content_type_of(key: &str) -> &'static str {
    if key.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    }
}
