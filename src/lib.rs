//! OpenStudio: an art marketplace server.
//!
//! See `docs/ARCHITECTURE.md` for the modules and the path of a request.

pub mod admin;
pub mod api;
pub mod app;
pub mod artworks;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod galleries;
pub mod idempotency;
pub mod imaging;
pub mod input;
pub mod layers;
pub mod limits;
pub mod media;
pub mod members;
pub mod money;
pub mod orders;
pub mod paging;
pub mod passwords;
pub mod postcode;
pub mod server;
pub mod shipping;
pub mod sqlite_deadline;
pub mod state;
pub mod storage;
pub mod tokens;
