//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the types below (request bodies and responses that handlers build as JSON).

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::artworks::{ArtistSummary, Artwork, Image, ImageArtwork, Medium};
use crate::media::Upload;
use crate::orders::rules::OrderStatus;
use crate::orders::{ArtworkInfo, BuyerInfo, OrderView, SellerInfo};
use crate::shipping::Quote;

/// An error (RFC 9457 problem details).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Validation errors: `"Field name: message"`.
    pub errors: Option<Vec<String>>,
    /// Validation errors by field.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
    pub password_confirmation: String,
    #[schema(pattern = "^(artist|collector)$")]
    pub user_type: String,
    pub address: String,
    /// A UK postcode.
    pub postcode: String,
    pub bio: Option<String>,
    pub website: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    pub message: String,
    pub id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    pub token: String,
    pub message: String,
    /// Collectors only.
    pub gallery_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: String,
    pub address: String,
    pub postcode: String,
    pub bio: String,
    pub website: String,
    /// Collectors only.
    pub gallery_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub bio: Option<String>,
    pub website: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    pub new_password_confirmation: String,
}

/// An artwork as an artist sends it; every field is optional on update.
#[derive(Serialize, ToSchema)]
pub struct ArtworkInput {
    pub title: String,
    pub description: String,
    pub year: i64,
    #[schema(value_type = f64)]
    pub price: f64,
    pub quantity_for_sale: i64,
    pub is_for_sale: Option<bool>,
    pub medium: Medium,
    pub material: String,
    #[schema(value_type = f64)]
    pub width: f64,
    #[schema(value_type = f64)]
    pub depth: f64,
    #[schema(value_type = f64)]
    pub height: f64,
    #[schema(value_type = f64)]
    pub weight: f64,
    /// Up to ten http(s) image URLs (or uploads' `image_url`).
    pub artworks_images: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct ImageUrl {
    pub image_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct UploadForm {
    /// One to ten image files.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ArtistPage {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub bio: String,
    pub website: String,
    pub postcode: String,
    #[schema(value_type = String, format = DateTime)]
    pub member_since: String,
    pub artworks_count: i64,
    pub for_sale_count: i64,
    pub sold_count: i64,
    pub artworks: Vec<Artwork>,
}

#[derive(Serialize, ToSchema)]
pub struct GalleryView {
    pub id: i64,
    pub curator: i64,
    pub artworks: Vec<Artwork>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Serialize, ToSchema)]
pub struct GallerySummary {
    pub id: i64,
    pub curator: i64,
    pub curator_username: String,
    pub artworks_count: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct Curate {
    pub artwork: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CreateOrder {
    pub artwork_id: i64,
    /// The total the client showed; refused (409) when more than 0.01 away.
    #[schema(value_type = Option<f64>)]
    pub final_price: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct Review {
    #[schema(pattern = "^(accept|cancel)$")]
    pub action: String,
}

#[derive(Serialize, ToSchema)]
pub struct Reviewed {
    pub message: String,
    pub status: OrderStatus,
}

#[derive(Serialize, ToSchema)]
pub struct Paid {
    pub message: String,
    pub new_quantity: i64,
    pub is_for_sale: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Unviewed {
    pub has_unviewed_orders: bool,
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MarkViewed {
    #[schema(pattern = "^(artist|collector)$")]
    pub user_type: Option<String>,
    pub order_ids: Option<Vec<i64>>,
}

#[derive(Serialize, ToSchema)]
pub struct MarkedViewed {
    pub message: String,
    pub updated: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ApiRoot {
    pub message: String,
    #[schema(value_type = Object)]
    pub endpoints: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
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
    paths(
        crate::app::api_root,
                crate::app::openapi_document,
        crate::docs::docs_index,
        crate::docs::docs_file,
        crate::health::live,
        crate::health::ready,
        crate::members::register_member,
        crate::members::login_member,
        crate::members::get_current_member,
        crate::members::update_current_member,
        crate::members::change_password,
        crate::artists::get_artist,
        crate::artworks::browse::list_artworks,
        crate::artworks::create_artwork,
        crate::artworks::create_artwork_legacy,
        crate::artworks::get_artwork,
        crate::artworks::update_artwork,
        crate::artworks::delete_artwork,
        crate::artworks::quote::quote_shipping,
        crate::images::list_images,
        crate::images::add_image,
        crate::images::delete_image,
        crate::media::upload_images,
        crate::media::serve_media,
        crate::galleries::get_my_gallery,
        crate::galleries::list_galleries,
        crate::galleries::list_gallery_artworks,
        crate::galleries::add_to_gallery,
        crate::galleries::remove_from_gallery,
        crate::orders::create_order,
        crate::orders::list_purchases,
        crate::orders::list_sales,
        crate::orders::list_all_orders,
        crate::orders::get_order,
        crate::orders::list_order_events,
        crate::orders::review_order,
        crate::orders::cancel_order,
        crate::orders::pay_order,
        crate::orders::ship_order,
        crate::orders::complete_order,
        crate::orders::count_unviewed_orders,
        crate::orders::mark_orders_viewed,
    ),
    components(schemas(
        Problem, Message, RegisterRequest, Registered, LoginRequest, LoggedIn, MemberView, ProfileUpdate,
        PasswordChange, ArtworkInput, Artwork, ArtistSummary, Image, ImageArtwork, Medium, ImageUrl, UploadForm,
        Upload, ArtistPage, Quote, GalleryView, crate::galleries::GalleryEntry, GallerySummary, Curate, OrderView, BuyerInfo,
        SellerInfo, ArtworkInfo, OrderStatus, CreateOrder, Review, Reviewed, Paid, Unviewed, MarkViewed,
        MarkedViewed, crate::orders::Event, ApiRoot, Health,
    ))
)]
pub struct ApiDoc;

/// The document as served at `/api/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
