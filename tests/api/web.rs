//! The web pages over real HTTP: what a visitor sees, and the headers that keep it safe.

use serde_json::json;

use crate::helpers::TestApp;

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
    assert!(html.contains("not on show"), "{html}");
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
        assert!(html.contains("There is no artist here."));
    }
}
