//! The request body on its way upstream: streamed, never buffered, and cut off at the
//! listener's `max_body_bytes`.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use actix_web::web::{Bytes, Payload};
use futures_util::Stream;

/// Why the request body stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyEnd {
    /// Still flowing, or ended normally.
    Open,
    /// The caller sent more than the limit.
    TooLarge,
    /// The caller's connection failed mid-body.
    ClientFailed,
}

/// The caller's body, counted against a limit. The shared [`BodyEnd`] cell tells the
/// forwarder afterwards why awc's send failed, if it did because of the body.
pub(super) struct LimitedBody {
    payload: Payload,
    remaining: u64,
    end: Rc<Cell<BodyEnd>>,
}

impl LimitedBody {
    /// Wraps `payload`, allowing at most `limit` bytes.
    pub(super) fn new(payload: Payload, limit: u64) -> (Self, Rc<Cell<BodyEnd>>) {
        let end = Rc::new(Cell::new(BodyEnd::Open));
        (Self { payload, remaining: limit, end: end.clone() }, end)
    }
}

/// The error awc sees when the body is cut off; its text stays in logs only.
#[derive(Debug, thiserror::Error)]
#[error("request body stopped: {0:?}")]
pub(super) struct BodyStopped(BodyEnd);

impl Stream for LimitedBody {
    type Item = Result<Bytes, BodyStopped>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.payload).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let len = chunk.len() as u64;
                if len > self.remaining {
                    self.end.set(BodyEnd::TooLarge);
                    return Poll::Ready(Some(Err(BodyStopped(BodyEnd::TooLarge))));
                }
                self.remaining -= len;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(err))) => {
                let end = match err {
                    PayloadError::Overflow => BodyEnd::TooLarge,
                    _ => BodyEnd::ClientFailed,
                };
                self.end.set(end);
                Poll::Ready(Some(Err(BodyStopped(end))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
