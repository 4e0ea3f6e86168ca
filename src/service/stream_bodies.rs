//! The bodies the guard wraps around streaming calls:
//! - [`IdleBody`], the request of a client stream: fails with
//!   DEADLINE_EXCEEDED when the client sends nothing for too long while
//!   the server waits for it. The handler's `stream.message().await?`
//!   returns that status, so the call ends and frees its stream slot.
//! - [`DrainBody`], an answer that streams (health Watch, reflection):
//!   ends with its status in trailers once the drain deadline of a
//!   shutdown passed, so no open stream holds the shutdown up.

use super::guard::GuardError;
use super::status::from_guard;
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Sleep;
use tonic::body::Body;
use tonic::codegen::http::HeaderMap;
use tonic::Status;

/// Returns once the drain deadline passed (never if the guard is gone).
pub async fn cancelled(drain: &mut watch::Receiver<bool>) {
    if drain.wait_for(|&passed| passed).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A request body with an idle timeout between its frames.
pub struct IdleBody {
    inner: Body,
    idle: Duration,
    /// Armed while the server waits for the next frame; `None` while it
    /// works on the previous one, so a busy server never times out a
    /// client that is waiting for it.
    timer: Option<Pin<Box<Sleep>>>,
}

impl IdleBody {
    /// `inner` with an idle timeout of `idle`.
    pub fn new(inner: Body, idle: Duration) -> IdleBody {
        IdleBody { inner, idle, timer: None }
    }
}

impl http_body::Body for IdleBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Status>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.timer = None;
            return Poll::Ready(frame);
        }
        let idle = this.idle;
        let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.timer = None;
        tracing::info!(idle_ms = idle.as_millis() as u64, "client stream idle: ended");
        Poll::Ready(Some(Err(from_guard(GuardError::StreamIdle(idle)))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A streaming answer that ends at the drain deadline.
pub struct DrainBody {
    inner: Body,
    /// `None` once the answer ended (by itself or by the deadline).
    deadline: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// The status the answer ends with at the deadline.
    ended: Status,
    done: bool,
}

impl DrainBody {
    /// `inner`, ended with `ended` once `drain` turns true.
    pub fn new(inner: Body, mut drain: watch::Receiver<bool>, ended: Status) -> DrainBody {
        let deadline = Box::pin(async move { cancelled(&mut drain).await });
        DrainBody { inner, deadline: Some(deadline), ended, done: false }
    }
}

impl http_body::Body for DrainBody {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Status>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().is_some_and(|d| d.as_mut().poll(cx).is_ready()) {
            this.deadline = None;
            this.done = true;
            let mut trailers = HeaderMap::new();
            // A fresh status of a known code and a bounded message: its
            // headers are always valid.
            let _ = this.ended.add_header(&mut trailers);
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(None | Some(Err(_))) = &frame {
            this.done = true;
        }
        if let Poll::Ready(Some(Ok(f))) = &frame {
            // The answer's own trailers end it: no second status after them.
            this.done = f.is_trailers();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
