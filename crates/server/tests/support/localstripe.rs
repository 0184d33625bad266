//! A real fake Stripe for the connector's tests: `localstripe` (PyPI,
//! pinned 1.15.10, installed by `scripts/ensure-localstripe.sh`) started
//! on a free loopback port and stopped when dropped, and a proxy in front
//! of it that can lose the answer to one request after localstripe did the
//! work (the connection is closed without a reply), or answer what
//! localstripe lacks (Stripe's dispute list) with recorded Stripe objects.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The secret key the tests configure (localstripe accepts any `sk_…`).
pub const SECRET_KEY: &str = "sk_test_inflow_localstripe";

pub struct LocalStripe {
    child: Child,
    pub url: String,
    http: reqwest::Client,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl LocalStripe {
    /// Start a fresh localstripe and wait until it answers.
    pub async fn start() -> LocalStripe {
        let port = free_port();
        let child = Command::new("localstripe")
            .args(["--port", &port.to_string(), "--from-scratch"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("localstripe is not installed: run scripts/ensure-localstripe.sh");
        let ls = LocalStripe {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = ls
                .http
                .get(format!("{}/v1/balance", ls.url))
                .bearer_auth(SECRET_KEY)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return ls;
            }
            assert!(Instant::now() < deadline, "localstripe did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `GET {path}` on localstripe (what Stripe's books say).
    pub async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(SECRET_KEY)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Every PaymentIntent localstripe holds for Inflow's `reference`.
    pub async fn payment_intents_for(&self, reference: &str) -> Vec<Value> {
        let all = self.get("/v1/payment_intents?limit=100").await;
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|pi| pi["metadata"]["inflow_reference"].as_str() == Some(reference))
            .cloned()
            .collect()
    }
}

/// A proxy to `upstream` that can drop the answer to the next request
/// whose first line starts with a given prefix (after forwarding it).
#[derive(Clone)]
pub struct LossyProxy {
    pub url: String,
    armed: Arc<Mutex<Option<String>>>,
    canned: Canned,
}

/// Answers served instead of localstripe's: (request line prefix, JSON body).
type Canned = Arc<Mutex<Vec<(String, String)>>>;

impl LossyProxy {
    pub async fn start(upstream: &str) -> LossyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let armed: Arc<Mutex<Option<String>>> = Arc::default();
        let canned: Canned = Arc::default();
        let (a, c) = (armed.clone(), canned.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(relay(conn, upstream.clone(), a.clone(), c.clone()));
            }
        });
        LossyProxy { url, armed, canned }
    }

    /// Answer requests starting with `prefix` with `body` (200, JSON)
    /// instead of localstripe, from now on (replacing an earlier answer).
    pub fn answer(&self, prefix: &str, body: &Value) {
        let mut c = self.canned.lock().unwrap();
        c.retain(|(p, _)| p != prefix);
        c.push((prefix.to_owned(), body.to_string()));
    }

    /// Lose the answer to the next request starting with `prefix`
    /// (e.g. `POST /v1/payment_intents `).
    pub fn lose_next(&self, prefix: &str) {
        *self.armed.lock().unwrap() = Some(prefix.to_owned());
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The head with its `Connection` header replaced by `Connection: close`.
fn closing(head: &str) -> String {
    let mut out: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    out.push("Connection: close");
    out.join("\r\n")
}

async fn relay(
    mut conn: TcpStream,
    upstream: String,
    armed: Arc<Mutex<Option<String>>>,
    canned: Canned,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    // One request per connection: head, then Content-Length bytes of body.
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .split("\r\n")
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + 4 + length {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let recorded = canned
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| head.starts_with(p.as_str()))
        .map(|(_, b)| b.clone());
    if let Some(body) = recorded {
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = conn.write_all(answer.as_bytes()).await;
        let _ = conn.shutdown().await;
        return;
    }
    let mut request = closing(&head).into_bytes();
    request.extend_from_slice(&buf[head_end..]);
    let Ok(mut up) = TcpStream::connect(&upstream).await else {
        return;
    };
    if up.write_all(&request).await.is_err() {
        return;
    }
    let mut response = Vec::new();
    let _ = up.read_to_end(&mut response).await;
    let lose = {
        let mut a = armed.lock().unwrap();
        match a.as_deref() {
            Some(p) if head.starts_with(p) => a.take().is_some(),
            _ => false,
        }
    };
    if lose {
        // localstripe did the work; the caller never hears of it.
        return;
    }
    let answer = match find(&response, b"\r\n\r\n") {
        Some(i) => {
            let mut out = closing(&String::from_utf8_lossy(&response[..i])).into_bytes();
            out.extend_from_slice(&response[i..]);
            out
        }
        None => response,
    };
    let _ = conn.write_all(&answer).await;
    let _ = conn.shutdown().await;
}
