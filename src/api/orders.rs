//! The orders' routes: purchase requests and their workflow.

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{json_response, Message};
use crate::auth::{Collector, CurrentMember, Staff};
use crate::error::{ApiError, ApiResult};
use crate::input::{id, id_list, parsed, Fields, Id, JsonBody, OptionalJsonBody, Parser};
use crate::members::UserType;
use crate::money::parse_decimal;
use crate::orders::rules::{Action, Actor, OrderStatus};
use crate::orders::{self, Event, Listing, OrderView, Review, Viewer};
use crate::paging::{json_array, query_pairs, stream_array, Paging};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Reviewed {
    message: &'static str,
    status: OrderStatus,
}

#[derive(Serialize, ToSchema)]
pub struct Paid {
    message: &'static str,
    new_quantity: i64,
    is_for_sale: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Unviewed {
    has_unviewed_orders: bool,
    count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MarkedViewed {
    message: String,
    #[schema(value_type = i64)]
    updated: u64,
}

/// A price the client quotes: any decimal; compared with the server's total.
fn quoted_price() -> Parser<rust_decimal::Decimal> {
    Box::new(|value| {
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err("A valid number is required.".into()),
        };
        parse_decimal(&text).ok_or_else(|| "A valid number is required.".to_owned())
    })
}

/// Asks to buy an artwork. The price is the server's: artwork price plus shipping from
/// the seller's postcode to the buyer's.
#[utoipa::path(post, path = "/api/orders/create/", tag = "orders", params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to the same request within 24 hours")), request_body(content = CreateOrder, content_type = "application/json"), responses((status = 201, description = "Requested", body = OrderView), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json"), (status = 422, description = "Idempotency-Key reused for another request", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn create_order(
    State(state): State<AppState>,
    Collector(member): Collector,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let request = CreateOrder::read(&body)?;
    let order = orders::place(&state, &member, request.artwork_id, request.final_price).await?;
    Ok((StatusCode::CREATED, Json(order.view(Viewer::Buyer, state.clock.now()))))
}

/// The seller accepts or cancels an order.
#[utoipa::path(patch, path = "/api/orders/review/{id}", tag = "orders", params(("id" = i64, Path, description = "Id")), request_body(content = Review, content_type = "application/json"), responses((status = 200, description = "Accepted or cancelled", body = Reviewed), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn review_order(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Reviewed>> {
    let (action, order) = orders::review(&state, &member, id, &body).await?;
    let message = match action {
        Action::Accept => "Order accepted",
        _ => "Order cancelled",
    };
    Ok(Json(Reviewed {
        message,
        status: order.status,
    }))
}

/// The buyer withdraws their request (pending or accepted).
#[utoipa::path(patch, path = "/api/orders/cancel/{id}", tag = "orders", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "Cancelled", body = OrderView), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn cancel_order(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<Json<OrderView>> {
    let order = orders::act(&state, &member, id, Actor::Buyer, Action::Cancel).await?;
    Ok(Json(order.view(Viewer::Buyer, state.clock.now())))
}

/// The seller marks a paid order as shipped.
#[utoipa::path(patch, path = "/api/orders/shipped/{id}", tag = "orders", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "Shipped", body = Message), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn ship_order(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<Json<Message>> {
    orders::act(&state, &member, id, Actor::Seller, Action::Ship).await?;
    Ok(Json(Message::new("Order status updated to shipped.")))
}

/// The buyer confirms receipt of a shipped order.
#[utoipa::path(patch, path = "/api/orders/complete/{id}", tag = "orders", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "Completed", body = OrderView), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn complete_order(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<Json<OrderView>> {
    let order = orders::act(&state, &member, id, Actor::Buyer, Action::Complete).await?;
    Ok(Json(order.view(Viewer::Buyer, state.clock.now())))
}

/// The buyer pays for an accepted order: atomically one unit leaves the stock (never
/// below zero); the last unit takes the artwork off sale and cancels its other open
/// orders. The body (a demo card form) is ignored and never stored or logged.
#[utoipa::path(patch, path = "/api/orders/payment/{id}", tag = "orders", params(("id" = i64, Path, description = "Id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to the same request within 24 hours")), responses((status = 200, description = "Paid", body = Paid), (status = 400, description = "Invalid Idempotency-Key", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json"), (status = 422, description = "Idempotency-Key reused for another request", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn pay_order(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<Json<Paid>> {
    let stock = orders::pay(&state, &member, id).await?;
    Ok(Json(Paid {
        message: "Payment successful, order is ready to ship.",
        new_quantity: stock.quantity,
        is_for_sale: stock.is_for_sale,
    }))
}

/// One order, for its buyer or seller.
#[utoipa::path(get, path = "/api/orders/order-details/{id}", tag = "orders", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "The order", body = OrderView), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn get_order(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<Json<OrderView>> {
    let (order, party) = orders::for_party(&state, &member, id).await?;
    Ok(Json(order.view(Viewer::of(party), state.clock.now())))
}

/// An order's timeline, oldest first, for its buyer or seller.
#[utoipa::path(get, path = "/api/orders/{id}/events/", tag = "orders", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "The timeline, oldest first", body = Vec<Event>), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_order_events(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<Json<Vec<Event>>> {
    orders::for_party(&state, &member, id).await?;
    Ok(Json(orders::events(&state.db, id).await?))
}

/// Orders of `listing`, newest first: one page, or the whole list streamed.
async fn order_list(state: AppState, uri: &axum::http::Uri, listing: Listing, viewer: Viewer) -> ApiResult<Response> {
    let paging = Paging::from_pairs(&query_pairs(uri))?;
    let total = orders::count(&state.db, listing, None).await?;
    let headers = paging.headers(uri, total);
    let read = move |state: AppState, cursor, page| async move {
        let now = state.clock.now();
        orders::list_json(&state.db, listing, viewer, cursor, page, now).await
    };
    match paging {
        Paging::Page(page) => {
            let (views, _) = read(state, crate::paging::Cursor::default(), Some(page)).await?;
            Ok(json_response(headers, json_array(&views)))
        }
        Paging::Whole => Ok(stream_array(headers, state.first_chunk(), move |cursor| {
            read(state.clone(), cursor, None)
        })),
    }
}

/// The caller's orders as buyer, newest first.
#[utoipa::path(get, path = "/api/orders/purchase-requests/", tag = "orders", params(("page" = Option<i64>, Query, description = "Page number, from 1. With neither page nor per_page, the whole list is returned, streamed"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The caller's orders as buyer", body = Vec<OrderView>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_purchases(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    order_list(state, &uri, Listing::Buyer(member.id), Viewer::Buyer).await
}

/// The caller's orders as seller, newest first.
#[utoipa::path(get, path = "/api/orders/seller/", tag = "orders", params(("page" = Option<i64>, Query, description = "Page number, from 1. With neither page nor per_page, the whole list is returned, streamed"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The caller's orders as seller", body = Vec<OrderView>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_sales(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    order_list(state, &uri, Listing::Seller(member.id), Viewer::Seller).await
}

/// Every order, newest first (staff only).
#[utoipa::path(get, path = "/api/orders/all/", tag = "orders", params(("page" = Option<i64>, Query, description = "Page number, from 1. With neither page nor per_page, the whole list is returned, streamed"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "Every order (staff)", body = Vec<OrderView>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_all_orders(
    State(state): State<AppState>,
    Staff(_): Staff,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    order_list(state, &uri, Listing::All, Viewer::Staff).await
}

/// Whether the caller has orders with news they have not seen.
#[utoipa::path(get, path = "/api/orders/unviewed-orders/", tag = "orders", responses((status = 200, description = "Unviewed orders on the caller's side", body = Unviewed), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn count_unviewed_orders(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
) -> ApiResult<Json<Unviewed>> {
    let count = orders::unviewed(&state.db, member.id, member.user_type).await?;
    Ok(Json(Unviewed {
        has_unviewed_orders: count > 0,
        count,
    }))
}

/// Marks the caller's orders (all of one side, or the given ids) as viewed.
#[utoipa::path(post, path = "/api/orders/mark-viewed/", tag = "orders", request_body(content = MarkViewed, content_type = "application/json"), responses((status = 200, description = "Marked", body = MarkedViewed), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn mark_orders_viewed(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<Json<MarkedViewed>> {
    let request = MarkViewed::read(&body)?;
    let side = request.user_type.unwrap_or(member.user_type);
    let updated = orders::mark_viewed(&state.db, member.id, side, request.order_ids.as_deref()).await?;
    let message = format!("Marked {updated} orders as viewed");
    Ok(Json(MarkedViewed { message, updated }))
}

/// A purchase request.
#[derive(ToSchema)]
pub struct CreateOrder {
    artwork_id: i64,
    /// The total the client showed; refused (409) when more than 0.01 away.
    #[schema(value_type = Option<f64>)]
    final_price: Option<rust_decimal::Decimal>,
}

impl CreateOrder {
    fn read(body: &Map<String, Value>) -> ApiResult<Self> {
        let mut f = Fields::new(body);
        let (artwork_id, final_price) = (
            f.required("artwork_id", id()),
            f.optional("final_price", quoted_price()),
        );
        let Some(artwork_id) = artwork_id else {
            return Err(ApiError::invalid(f.errors));
        };
        f.finish()?;
        Ok(Self {
            artwork_id,
            final_price,
        })
    }
}

/// Which of the caller's orders to mark viewed: one side (their own by default), all
/// of it or the given ids.
#[derive(ToSchema)]
pub struct MarkViewed {
    user_type: Option<UserType>,
    order_ids: Option<Vec<i64>>,
}

impl MarkViewed {
    fn read(body: &Map<String, Value>) -> ApiResult<Self> {
        let mut f = Fields::new(body);
        let user_type = f.optional("user_type", parsed(UserType::parse));
        let order_ids = f.optional("order_ids", id_list("order"));
        f.finish()?;
        Ok(Self { user_type, order_ids })
    }
}
