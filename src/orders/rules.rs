//! The order state machine as a pure function (SPEC Part A).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub enum OrderStatus {
    #[serde(rename = "pending")]
    Pending,
    #[serde(rename = "accepted")]
    Accepted,
    #[serde(rename = "ready to ship")]
    ReadyToShip,
    #[serde(rename = "shipped")]
    Shipped,
    #[serde(rename = "completed")]
    Completed,
    #[serde(rename = "cancelled")]
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        Self::Pending,
        Self::Accepted,
        Self::ReadyToShip,
        Self::Shipped,
        Self::Completed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::ReadyToShip => "ready to ship",
            Self::Shipped => "shipped",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == input)
    }

    /// Paid for: the seller now needs the buyer's address to ship.
    pub fn is_paid(self) -> bool {
        matches!(self, Self::ReadyToShip | Self::Shipped | Self::Completed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Cancel,
    Pay,
    Ship,
    Complete,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Cancel => "cancel",
            Self::Pay => "pay for",
            Self::Ship => "ship",
            Self::Complete => "complete",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    Buyer,
    Seller,
    System,
}

impl Actor {
    pub fn parse(input: &str) -> Option<Self> {
        [Self::Buyer, Self::Seller, Self::System]
            .into_iter()
            .find(|a| a.as_str() == input)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buyer => "buyer",
            Self::Seller => "seller",
            Self::System => "system",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This party may never take this action (403).
    WrongParty,
    /// Not from this state (409).
    NotAllowed,
}

/// Who may take an action at all.
fn may_act(action: Action, actor: Actor) -> bool {
    use Actor::*;
    match action {
        Action::Accept | Action::Ship => actor == Seller,
        Action::Pay => actor == Buyer,
        Action::Cancel => true,
        Action::Complete => matches!(actor, Buyer | System),
    }
}

/// The next status when `actor` takes `action` on an order in `from`.
pub fn transition(from: OrderStatus, action: Action, actor: Actor) -> Result<OrderStatus, Refusal> {
    use OrderStatus::*;
    if !may_act(action, actor) {
        return Err(Refusal::WrongParty);
    }
    match (from, action) {
        (Pending, Action::Accept) => Ok(Accepted),
        (Pending | Accepted, Action::Cancel) => Ok(Cancelled),
        (Accepted, Action::Pay) => Ok(ReadyToShip),
        (ReadyToShip, Action::Ship) => Ok(Shipped),
        (Shipped, Action::Complete) => Ok(Completed),
        _ => Err(Refusal::NotAllowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use OrderStatus::*;

    const ACTIONS: [Action; 5] = [Accept, Cancel, Pay, Ship, Complete];
    const ACTORS: [Actor; 3] = [Actor::Buyer, Actor::Seller, Actor::System];

    /// The whole table of SPEC Part A; everything else is refused.
    fn allowed(from: OrderStatus, action: Action, actor: Actor) -> Option<OrderStatus> {
        match (from, action, actor) {
            (Pending, Accept, Actor::Seller) => Some(Accepted),
            (Pending | Accepted, Cancel, _) => Some(Cancelled),
            (Accepted, Pay, Actor::Buyer) => Some(ReadyToShip),
            (ReadyToShip, Ship, Actor::Seller) => Some(Shipped),
            (Shipped, Complete, Actor::Buyer | Actor::System) => Some(Completed),
            _ => None,
        }
    }

    #[test]
    fn every_state_action_and_actor() {
        for from in OrderStatus::ALL {
            for action in ACTIONS {
                for actor in ACTORS {
                    let got = transition(from, action, actor);
                    match allowed(from, action, actor) {
                        Some(to) => assert_eq!(got, Ok(to), "{from:?} {action:?} {actor:?}"),
                        None => assert!(got.is_err(), "{from:?} {action:?} {actor:?} should be refused"),
                    }
                }
            }
        }
    }

    #[test]
    fn final_states_are_final() {
        for from in [Completed, Cancelled] {
            for action in ACTIONS {
                for actor in ACTORS {
                    assert!(transition(from, action, actor).is_err());
                }
            }
        }
    }

    #[test]
    fn the_wrong_party_is_told_so_before_the_state_is_checked() {
        assert_eq!(transition(Accepted, Pay, Actor::Seller), Err(Refusal::WrongParty));
        assert_eq!(transition(Shipped, Ship, Actor::Buyer), Err(Refusal::WrongParty));
        assert_eq!(transition(Shipped, Accept, Actor::Buyer), Err(Refusal::WrongParty));
        assert_eq!(transition(Cancelled, Accept, Actor::Seller), Err(Refusal::NotAllowed));
    }

    #[test]
    fn statuses_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(OrderStatus::parse("ready_to_ship"), None);
    }
}
