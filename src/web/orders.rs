//! A collector's gallery and purchases, an artist's orders received, and each order's
//! page with its timeline and the steps its viewer may take now.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};

use super::session::{Posted, Visitor};
use super::{
    day, form_failure, holding, list_query, page, page_with, pounds, see, signed_in, Card, Layout, PageResult, Pager,
};
use crate::error::{ApiError, ApiResult};
use crate::galleries;
use crate::members::Member;
use crate::orders::rules::{self, Action, Actor, OrderStatus};
use crate::orders::{self, Event, Listing, Order, OrderView, Viewer};
use crate::paging::{Cursor, Page};
use crate::state::AppState;

const PER_PAGE: i64 = 20;
/// Works a page of the gallery shows: four rows of a wide grid.
const GALLERY_PAGE: i64 = 24;

#[derive(Template)]
#[template(path = "gallery.html")]
struct GalleryPage {
    layout: Layout,
    csrf: String,
    cards: Vec<Card>,
    pager: Pager,
}

/// The collector's gallery of favourites, oldest addition first, in numbered pages.
pub async fn gallery(
    State(state): State<AppState>,
    visitor: Visitor,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    let gallery = member
        .gallery_id
        .ok_or_else(|| ApiError::forbidden("Only collectors keep a gallery."))?;
    let (pairs, number) = list_query(query.as_deref());
    let total = galleries::count(&state.db, gallery).await?;
    let pager = Pager::new(total, number, GALLERY_PAGE, &pairs);
    if number > pager.last {
        // Past the end (works removed since the link was made): the last page.
        return Ok(see(&format!("/gallery{}", pager.href(pager.last))));
    }
    let page_of = Page {
        page: number,
        per_page: GALLERY_PAGE,
    };
    let (entries, _) = galleries::entries(&state, gallery, Some(page_of), Cursor::default()).await?;
    let template = GalleryPage {
        layout: Layout::new(&state, &visitor, "My gallery — OpenStudio").in_section("gallery"),
        csrf: visitor.form_token(&state),
        cards: entries.into_iter().map(|entry| Card::from(entry.artwork)).collect(),
        pager,
    };
    page(&state, &visitor, template)
}

/// An order as a row of a list.
pub struct Row {
    id: i64,
    title: String,
    artwork_id: i64,
    other: String,
    price: String,
    status: &'static str,
    placed: String,
    news: bool,
}

fn row(order: &Order, side: Viewer) -> Row {
    let (other, news) = match side {
        Viewer::Buyer => (&order.seller, !order.viewed_by_buyer),
        Viewer::Seller => (&order.buyer, !order.viewed_by_seller),
        Viewer::Staff => (&order.buyer, false),
    };
    Row {
        id: order.id,
        title: order.artwork.title.clone(),
        artwork_id: order.artwork.id,
        other: format!("{} {}", other.first_name, other.last_name),
        price: pounds(order.price),
        status: status_label(order.status),
        placed: day(order.created_at),
        news,
    }
}

/// A status as people read it.
pub fn status_label(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "Waiting for the artist",
        OrderStatus::Accepted => "Accepted, awaiting payment",
        OrderStatus::ReadyToShip => "Paid, ready to ship",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Completed => "Completed",
        OrderStatus::Cancelled => "Cancelled",
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
pub struct OrdersPage {
    pub layout: Layout,
    pub heading: &'static str,
    /// Who the other party is, as the column's heading.
    pub other: &'static str,
    pub action: &'static str,
    pub rows: Vec<Row>,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub status: String,
    pub pager: Pager,
    /// Rows link to the order's page (parties) or to the artwork (staff).
    pub link_orders: bool,
}

/// The list's status filter, from the query's pairs.
fn status_of(pairs: &[(String, String)]) -> Option<OrderStatus> {
    pairs
        .iter()
        .find(|(k, _)| k == "status")
        .and_then(|(_, v)| OrderStatus::parse(v))
}

/// One list of orders: a party's (or, for staff, everyone's).
pub async fn list_page(
    state: &AppState,
    visitor: &Visitor,
    listing: Listing,
    query: Option<&str>,
    texts: (&'static str, &'static str, &'static str, &'static str),
) -> PageResult {
    let (heading, other, action, section) = texts;
    let (pairs, number) = list_query(query);
    let status = status_of(&pairs);
    let total = orders::count(&state.db, listing, status).await?;
    let page_of = Page {
        page: number,
        per_page: PER_PAGE,
    };
    let (found, _) = orders::list(&state.db, listing, status, Cursor::default(), Some(page_of)).await?;
    let side = match listing {
        Listing::Buyer(_) => Viewer::Buyer,
        Listing::Seller(_) => Viewer::Seller,
        Listing::All => Viewer::Staff,
    };
    let template = OrdersPage {
        layout: Layout::new(state, visitor, format!("{heading} — OpenStudio")).in_section(section),
        heading,
        other,
        action,
        rows: found.iter().map(|o| row(o, side)).collect(),
        statuses: OrderStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(*s)))
            .collect(),
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        pager: Pager::new(total, number, PER_PAGE, &pairs),
        link_orders: side != Viewer::Staff,
    };
    page(state, visitor, template)
}

/// The collector's purchases.
pub async fn purchases(
    State(state): State<AppState>,
    visitor: Visitor,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> PageResult {
    let member = holding(&visitor, &uri, Member::is_collector, "Only collectors buy artworks.")?;
    let texts = ("My purchases", "Artist", "/purchases", "purchases");
    list_page(&state, &visitor, Listing::Buyer(member.id), query.as_deref(), texts).await
}

/// The orders an artist has received.
pub async fn sales(State(state): State<AppState>, visitor: Visitor, uri: Uri, RawQuery(query): RawQuery) -> PageResult {
    let member = holding(&visitor, &uri, Member::is_artist, "Only artists receive orders.")?;
    let texts = ("Orders received", "Collector", "/studio/orders", "sales");
    list_page(&state, &visitor, Listing::Seller(member.id), query.as_deref(), texts).await
}

/// A step of the timeline as people read it.
pub struct Step {
    what: &'static str,
    who: String,
    when: String,
}

fn step(event: &Event, order: &OrderView) -> Step {
    let what = match (event.from, event.to) {
        (None, _) => "Request sent",
        (_, OrderStatus::Accepted) => "Accepted by the artist",
        (_, OrderStatus::ReadyToShip) => "Paid",
        (_, OrderStatus::Shipped) => "Shipped",
        (_, OrderStatus::Completed) => "Completed",
        (_, OrderStatus::Cancelled) => "Cancelled",
        (_, OrderStatus::Pending) => "Pending",
    };
    let who = match event.actor {
        Actor::Buyer => format!("{} {}", order.buyer_info.first_name, order.buyer_info.last_name),
        Actor::Seller => format!("{} {}", order.seller_info.first_name, order.seller_info.last_name),
        Actor::System => match event.reason.as_deref() {
            Some("sold out") => "OpenStudio: the last copy was sold".to_owned(),
            Some("artwork withdrawn") => "OpenStudio: the artwork was withdrawn".to_owned(),
            Some(reason) => format!("OpenStudio: {reason}"),
            None => "OpenStudio".to_owned(),
        },
    };
    Step {
        what,
        who,
        when: event.at.format("%-d %B %Y, %H:%M").to_string(),
    }
}

/// A step the viewer may take now, as a button.
pub struct Choice {
    path: &'static str,
    label: &'static str,
    /// Undoing it is not possible: shown as a secondary, cautious button.
    cautious: bool,
}

fn choices(status: OrderStatus, party: Actor) -> Vec<Choice> {
    let all = [
        (Action::Accept, "accept", "Accept the request", false),
        (Action::Pay, "pay", "Pay now", false),
        (Action::Ship, "ship", "Mark as shipped", false),
        (Action::Complete, "complete", "Confirm I received it", false),
        (
            Action::Cancel,
            "cancel",
            if party == Actor::Seller {
                "Reject"
            } else {
                "Cancel the order"
            },
            true,
        ),
    ];
    all.into_iter()
        .filter(|(action, ..)| rules::transition(status, *action, party).is_ok())
        .map(|(_, path, label, cautious)| Choice { path, label, cautious })
        .collect()
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    csrf: String,
    order: OrderView,
    buyer: bool,
    price: String,
    status: &'static str,
    steps: Vec<Step>,
    choices: Vec<Choice>,
    problem: Option<String>,
}

/// One order, as its buyer or seller sees it; opening it marks it viewed.
pub async fn order(State(state): State<AppState>, visitor: Visitor, uri: Uri, Path(id): Path<String>) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    let id = order_id(&id)?;
    order_page(&state, &visitor, &member, id, None).await
}

fn order_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("Order not found."))
}

async fn order_page(
    state: &AppState,
    visitor: &Visitor,
    member: &Member,
    id: i64,
    problem: Option<(StatusCode, String)>,
) -> PageResult {
    let (order, party) = orders::for_party(state, member, id).await?;
    let seen = orders::mark_viewed(&state.db, member.id, member.user_type, Some(&[id])).await?;
    let events = orders::events(&state.db, id).await?;
    let view = order.view(Viewer::of(party), state.clock.now());
    let mut layout = Layout::new(
        state,
        visitor,
        format!("Order {} — {} — OpenStudio", id, order.artwork.title),
    );
    layout.nav.unviewed = (layout.nav.unviewed - seen as i64).max(0);
    let layout = layout.in_section(if party == Actor::Seller { "sales" } else { "purchases" });
    let (status, problem) = match problem {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let template = OrderPage {
        layout,
        csrf: visitor.form_token(state),
        buyer: party == Actor::Buyer,
        price: pounds(order.price),
        status: status_label(order.status),
        steps: events.iter().map(|e| step(e, &view)).collect(),
        choices: choices(order.status, party),
        problem,
        order: view,
    };
    page_with(state, visitor, status, template)
}

/// Takes a step of an order: accept, reject or cancel, pay, ship, confirm receipt.
pub async fn act(
    State(state): State<AppState>,
    uri: Uri,
    Path((id, action)): Path<(String, String)>,
    Posted { visitor, fields }: Posted,
) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    let id = order_id(&id)?;
    // Each step belongs to one side; cancelling to whichever side the member is on.
    let own_side = if member.is_artist() {
        Actor::Seller
    } else {
        Actor::Buyer
    };
    let (action, side) = match action.as_str() {
        "accept" => (Action::Accept, Actor::Seller),
        "ship" => (Action::Ship, Actor::Seller),
        "pay" => (Action::Pay, Actor::Buyer),
        "complete" => (Action::Complete, Actor::Buyer),
        "cancel" => (Action::Cancel, own_side),
        _ => return Err(ApiError::not_found("There is no such step.").into()),
    };
    let done = if action == Action::Pay {
        orders::pay(&state, &member, id).await.map(|_| ())
    } else {
        orders::act(&state, &member, id, side, action).await.map(|_| ())
    };
    match done {
        Ok(()) => Ok(see(&format!("/orders/{id}"))),
        Err(error) => {
            let (status, form) = form_failure(error, fields)?;
            order_page(
                &state,
                &visitor,
                &member,
                id,
                Some((status, form.summary.unwrap_or_default())),
            )
            .await
        }
    }
}
