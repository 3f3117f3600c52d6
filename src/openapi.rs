//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the types below (request bodies and responses that handlers build as JSON).

use serde::Serialize;
use utoipa::ToSchema;

use crate::artworks::{Artwork, Medium};

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
pub struct LoginRequest {
    pub email: String,
    pub password: String,
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
pub struct MarkViewed {
    #[schema(pattern = "^(artist|collector)$")]
    pub user_type: Option<String>,
    pub order_ids: Option<Vec<i64>>,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}
