//! The command line's own work, beside serving: making staff (`create-admin`) and the
//! demo marketplace (`seed-demo`). Both go through the domains' operations.

pub mod admin;
pub mod demo;
pub mod import_django;
