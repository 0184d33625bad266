//! A real HTTP webhook receiver for tests: an axum server on a free local
//! port that records every request (headers, raw body, the status it
//! answered) and answers as the test tells it to.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub event_id: String,
    pub event_type: String,
    pub delivery_id: String,
    pub attempt: u32,
    pub timestamp: String,
    pub signature: String,
    pub body: Bytes,
    /// `data.object.id` of the event.
    pub object_id: String,
    /// How many earlier requests carried the same event id.
    pub nth: usize,
    /// What the receiver answered.
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
    pub fn acknowledged(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// How to answer one request.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: u16,
    pub delay: Duration,
}

impl Answer {
    pub fn ok() -> Self {
        Self {
            status: 200,
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16) -> Self {
        Self {
            status,
            delay: Duration::ZERO,
        }
    }
}

type Responder = Box<dyn Fn(&Received) -> Answer + Send + Sync>;

#[derive(Default)]
struct Shared {
    log: Mutex<Vec<Received>>,
    responder: Mutex<Option<Responder>>,
    /// Requests in flight per delivery id, and the worst overlap seen.
    in_flight: Mutex<HashMap<String, usize>>,
    max_overlap: Mutex<usize>,
    seen: Mutex<HashMap<String, usize>>,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let event_id = header(&headers, "inflow-event-id");
    let delivery_id = header(&headers, "inflow-delivery-id");
    let nth = {
        let mut seen = shared.seen.lock().unwrap();
        let n = seen.entry(event_id.clone()).or_default();
        *n += 1;
        *n - 1
    };
    let object_id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["object"]["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut r = Received {
        event_id,
        event_type: header(&headers, "inflow-event-type"),
        delivery_id: delivery_id.clone(),
        attempt: header(&headers, "inflow-attempt").parse().unwrap_or(0),
        timestamp: header(&headers, "inflow-timestamp"),
        signature: header(&headers, "inflow-signature"),
        body,
        object_id,
        nth,
        status: 0,
    };
    let answer = match &*shared.responder.lock().unwrap() {
        Some(f) => f(&r),
        None => Answer::ok(),
    };
    {
        let mut f = shared.in_flight.lock().unwrap();
        let n = f.entry(delivery_id.clone()).or_default();
        *n += 1;
        let mut worst = shared.max_overlap.lock().unwrap();
        *worst = (*worst).max(*n);
    }
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    if let Some(n) = shared.in_flight.lock().unwrap().get_mut(&delivery_id) {
        *n -= 1;
    }
    r.status = answer.status;
    shared.log.lock().unwrap().push(r);
    StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK)
}

impl Receiver {
    /// Listen on 127.0.0.1 on a free port; answers 200 until told otherwise.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(handle))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/hooks"),
            shared,
            task,
        }
    }

    /// Answer each request with what `f` says.
    pub fn respond(&self, f: impl Fn(&Received) -> Answer + Send + Sync + 'static) {
        *self.shared.responder.lock().unwrap() = Some(Box::new(f));
    }

    /// Every request answered so far, in the order answered.
    pub fn log(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Requests that were answered with a 2xx, in order.
    pub fn acknowledged(&self) -> Vec<Received> {
        self.log()
            .into_iter()
            .filter(|r| r.acknowledged())
            .collect()
    }

    /// Requests received (answered or still being answered) for `event_id`.
    pub fn seen(&self, event_id: &str) -> usize {
        self.shared
            .seen
            .lock()
            .unwrap()
            .get(event_id)
            .copied()
            .unwrap_or(0)
    }

    /// The most requests for one delivery that were ever in flight at once.
    pub fn max_overlap(&self) -> usize {
        *self.shared.max_overlap.lock().unwrap()
    }

    /// Wait (polling, up to `secs`) until `done(log)` holds.
    pub async fn wait_for(&self, secs: u64, what: &str, done: impl Fn(&[Received]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if done(&self.log()) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "receiver: gave up waiting for {what}; got {:?}",
                    self.log()
                        .iter()
                        .map(|r| (&r.event_type, &r.object_id, r.status))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
