//! The notification inbox, and its live stream (Server-Sent Events).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::{self, Stream, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::{cookie, CurrentMember, MaybeMember, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::input::{boolean, id_list, Fields, OptionalJsonBody};
use crate::live::{self, Refused};
use crate::members::{sessions, Member};
use crate::notifications::{self, tickets, Notification};
use crate::paging::{query_pairs, Page};
use crate::state::AppState;

/// The caller's notifications, newest first; `unread=true` for the unread ones only.
#[utoipa::path(get, path = "/api/notifications/", tag = "notifications", params(("unread" = Option<bool>, Query, description = "Only unread notifications"), ("page" = Option<i64>, Query, description = "Page number, from 1"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The caller's notifications", body = Vec<Notification>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_notifications(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let pairs = query_pairs(&uri);
    let page = Page::from_pairs(&pairs)?;
    let unread = match pairs.iter().find(|(k, _)| k == "unread").map(|(_, v)| v.as_str()) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(ApiError::field("unread", "Use true or false.")),
    };
    let (total, found) = notifications::list(&state.db, member.id, unread, page).await?;
    Ok((page.headers(&uri, total), Json(found)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Count {
    count: i64,
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/api/notifications/unread-count/", tag = "notifications", responses((status = 200, description = "The count", body = Count), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn count_unread(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
) -> ApiResult<Json<Count>> {
    Ok(Json(Count {
        count: notifications::unread_count(&state.db, member.id).await?,
    }))
}

/// Which notifications to mark read: `{"ids": [...]}` or `{"all": true}`.
#[derive(ToSchema)]
pub struct MarkRead {
    ids: Option<Vec<i64>>,
    all: Option<bool>,
}

impl MarkRead {
    fn read(body: &Map<String, Value>) -> ApiResult<Self> {
        let mut f = Fields::new(body);
        let read = Self {
            ids: f.optional("ids", id_list("notification")),
            all: f.optional("all", boolean()),
        };
        f.finish()?;
        Ok(read)
    }
}

/// Marks the caller's notifications read; ids that are not the caller's are ignored.
#[utoipa::path(post, path = "/api/notifications/read/", tag = "notifications", request_body(content = MarkRead, content_type = "application/json"), responses((status = 204, description = "Marked"), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<StatusCode> {
    let request = MarkRead::read(&body)?;
    let now = state.clock.now();
    match (request.ids, request.all) {
        (_, Some(true)) => notifications::mark_read(&state.db, member.id, None, now).await?,
        (Some(ids), _) => notifications::mark_read(&state.db, member.id, Some(&ids), now).await?,
        _ => return Err(ApiError::field("ids", "Give the ids to mark read, or \"all\": true.")),
    };
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Ticket {
    /// Opens one stream (`?ticket=`), once, within 60 seconds.
    ticket: String,
}

/// A short-lived, single-use ticket that opens the caller's stream where no header can be
/// sent (a browser's EventSource): never the long-lived token in a URL.
#[utoipa::path(post, path = "/api/notifications/ticket/", tag = "notifications", responses((status = 201, description = "The ticket", body = Ticket), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn issue_ticket(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
) -> ApiResult<(StatusCode, Json<Ticket>)> {
    let ticket = tickets::issue(&state.db, member.id, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Ticket { ticket })))
}

/// Who opens a stream: a bearer token, the web session's cookie, or a ticket.
async fn streamer(
    state: &AppState,
    bearer: Option<Member>,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> ApiResult<Member> {
    if let Some(member) = bearer {
        return Ok(member);
    }
    let now = state.clock.now();
    if let Some(ticket) = ticket {
        let refused = ApiError::Unauthorized("The ticket is invalid, used or expired.");
        let id = tickets::redeem(&state.db, ticket, now).await?.ok_or(refused)?;
        return crate::members::find(&state.db, id)
            .await?
            .ok_or(ApiError::Unauthorized("The ticket is invalid, used or expired."));
    }
    if let Some(value) = cookie(headers, SESSION_COOKIE) {
        if let Some(member) = sessions::member_recent(state, value, now).await? {
            return Ok(member);
        }
    }
    Err(ApiError::Unauthorized("Authentication credentials were not provided."))
}

/// One event of the stream, as a client's SSE parser hands it over (the document's schema
/// of an event; the events themselves are written by axum's `Event`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StreamEvent {
    /// Always `notification`.
    event: String,
    /// The notification's id: send it back as `Last-Event-ID` to resume.
    id: String,
    /// The notification, as JSON, as in the list.
    data: String,
}

fn sse_event(id: i64, data: &str) -> Event {
    Event::default().event("notification").id(id.to_string()).data(data)
}

/// The caller's notifications as they happen (`event: notification`, `id:`, `data:` as
/// in the list). A reconnect with `Last-Event-ID` (or `?last_event_id=`) first replays
/// what was missed. A comment every 15 s (`STREAM_HEARTBEAT_MS`) keeps it open. A reader too slow to keep up is
/// disconnected (it reconnects and catches up), never buffered without bound.
#[utoipa::path(get, path = "/api/notifications/stream", tag = "notifications", params(("ticket" = Option<String>, Query, description = "A ticket from POST /api/notifications/ticket/, for clients that cannot send a header"), ("last_event_id" = Option<i64>, Query, description = "Replay what came after this id (as the Last-Event-ID header)")), responses((status = 200, description = "Server-Sent Events", content_type = "text/event-stream", body = StreamEvent), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::error::Problem, content_type = "application/problem+json"), (status = 429, description = "Too many open streams", body = crate::error::Problem, content_type = "application/problem+json"), (status = 503, description = "Shutting down", body = crate::error::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn stream_notifications(
    State(state): State<AppState>,
    MaybeMember(bearer): MaybeMember,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let pairs = query_pairs(&uri);
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let member = streamer(&state, bearer, &headers, value("ticket")).await?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(value("last_event_id"))
        .map(|text| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::field("last_event_id", "An event id is required."))
        })
        .transpose()?;
    let slot = state.live.open(member.id).map_err(|refused| match refused {
        Refused::ShuttingDown => ApiError::Unavailable("The server is restarting; reconnect in a moment.".into()),
        Refused::TooManyForMember => ApiError::TooManyRequests {
            detail: "Too many notification streams are open for this member.".into(),
            retry_after: Duration::from_secs(5),
        },
        Refused::TooMany => ApiError::TooManyRequests {
            detail: "Too many notification streams are open.".into(),
            retry_after: Duration::from_secs(5),
        },
    })?;
    // Subscribed before the replay is read: nothing committed in between is lost, and
    // what both deliver is sent once.
    let receiver = state.live.subscribe();
    let replay = match last {
        Some(after) => notifications::since(&state.db, member.id, after).await?,
        None => Vec::new(),
    };
    let delivered = replay.last().map(|n| n.id).or(last).unwrap_or(0);
    let replayed: Vec<Result<Event, Infallible>> = replay
        .iter()
        .map(|n| Ok(sse_event(n.id, &notifications::event(n).data)))
        .collect();
    let live = live_events(receiver, state.live.closing(), member.id, delivered, slot);
    let body = stream::iter(replayed).chain(live);
    let mut response = Sse::new(body)
        // A comment keeps an idle stream (and the proxies on its way) open.
        .keep_alive(KeepAlive::new().interval(Duration::from_millis(state.config.stream_heartbeat_ms)))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The live part of a stream: this member's events after `delivered`, until the server
/// shuts down or the reader falls too far behind. It holds the stream's slot.
fn live_events(
    receiver: tokio::sync::broadcast::Receiver<std::sync::Arc<live::Event>>,
    closing: tokio::sync::watch::Receiver<bool>,
    member: i64,
    delivered: i64,
    slot: live::Slot,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(
        (receiver, closing, delivered, slot),
        move |(mut receiver, mut closing, mut delivered, slot)| async move {
            loop {
                if *closing.borrow() {
                    return None;
                }
                tokio::select! {
                    changed = closing.changed() => {
                        if changed.is_err() || *closing.borrow() {
                            return None;
                        }
                    }
                    received = receiver.recv() => match received {
                        Ok(event) if event.recipient == member && event.id > delivered => {
                            delivered = event.id;
                            let sse = sse_event(event.id, &event.data);
                            return Some((Ok(sse), (receiver, closing, delivered, slot)));
                        }
                        Ok(_) => {}
                        // Too slow: end the stream; the client reconnects with its
                        // Last-Event-ID and catches up from the table.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return None,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_reader_that_falls_behind_is_dropped_not_buffered() {
        let hub = Arc::new(live::Hub::new(1, 1));
        let slot = hub.open(7).unwrap();
        let receiver = hub.subscribe();
        let stream = live_events(receiver, hub.closing(), 7, 0, slot);
        // More events than the backlog arrive before the reader reads one.
        let events = (1..=2000)
            .map(|id| live::Event {
                id,
                recipient: 7,
                data: String::new(),
            })
            .collect();
        hub.publish(events);
        let read: Vec<_> = stream.collect().await;
        assert!(
            read.is_empty(),
            "the lagging stream ends instead of replaying a backlog"
        );
        assert_eq!(hub.open_streams(), 0, "and gives back its slot");
    }
}
