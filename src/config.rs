//! Configuration from the environment (and `.env`), checked at start-up.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Dev,
    Prod,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub secret_key: String,
    pub bind: IpAddr,
    pub port: u16,
    /// None: any origin.
    pub cors_allowed_origins: Option<Vec<String>>,
    pub token_ttl_days: i64,
    pub auto_complete_days: i64,
    /// How often the auto-completion sweep runs.
    pub auto_complete_interval_secs: u64,
    pub run_migrations: bool,
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before answering 503.
    pub database_acquire_timeout_ms: u64,
    /// How long a public catalogue page may be served from memory; 0 turns it off.
    pub catalogue_cache_ms: u64,
    /// Rows a whole (unpaged) list reads from the database at once.
    pub list_chunk_rows: i64,
    /// The server's own address as clients reach it, for absolute media URLs.
    pub public_url: String,
    /// Where media URLs point instead (a CDN or a bucket's public address), ending in `/`.
    pub media_base_url: Option<String>,
    /// None: a folder under the data directory; `s3://bucket[/prefix]`; `file:///path`.
    pub storage_url: Option<String>,
    pub max_upload_bytes: u64,
    pub max_upload_pixels: u64,
    pub image_max_side: u32,
    pub thumbnail_side: u32,
    pub image_workers: usize,
    /// Memory that decoding images may take at once, across all workers, in MiB.
    pub image_memory_budget_mib: u32,
    pub upload_sweep_interval_secs: u64,
    /// Failed passwords per account and client address per 15 minutes before that
    /// address is refused for a while.
    pub login_failures_per_account: u32,
    /// Failed passwords per account from all addresses per 15 minutes: the ceiling.
    pub login_failures_per_account_ceiling: u32,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` name the client.
    pub trusted_proxies: crate::limits::TrustedProxies,
    /// Login and registration requests per client address per minute; 0 turns it off.
    pub auth_requests_per_ip_per_minute: u32,
    pub request_timeout_ms: u64,
    /// Connections: header deadline, idle timeout, cap, shutdown grace.
    pub connections: crate::server::ConnectionLimits,
    pub max_concurrent_requests: usize,
    pub log_format: LogFormat,
    /// Where notification emails go (`smtp://host:port`, `smtps://…`); None: no email.
    pub smtp_url: Option<String>,
    /// The sender of notification emails.
    pub smtp_from: String,
    /// The first retry of a refused email waits this long; each next one twice as long.
    pub email_retry_ms: u64,
    /// How often the email worker looks for notifications to send.
    pub email_interval_ms: u64,
    /// How often an idle notification stream carries a comment, to keep it open.
    pub stream_heartbeat_ms: u64,
    /// How often the notifications' fan-out reads the table when nothing woke it.
    pub notification_poll_ms: u64,
    /// Open notification streams allowed per member, and in all on this instance.
    pub streams_per_member: usize,
    pub streams_max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Reads the process environment, loading `.env` first if there is one.
    pub fn from_env() -> anyhow::Result<Self> {
        // A missing .env is normal; a broken one is a misconfiguration.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(e).context("reading .env"),
        }
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds the configuration from any key lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let environment = match get("ENVIRONMENT").as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("DEV") | Some("DEVELOPMENT") => Environment::Dev,
            Some("PROD") | Some("PRODUCTION") => Environment::Prod,
            Some(other) => bail!("ENVIRONMENT must be DEV or PROD, not {other:?}"),
        };
        let data_dir = PathBuf::from(get("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("openstudio.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("DATABASE_URL must start with sqlite: or postgres://");
        }
        let secret_key = match (get("SECRET_KEY"), environment) {
            (Some(key), Environment::Prod) if key.len() < 32 => {
                bail!("SECRET_KEY must be at least 32 bytes when ENVIRONMENT=PROD")
            }
            (Some(key), Environment::Prod) if entropy_bits(&key) < MIN_KEY_BITS => bail!(
                "SECRET_KEY is too predictable for ENVIRONMENT=PROD (about {:.0} bits; at least {MIN_KEY_BITS:.0} \
                 needed): use a random key, e.g. `openssl rand -hex 32`",
                entropy_bits(&key)
            ),
            (Some(key), _) => key,
            (None, Environment::Prod) => bail!("SECRET_KEY is required when ENVIRONMENT=PROD"),
            (None, Environment::Dev) => dev_secret(&data_dir)?,
        };
        let number = |key: &str, default: i64, min: i64, max: i64| -> anyhow::Result<i64> {
            match get(key) {
                None => Ok(default),
                Some(raw) => {
                    let value: i64 = raw
                        .trim()
                        .parse()
                        .with_context(|| format!("{key} must be a whole number, not {raw:?}"))?;
                    if !(min..=max).contains(&value) {
                        bail!("{key} must be between {min} and {max}, not {value}");
                    }
                    Ok(value)
                }
            }
        };
        let bind = match get("BIND") {
            // In production the server is reached from outside (a platform's router, a
            // container's port); in development only from this machine.
            None if environment == Environment::Prod => IpAddr::from([0, 0, 0, 0]),
            None => IpAddr::from([127, 0, 0, 1]),
            Some(raw) => raw
                .trim()
                .parse()
                .with_context(|| format!("BIND must be an IP address, not {raw:?}"))?,
        };
        let cors_allowed_origins = match get("CORS_ALLOWED_ORIGINS") {
            None => None,
            Some(raw) if raw.trim() == "*" => None,
            Some(raw) => {
                let origins: Vec<String> = raw
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
                for origin in &origins {
                    if !(origin.starts_with("http://") || origin.starts_with("https://"))
                        || axum::http::HeaderValue::from_str(origin).is_err()
                    {
                        bail!("CORS_ALLOWED_ORIGINS: {origin:?} is not an http(s) origin");
                    }
                }
                Some(origins)
            }
        };
        let port = u16::try_from(number("PORT", 8000, 0, 65535)?)?;
        let public_url = match get("PUBLIC_URL") {
            Some(url) => absolute_url("PUBLIC_URL", &url)?.trim_end_matches('/').to_owned(),
            // An unspecified bind address is no address a client can use.
            None if bind.is_unspecified() => format!("http://localhost:{port}"),
            None => match bind {
                IpAddr::V6(v6) => format!("http://[{v6}]:{port}"),
                IpAddr::V4(v4) => format!("http://{v4}:{port}"),
            },
        };
        let media_base_url = match get("MEDIA_BASE_URL") {
            None => None,
            Some(url) => {
                let url = absolute_url("MEDIA_BASE_URL", &url)?;
                Some(if url.ends_with('/') { url } else { format!("{url}/") })
            }
        };
        let storage_url = get("STORAGE_URL");
        if let Some(url) = &storage_url {
            if !(url.starts_with("s3://") || url.starts_with("file://")) {
                bail!("STORAGE_URL must be s3://bucket[/prefix] or file:///path, not {url:?}");
            }
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get() as i64)
            .unwrap_or(2);
        let run_migrations = match get("AUTO_MIGRATE").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("1") | Some("true") | Some("yes") => true,
            Some("0") | Some("false") | Some("no") => false,
            Some(other) => bail!("AUTO_MIGRATE must be true or false, not {other:?}"),
        };
        Ok(Self {
            environment,
            database_url,
            data_dir,
            secret_key,
            bind,
            port,
            cors_allowed_origins,
            token_ttl_days: number("TOKEN_TTL_DAYS", 14, 1, 365)?,
            auto_complete_days: number("AUTO_COMPLETE_DAYS", 14, 1, 3650)?,
            auto_complete_interval_secs: u64::try_from(number("AUTO_COMPLETE_INTERVAL_SECS", 600, 1, 86400)?)?,
            run_migrations,
            database_max_connections: u32::try_from(number("DATABASE_MAX_CONNECTIONS", 10, 1, 1000)?)?,
            database_acquire_timeout_ms: u64::try_from(number("DATABASE_ACQUIRE_TIMEOUT_MS", 3000, 100, 60_000)?)?,
            catalogue_cache_ms: u64::try_from(number("CATALOGUE_CACHE_MS", 1000, 0, 60_000)?)?,
            list_chunk_rows: number("LIST_CHUNK_ROWS", crate::paging::DEFAULT_CHUNK_ROWS, 1, 10_000)?,
            public_url,
            media_base_url,
            storage_url,
            max_upload_bytes: u64::try_from(number("MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1024, 1 << 30)?)?,
            max_upload_pixels: u64::try_from(number("MAX_UPLOAD_PIXELS", 50_000_000, 1, 1_000_000_000)?)?,
            image_max_side: u32::try_from(number("IMAGE_MAX_SIDE", 2400, 16, 20_000)?)?,
            thumbnail_side: u32::try_from(number("THUMBNAIL_SIDE", 480, 16, 4000)?)?,
            image_workers: usize::try_from(number("IMAGE_WORKERS", cores, 1, 64)?)?,
            // With the rest of the server (~100 MB), fits an instance of 512 MB.
            image_memory_budget_mib: u32::try_from(number("IMAGE_MEMORY_BUDGET_MB", 320, 16, 1 << 20)?)?,
            upload_sweep_interval_secs: u64::try_from(number("UPLOAD_SWEEP_INTERVAL_SECS", 3600, 1, 86400)?)?,
            login_failures_per_account: u32::try_from(number("LOGIN_FAILURES_PER_ACCOUNT", 10, 1, 1000)?)?,
            login_failures_per_account_ceiling: u32::try_from(number(
                "LOGIN_FAILURES_PER_ACCOUNT_CEILING",
                100,
                1,
                100_000,
            )?)?,
            trusted_proxies: crate::limits::TrustedProxies {
                header: crate::limits::ProxyHeader::parse(
                    &get("TRUSTED_PROXY_HEADER").unwrap_or_else(|| "x-forwarded-for".into()),
                )
                .map_err(|e| anyhow::anyhow!("TRUSTED_PROXY_HEADER: {e}"))?,
                ..crate::limits::TrustedProxies::parse(&get("TRUSTED_PROXIES").unwrap_or_default())
                    .map_err(|e| anyhow::anyhow!("TRUSTED_PROXIES: {e}"))?
            },
            auth_requests_per_ip_per_minute: u32::try_from(number("AUTH_REQUESTS_PER_IP_PER_MINUTE", 60, 0, 100_000)?)?,
            request_timeout_ms: u64::try_from(number("REQUEST_TIMEOUT_SECS", 30, 1, 3600)?)? * 1000,
            connections: crate::server::ConnectionLimits {
                header_read_timeout: secs(number("HEADER_READ_TIMEOUT_SECS", 10, 1, 600)?),
                idle_timeout: secs(number("IDLE_TIMEOUT_SECS", 60, 1, 3600)?),
                // Open notification streams are connections too.
                max_connections: usize::try_from(number("MAX_CONNECTIONS", 4096, 1, 1_000_000)?)?,
                shutdown_grace: secs(number("SHUTDOWN_GRACE_SECS", 10, 0, 3600)?),
            },
            max_concurrent_requests: usize::try_from(number("MAX_CONCURRENT_REQUESTS", 512, 1, 100_000)?)?,
            log_format: match get("LOG_FORMAT").as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => bail!("LOG_FORMAT must be text or json, not {other:?}"),
            },
            smtp_url: get("SMTP_URL").filter(|u| !u.trim().is_empty()),
            smtp_from: get("SMTP_FROM").unwrap_or_else(|| "OpenStudio <noreply@localhost>".into()),
            email_retry_ms: u64::try_from(number("EMAIL_RETRY_MS", 30_000, 10, 3_600_000)?)?,
            email_interval_ms: u64::try_from(number("EMAIL_INTERVAL_MS", 2000, 10, 600_000)?)?,
            notification_poll_ms: u64::try_from(number("NOTIFICATION_POLL_MS", 1000, 10, 3_600_000)?)?,
            stream_heartbeat_ms: u64::try_from(number("STREAM_HEARTBEAT_MS", 15_000, 10, 3_600_000)?)?,
            streams_per_member: usize::try_from(number("STREAMS_PER_MEMBER", 5, 1, 1000)?)?,
            streams_max: usize::try_from(number("STREAMS_MAX", 2000, 1, 1_000_000)?)?,
        })
    }

    /// How the database pools behave: statements may run as long as a request may.
    pub fn db_options(&self) -> crate::db::DbOptions {
        crate::db::DbOptions {
            max_connections: self.database_max_connections,
            acquire_timeout: std::time::Duration::from_millis(self.database_acquire_timeout_ms),
            // At least a second, whatever the request deadline: start-up work runs on
            // these pools too.
            statement_timeout: std::time::Duration::from_millis(self.request_timeout_ms.max(1000)),
        }
    }

    /// A configuration for tests and tools: development mode, the given database.
    pub fn for_database(database_url: &str, secret_key: &str) -> Self {
        Self {
            environment: Environment::Dev,
            database_url: database_url.to_owned(),
            data_dir: PathBuf::from("./data"),
            secret_key: secret_key.to_owned(),
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            cors_allowed_origins: None,
            token_ttl_days: 14,
            auto_complete_days: 14,
            auto_complete_interval_secs: 600,
            run_migrations: true,
            database_max_connections: 10,
            database_acquire_timeout_ms: 3000,
            catalogue_cache_ms: 1000,
            list_chunk_rows: crate::paging::DEFAULT_CHUNK_ROWS,
            public_url: "http://127.0.0.1:8000".into(),
            media_base_url: None,
            storage_url: None,
            max_upload_bytes: 10 * 1024 * 1024,
            max_upload_pixels: 50_000_000,
            image_max_side: 2400,
            thumbnail_side: 480,
            image_workers: 2,
            image_memory_budget_mib: 320,
            upload_sweep_interval_secs: 3600,
            login_failures_per_account: 10,
            login_failures_per_account_ceiling: 100,
            trusted_proxies: crate::limits::TrustedProxies::default(),
            // Tests and tools register many members from one address.
            auth_requests_per_ip_per_minute: 0,
            request_timeout_ms: 30_000,
            connections: crate::server::ConnectionLimits {
                header_read_timeout: std::time::Duration::from_secs(10),
                idle_timeout: std::time::Duration::from_secs(60),
                max_connections: 1000,
                shutdown_grace: std::time::Duration::from_secs(10),
            },
            max_concurrent_requests: 512,
            log_format: LogFormat::Text,
            smtp_url: None,
            smtp_from: "OpenStudio <noreply@localhost>".into(),
            email_retry_ms: 30_000,
            email_interval_ms: 2000,
            notification_poll_ms: 1000,
            stream_heartbeat_ms: 15_000,
            streams_per_member: 5,
            streams_max: 2000,
        }
    }
}

fn secs(n: i64) -> std::time::Duration {
    std::time::Duration::from_secs(n.unsigned_abs())
}

fn absolute_url(key: &str, value: &str) -> anyhow::Result<String> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(value.trim().to_owned()),
        _ => bail!("{key} must be an absolute http(s) URL, not {value:?}"),
    }
}

/// Bits a production key must carry, by [`entropy_bits`].
const MIN_KEY_BITS: f64 = 100.0;

/// An estimate of a key's randomness: its length times the Shannon entropy of its
/// bytes. 32 identical bytes score 0; 64 random hex digits about 240.
fn entropy_bits(key: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in key.bytes() {
        counts[usize::from(b)] += 1;
    }
    let len = key.len() as f64;
    let per_byte: f64 = counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum();
    per_byte * len
}

/// In development a random key is generated once and kept in the data folder, so that
/// tokens survive restarts. Only its owner may read it, even if it was made otherwise.
fn dev_secret(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path = data_dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private", path.display()))?;
            }
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let key: String = {
        use rand::Rng;
        let bytes: [u8; 32] = rand::thread_rng().gen();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    write_private(&path, &key).with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn prod_requires_a_secret_key() {
        let err = config(&[("ENVIRONMENT", "PROD")]).unwrap_err();
        assert!(err.to_string().contains("SECRET_KEY"));
        let short = config(&[("ENVIRONMENT", "PROD"), ("SECRET_KEY", "too-short")]).unwrap_err();
        assert!(short.to_string().contains("32 bytes"));
        let same = config(&[("ENVIRONMENT", "PROD"), ("SECRET_KEY", &"k".repeat(32))]).unwrap_err();
        assert!(same.to_string().contains("predictable"), "{same}");
        let prod = config(&[
            ("ENVIRONMENT", "PROD"),
            (
                "SECRET_KEY",
                "3f9a1c7e5b2d8046af13ce97b5d20e8c4a6f1b93d7e05c28b4f6a1d9e3c7b502",
            ),
        ])
        .unwrap();
        assert_eq!(prod.bind.to_string(), "0.0.0.0", "reachable from outside in PROD");
    }

    #[test]
    fn an_existing_key_file_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret_key");
        std::fs::write(&path, "an-old-key-someone-made-by-hand").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let key = config(&[("DATA_DIR", dir.path().to_str().unwrap())])
            .unwrap()
            .secret_key;
        assert_eq!(key, "an-old-key-someone-made-by-hand");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only");
    }

    #[test]
    fn dev_key_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dir_s = dir.path().to_str().unwrap();
        let first = config(&[("DATA_DIR", dir_s)]).unwrap().secret_key;
        let second = config(&[("DATA_DIR", dir_s)]).unwrap().secret_key;
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret_key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the key");
        }
    }

    #[test]
    fn defaults_and_bad_values() {
        let c = config(&[("SECRET_KEY", "k")]).unwrap();
        assert_eq!(
            (c.port, c.bind.to_string(), c.token_ttl_days, c.auto_complete_days),
            (8000, "127.0.0.1".into(), 14, 14)
        );
        assert!(c.database_url.starts_with("sqlite:"));
        assert!(config(&[("SECRET_KEY", "k"), ("PORT", "eighty")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("PORT", "70000")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("BIND", "localhost:1")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("ENVIRONMENT", "staging")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("DATABASE_URL", "mysql://x")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("CORS_ALLOWED_ORIGINS", "ftp://x")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("PUBLIC_URL", "studio.example")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("STORAGE_URL", "gs://bucket")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("MAX_UPLOAD_BYTES", "-1")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("LOG_FORMAT", "xml")]).is_err());
        assert!(config(&[("SECRET_KEY", "k"), ("LIST_CHUNK_ROWS", "0")]).is_err());
        let chunked = config(&[("SECRET_KEY", "k"), ("LIST_CHUNK_ROWS", "64")]).unwrap();
        assert_eq!((c.list_chunk_rows, chunked.list_chunk_rows), (500, 64));
        assert!(config(&[("SECRET_KEY", "k"), ("TRUSTED_PROXIES", "10.0.0.0/99")]).is_err());
        assert_eq!(
            config(&[("SECRET_KEY", "k"), ("LOG_FORMAT", "JSON")])
                .unwrap()
                .log_format,
            LogFormat::Json
        );
        assert_eq!(
            config(&[("SECRET_KEY", "k")]).unwrap().auth_requests_per_ip_per_minute,
            60
        );
        let c = config(&[
            ("SECRET_KEY", "k"),
            ("PORT", "9000"),
            ("MEDIA_BASE_URL", "https://cdn.example/m"),
        ])
        .unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:9000");
        assert_eq!(c.media_base_url.as_deref(), Some("https://cdn.example/m/"));
        assert_eq!(
            config(&[("SECRET_KEY", "k"), ("BIND", "0.0.0.0")]).unwrap().public_url,
            "http://localhost:8000"
        );
        let c = config(&[
            ("SECRET_KEY", "k"),
            ("CORS_ALLOWED_ORIGINS", "https://a.example, http://b.example/"),
        ])
        .unwrap();
        assert_eq!(
            c.cors_allowed_origins.unwrap(),
            vec!["https://a.example", "http://b.example"]
        );
    }
}
