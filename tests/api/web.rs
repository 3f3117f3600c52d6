//! The web pages over real HTTP: what a visitor sees, and the headers that keep it safe.

use serde_json::json;

use crate::helpers::{unique, TestApp, User, PASSWORD};

async fn page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.unwrap())
}

#[tokio::test]
async fn the_front_page_shows_new_works_under_a_strict_policy() {
    let app = TestApp::spawn().await;
    let (status, _, html) = page(&app, "/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("No works are on show yet."),
        "an empty marketplace says so"
    );

    let artist = app.artist().await;
    let id = app
        .artwork_with(&artist, json!({"title": "Harbour <b>Lights</b>", "price": "1250.50"}))
        .await;
    let (status, headers, html) = page(&app, "/").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(html.contains(&format!("href=\"/artworks/{id}\"")));
    assert!(
        html.contains("Harbour &#60;b&#62;Lights&#60;/b&#62;"),
        "titles are escaped: {html}"
    );
    assert!(!html.contains("<b>Lights</b>"));
    assert!(html.contains("£1,250.50"));
    assert!(html.contains("Printmaking"), "the mediums are ways in");
}

#[tokio::test]
async fn an_artwork_has_a_page_of_its_own() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let id = app
        .artwork_with(&artist, json!({"title": "North Sea", "price": 780}))
        .await;
    let (status, _, html) = page(&app, &format!("/artworks/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>North Sea</h1>"), "{html}");
    assert!(html.contains("£780"));
    assert!(html.contains("<meta property=\"og:title\" content=\"North Sea\">"));
    let (status, headers, html) = page(&app, "/artworks/999999").await;
    assert_eq!(status, 404);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(html.contains("Artwork not found."), "{html}");
    let (status, _, _) = page(&app, "/artworks/abc").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_stylesheet_is_cached_for_a_year_under_its_content_hash() {
    let app = TestApp::spawn().await;
    let (_, _, html) = page(&app, "/").await;
    let href = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(href.starts_with("/static/style.") && href.ends_with(".css"), "{href}");
    let (status, headers, css) = page(&app, &href).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(css.contains(":root"));
    let (status, _, _) = page(&app, "/static/style.css").await;
    assert_eq!(status, 404, "only the hashed name is served");
}

#[tokio::test]
async fn an_artist_has_a_page_with_their_works_on_sale() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    let on_sale = app.artwork_with(&artist, json!({"title": "Tide Line"})).await;
    app.artwork_with(&artist, json!({"title": "Kept Back", "is_for_sale": false}))
        .await;
    let (status, _, html) = page(&app, &format!("/artworks/{on_sale}")).await;
    assert_eq!(status, 200);
    let link = format!("href=\"/artists/{}\"", artist.id);
    assert!(html.contains(&link), "the artwork links to its artist");
    let (status, _, html) = page(&app, &format!("/artists/{}", artist.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Tide Line"));
    assert!(!html.contains("Kept Back"), "only works on sale are shown");
    assert!(html.contains("1 on sale"), "{html}");
    let collector = app.collector().await;
    for missing in [format!("/artists/{}", collector.id), "/artists/999999".to_owned()] {
        let (status, _, html) = page(&app, &missing).await;
        assert_eq!(status, 404, "{missing}");
        assert!(html.contains("Artist not found."));
    }
}

/// A browser: keeps its cookies, follows no redirect by itself, and sends each form's
/// token as the page gave it.
pub(crate) struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The token of the page's forms.
    fn csrf(&self) -> String {
        self.html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, res: reqwest::Response) -> Page {
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        Page {
            status,
            headers,
            html: res.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    /// Posts a form with the given token.
    async fn post_with(&mut self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
        let mut pairs = vec![("csrf", csrf)];
        pairs.extend_from_slice(fields);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    /// Opens `form_page` and posts its form to `path`, as a person does.
    async fn submit(&mut self, form_page: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(form_page).await;
        assert_eq!(page.status, 200, "{form_page}: {}", page.html);
        let csrf = page.csrf();
        assert!(!csrf.is_empty(), "{form_page} has a form token");
        self.post_with(path, &csrf, fields).await
    }

    async fn log_in(&mut self, email: &str) -> Page {
        let page = self
            .submit(
                "/login",
                "/login",
                &[("email", email), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.html);
        page
    }
}

/// A browser logged in as a new member of the given type.
pub(crate) async fn member(app: &TestApp, user_type: &str) -> (Browser, User) {
    let user = app
        .register(TestApp::registration(
            user_type,
            if user_type == "artist" { "SW1A 1AA" } else { "EH1 1YZ" },
        ))
        .await;
    let mut browser = Browser::new(app);
    browser.log_in(&user.email).await;
    (browser, user)
}

#[tokio::test]
async fn joining_from_the_page_logs_the_member_in_with_a_safe_cookie() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new(&app);
    let name = unique("w");
    let email = format!("{name}@example.com");
    let fields = [
        ("user_type", "artist"),
        ("first_name", "Ada"),
        ("last_name", "Stone"),
        ("email", email.as_str()),
        ("username", name.as_str()),
        ("address", "1 Quay Street"),
        ("postcode", "sw1a 1aa"),
        ("bio", ""),
        ("website", ""),
        ("password", PASSWORD),
        ("password_confirmation", PASSWORD),
    ];
    let joined = browser.submit("/register", "/register", &fields).await;
    assert_eq!(joined.status, 303, "{}", joined.html);
    assert_eq!(joined.location(), "/studio", "an artist starts in the studio");
    let cookie = joined
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("os_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "not Secure outside production: {cookie}");
    let studio = browser.get("/studio").await;
    assert_eq!(studio.status, 200);
    assert!(
        studio.html.contains("Ada Stone"),
        "the navigation names who is logged in"
    );
    assert_eq!(studio.headers["cache-control"], "private, no-store");
    let stored: String = sqlx::query_scalar("SELECT id_hash FROM sessions LIMIT 1")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert!(
        !browser.cookies.values().any(|v| *v == stored),
        "the table keeps a digest, not the cookie"
    );

    let prod = TestApp::spawn_with(|c| c.environment = openstudio::config::Environment::Prod).await;
    let user = prod.collector().await;
    let mut browser = Browser::new(&prod);
    let page = browser.log_in(&user.email).await;
    let cookie = page.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "Secure in production: {cookie}");
}

#[tokio::test]
async fn a_failed_form_says_what_to_fix_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let taken = app.collector().await;
    let mut browser = Browser::new(&app);
    let fields = [
        ("user_type", "collector"),
        ("first_name", "Keep <Me>"),
        ("last_name", ""),
        ("email", taken.email.as_str()),
        ("username", "fine_name_42"),
        ("address", "1 Quay Street"),
        ("postcode", "not a postcode"),
        ("password", PASSWORD),
        ("password_confirmation", "something-else-entirely-9"),
    ];
    let page = browser.submit("/register", "/register", &fields).await;
    assert_eq!(page.status, 400);
    assert!(
        page.html.contains("value=\"Keep &#60;Me&#62;\""),
        "typed text is kept, escaped"
    );
    assert!(page.html.contains("This field may not be blank."), "{}", page.html);
    assert!(page.html.contains("a member with this email already exists."));
    assert!(
        page.html.contains("id=\"postcode-error\""),
        "the error sits by its field"
    );
    assert!(!page.html.contains(PASSWORD), "passwords are never sent back");
    let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(members, 1, "nothing was created");

    let page = browser
        .submit(
            "/login",
            "/login",
            &[("email", taken.email.as_str()), ("password", "wrong-password-1")],
        )
        .await;
    assert_eq!(page.status, 401);
    assert!(page.html.contains("Invalid email or password."));
    assert!(page.html.contains(&format!("value=\"{}\"", taken.email)));
}

#[tokio::test]
async fn forms_without_this_browsers_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (mut browser, user) = member(&app, "collector").await;
    let (other, _) = member(&app, "collector").await;
    let account = browser.get("/account").await;
    let theirs = {
        let mut other = other;
        other.get("/account").await.csrf()
    };
    for token in ["", "not-a-token", theirs.as_str()] {
        let page = browser.post_with("/account", token, &[("first_name", "Changed")]).await;
        assert_eq!(page.status, 403, "token {token:?}");
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.html.contains("This form has expired"), "{}", page.html);
    }
    let name: String = sqlx::query_scalar("SELECT first_name FROM members WHERE id = $1")
        .bind(user.id)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(name, "Frida", "a refused form changes nothing");
    let page = browser
        .post_with("/account", &account.csrf(), &[("first_name", "Changed")])
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/account?done=profile");
    // A login form needs this browser's token too.
    let mut stranger = Browser::new(&app);
    let page = stranger
        .post_with(
            "/login",
            &account.csrf(),
            &[("email", user.email.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 403);
}

#[tokio::test]
async fn logging_out_and_changing_the_password_end_sessions() {
    let app = TestApp::spawn().await;
    let (mut browser, user) = member(&app, "collector").await;
    let mut second = Browser::new(&app);
    second.log_in(&user.email).await;
    let stolen = browser.cookies.clone();

    let page = browser.get("/account").await;
    let out = browser.post_with("/logout", &page.csrf(), &[]).await;
    assert_eq!(out.status, 303);
    assert!(!browser.cookies.contains_key("os_session"));
    let mut replay = Browser::new(&app);
    replay.cookies = stolen;
    let page = replay.get("/account").await;
    assert_eq!(page.status, 303, "a logged-out session opens nothing");
    assert_eq!(page.location(), "/login?next=%2Faccount");

    let new_password = "amber-lighthouse-meadow-77";
    let changed = second
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
                ("new_password_confirmation", new_password),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.html);
    assert_eq!(second.get("/account").await.status, 200, "the changer stays logged in");
    let mut third = Browser::new(&app);
    let page = third
        .submit(
            "/login",
            "/login",
            &[("email", user.email.as_str()), ("password", new_password)],
        )
        .await;
    assert_eq!(page.status, 303);
    // A session opened before the change ends with it, like the API's tokens.
    let before = second.cookies.clone();
    let again = second
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", new_password),
                ("new_password", PASSWORD),
                ("new_password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(third.get("/account").await.status, 303, "other sessions end");
    let mut old = Browser::new(&app);
    old.cookies = before;
    assert_eq!(old.get("/account").await.status, 303);
    assert_eq!(
        app.get("/api/members/user/", Some(&user.token)).await.status,
        401,
        "and so do the API's tokens"
    );
}

#[tokio::test]
async fn pages_for_members_send_the_anonymous_to_log_in_and_refuse_the_wrong_role() {
    let app = TestApp::spawn().await;
    let mut anonymous = Browser::new(&app);
    for path in [
        "/gallery",
        "/purchases",
        "/studio",
        "/studio/new",
        "/studio/orders",
        "/account",
        "/staff/orders",
        "/orders/1",
    ] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert!(
            page.location().starts_with("/login?next=%2F"),
            "{path}: {}",
            page.location()
        );
    }
    let (mut artist, _) = member(&app, "artist").await;
    let (mut collector, _) = member(&app, "collector").await;
    for path in ["/gallery", "/purchases", "/staff/orders", "/staff/galleries"] {
        let page = artist.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.html.contains("Not for you"), "{path}: an HTML page");
    }
    for path in ["/studio", "/studio/new", "/studio/orders", "/staff/orders"] {
        assert_eq!(collector.get(path).await.status, 403, "{path}");
    }
    let staff = app.staff().await;
    let mut browser = Browser::new(&app);
    browser.log_in(&staff.email).await;
    for path in ["/staff/orders", "/staff/galleries?with_works=true"] {
        assert_eq!(browser.get(path).await.status, 200, "{path}");
    }
    let page = anonymous.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.html.contains("<h1>Not found</h1>"));
    let api = app.get("/api/no/such/route", None).await;
    assert_eq!(api.status, 404);
    assert!(
        api.header("content-type").starts_with("application/problem+json"),
        "the API keeps its problems"
    );
}

#[tokio::test]
async fn the_marketplace_searches_filters_orders_and_pages() {
    let app = TestApp::spawn().await;
    let artist = app.artist().await;
    for i in 0..26 {
        app.artwork_with(
            &artist,
            json!({"title": format!("Study {i:02}"), "price": 100 + i, "medium": "painting", "year": 2000 + i}),
        )
        .await;
    }
    app.artwork_with(
        &artist,
        json!({"title": "Harbour print", "medium": "printmaking", "price": 40}),
    )
    .await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/artworks").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("27 works · page 1 of 2"), "{}", page.html);
    let page = browser.get("/artworks?medium=painting&ordering=-price&page=2").await;
    assert!(page.html.contains("26 works · page 2 of 2"));
    assert!(
        page.html.contains("Study 01") && page.html.contains("Study 00"),
        "the cheapest are last"
    );
    assert!(!page.html.contains("Study 25"));
    assert!(
        page.html
            .contains("href=\"?medium=painting&#38;ordering=-price&#38;page=1\""),
        "page links keep the filters: {}",
        page.html
    );
    let page = browser.get("/artworks?q=harbour&min_price=&max_price=50").await;
    assert!(page.html.contains("1 work"), "blank fields are ignored");
    assert!(page.html.contains("Harbour print"));
    let page = browser.get("/artworks?min_price=cheap&year_min=soon").await;
    assert_eq!(page.status, 400);
    assert!(page.html.contains("Some filters need fixing"));
    assert!(page.html.contains("Min price"), "{}", page.html);
    assert!(page.html.contains("value=\"cheap\""), "what was typed is shown back");
}

impl Browser {
    /// Posts the artwork form with images, its token first as the page sends it.
    async fn post_artwork(&mut self, path: &str, csrf: &str, fields: &[(&str, &str)], files: Vec<Vec<u8>>) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf", csrf.to_owned());
        for (key, value) in fields {
            form = form.text(key.to_string(), value.to_string());
        }
        for (i, bytes) in files.into_iter().enumerate() {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(format!("image-{i}.png"))
                .mime_str("image/png")
                .unwrap();
            form = form.part("file", part);
        }
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.finish(res).await
    }

    /// Takes a step on an order's page.
    async fn step(&mut self, order: &str, step: &str) -> Page {
        let page = self.get(order).await;
        assert!(
            page.html.contains(&format!("{order}/{step}\"")),
            "{step} is offered on {order}"
        );
        self.post_with(&format!("{order}/{step}"), &page.csrf(), &[]).await
    }
}

const ARTWORK_FIELDS: [(&str, &str); 10] = [
    ("title", "Estuary at Low Tide"),
    ("description", "Oil on linen."),
    ("medium", "painting"),
    ("material", "Oil"),
    ("year", "2024"),
    ("price", "640"),
    ("width", "60"),
    ("height", "40"),
    ("depth", "3"),
    ("weight", "2.5"),
];

#[tokio::test]
async fn an_artist_lists_a_work_with_images_and_a_collector_buys_it_through_the_pages() {
    let app = TestApp::spawn().await;
    let (mut artist, _) = member(&app, "artist").await;
    let (mut collector, buyer) = member(&app, "collector").await;
    let png = crate::uploads::encoded(64, 48, image::ImageFormat::Png);

    // The form keeps what was typed and the stored images when something is wrong.
    let form = artist.get("/studio/new").await;
    let mut fields = ARTWORK_FIELDS.to_vec();
    fields.push(("quantity_for_sale", "1"));
    fields.push(("is_for_sale", "true"));
    let mut wrong = fields.clone();
    wrong[5] = ("price", "-3");
    let failed = artist
        .post_artwork("/studio/new", &form.csrf(), &wrong, vec![png.clone()])
        .await;
    assert_eq!(failed.status, 400, "{}", failed.html);
    assert!(failed.html.contains("Ensure this value is greater than 0."));
    assert!(failed.html.contains("value=\"Estuary at Low Tide\""));
    assert!(
        failed.html.contains("name=\"keep\""),
        "the uploaded image is kept for the next try"
    );
    let forged = artist.post_artwork("/studio/new", "", &fields, vec![png.clone()]).await;
    assert_eq!(forged.status, 403);

    let created = artist
        .post_artwork("/studio/new", &form.csrf(), &fields, vec![png.clone(), png.clone()])
        .await;
    assert_eq!(created.status, 303, "{}", created.html);
    let work = created.location().to_owned();
    let id: i64 = work.trim_start_matches("/artworks/").parse().unwrap();
    let api = app.get(&format!("/api/artworks/{id}/"), None).await;
    assert_eq!(
        api.body["artworks_images"].as_array().unwrap().len(),
        2,
        "two images uploaded"
    );
    let studio = artist.get("/studio").await;
    assert!(studio.html.contains("Estuary at Low Tide"));

    // The collector keeps it in the gallery, sees the quote and asks to buy.
    let page = collector.get(&work).await;
    assert!(page.html.contains("Add to my gallery"));
    assert!(
        page.html.contains("srcset=") || page.html.contains("width=\"64\""),
        "images carry their size"
    );
    let added = collector
        .post_with(&format!("{work}/gallery"), &page.csrf(), &[("action", "add")])
        .await;
    assert_eq!(added.status, 303);
    assert!(collector.get("/gallery").await.html.contains("Estuary at Low Tide"));
    let page = collector.get(&work).await;
    assert!(page.html.contains("In your gallery"));
    assert!(
        page.html.contains("Shipping to EH1 1YZ"),
        "the collector's own postcode by default"
    );
    let quote = app
        .get(&format!("/api/artworks/{id}/shipping-quote/?postcode=EH1%201YZ"), None)
        .await;
    let total = quote.body["total_price"].to_string();
    assert!(
        page.html.contains(&format!("name=\"total\" value=\"{total}\"")),
        "{total}: {}",
        page.html
    );
    let elsewhere = collector.get(&format!("{work}?postcode=not-a-postcode")).await;
    assert!(elsewhere.html.contains("id=\"postcode-error\""));

    let stale = collector
        .post_with(&format!("{work}/buy"), &page.csrf(), &[("total", "1.00")])
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.html.contains("The price has changed"), "{}", stale.html);
    let unquoted = collector.post_with(&format!("{work}/buy"), &page.csrf(), &[]).await;
    assert_eq!(unquoted.status, 400);
    assert!(unquoted.html.contains("Get a quote first"));
    let bought = collector
        .post_with(&format!("{work}/buy"), &page.csrf(), &[("total", total.as_str())])
        .await;
    assert_eq!(bought.status, 303, "{}", bought.html);
    let order = bought.location().to_owned();
    assert!(order.starts_with("/orders/"));

    // The artist sees the news in the navigation; opening the order marks it seen.
    let studio = artist.get("/studio").await;
    assert!(studio.html.contains("1 with news"), "a badge of unviewed orders");
    assert!(artist.get("/studio/orders").await.html.contains("Estuary at Low Tide"));
    let page = artist.get(&order).await;
    assert!(page.html.contains("Accept the request") && page.html.contains("Reject"));
    assert!(!page.html.contains("1 with news"), "opening it marks it viewed");
    let refused = collector.post_with(&format!("{order}/ship"), &page.csrf(), &[]).await;
    assert_eq!(refused.status, 403, "a collector cannot ship");

    assert_eq!(artist.step(&order, "accept").await.status, 303);
    assert_eq!(collector.step(&order, "pay").await.status, 303);
    let page = artist.get(&order).await;
    assert!(page.html.contains("12 Gallery Road"), "the address shows once paid");
    assert_eq!(artist.step(&order, "ship").await.status, 303);
    assert_eq!(collector.step(&order, "complete").await.status, 303);
    for browser in [&mut artist, &mut collector] {
        let page = browser.get(&order).await;
        for step in ["Request sent", "Accepted by the artist", "Paid", "Shipped", "Completed"] {
            assert!(page.html.contains(step), "{step} in the timeline");
        }
    }
    let purchases = collector.get("/purchases?status=completed").await;
    assert!(purchases.html.contains("1 order"));
    assert!(collector
        .get("/purchases?status=pending")
        .await
        .html
        .contains("No orders here yet."));
    assert_eq!(
        app.order_status(&buyer, order.trim_start_matches("/orders/").parse().unwrap())
            .await,
        "completed"
    );
    let page = Browser::new(&app).get(&work).await;
    assert!(
        page.html.contains("Sold"),
        "the last copy sold shows as sold to everybody"
    );
}

#[tokio::test]
async fn the_other_endings_cancel_and_reject() {
    let app = TestApp::spawn().await;
    let (mut artist, seller) = member(&app, "artist").await;
    let (mut collector, buyer) = member(&app, "collector").await;
    let id = app.artwork(&seller, 3).await;
    let first = app.order(&buyer, id).await;
    let order = format!("/orders/{first}");
    let page = collector.step(&order, "cancel").await;
    assert_eq!(page.status, 303);
    let page = collector.get(&order).await;
    assert!(page.html.contains("Cancelled"));
    assert!(!page.html.contains(&format!("{order}/cancel\"")), "nothing left to do");
    let late = collector.post_with(&format!("{order}/cancel"), &page.csrf(), &[]).await;
    assert_eq!(late.status, 409, "a step no longer possible says so");
    assert!(
        late.html.contains("Cannot cancel an order that is cancelled."),
        "{}",
        late.html
    );

    let second = app.order(&buyer, id).await;
    let order = format!("/orders/{second}");
    assert_eq!(artist.step(&order, "cancel").await.status, 303);
    assert!(collector.get(&order).await.html.contains("Cancelled"));
    let other = app.collector().await;
    let mut stranger = Browser::new(&app);
    stranger.log_in(&other.email).await;
    assert_eq!(
        stranger.get(&order).await.status,
        404,
        "someone else's order is not found"
    );
}

#[tokio::test]
async fn an_artist_edits_a_work_keeping_reordering_and_dropping_images() {
    let app = TestApp::spawn().await;
    let (mut artist, _) = member(&app, "artist").await;
    let png = crate::uploads::encoded(40, 30, image::ImageFormat::Png);
    let form = artist.get("/studio/new").await;
    let mut fields = ARTWORK_FIELDS.to_vec();
    fields.push(("quantity_for_sale", "2"));
    fields.push(("is_for_sale", "true"));
    let created = artist
        .post_artwork(
            "/studio/new",
            &form.csrf(),
            &fields,
            vec![png.clone(), png.clone(), png.clone()],
        )
        .await;
    let id: i64 = created.location().trim_start_matches("/artworks/").parse().unwrap();
    let before = app.get(&format!("/api/artworks/{id}/"), None).await;
    let urls: Vec<String> = before.body["artworks_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image_url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), 3);

    let edit = artist.get(&format!("/studio/artworks/{id}")).await;
    assert_eq!(edit.status, 200);
    assert!(
        edit.html.contains("value=\"Estuary at Low Tide\""),
        "the form shows the work"
    );
    // Keep the first and the third, the third as the cover; take it off sale.
    let changed = artist
        .post_artwork(
            &format!("/studio/artworks/{id}"),
            &edit.csrf(),
            &[
                ("title", "Estuary, Evening"),
                ("keep", urls[0].as_str()),
                ("keep", urls[2].as_str()),
                ("cover", urls[2].as_str()),
            ],
            vec![],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.html);
    let after = app.get(&format!("/api/artworks/{id}/"), None).await;
    assert_eq!(after.body["title"], "Estuary, Evening");
    assert_eq!(after.body["is_for_sale"], false, "an unticked box takes it off sale");
    let kept: Vec<&str> = after.body["artworks_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image_url"].as_str().unwrap())
        .collect();
    assert_eq!(kept, vec![urls[2].as_str(), urls[0].as_str()]);
    // The lists read images their own way (typed, by engine): the same order there.
    for list in ["/api/artworks/?per_page=50", "/api/artworks/"] {
        let listed = app.get(list, None).await;
        let artwork = listed.body.as_array().unwrap().iter().find(|a| a["id"] == id).unwrap();
        assert_eq!(artwork["artworks_images"], after.body["artworks_images"], "{list}");
    }

    let (mut other, _) = member(&app, "artist").await;
    assert_eq!(
        other.get(&format!("/studio/artworks/{id}")).await.status,
        404,
        "only one's own"
    );
    let page = other.get("/studio").await;
    let refused = other
        .post_with(&format!("/studio/artworks/{id}/withdraw"), &page.csrf(), &[])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    let page = artist.get("/studio").await;
    let withdrawn = artist
        .post_with(&format!("/studio/artworks/{id}/withdraw"), &page.csrf(), &[])
        .await;
    assert_eq!(withdrawn.status, 303);
    assert_eq!(app.get(&format!("/api/artworks/{id}/"), None).await.status, 404);
}

#[tokio::test]
async fn the_pages_keep_the_apis_login_limits() {
    let app = TestApp::spawn_with(|c| c.login_failures_per_account = 2).await;
    let user = app.collector().await;
    let mut browser = Browser::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let page = browser
            .submit(
                "/login",
                "/login",
                &[("email", user.email.as_str()), ("password", "wrong-guess-1")],
            )
            .await;
        statuses.push(page.status);
        if page.status == 429 {
            assert!(page.html.contains("role=\"alert\""), "the refusal is shown on the form");
            assert!(page.html.contains(&format!("value=\"{}\"", user.email)));
        }
    }
    assert_eq!(statuses, vec![401, 401, 429]);
    let page = browser
        .submit(
            "/login",
            "/login",
            &[("email", user.email.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 429, "even the right password waits, as on the API");
}

#[tokio::test]
async fn a_server_error_on_a_page_is_a_page_that_tells_nothing_of_the_cause() {
    let app = TestApp::spawn().await;
    let (mut collector, buyer) = member(&app, "collector").await;
    let artist = app.artist().await;
    let order = app.order(&buyer, app.artwork(&artist, 1).await).await;
    sqlx::query("DROP TABLE order_events")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let page = collector.get(&format!("/orders/{order}")).await;
    assert_eq!(page.status, 500);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.html.contains("Something went wrong"), "{}", page.html);
    assert!(!page.html.contains("order_events"), "no detail of the cause");
}

/// A page checks its session against a copy at most a second old: a logout here ends
/// it here at once, and on another instance within a second.
#[tokio::test]
async fn a_logout_ends_the_session_on_other_instances_within_a_second() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let (mut browser, _) = member(&app, "collector").await;
    let mut elsewhere = Browser::new(&other);
    elsewhere.cookies = browser.cookies.clone();
    assert_eq!(
        elsewhere.get("/account").await.status,
        200,
        "one session, both instances"
    );
    let page = browser.get("/account").await;
    assert_eq!(browser.post_with("/logout", &page.csrf(), &[]).await.status, 303);
    let mut replay = Browser::new(&app);
    replay.cookies = elsewhere.cookies.clone();
    assert_eq!(replay.get("/account").await.status, 303, "here at once");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(elsewhere.get("/account").await.status, 303, "there within a second");
}

/// The studio and the gallery show every work in numbered pages (they had stopped at
/// 200 without a word), and a page past the end sends the visitor to the last one.
#[tokio::test]
async fn the_studio_and_the_gallery_page_through_every_work() {
    let app = TestApp::spawn().await;
    let (mut artist, artist_user) = member(&app, "artist").await;
    let (mut collector, collector_user) = member(&app, "collector").await;
    let mut ids = Vec::new();
    for i in 0..51 {
        ids.push(
            app.artwork_with(&artist_user, json!({"title": format!("Study {i:02}")}))
                .await,
        );
    }
    let curate = format!("/api/galleries/{}/curate/", collector_user.gallery_id.unwrap());
    for id in &ids[..25] {
        app.post(&curate, Some(&collector_user.token), json!({"artwork": id}))
            .await
            .assert_status(201);
    }
    let rows = |page: &Page| page.html.matches("href=\"/studio/artworks/").count();

    // The studio: newest first, 50 a page.
    let first = artist.get("/studio").await;
    assert!(first.html.contains("51 works listed · page 1 of 2"), "{}", first.html);
    assert_eq!(rows(&first), 50);
    assert!(first.html.contains("Study 50") && !first.html.contains("Study 00"));
    assert!(first.html.contains("href=\"?page=2\""), "a link to the next page");
    let second = artist.get("/studio?page=2").await;
    assert_eq!(rows(&second), 1);
    assert!(second.html.contains("Study 00") && !second.html.contains("Study 50"));
    let past = artist.get("/studio?page=9").await;
    assert_eq!((past.status, past.location()), (303, "/studio?page=2"));

    // The gallery: oldest addition first, 24 a page.
    let removes = |page: &Page| page.html.matches("aria-label=\"Remove ").count();
    let first = collector.get("/gallery").await;
    assert!(first.html.contains("25 works · page 1 of 2"), "{}", first.html);
    assert_eq!(removes(&first), 24);
    assert!(first.html.contains("Study 00") && !first.html.contains("Study 24"));
    let second = collector.get("/gallery?page=2").await;
    assert_eq!(removes(&second), 1);
    assert!(second.html.contains("Study 24"));
    let past = collector.get("/gallery?page=3").await;
    assert_eq!((past.status, past.location()), (303, "/gallery?page=2"));

    // Taking a work out keeps the visitor on the page they were on.
    assert!(
        second.html.contains(r#"name="page" value="2""#),
        "the form says its page"
    );
    let removed = collector
        .post_with(
            &format!("/artworks/{}/gallery", ids[24]),
            &second.csrf(),
            &[("action", "remove"), ("back", "gallery"), ("page", "2")],
        )
        .await;
    assert_eq!((removed.status, removed.location()), (303, "/gallery?page=2"));
    let studio = artist.get("/studio?page=2").await;
    assert!(
        studio.html.contains(r#"name="page" value="2""#),
        "the form says its page"
    );
    let withdrawn = artist
        .post_with(
            &format!("/studio/artworks/{}/withdraw", ids[0]),
            &studio.csrf(),
            &[("page", "2")],
        )
        .await;
    assert_eq!((withdrawn.status, withdrawn.location()), (303, "/studio?page=2"));
    let odd = artist
        .post_with(
            &format!("/studio/artworks/{}/withdraw", ids[1]),
            &studio.csrf(),
            &[("page", "//evil.example")],
        )
        .await;
    assert_eq!((odd.status, odd.location()), (303, "/studio"), "only a page number");
}
