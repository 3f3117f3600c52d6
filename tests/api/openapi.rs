//! The OpenAPI document: served, complete, and pinned so that API changes show in review.

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The router and the document agree: every documented operation is routed (answered by
/// its handler, not the router's fallback), and every other method on a documented path
/// is refused with 405. Both are asked over HTTP: the running router, the served document.
#[tokio::test]
async fn the_router_serves_exactly_what_the_document_describes() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/openapi.json", None).await;
    res.assert_status(200);
    let doc = res.body;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let operations: usize = paths.values().map(|item| item.as_object().unwrap().len()).sum();
    assert!(operations > 40, "{operations} operations");
    for (path, item) in paths {
        let url = path
            .replace("{id}", "999999")
            .replace("{key}", "nothing.webp")
            .replace("{file}", "index.css");
        for method in METHODS {
            let res = app
                .request(method.to_uppercase().parse().unwrap(), &url, None, None)
                .await;
            if item.get(method).is_some() {
                assert_ne!(res.status, 405, "{method} {path} is documented but not routed");
                assert_ne!(
                    res.body["detail"], "No such route.",
                    "{method} {path} is documented but not routed"
                );
            } else {
                assert_eq!(
                    res.status, 405,
                    "{method} {path} is routed but not documented: {}",
                    res.body
                );
            }
        }
    }
    // A path outside the document is not routed: the fallback answers.
    let res = app.get("/api/undocumented", None).await;
    res.assert_status(404);
    assert_eq!(res.body["detail"], "No such route.");
    // Protected operations say so; errors are problem documents.
    let me = &doc["paths"]["/api/members/user/"]["get"];
    assert!(me["security"].to_string().contains("bearer"));
    assert!(me["responses"]["401"]["content"]["application/problem+json"].is_object());
}

#[test]
fn the_document_is_pinned() {
    let doc = serde_json::to_value(openstudio::api::document()).unwrap();
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn interactive_docs_work_offline() {
    let app = TestApp::spawn().await;
    for path in ["/api/docs", "/api/docs/"] {
        let res = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        let html = res.text().await.unwrap();
        assert!(html.contains("<base href=\"/api/docs/\">"));
        assert!(html.contains("swagger-ui-bundle.js"));
        assert!(!html.contains("<script src=\"http"), "no script from another origin");
    }
    let init = app
        .client
        .get(format!("{}/api/docs/swagger-initializer.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    assert!(init.text().await.unwrap().contains("/api/openapi.json"));
    let bundle = app
        .client
        .get(format!("{}/api/docs/swagger-ui-bundle.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(
        bundle.bytes().await.unwrap().len() > 100_000,
        "the bundle is served from the binary"
    );
    app.get("/api/docs/no-such-file.js", None).await.assert_status(404);
}
