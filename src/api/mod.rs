//! The JSON face: every route of `/api` (and the health checks and media files), each
//! declared once, with its OpenAPI operation, by [`Documented::documented`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::MaybeMember;
use crate::state::AppState;

pub mod artworks;
pub mod docs;
pub mod galleries;
pub mod health;
pub mod media;
pub mod members;
pub mod notifications;
pub mod orders;

/// A JSON body already written (by the database, or a cached page) with `headers`.
pub(crate) fn json_response(mut headers: HeaderMap, body: Bytes) -> Response {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    (headers, body).into_response()
}

/// Registers handlers under the path of their `#[utoipa::path]`, and their operations in
/// the document. The document keeps the trailing slash the first version's clients use;
/// the route is registered without it, as requests reach the router with trailing
/// slashes trimmed (see [`crate::app::app`]).
pub trait Documented {
    fn documented(self, handlers: UtoipaMethodRouter<AppState>) -> Self;
}

impl Documented for OpenApiRouter<AppState> {
    fn documented(mut self, (schemas, paths, method_router): UtoipaMethodRouter<AppState>) -> Self {
        for path in paths.paths.keys() {
            let route = path.trim_end_matches('/');
            self = self.route(if route.is_empty() { "/" } else { route }, method_router.clone());
        }
        let doc = self.get_openapi_mut();
        for (path, item) in paths.paths {
            doc.paths.paths.entry(path).or_default().merge_operations(item);
        }
        doc.components
            .get_or_insert_with(Default::default)
            .schemas
            .extend(schemas);
        self
    }
}

/// Every route with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    let idempotent = || axum::middleware::from_fn(crate::idempotency::idempotent);
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .documented(routes!(api_root))
        .documented(routes!(openapi_document))
        .documented(routes!(docs::docs_index))
        .documented(routes!(docs::docs_file))
        .documented(routes!(health::live))
        .documented(routes!(health::ready))
        .documented(routes!(members::register_member))
        .documented(routes!(members::login_member))
        .documented(routes!(members::get_current_member, members::update_current_member))
        .documented(routes!(members::change_password))
        .documented(routes!(artworks::get_artist))
        .documented(routes!(artworks::list_artworks, artworks::create_artwork))
        .documented(routes!(artworks::create_artwork_legacy))
        .documented(routes!(
            artworks::get_artwork,
            artworks::update_artwork,
            artworks::delete_artwork
        ))
        .documented(routes!(artworks::quote_shipping))
        .documented(routes!(artworks::list_images, artworks::add_image))
        .documented(routes!(artworks::delete_image))
        .documented(routes!(media::upload_images).layer(axum::extract::DefaultBodyLimit::disable()))
        .documented(routes!(media::serve_media))
        .documented(routes!(galleries::get_my_gallery))
        .documented(routes!(galleries::list_galleries))
        .documented(routes!(galleries::list_gallery_artworks))
        .documented(routes!(galleries::add_to_gallery, galleries::remove_from_gallery))
        .documented(routes!(orders::create_order).layer(idempotent()))
        .documented(routes!(orders::list_purchases))
        .documented(routes!(orders::list_sales))
        .documented(routes!(orders::list_all_orders))
        .documented(routes!(orders::get_order))
        .documented(routes!(orders::list_order_events))
        .documented(routes!(orders::review_order))
        .documented(routes!(orders::cancel_order))
        .documented(routes!(orders::pay_order).layer(idempotent()))
        .documented(routes!(orders::ship_order))
        .documented(routes!(orders::complete_order))
        .documented(routes!(orders::count_unviewed_orders))
        .documented(routes!(orders::mark_orders_viewed))
        .documented(routes!(notifications::list_notifications))
        .documented(routes!(notifications::count_unread))
        .documented(routes!(notifications::mark_read))
        .documented(routes!(notifications::issue_ticket))
        .documented(routes!(notifications::stream_notifications))
}

/// The OpenAPI document, as served at `/api/openapi.json`: built from the same route list
/// as the router.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

/// A message for a person.
#[derive(Serialize, ToSchema)]
pub struct Message {
    message: String,
}

impl Message {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// The API's front door.
#[derive(Serialize, ToSchema)]
pub struct ApiRoot {
    message: &'static str,
    /// Where each part of the API is, by name.
    #[schema(value_type = Object)]
    endpoints: BTreeMap<&'static str, &'static str>,
}

const ENDPOINTS: [(&str, &str); 19] = [
    ("register", "/api/members/register/"),
    ("login", "/api/members/login/"),
    ("current_member", "/api/members/user/"),
    ("change_password", "/api/members/password/"),
    ("artworks", "/api/artworks/"),
    ("artwork", "/api/artworks/{id}/"),
    ("shipping_quote", "/api/artworks/{id}/shipping-quote/?postcode="),
    ("artist", "/api/artists/{id}/"),
    ("upload_images", "/api/images/upload/"),
    ("artwork_images", "/api/images/artwork/{id}/images/"),
    ("my_gallery", "/api/galleries/my-gallery/"),
    ("gallery_artworks", "/api/galleries/{id}/artworks/"),
    ("curate", "/api/galleries/{id}/curate/"),
    ("create_order", "/api/orders/create/"),
    ("purchases", "/api/orders/purchase-requests/"),
    ("sales", "/api/orders/seller/"),
    ("order", "/api/orders/order-details/{id}"),
    ("order_events", "/api/orders/{id}/events/"),
    ("unviewed_orders", "/api/orders/unviewed-orders/"),
];

/// The API's front door.
#[utoipa::path(get, path = "/api", tag = "root", responses((status = 200, description = "The API's front door", body = ApiRoot), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn api_root(MaybeMember(_): MaybeMember) -> Json<ApiRoot> {
    Json(ApiRoot {
        message: "Welcome to OpenStudio API",
        endpoints: ENDPOINTS.into_iter().collect(),
    })
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "root", responses((status = 200, description = "This document")))]
pub(crate) async fn openapi_document() -> impl IntoResponse {
    static DOCUMENT: OnceLock<Bytes> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| serde_json::to_vec(&document()).unwrap_or_default().into());
    ([(header::CONTENT_TYPE, "application/json")], body.clone())
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "OpenStudio API", description = "An art marketplace: artists, collectors, galleries and orders."),
    modifiers(&BearerAuth),
)]
struct ApiDoc;
