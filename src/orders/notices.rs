//! Who is told of each step of an order, and what they read: the notifications the
//! workflow writes, in the transaction of the step.

use sqlx::Row;

use super::rules::{Actor, OrderStatus};
use crate::db::{flag, Tx};
use crate::notifications::{self, Kind};

/// Who took a step, as the timeline records it.
pub struct Step<'a> {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub actor: Actor,
    /// Why the system took it (sold out, withdrawn, auto-completed).
    pub reason: Option<&'a str>,
}

/// Who is told of a step, and how.
fn recipients(step: &Step<'_>) -> Vec<(Actor, Kind)> {
    use OrderStatus::*;
    match (step.from, step.to, step.actor) {
        (None, Pending, _) => vec![(Actor::Seller, Kind::OrderRequested)],
        (_, Accepted, _) => vec![(Actor::Buyer, Kind::OrderAccepted)],
        (_, ReadyToShip, _) => vec![(Actor::Seller, Kind::OrderPaid)],
        (_, Shipped, _) => vec![(Actor::Buyer, Kind::OrderShipped)],
        (_, Completed, Actor::System) => vec![
            (Actor::Buyer, Kind::OrderCompleted),
            (Actor::Seller, Kind::OrderCompleted),
        ],
        (_, Completed, _) => vec![(Actor::Seller, Kind::OrderCompleted)],
        (_, Cancelled, Actor::Seller) => vec![(Actor::Buyer, Kind::OrderRejected)],
        (_, Cancelled, Actor::Buyer) => vec![(Actor::Seller, Kind::OrderCancelled)],
        (_, Cancelled, Actor::System) => vec![(Actor::Buyer, Kind::OrderCancelled)],
        (Some(_), Pending, _) => Vec::new(),
    }
}

/// What the recipient reads.
fn text(kind: Kind, step: &Step<'_>, title: &str, buyer: &str, seller: &str) -> String {
    match kind {
        Kind::OrderRequested => format!("{buyer} asked to buy “{title}”."),
        Kind::OrderAccepted => format!("{seller} accepted your request for “{title}”: you can pay now."),
        Kind::OrderRejected => format!("{seller} declined your order for “{title}”."),
        Kind::OrderCancelled if step.actor == Actor::System => match step.reason {
            Some("artwork withdrawn") => format!("Your order for “{title}” was cancelled: the artist withdrew it."),
            Some("sold out") => format!("Your order for “{title}” was cancelled: the last copy was sold."),
            _ => format!("Your order for “{title}” was cancelled."),
        },
        Kind::OrderCancelled => format!("{buyer} cancelled the order for “{title}”."),
        Kind::OrderPaid => format!("{buyer} paid for “{title}”: it is ready to ship."),
        Kind::OrderShipped => format!("{seller} shipped “{title}”."),
        Kind::OrderCompleted if step.actor == Actor::System => {
            format!("The order for “{title}” completed automatically after shipping.")
        }
        Kind::OrderCompleted => format!("{buyer} received “{title}”: the order is complete."),
    }
}

/// Tells the parties of an order of one of its steps, inside the step's transaction.
pub async fn notify(tx: &mut Tx, order_id: i64, step: &Step<'_>, at: &str) -> Result<(), sqlx::Error> {
    let told = recipients(step);
    if told.is_empty() {
        return Ok(());
    }
    let order = sqlx::query(
        "SELECT o.buyer_id, o.seller_id, o.artwork_id, a.title, \
         b.first_name AS buyer_first, b.last_name AS buyer_last, b.email_notifications AS buyer_email, \
         s.first_name AS seller_first, s.last_name AS seller_last, s.email_notifications AS seller_email \
         FROM orders o JOIN artworks a ON a.id = o.artwork_id \
         JOIN members b ON b.id = o.buyer_id JOIN members s ON s.id = o.seller_id WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_one(&mut **tx)
    .await?;
    let title: String = order.try_get("title")?;
    let name = |first: &str, last: &str| -> Result<String, sqlx::Error> {
        Ok(format!(
            "{} {}",
            order.try_get::<String, _>(first)?,
            order.try_get::<String, _>(last)?
        ))
    };
    let buyer = name("buyer_first", "buyer_last")?;
    let seller = name("seller_first", "seller_last")?;
    for (party, kind) in told {
        let (recipient, email) = match party {
            Actor::Seller => (order.try_get("seller_id")?, flag(&order, "seller_email")?),
            _ => (order.try_get("buyer_id")?, flag(&order, "buyer_email")?),
        };
        let new = notifications::New {
            recipient,
            kind,
            order: order_id,
            artwork: order.try_get("artwork_id")?,
            text: text(kind, step, &title, &buyer, &seller),
            email,
        };
        notifications::record(tx, new, at).await?;
    }
    Ok(())
}
