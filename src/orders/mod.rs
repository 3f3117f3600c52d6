//! Orders: purchase requests and their workflow, with both parties notified of every
//! change. Each transition is one transaction whose guard is part of the write; its
//! timeline row is written in the same transaction.

mod notices;
pub mod rules;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::clock;
use crate::db::{flag, placeholders, timestamp, Backend, Bind, Binds, Columns, Db, Reads, Tx};
use crate::error::{ApiError, ApiResult};
use crate::input::{parsed, Fields};
use crate::json_sql::JsonSql;
use crate::members::{Member, UserType};
use crate::money::{Measure, Money};
use crate::paging::{Cursor, Direction, Page, RawJson};
use crate::postcode::outward_code;
use crate::shipping::{self, Parcel};
use crate::sqlite_reads;
use crate::state::AppState;
use rules::{Action, Actor, OrderStatus, Refusal};

/// An order with what its parties may see of each other.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub price: Money,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub viewed_by_buyer: bool,
    pub viewed_by_seller: bool,
    pub buyer: Party,
    pub seller: Party,
    pub artwork: ArtworkInfo,
    /// The buyer's address as it was when the order was paid.
    pub delivery: Option<Delivery>,
    /// When the order was completed or cancelled.
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub address: String,
    pub postcode: String,
}

/// How long after an order is closed its seller still sees where it went.
const DELIVERY_KEPT: chrono::Duration = chrono::Duration::days(30);

#[derive(Debug, Clone)]
pub struct Party {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub address: String,
    pub postcode: String,
    pub bio: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArtworkInfo {
    pub id: i64,
    pub title: String,
    #[schema(value_type = f64)]
    pub width: Measure,
    #[schema(value_type = f64)]
    pub depth: Measure,
    #[schema(value_type = f64)]
    pub height: Measure,
    #[schema(value_type = f64)]
    pub weight: Measure,
}

/// What a party sees of the buyer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BuyerInfo {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    /// Empty for the seller until the order is paid.
    pub address: String,
    /// The outward code only, for the seller until the order is paid.
    pub postcode: String,
}

/// What a party sees of the seller: never an address, and only the outward code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SellerInfo {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub bio: String,
    pub postcode: String,
}

/// The order representation of the contract.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub id: i64,
    #[schema(value_type = f64)]
    pub price: Money,
    pub status: OrderStatus,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "clock::serialize_stored")]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "clock::serialize_stored")]
    pub updated_at: DateTime<Utc>,
    pub viewed_by_buyer: bool,
    pub viewed_by_seller: bool,
    pub buyer_info: BuyerInfo,
    pub seller_info: SellerInfo,
    pub artwork_info: ArtworkInfo,
}

/// Who is looking at an order decides what they see of the other party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Buyer,
    Seller,
    Staff,
}

impl Order {
    /// The order as `viewer` may see it at `now`.
    pub fn view(&self, viewer: Viewer, now: DateTime<Utc>) -> OrderView {
        // Once paid, the order ships to the address copied then. The seller sees it
        // because they need it to ship, and only until 30 days after the order closed;
        // before payment they see the outward code only.
        let current = || (self.buyer.address.clone(), self.buyer.postcode.clone());
        let copied = self.delivery.as_ref().map(|d| (d.address.clone(), d.postcode.clone()));
        // Never where the buyer moved since: the outward code of the copy, if any.
        let hidden = || {
            let postcode = self.delivery.as_ref().map_or(&self.buyer.postcode, |d| &d.postcode);
            (String::new(), outward_code(postcode).to_owned())
        };
        let (address, postcode) = match viewer {
            Viewer::Buyer | Viewer::Staff => copied.unwrap_or_else(current),
            Viewer::Seller => {
                let kept = self.closed_at.is_none_or(|closed| now - closed < DELIVERY_KEPT);
                match copied {
                    Some(copy) if self.status.is_paid() && kept => copy,
                    _ => hidden(),
                }
            }
        };
        OrderView {
            id: self.id,
            price: self.price,
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            viewed_by_buyer: self.viewed_by_buyer,
            viewed_by_seller: self.viewed_by_seller,
            buyer_info: BuyerInfo {
                id: self.buyer.id,
                username: self.buyer.username.clone(),
                first_name: self.buyer.first_name.clone(),
                last_name: self.buyer.last_name.clone(),
                address,
                postcode,
            },
            seller_info: SellerInfo {
                id: self.seller.id,
                username: self.seller.username.clone(),
                first_name: self.seller.first_name.clone(),
                last_name: self.seller.last_name.clone(),
                bio: self.seller.bio.clone(),
                postcode: outward_code(&self.seller.postcode).to_owned(),
            },
            artwork_info: self.artwork.clone(),
        }
    }

    /// The caller's side of this order, if they are a party to it.
    fn party_of(&self, member: &Member) -> Option<Actor> {
        if member.id == self.buyer.id {
            Some(Actor::Buyer)
        } else if member.id == self.seller.id {
            Some(Actor::Seller)
        } else {
            None
        }
    }
}

const ORDER_COLUMNS: &str = "o.id, o.price_pence, o.status, o.created_at, o.updated_at, o.viewed_by_buyer, \
     o.viewed_by_seller, o.buyer_id, b.username AS b_username, b.first_name AS b_first_name, \
     b.last_name AS b_last_name, b.address AS b_address, b.postcode AS b_postcode, b.bio AS b_bio, \
     o.seller_id, s.username AS s_username, s.first_name AS s_first_name, s.last_name AS s_last_name, \
     s.address AS s_address, s.postcode AS s_postcode, s.bio AS s_bio, \
     o.delivery_address, o.delivery_postcode, o.closed_at, \
     o.artwork_id, a.title, a.width_hundredths, a.depth_hundredths, a.height_hundredths, a.weight_hundredths";

/// An order (`o`) with its buyer (`b`), seller (`s`) and artwork (`a`).
const ORDER_FROM: &str = "FROM orders o JOIN members b ON b.id = o.buyer_id JOIN members s ON s.id = o.seller_id \
     JOIN artworks a ON a.id = o.artwork_id";

/// An order's row ([`ORDER_COLUMNS`], read by position) from any engine's rows.
fn order_from_row<R: Columns>(row: &R) -> Result<Order, R::Error> {
    let party = |first: usize| -> Result<Party, R::Error> {
        Ok(Party {
            id: row.int(first)?,
            username: row.text(first + 1)?,
            first_name: row.text(first + 2)?,
            last_name: row.text(first + 3)?,
            address: row.text(first + 4)?,
            postcode: row.text(first + 5)?,
            bio: row.text(first + 6)?,
        })
    };
    let measure = |i: usize| row.int(i).map(Measure::from_hundredths);
    let status = row.str(2)?;
    Ok(Order {
        id: row.int(0)?,
        price: Money::from_hundredths(row.int(1)?),
        status: OrderStatus::parse(status)
            .ok_or_else(|| row.invalid(2, format!("{status:?} is not a known value").into()))?,
        created_at: row.timestamp(3)?,
        updated_at: row.timestamp(4)?,
        viewed_by_buyer: row.flag(5)?,
        viewed_by_seller: row.flag(6)?,
        buyer: party(7)?,
        seller: party(14)?,
        delivery: match (row.optional_text(21)?, row.optional_text(22)?) {
            (Some(address), Some(postcode)) => Some(Delivery { address, postcode }),
            _ => None,
        },
        closed_at: row.optional_timestamp(23)?,
        artwork: ArtworkInfo {
            id: row.int(24)?,
            title: row.text(25)?,
            width: measure(26)?,
            depth: measure(27)?,
            height: measure(28)?,
            weight: measure(29)?,
        },
    })
}

async fn find_order<'c, E>(executor: E, id: i64) -> Result<Option<Order>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(&format!("SELECT {ORDER_COLUMNS} {ORDER_FROM} WHERE o.id = $1"))
        .bind(id)
        .fetch_optional(executor)
        .await?
        .map(|row| order_from_row(&row))
        .transpose()
}

fn order_not_found() -> ApiError {
    ApiError::not_found("Order not found.")
}

/// Loads an order the caller is a party to; anyone else gets 404, as for a missing order.
pub async fn for_party(state: &AppState, member: &Member, id: i64) -> ApiResult<(Order, Actor)> {
    let order = find_order(state.db.pool(), id).await?.ok_or_else(order_not_found)?;
    let party = order.party_of(member).ok_or_else(order_not_found)?;
    Ok((order, party))
}

impl Viewer {
    /// How a party to an order sees it.
    pub fn of(party: Actor) -> Self {
        match party {
            Actor::Seller => Self::Seller,
            _ => Self::Buyer,
        }
    }
}

/// Who took a step of an order's timeline.
enum By<'a> {
    /// A party to the order, and their member id.
    Party(Actor, i64),
    /// The system, and why (sold out, withdrawn, auto-completed).
    System(&'a str),
}

/// Records a transition in the order's timeline, inside the transition's transaction.
async fn record_event(
    tx: &mut Tx,
    order_id: i64,
    (from, to): (Option<OrderStatus>, OrderStatus),
    by: By<'_>,
    at: &str,
) -> Result<(), sqlx::Error> {
    let (actor, actor_id, reason) = match by {
        By::Party(actor, id) => (actor, Some(id), None),
        By::System(reason) => (Actor::System, None, Some(reason)),
    };
    sqlx::query(
        "INSERT INTO order_events (order_id, from_status, to_status, actor, actor_id, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(order_id)
    .bind(from.map(OrderStatus::as_str))
    .bind(to.as_str())
    .bind(actor.as_str())
    .bind(actor_id)
    .bind(reason)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    let step = notices::Step {
        from,
        to,
        actor,
        reason,
    };
    notices::notify(tx, order_id, &step, at).await
}

/// Cancels every open order for an artwork (sold out, withdrawn), notifying each buyer.
/// Pending ones first: an order can only move forward from pending to accepted, so one
/// that is accepted between the two statements is still caught by the second.
pub async fn cancel_open_orders(tx: &mut Tx, artwork_id: i64, reason: &str, now: &str) -> Result<usize, sqlx::Error> {
    let mut cancelled = 0;
    for from in [OrderStatus::Pending, OrderStatus::Accepted] {
        let ids: Vec<i64> = sqlx::query(
            "UPDATE orders SET status = $4, viewed_by_buyer = FALSE, updated_at = $1, closed_at = $1 \
             WHERE artwork_id = $2 AND status = $3 RETURNING id",
        )
        .bind(now)
        .bind(artwork_id)
        .bind(from.as_str())
        .bind(OrderStatus::Cancelled.as_str())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?;
        for id in &ids {
            record_event(tx, *id, (Some(from), OrderStatus::Cancelled), By::System(reason), now).await?;
        }
        cancelled += ids.len();
    }
    Ok(cancelled)
}

/// The seller reviews a request: `{"action": "accept"}` or `{"action": "cancel"}`. Only
/// the seller may, which is checked before the form is read.
pub async fn review(
    state: &AppState,
    seller: &Member,
    id: i64,
    form: &Map<String, Value>,
) -> ApiResult<(Action, Order)> {
    let loaded = for_party(state, seller, id).await?;
    if loaded.1 != Actor::Seller {
        return Err(ApiError::forbidden("Only the seller can review this order."));
    }
    let Review { action } = Review::read(form)?;
    Ok((action, apply(state, seller, loaded, Actor::Seller, action).await?))
}

/// A seller's review of a request.
#[derive(utoipa::ToSchema)]
pub struct Review {
    #[schema(value_type = String, pattern = "^(accept|cancel)$")]
    action: Action,
}

impl Review {
    fn read(form: &Map<String, Value>) -> ApiResult<Self> {
        let mut f = Fields::new(form);
        let review = parsed(|input: &str| match input {
            "accept" => Ok(Action::Accept),
            "cancel" => Ok(Action::Cancel),
            other => Err(format!(
                "\"{other}\" is not a valid action; use \"accept\" or \"cancel\"."
            )),
        });
        match f.required("action", review) {
            Some(action) => Ok(Self { action }),
            None => Err(ApiError::invalid(f.errors)),
        }
    }
}

/// Applies `action` for the caller, who must be `route_party` on this order.
/// The guard (`status = the status read`) is part of the write; losing a race is a 409.
async fn apply(
    state: &AppState,
    member: &Member,
    (order, party): (Order, Actor),
    route_party: Actor,
    action: Action,
) -> ApiResult<Order> {
    let id = order.id;
    if party != route_party {
        return Err(ApiError::forbidden(format!(
            "Only the {} can {} this order.",
            route_party.as_str(),
            action.verb()
        )));
    }
    let to = next_status(order.status, action, party)?;
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin_notifying().await?;
    let notify = match party {
        Actor::Buyer => "viewed_by_seller",
        _ => "viewed_by_buyer",
    };
    let shipped_at = if to == OrderStatus::Shipped {
        ", shipped_at = $1"
    } else if matches!(to, OrderStatus::Completed | OrderStatus::Cancelled) {
        ", closed_at = $1"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE orders SET status = $2, {notify} = FALSE, updated_at = $1{shipped_at} WHERE id = $3 AND status = $4"
    );
    let changed = sqlx::query(&sql)
        .bind(&now)
        .bind(to.as_str())
        .bind(id)
        .bind(order.status.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed != 1 {
        return Err(raced(action));
    }
    record_event(&mut tx, id, (Some(order.status), to), By::Party(party, member.id), &now).await?;
    let order = find_order(&mut *tx, id).await?.ok_or_else(order_not_found)?;
    tx.commit().await?;
    // Streams on this instance hear of it at once (others at their next look).
    state.live.poke();
    tracing::info!(order.id = id, order.status = to.as_str(), "order {}", action.verb());
    Ok(order)
}

/// Loads the caller's order and applies `action` to it.
pub async fn act(state: &AppState, member: &Member, id: i64, route_party: Actor, action: Action) -> ApiResult<Order> {
    let loaded = for_party(state, member, id).await?;
    apply(state, member, loaded, route_party, action).await
}

fn next_status(from: OrderStatus, action: Action, party: Actor) -> ApiResult<OrderStatus> {
    rules::transition(from, action, party).map_err(|refusal| match refusal {
        Refusal::WrongParty => {
            ApiError::forbidden(format!("The {} cannot {} this order.", party.as_str(), action.verb()))
        }
        Refusal::NotAllowed => {
            ApiError::conflict(format!("Cannot {} an order that is {}.", action.verb(), from.as_str()))
        }
    })
}

fn raced(action: Action) -> ApiError {
    ApiError::conflict(format!(
        "The order changed while it was being updated; it can no longer be {}.",
        match action {
            Action::Accept => "accepted",
            Action::Cancel => "cancelled",
            Action::Pay => "paid for",
            Action::Ship => "shipped",
            Action::Complete => "completed",
        }
    ))
}

/// Completes shipped orders whose shipping is older than AUTO_COMPLETE_DAYS; returns how
/// many. Safe to run from several instances at once: the guard is in the write.
pub async fn complete_overdue(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.clock.now();
    let cutoff = clock::to_db(now - chrono::Duration::days(state.config.auto_complete_days));
    let now = clock::to_db(now);
    let mut tx = state.db.begin_notifying().await?;
    let ids: Vec<i64> = sqlx::query(
        "UPDATE orders SET status = $3, viewed_by_seller = FALSE, updated_at = $1, closed_at = $1 \
         WHERE status = $4 AND shipped_at <= $2 RETURNING id",
    )
    .bind(&now)
    .bind(&cutoff)
    .bind(OrderStatus::Completed.as_str())
    .bind(OrderStatus::Shipped.as_str())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect::<Result<_, _>>()?;
    for id in &ids {
        let step = (Some(OrderStatus::Shipped), OrderStatus::Completed);
        record_event(&mut tx, *id, step, By::System("auto-completed"), &now).await?;
    }
    tx.commit().await?;
    // Streams on this instance hear of it at once (others at their next look).
    state.live.poke();
    if !ids.is_empty() {
        tracing::info!(count = ids.len(), "orders auto-completed");
    }
    Ok(ids.len())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub actor: Actor,
    pub actor_id: Option<i64>,
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
}

/// A text column read into the enum it stores.
fn decoded<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.into(),
        source: format!("{text:?} is not a known value").into(),
    })
}

/// What an order is placed on: a locked artwork for sale, and the parcel to ship.
struct ForSale {
    seller_id: i64,
    parcel: Parcel,
}

/// Locks the artwork row first (as payment and withdrawal do): no order is placed for
/// an artwork being withdrawn or sold out at the same moment. Nobody buys their own.
async fn lock_for_sale(tx: &mut Tx, artwork_id: i64, buyer: &Member) -> ApiResult<ForSale> {
    let artwork = sqlx::query(
        "UPDATE artworks SET quantity_for_sale = quantity_for_sale WHERE id = $1 AND archived_at IS NULL \
         RETURNING artist_id, price_pence, quantity_for_sale, is_for_sale, width_hundredths, depth_hundredths, \
         height_hundredths, weight_hundredths",
    )
    .bind(artwork_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ApiError::not_found("Artwork not found."))?;
    let seller_id: i64 = artwork.try_get("artist_id")?;
    if seller_id == buyer.id {
        return Err(ApiError::forbidden("You cannot buy your own artwork."));
    }
    let quantity: i64 = artwork.try_get("quantity_for_sale")?;
    if quantity <= 0 || !flag(&artwork, "is_for_sale")? {
        return Err(ApiError::conflict("This artwork is not for sale."));
    }
    let measure = |column: &str| artwork.try_get::<i64, _>(column).map(Measure::from_hundredths);
    Ok(ForSale {
        seller_id,
        parcel: Parcel {
            price: Money::from_hundredths(artwork.try_get("price_pence")?),
            width: measure("width_hundredths")?,
            depth: measure("depth_hundredths")?,
            height: measure("height_hundredths")?,
            weight: measure("weight_hundredths")?,
        },
    })
}

/// A total the buyer was shown must be the server's, to the penny.
fn check_quote(asked: Option<rust_decimal::Decimal>, total: Money) -> ApiResult<()> {
    let Some(asked) = asked else { return Ok(()) };
    let difference = asked.checked_sub(total.to_decimal()).map(|d| d.abs());
    if difference.is_none_or(|d| d > rust_decimal::Decimal::new(1, 2)) {
        let mut extra = Map::new();
        extra.insert("quoted_price".into(), json!(total));
        return Err(ApiError::Conflict {
            detail: format!("The price has changed: the total is now £{total}."),
            extra,
        });
    }
    Ok(())
}

/// A collector asks to buy an artwork. The price is the server's: the artwork's price
/// plus shipping from the seller's postcode to the buyer's; `quoted`, the total the
/// buyer was shown, must match it. One open order per buyer and artwork.
pub async fn place(
    state: &AppState,
    buyer: &Member,
    artwork_id: i64,
    quoted: Option<rust_decimal::Decimal>,
) -> ApiResult<Order> {
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin_notifying().await?;
    let artwork = lock_for_sale(&mut tx, artwork_id, buyer).await?;
    let seller_postcode: String = sqlx::query_scalar("SELECT postcode FROM members WHERE id = $1")
        .bind(artwork.seller_id)
        .fetch_one(&mut *tx)
        .await?;
    let total = shipping::quote(artwork.parcel, &seller_postcode, buyer.postcode.as_str()).total_price;
    check_quote(quoted, total)?;
    let inserted = sqlx::query(
        "INSERT INTO orders (buyer_id, seller_id, artwork_id, price_pence, status, viewed_by_buyer, viewed_by_seller, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $6, TRUE, FALSE, $5, $5) RETURNING id",
    )
    .bind(buyer.id)
    .bind(artwork.seller_id)
    .bind(artwork_id)
    .bind(total.hundredths())
    .bind(&now)
    .bind(OrderStatus::Pending.as_str())
    .fetch_one(&mut *tx)
    .await;
    let order_id: i64 = match inserted {
        Ok(row) => row.try_get("id")?,
        Err(e) if crate::error::unique_violation(&e).is_some() => {
            return Err(ApiError::conflict("You already have an open order for this artwork."));
        }
        Err(e) => return Err(e.into()),
    };
    let by = By::Party(Actor::Buyer, buyer.id);
    record_event(&mut tx, order_id, (None, OrderStatus::Pending), by, &now).await?;
    let order = find_order(&mut *tx, order_id).await?.ok_or_else(order_not_found)?;
    tx.commit().await?;
    // Streams on this instance hear of it at once (others at their next look).
    state.live.poke();
    tracing::info!(order.id = order_id, artwork.id = artwork_id, "order created");
    Ok(order)
}

/// What a payment left in stock.
pub struct Stock {
    pub quantity: i64,
    pub is_for_sale: bool,
}

/// The buyer pays for an accepted order: atomically one unit leaves the stock (never
/// below zero); the last unit takes the artwork off sale and cancels its other open
/// orders.
pub async fn pay(state: &AppState, buyer: &Member, id: i64) -> ApiResult<Stock> {
    let (order, party) = for_party(state, buyer, id).await?;
    if party != Actor::Buyer {
        return Err(ApiError::forbidden("Only the buyer can pay for this order."));
    }
    let to = next_status(order.status, Action::Pay, party)?;
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin_notifying().await?;
    // The artwork first, as everywhere: the stock guard is part of the write.
    let stock = sqlx::query(
        "UPDATE artworks SET quantity_for_sale = quantity_for_sale - 1, \
         is_for_sale = CASE WHEN quantity_for_sale > 1 THEN is_for_sale ELSE FALSE END, updated_at = $1 \
         WHERE id = $2 AND quantity_for_sale > 0 RETURNING quantity_for_sale, is_for_sale",
    )
    .bind(&now)
    .bind(order.artwork.id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::conflict("This artwork is sold out."))?;
    let stock = Stock {
        quantity: stock.try_get("quantity_for_sale")?,
        is_for_sale: flag(&stock, "is_for_sale")?,
    };
    let changed = sqlx::query(
        "UPDATE orders SET status = $1, viewed_by_seller = FALSE, updated_at = $2, \
         delivery_address = (SELECT address FROM members WHERE members.id = orders.buyer_id), \
         delivery_postcode = (SELECT postcode FROM members WHERE members.id = orders.buyer_id) \
         WHERE id = $3 AND status = $4",
    )
    .bind(to.as_str())
    .bind(&now)
    .bind(id)
    .bind(OrderStatus::Accepted.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(raced(Action::Pay));
    }
    record_event(&mut tx, id, (Some(order.status), to), By::Party(party, buyer.id), &now).await?;
    if stock.quantity == 0 {
        cancel_open_orders(&mut tx, order.artwork.id, "sold out", &now).await?;
    }
    tx.commit().await?;
    // Streams on this instance hear of it at once (others at their next look).
    state.live.poke();
    state.catalogue.invalidate();
    tracing::info!(
        order.id = id,
        artwork.id = order.artwork.id,
        new_quantity = stock.quantity,
        "order paid"
    );
    Ok(stock)
}

/// An order's timeline, oldest first.
pub async fn events(db: &Db, order_id: i64) -> ApiResult<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT id, from_status, to_status, actor, actor_id, reason, at FROM order_events WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(db.pool())
    .await?;
    let events = rows
        .iter()
        .map(|row| {
            Ok(Event {
                id: row.try_get("id")?,
                from: match row.try_get::<Option<String>, _>("from_status")? {
                    Some(_) => Some(decoded(row, "from_status", OrderStatus::parse)?),
                    None => None,
                },
                to: decoded(row, "to_status", OrderStatus::parse)?,
                actor: decoded(row, "actor", Actor::parse)?,
                actor_id: row.try_get("actor_id")?,
                reason: row.try_get("reason")?,
                at: timestamp(row, "at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(events)
}

/// Which orders a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Listing {
    /// A member's orders as buyer.
    Buyer(i64),
    /// A member's orders as seller.
    Seller(i64),
    /// Every order (staff).
    All,
}

impl Listing {
    /// What follows `FROM` in a list's query: its condition, newest first, and the page,
    /// or the chunk after `cursor`.
    fn rest(self, status: Option<OrderStatus>, cursor: &Cursor, page: Option<Page>, binds: &mut Binds) -> String {
        let mut condition = self.condition(status, binds);
        if let Some(after) = cursor.condition("o.created_at", "o.id", Direction::Desc, binds) {
            condition = format!("{condition} AND {after}");
        }
        let window = match page {
            Some(page) => page.window(binds),
            None => cursor.limit(binds),
        };
        format!("WHERE {condition} ORDER BY o.created_at DESC, o.id DESC {window}")
    }

    /// The list's condition, and the status it is narrowed to, if any.
    fn condition(self, status: Option<OrderStatus>, binds: &mut Binds) -> String {
        let whose = match self {
            Self::Buyer(id) => format!("o.buyer_id = {}", binds.push(Bind::Int(id))),
            Self::Seller(id) => format!("o.seller_id = {}", binds.push(Bind::Int(id))),
            Self::All => "1 = 1".to_owned(),
        };
        match status {
            Some(status) => format!(
                "{whose} AND o.status = {}",
                binds.push(Bind::Text(status.as_str().to_owned()))
            ),
            None => whose,
        }
    }
}

/// How many orders a list holds (in one status, if given).
pub async fn count(db: &Db, listing: Listing, status: Option<OrderStatus>) -> ApiResult<i64> {
    let mut binds = Binds::default();
    let sql = format!(
        "SELECT COUNT(*) FROM orders o WHERE {}",
        listing.condition(status, &mut binds)
    );
    Ok(binds.apply(sqlx::query(&sql)).fetch_one(db.pool()).await?.try_get(0)?)
}

/// Orders of a list, newest first: one page, or the chunk after `cursor` with the cursor
/// of the next.
pub async fn list(
    db: &Db,
    listing: Listing,
    status: Option<OrderStatus>,
    cursor: Cursor,
    page: Option<Page>,
) -> ApiResult<(Vec<Order>, Option<Cursor>)> {
    let mut binds = Binds::default();
    let rest = listing.rest(status, &cursor, page, &mut binds);
    let sql = format!("SELECT {ORDER_COLUMNS} {ORDER_FROM} {rest}");
    let orders = match db.reads() {
        // PostgreSQL's typed connections: through the `Any` driver, converting each
        // row's 30 columns cost more than the page's query.
        Reads::Postgres(readers) => {
            let (sql, binds) = (&sql, &binds);
            let rows = readers
                .read(|conn, _| Box::pin(binds.apply(sqlx::query(sql)).fetch_all(conn)))
                .await?;
            rows.iter().map(order_from_row).collect::<Result<Vec<_>, _>>()?
        }
        Reads::Sqlite(_) => {
            let rows = binds.apply(sqlx::query(&sql)).fetch_all(db.pool()).await?;
            rows.iter().map(order_from_row).collect::<Result<Vec<_>, _>>()?
        }
    };
    let last = orders.last().map(|o| (Bind::Text(clock::to_db(o.created_at)), o.id));
    let next = cursor.after(orders.len(), last).filter(|_| page.is_none());
    Ok((orders, next))
}

/// The SQL expression that writes order `o` ([`ORDER_FROM`]) as `viewer` sees it: what
/// [`Order::view`] serialised writes (tests compare the two). For the seller,
/// `kept_after` is the placeholder of the moment (stored form) before which a closed
/// order's delivery address is no longer shown.
fn order_json(backend: Backend, viewer: Viewer, kept_after: &str) -> String {
    let j = JsonSql(backend);
    let copied = "o.delivery_address IS NOT NULL AND o.delivery_postcode IS NOT NULL";
    let (address, postcode) = match viewer {
        Viewer::Buyer | Viewer::Staff => (
            format!("CASE WHEN {copied} THEN o.delivery_address ELSE b.address END"),
            format!("CASE WHEN {copied} THEN o.delivery_postcode ELSE b.postcode END"),
        ),
        Viewer::Seller => {
            let paid: Vec<String> = OrderStatus::ALL
                .into_iter()
                .filter(|s| s.is_paid())
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            let shown = format!(
                "{copied} AND o.status IN ({}) AND (o.closed_at IS NULL OR o.closed_at > {kept_after})",
                paid.join(", ")
            );
            let hidden = j.outward_code(&format!(
                "CASE WHEN {copied} THEN o.delivery_postcode ELSE b.postcode END"
            ));
            (
                format!("CASE WHEN {shown} THEN o.delivery_address ELSE '' END"),
                format!("CASE WHEN {shown} THEN o.delivery_postcode ELSE {hidden} END"),
            )
        }
    };
    j.text(&j.object(&[
        ("id", "o.id".into()),
        ("price", j.hundredths("o.price_pence")),
        ("status", "o.status".into()),
        ("created_at", "o.created_at".into()),
        ("updated_at", "o.updated_at".into()),
        ("viewed_by_buyer", j.boolean("o.viewed_by_buyer")),
        ("viewed_by_seller", j.boolean("o.viewed_by_seller")),
        (
            "buyer_info",
            j.object(&[
                ("id", "o.buyer_id".into()),
                ("username", "b.username".into()),
                ("first_name", "b.first_name".into()),
                ("last_name", "b.last_name".into()),
                ("address", address),
                ("postcode", postcode),
            ]),
        ),
        (
            "seller_info",
            j.object(&[
                ("id", "o.seller_id".into()),
                ("username", "s.username".into()),
                ("first_name", "s.first_name".into()),
                ("last_name", "s.last_name".into()),
                ("bio", "s.bio".into()),
                ("postcode", j.outward_code("s.postcode")),
            ]),
        ),
        (
            "artwork_info",
            j.object(&[
                ("id", "o.artwork_id".into()),
                ("title", "a.title".into()),
                ("width", j.hundredths("a.width_hundredths")),
                ("depth", j.hundredths("a.depth_hundredths")),
                ("height", j.hundredths("a.height_hundredths")),
                ("weight", j.hundredths("a.weight_hundredths")),
            ]),
        ),
    ]))
}

/// Orders of a list as `viewer` sees them at `now`, as JSON, newest first: one page, or
/// the chunk after `cursor` with the cursor of the next. SQLite writes the JSON;
/// PostgreSQL 15's JSON functions cost its server more than twice the plain rows do
/// (BENCHMARKS.md), so there serde writes the typed views.
pub async fn list_json(
    db: &Db,
    listing: Listing,
    viewer: Viewer,
    cursor: Cursor,
    page: Option<Page>,
    now: DateTime<Utc>,
) -> ApiResult<(Vec<RawJson>, Option<Cursor>)> {
    let Reads::Sqlite(readers) = db.reads() else {
        let (orders, next) = list(db, listing, None, cursor, page).await?;
        let views = orders
            .iter()
            .map(|order| serde_json::to_string(&order.view(viewer, now)).map(RawJson))
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::Internal(e.into()))?;
        return Ok((views, next));
    };
    let mut binds = Binds::default();
    let kept_after = binds.push(Bind::Text(clock::to_db(now - DELIVERY_KEPT)));
    let rest = listing.rest(None, &cursor, page, &mut binds);
    let json = order_json(Backend::Sqlite, viewer, &kept_after);
    let sql = format!("SELECT {json} AS view, o.created_at, o.id {ORDER_FROM} {rest}");
    let rows: Vec<(RawJson, String, i64)> = readers
        .run_blocking(move |conn| {
            sqlite_reads::rows(conn, &sql, &binds, |row| {
                Ok((RawJson(row.get(0)?), row.get(1)?, row.get(2)?))
            })
        })
        .await?;
    let last = rows
        .last()
        .map(|(_, created_at, id)| (Bind::Text(created_at.clone()), *id));
    let next = cursor.after(rows.len(), last).filter(|_| page.is_none());
    Ok((rows.into_iter().map(|(view, ..)| view).collect(), next))
}

/// The side of the orders a member watches: buyer for collectors, seller for artists.
fn side_column(user_type: UserType) -> (&'static str, &'static str) {
    match user_type {
        UserType::Collector => ("buyer_id", "viewed_by_buyer"),
        UserType::Artist => ("seller_id", "viewed_by_seller"),
    }
}

/// How many of a member's orders on their side have news they have not seen.
pub async fn unviewed(db: &Db, member_id: i64, side: UserType) -> ApiResult<i64> {
    // `NOT viewed`, spelt as the partial index's condition is, so both engines use it.
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        [UserType::Collector, UserType::Artist].map(|side| {
            let (owner, viewed) = side_column(side);
            format!("SELECT COUNT(*) FROM orders WHERE {owner} = $1 AND NOT {viewed}")
        })
    });
    let sql = &SQL[usize::from(side == UserType::Artist)];
    Ok(db.reads().int(sql, &Binds::from([Bind::Int(member_id)])).await?)
}

/// Marks a member's orders on one side (all, or those of `ids`) as viewed; returns how many changed.
pub async fn mark_viewed(db: &Db, member_id: i64, side: UserType, ids: Option<&[i64]>) -> ApiResult<u64> {
    let (owner, viewed) = side_column(side);
    let mut sql = format!("UPDATE orders SET {viewed} = TRUE WHERE {owner} = $1 AND NOT {viewed}");
    if let Some(ids) = ids {
        if ids.is_empty() {
            return Ok(0);
        }
        sql.push_str(&format!(" AND id IN ({})", placeholders(2, ids.len())));
    }
    let mut query = sqlx::query(&sql).bind(member_id);
    for id in ids.into_iter().flatten() {
        query = query.bind(*id);
    }
    let mut tx = db.begin().await?;
    let updated = query.execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    Ok(updated)
}

/// How many orders each of a seller's artworks has had: `(artwork id, count)`.
pub async fn counts_by_artwork(db: &Db, seller_id: i64) -> ApiResult<Vec<(i64, i64)>> {
    let rows = sqlx::query("SELECT artwork_id, COUNT(*) AS n FROM orders WHERE seller_id = $1 GROUP BY artwork_id")
        .bind(seller_id)
        .fetch_all(db.pool())
        .await?;
    let counts = rows
        .iter()
        .map(|row| Ok((row.try_get("artwork_id")?, row.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(counts)
}
