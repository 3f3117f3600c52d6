//! The API over real HTTP, against a real database (SQLite by default, PostgreSQL when
//! TEST_DATABASE_URL is set).

mod artworks;
mod browse;
mod cli;
mod concurrency;
mod connections;
mod errors;
mod faults;
mod galleries;
mod helpers;
mod idempotency;
mod images;
mod import;
mod members;
mod migrations;
mod notifications;
mod openapi;
mod orders;
mod production;
mod rows;
mod uploads;
mod web;
