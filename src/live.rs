//! Live delivery inside one instance: events (already serialised) broadcast to the open
//! streams, the caps on how many streams are open, and the signal that closes them all at
//! shutdown. What the events are, and where they come from, is the notifications
//! domain's business; this module knows only ids and recipients.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{broadcast, watch, Notify};

/// One event for one member: its id (increasing with commit order) and its JSON.
#[derive(Debug)]
pub struct Event {
    pub id: i64,
    pub recipient: i64,
    pub data: String,
}

/// How many events a stream may fall behind before it is dropped (its client
/// reconnects and catches up from the table).
const BACKLOG: usize = 1024;

#[derive(Debug)]
pub struct Hub {
    sender: broadcast::Sender<Arc<Event>>,
    /// Wakes the fan-out to look for new rows.
    wake: Notify,
    /// The newest id published.
    latest: AtomicI64,
    open: Mutex<Open>,
    per_member: usize,
    total: usize,
    closing: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_member: HashMap<i64, usize>,
}

/// Why a stream was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    TooManyForMember,
    TooMany,
    ShuttingDown,
}

/// An open stream's place under the caps; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    hub: Arc<Hub>,
    member: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_member.get_mut(&self.member) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.by_member.remove(&self.member);
            }
        }
    }
}

impl Hub {
    pub fn new(per_member: usize, total: usize) -> Self {
        let (sender, _) = broadcast::channel(BACKLOG);
        let (closing, _) = watch::channel(false);
        Self {
            sender,
            wake: Notify::new(),
            latest: AtomicI64::new(0),
            open: Mutex::new(Open::default()),
            per_member,
            total,
            closing,
        }
    }

    /// Something was committed: look for new events now.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Waits for a poke.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    pub fn latest(&self) -> i64 {
        self.latest.load(Ordering::Acquire)
    }

    /// Publishes events in id order; those at or below the newest published are skipped.
    pub fn publish(&self, events: Vec<Event>) {
        for event in events {
            if event.id <= self.latest() {
                continue;
            }
            self.latest.store(event.id, Ordering::Release);
            // No receiver is not an error: nobody is listening.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    /// Starts from `id` (the newest already in the table at start-up).
    pub fn start_after(&self, id: i64) {
        self.latest.fetch_max(id, Ordering::AcqRel);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }

    /// Takes a place for one more stream of `member`, within the caps.
    pub fn open(self: &Arc<Self>, member: i64) -> Result<Slot, Refused> {
        if *self.closing.borrow() {
            return Err(Refused::ShuttingDown);
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.total {
            return Err(Refused::TooMany);
        }
        let mine = open.by_member.entry(member).or_insert(0);
        if *mine >= self.per_member {
            return Err(Refused::TooManyForMember);
        }
        *mine += 1;
        open.total += 1;
        Ok(Slot {
            hub: Arc::clone(self),
            member,
        })
    }

    /// How many streams are open.
    pub fn open_streams(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).total
    }

    /// Resolves when the server starts shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Closes every stream (shutdown) and refuses new ones.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_member_and_in_all_and_given_back() {
        let hub = Arc::new(Hub::new(2, 3));
        let a1 = hub.open(1).unwrap();
        let _a2 = hub.open(1).unwrap();
        assert_eq!(hub.open(1).unwrap_err(), Refused::TooManyForMember);
        let _b1 = hub.open(2).unwrap();
        assert_eq!(hub.open(3).unwrap_err(), Refused::TooMany);
        drop(a1);
        assert_eq!(hub.open_streams(), 2);
        let _c1 = hub.open(3).unwrap();
        hub.close();
        drop(_c1);
        assert_eq!(hub.open(4).unwrap_err(), Refused::ShuttingDown);
    }

    #[tokio::test]
    async fn events_are_published_once_in_order() {
        let hub = Hub::new(1, 1);
        let mut rx = hub.subscribe();
        hub.start_after(5);
        let event = |id| Event {
            id,
            recipient: 1,
            data: String::new(),
        };
        hub.publish(vec![event(4), event(6), event(6), event(7)]);
        assert_eq!(rx.recv().await.unwrap().id, 6);
        assert_eq!(rx.recv().await.unwrap().id, 7);
        assert!(rx.try_recv().is_err());
    }
}
