//! The OpenAPI document: served, complete, and pinned so that API changes show in review.

use std::collections::BTreeSet;

use crate::helpers::TestApp;

/// Every (method, path) the router registers, read from the source: `.route("path",
/// get(…).post(…))`. Paths are compared without trailing slashes.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut files = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for chunk in source.split(".route(").skip(1) {
            let Some(rest) = chunk.trim_start().strip_prefix('"') else {
                continue;
            };
            let Some((route, after)) = rest.split_once('"') else {
                continue;
            };
            let segment = after.split([';']).next().unwrap_or_default();
            let segment = segment.split(".merge(").next().unwrap_or_default();
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = segment.match_indices(&format!("{method}(")).any(|(at, _)| {
                    at == 0 || matches!(segment.as_bytes()[at - 1], b' ' | b'(' | b'.' | b':' | b'\n' | b',')
                });
                if called {
                    // A catch-all `{*file}` is documented as the parameter `{file}`.
                    let route = route.replace("{*", "{");
                    routes.insert((method.to_owned(), route.trim_end_matches('/').to_owned()));
                }
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_document_describes_every_route() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/openapi.json", None).await;
    res.assert_status(200);
    let doc = res.body;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.trim_end_matches('/').to_owned()));
        }
    }
    let routes = routes_in_source();
    assert!(routes.len() > 35, "the source scan finds the routes: {routes:?}");
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(missing.is_empty(), "routes the document does not describe: {missing:?}");
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(stale.is_empty(), "documented routes that do not exist: {stale:?}");
    // Protected operations say so; errors are problem documents.
    let me = &doc["paths"]["/api/members/user/"]["get"];
    assert!(me["security"].to_string().contains("bearer"));
    assert!(me["responses"]["401"]["content"]["application/problem+json"].is_object());
}

#[test]
fn the_document_is_pinned() {
    let doc = serde_json::to_value(openstudio::openapi::document()).unwrap();
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
