//! Running load: a fixed set of connection tasks, each owning one kept-alive connection and
//! its own `Recorder`. The open model (`open.rs`) gives every request a due time; the closed
//! model (`closed.rs`) keeps every connection busy as fast as responses allow. Both open all
//! connections before the clock starts, so connection setup is not mistaken for latency.

mod closed;
mod open;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{Barrier, watch};

use crate::error::{ErrorKind, LoadError, RequestError};
use crate::http1::{Connection, Connector, Response};
use crate::progress::Progress;
use crate::request::Prepared;
use crate::schedule::Schedule;
use crate::stats::Recorder;

/// What to send, where, over how many connections.
#[derive(Debug)]
pub struct Load {
    pub connector: Connector,
    /// Request `i` is `requests[i % len]`; never empty.
    pub requests: Vec<Prepared>,
    pub connections: usize,
    /// The most one request (connecting included) may take.
    pub timeout: Duration,
    pub progress: Arc<Progress>,
}

/// How requests are paced.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Model {
    /// `count` requests at the schedule's due times.
    Open { schedule: Schedule, count: u64 },
    /// At most `count` requests, each connection sending the next as soon as the last is
    /// answered, for at most `duration`.
    Closed {
        count: u64,
        #[serde(skip)]
        duration: Duration,
    },
}

/// The merged measurements of a run.
#[derive(Debug)]
pub struct Measured {
    pub recorder: Recorder,
    /// From the start of the clock to the last response.
    pub elapsed: Duration,
}

/// One connection task's state.
struct Worker {
    load: Arc<Load>,
    connection: Option<Connection>,
    recorder: Recorder,
}

// === impl Model ===

impl Model {
    /// The most requests the run sends.
    pub fn count(&self) -> u64 {
        match *self {
            Self::Open { count, .. } | Self::Closed { count, .. } => count,
        }
    }
}

/// Runs `model` with `load` and returns the merged measurements.
pub async fn run(load: Load, model: Model) -> Result<Measured, LoadError> {
    if load.requests.is_empty() || load.connections == 0 {
        return Err(LoadError::Internal("a run needs requests and connections".to_owned()));
    }
    let connections = load.connections;
    let load = Arc::new(load);
    let ready = Arc::new(Barrier::new(connections + 1));
    let (start_tx, start_rx) = watch::channel(None::<Instant>);
    let claimed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(connections);
    for lane in 0..connections {
        let mut worker = Worker::new(Arc::clone(&load))?;
        let (ready, mut start_rx) = (Arc::clone(&ready), start_rx.clone());
        let claimed = Arc::clone(&claimed);
        tasks.push(tokio::spawn(async move {
            worker.warm_up().await;
            ready.wait().await;
            let Ok(start) = start_rx.wait_for(Option::is_some).await.map(|s| *s) else {
                return worker.recorder;
            };
            let start = start.unwrap_or_else(Instant::now);
            match model {
                Model::Open { schedule, count } => {
                    open::drive(&mut worker, start, schedule, count, lane, connections).await
                }
                Model::Closed { count, duration } => {
                    closed::drive(&mut worker, start + duration, count, &claimed).await
                }
            }
            worker.recorder
        }));
    }
    ready.wait().await;
    let start = Instant::now();
    let _ = start_tx.send(Some(start));
    let mut recorder = Recorder::new()?;
    for task in tasks {
        let part = task.await.map_err(|err| LoadError::Internal(format!("load task: {err}")))?;
        recorder.merge(&part);
    }
    let elapsed = start.elapsed();
    Ok(Measured { recorder, elapsed })
}

// === impl Worker ===

impl Worker {
    fn new(load: Arc<Load>) -> Result<Self, LoadError> {
        Ok(Self { load, connection: None, recorder: Recorder::new()? })
    }

    /// Opens the connection ahead of the clock; a failure is left for the first request.
    async fn warm_up(&mut self) {
        let opened =
            tokio::time::timeout(self.load.timeout, Connection::open(&self.load.connector));
        if let Ok(Ok(connection)) = opened.await {
            self.connection = Some(connection);
        }
    }

    /// Sends request `index` and records its outcome with latency measured from `begin`.
    async fn send(&mut self, index: u64, begin: Instant) {
        let load = Arc::clone(&self.load);
        let prepared = &load.requests[(index % load.requests.len() as u64) as usize];
        load.progress.sent();
        let result = tokio::time::timeout(load.timeout, self.exchange(prepared)).await;
        let result = result.unwrap_or_else(|_| {
            let detail = format!("no complete response within {:?}", load.timeout);
            Err(RequestError::new(ErrorKind::Timeout, detail))
        });
        match result {
            Ok(response) => {
                if !response.keep_alive {
                    self.connection = None;
                }
                load.progress.answered(response.status);
                let success = (200..300).contains(&response.status);
                let body_ok =
                    !success || prepared.check.passes(response.body_len, response.body.as_deref());
                self.recorder.response(
                    begin.elapsed(),
                    response.status,
                    response.body_len,
                    body_ok,
                );
            }
            Err(err) => {
                self.connection = None;
                load.progress.failed();
                self.recorder.failure(err);
            }
        }
    }

    /// One exchange on the current connection, opening one if needed. A kept-alive
    /// connection the server closed while idle is replaced once, as browsers do.
    async fn exchange(&mut self, prepared: &Prepared) -> Result<Response, RequestError> {
        let capture = prepared.check.needs_body();
        if let Some(connection) = self.connection.as_mut() {
            match connection.exchange(&prepared.wire, prepared.head, capture).await {
                Err(err) if err.before_response => self.connection = None,
                other => return other,
            }
        }
        let connection = Connection::open(&self.load.connector).await?;
        let connection = self.connection.insert(connection);
        connection.exchange(&prepared.wire, prepared.head, capture).await
    }
}

#[cfg(test)]
mod tests;
