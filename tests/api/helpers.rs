//! A fresh server on 127.0.0.1 per test, on a fresh database: a new SQLite file, or a
//! new PostgreSQL database when TEST_DATABASE_URL is set (dropped afterwards).

use std::sync::atomic::{AtomicU64, Ordering};

use openstudio::app;
use openstudio::clock::Clock;
use openstudio::config::Config;
use openstudio::db::Db;
use openstudio::state::AppState;
use serde_json::{json, Value};
use sqlx::Connection;

pub const PASSWORD: &str = "violet-harbour-lantern-42";
pub const SECRET: &str = "test-secret-key-that-is-long-enough-for-hs256";

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Where a test's database lives; dropping it removes the database.
enum DbGuard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another instance's database: the first instance removes it.
    Shared,
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let DbGuard::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async context; a small runtime of its own does the work.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut conn)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A fresh, empty database for one test.
pub struct TestDatabase {
    pub url: String,
    guard: DbGuard,
}

impl TestDatabase {
    pub async fn new() -> Self {
        sqlx::any::install_default_drivers();
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin_url) => {
                let name = unique("openstudio_test_");
                let mut conn = sqlx::AnyConnection::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                Self {
                    url: url.to_string(),
                    guard: DbGuard::Postgres { admin_url, name },
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self {
                    url,
                    guard: DbGuard::Sqlite(dir),
                }
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The data folder (uploaded media live under `media/`).
    pub data_dir: tempfile::TempDir,
    _db: DbGuard,
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self
    }

    /// The `errors` list of a validation problem.
    pub fn errors(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub token: String,
    pub email: String,
    pub gallery_id: Option<i64>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let database = TestDatabase::new().await;
        Self::spawn_on(database, adjust).await
    }

    /// Serves a database a test has prepared (migrating it to the latest schema).
    pub async fn spawn_on(database: TestDatabase, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_database(&database.url, SECRET);
        config.public_url = base.clone();
        config.data_dir = data_dir.path().to_owned();
        adjust(&mut config);
        let db = Db::connect_with(&config.database_url, config.db_options())
            .await
            .expect("connect");
        db.migrate().await.expect("migrate");
        openstudio::members::fill_username_skeletons(&db)
            .await
            .expect("fill skeletons");
        let state = AppState::new(db, config, Clock::default()).expect("state");
        app::start_notifications(&state).expect("notifications");
        let service = app::app(state.clone());
        let limits = state.config.connections;
        tokio::spawn(openstudio::server::serve(
            listener,
            service,
            limits,
            std::future::pending(),
        ));
        TestApp {
            base,
            client: reqwest::Client::new(),
            state,
            data_dir,
            _db: database.guard,
        }
    }

    /// A second server on this test's database, as in a deployment of several instances.
    pub async fn another_instance(&self) -> TestApp {
        let database = TestDatabase {
            url: self.state.config.database_url.clone(),
            guard: DbGuard::Shared,
        };
        let config = (*self.state.config).clone();
        Self::spawn_on(database, move |c| {
            *c = Config {
                public_url: c.public_url.clone(),
                data_dir: c.data_dir.clone(),
                ..config
            }
        })
        .await
    }

    pub async fn request(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(reqwest::Method::POST, path, token, Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(reqwest::Method::PATCH, path, token, Some(body)).await
    }
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(reqwest::Method::PUT, path, token, Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::DELETE, path, token, None).await
    }

    pub fn registration(user_type: &str, postcode: &str) -> Value {
        let name = unique("m");
        json!({
            "email": format!("{name}@example.com"),
            "username": name,
            "first_name": "Frida",
            "last_name": "Kahlo",
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
            "user_type": user_type,
            "address": "12 Gallery Road",
            "postcode": postcode,
        })
    }

    /// A login through the API, whatever it answers.
    pub async fn login(&self, email: &str, password: impl Into<Value>) -> Resp {
        let body = json!({"email": email, "password": password.into()});
        self.post("/api/members/login/", None, body).await
    }

    pub async fn register(&self, body: Value) -> User {
        let res = self.post("/api/members/register/", None, body.clone()).await;
        res.assert_status(201);
        let email = body["email"].as_str().unwrap_or_default().to_owned();
        let login = self.login(&email, body["password"].clone()).await;
        login.assert_status(200);
        User {
            id: res.body["id"].as_i64().expect("id"),
            token: login.body["token"].as_str().expect("token").to_owned(),
            email,
            gallery_id: login.body["gallery_id"].as_i64(),
        }
    }

    /// An artist in London (zone 1).
    pub async fn artist(&self) -> User {
        self.register(Self::registration("artist", "SW1A 1AA")).await
    }

    /// A collector in Edinburgh (zone 4).
    pub async fn collector(&self) -> User {
        self.register(Self::registration("collector", "EH1 1YZ")).await
    }

    pub async fn staff(&self) -> User {
        let user = self.collector().await;
        sqlx::query("UPDATE members SET is_staff = TRUE WHERE id = $1")
            .bind(user.id)
            .execute(self.state.db.pool())
            .await
            .expect("make staff");
        user
    }

    pub fn artwork_body() -> Value {
        json!({
            "title": "Blue Harbour",
            "description": "Oil on canvas, the harbour at dawn.",
            "year": 2021,
            "price": 1250.5,
            "quantity_for_sale": 1,
            "medium": "painting",
            "material": "oil on canvas",
            "width": 50,
            "depth": 40,
            "height": 3,
            "weight": 2.5,
            "artworks_images": ["https://img.example/blue-1.jpg", "https://img.example/blue-2.jpg"],
        })
    }

    /// Creates an artwork for `artist` with `quantity` in stock; returns its id.
    pub async fn artwork(&self, artist: &User, quantity: i64) -> i64 {
        let mut body = Self::artwork_body();
        body["quantity_for_sale"] = json!(quantity);
        let res = self.post("/api/artworks/", Some(&artist.token), body).await;
        res.assert_status(201);
        res.body["id"].as_i64().expect("artwork id")
    }

    /// Creates an artwork with some fields changed from [`TestApp::artwork_body`].
    pub async fn artwork_with(&self, artist: &User, changes: Value) -> i64 {
        let mut body = Self::artwork_body();
        if let (Some(body), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
            body.extend(changes.clone());
        }
        let res = self.post("/api/artworks/", Some(&artist.token), body).await;
        res.assert_status(201);
        res.body["id"].as_i64().expect("artwork id")
    }

    /// The ids in a list response, in order.
    pub async fn ids(&self, path: &str) -> Vec<i64> {
        let res = self.get(path, None).await;
        res.assert_status(200);
        res.body
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|a| a["id"].as_i64())
            .collect()
    }

    pub async fn order(&self, buyer: &User, artwork_id: i64) -> i64 {
        let res = self
            .post(
                "/api/orders/create/",
                Some(&buyer.token),
                json!({"artwork_id": artwork_id}),
            )
            .await;
        res.assert_status(201);
        res.body["id"].as_i64().expect("order id")
    }

    /// The seller accepts an order.
    pub async fn accept(&self, seller: &User, order: i64) -> Resp {
        self.patch(
            &format!("/api/orders/review/{order}"),
            Some(&seller.token),
            json!({"action": "accept"}),
        )
        .await
    }

    /// The buyer pays for an order.
    pub async fn pay(&self, buyer: &User, order: i64) -> Resp {
        self.patch(&format!("/api/orders/payment/{order}"), Some(&buyer.token), json!({}))
            .await
    }

    pub async fn order_status(&self, user: &User, order_id: i64) -> String {
        let res = self
            .get(&format!("/api/orders/order-details/{order_id}"), Some(&user.token))
            .await;
        res.assert_status(200);
        res.body["status"].as_str().unwrap_or_default().to_owned()
    }

    pub async fn scalar(&self, sql: &str, id: i64) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .bind(id)
            .fetch_one(self.state.db.pool())
            .await
            .expect("scalar")
            .try_get(0)
            .expect("i64")
    }
}
