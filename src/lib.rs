//! OpenStudio: an art marketplace server.
//!
//! The house has three layers; each imports only from the layers below it. See
//! `docs/ARCHITECTURE.md` for the diagram and the path of a request.

// Faces: how people and programs reach the domains.
pub mod api;
pub mod app;
pub mod cli;
pub mod web;

// Domains: each owns its model, its operations and all of its SQL.
pub mod artworks;
pub mod galleries;
pub mod media;
pub mod members;
pub mod notifications;
pub mod orders;

// Who is asking, and requests acting at most once: between the faces and the domains.
pub mod auth;
pub mod idempotency;

// Foundations: state, storage, rules and plumbing that know no domain.
pub mod cache;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod imaging;
pub mod input;
pub mod json_sql;
pub mod layers;
pub mod limits;
pub mod live;
pub mod money;
pub mod paging;
pub mod passwords;
pub mod pg_reads;
pub mod postcode;
pub mod search;
pub mod server;
pub mod shipping;
pub mod sql;
pub mod sqlite_deadline;
pub mod sqlite_reads;
pub mod state;
pub mod storage;
pub mod tokens;
