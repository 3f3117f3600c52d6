//! Staff: every order and every gallery, read-only, with filters.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::Uri;

use super::orders::list_page;
use super::session::Visitor;
use super::{day, holding, list_query, page, Layout, PageResult, Pager};
use crate::galleries::{self, GallerySummary};
use crate::orders::Listing;
use crate::paging::Page;
use crate::state::AppState;

/// Every order, newest first, by status.
pub async fn orders(
    State(state): State<AppState>,
    visitor: Visitor,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> PageResult {
    holding(&visitor, &uri, |m| m.is_staff, "Staff only.")?;
    let texts = ("All orders", "Collector", "/staff/orders", "staff");
    list_page(&state, &visitor, Listing::All, query.as_deref(), texts).await
}

#[derive(Template)]
#[template(path = "staff_galleries.html")]
struct GalleriesPage {
    layout: Layout,
    galleries: Vec<(GallerySummary, String)>,
    only_with_works: bool,
    pager: Pager,
}

const PER_PAGE: i64 = 50;

/// Every collector's gallery, with how many works each holds.
pub async fn galleries(
    State(state): State<AppState>,
    visitor: Visitor,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> PageResult {
    holding(&visitor, &uri, |m| m.is_staff, "Staff only.")?;
    let (pairs, number) = list_query(query.as_deref());
    let only_with_works = pairs.iter().any(|(k, v)| k == "with_works" && v == "true");
    let (total, found) = galleries::summaries(
        &state.db,
        Page {
            page: number,
            per_page: PER_PAGE,
        },
        only_with_works,
    )
    .await?;
    let template = GalleriesPage {
        layout: Layout::new(&state, &visitor, "All galleries — OpenStudio").in_section("staff"),
        galleries: found
            .into_iter()
            .map(|g| {
                let created = day(g.created_at);
                (g, created)
            })
            .collect(),
        only_with_works,
        pager: Pager::new(total, number, PER_PAGE, &pairs),
    };
    page(&state, &visitor, template)
}
