//! The command line's own work, beside serving: making staff (`create-admin`), the demo
//! marketplace (`seed-demo`), both through the domains' operations, and bringing the
//! first version's data in (`import-django`).

pub mod admin;
pub mod demo;
pub mod import_django;
