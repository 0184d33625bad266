//! One delivery attempt over HTTP.
//!
//! The client never follows redirects (a 3xx is a failed attempt: following
//! one could lead a production dispatcher onto a private network), ignores
//! proxy settings from the environment, and in production resolves host
//! names itself, keeping only public addresses (a name re-pointed at
//! 127.0.0.1 after the endpoint was created is refused at delivery time).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use inflow_core::webhook::url::is_public_ip;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Everything one attempt sends.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub url: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub delivery_id: &'a str,
    pub attempt: u32,
    /// Unix seconds, as signed.
    pub timestamp: i64,
    pub signature: &'a str,
    pub body: Vec<u8>,
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// Any other answer, a timeout, or no connection.
    Failed { status: Option<u16>, error: String },
}

/// Largest part of a response body read (the rest is dropped; reading it
/// lets the connection be reused).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("timeout", &self.timeout)
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

/// Looks up the addresses of a host name: the system resolver, or a test's.
pub type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The operating system's resolver.
pub fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    })
}

/// Resolves names to their public addresses only.
struct PublicOnly {
    lookup: Lookup,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let lookup = (self.lookup)(host.clone());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = lookup
                .await?
                .into_iter()
                .filter(|ip| is_public_ip(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "{host} resolves only to private, loopback or link-local addresses, which production endpoints may not use"
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl Sender {
    pub fn new(timeout: Duration, allow_private: bool) -> Result<Self, reqwest::Error> {
        Self::with_lookup(timeout, allow_private, system_lookup())
    }

    /// [`Sender::new`] resolving names with `lookup` (in production mode;
    /// sandbox mode uses the HTTP client's own resolver).
    pub fn with_lookup(
        timeout: Duration,
        allow_private: bool,
        lookup: Lookup,
    ) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Inflow-Webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly { lookup }));
        }
        Ok(Self {
            client: builder.build()?,
            timeout,
            allow_private,
        })
    }

    /// POST one attempt; the outcome and how long it took.
    pub async fn send(&self, out: Outgoing<'_>) -> (SendOutcome, Duration) {
        let started = Instant::now();
        if let Some(refused) = self.refuse_literal_address(out.url) {
            return (refused, started.elapsed());
        }
        let result = self
            .client
            .post(out.url)
            .header("content-type", "application/json")
            .header("inflow-event-id", out.event_id)
            .header("inflow-event-type", out.event_type)
            .header("inflow-delivery-id", out.delivery_id)
            .header("inflow-attempt", out.attempt.to_string())
            .header("inflow-timestamp", out.timestamp.to_string())
            .header("inflow-signature", out.signature)
            .body(out.body)
            .send()
            .await;
        let outcome = match result {
            Ok(mut resp) => {
                let status = resp.status();
                let mut read = 0usize;
                while read <= MAX_RESPONSE_BYTES {
                    match resp.chunk().await {
                        Ok(Some(c)) => read += c.len(),
                        _ => break,
                    }
                }
                if status.is_success() {
                    SendOutcome::Delivered {
                        status: status.as_u16(),
                    }
                } else {
                    SendOutcome::Failed {
                        status: Some(status.as_u16()),
                        error: format!("HTTP {status}"),
                    }
                }
            }
            Err(e) => SendOutcome::Failed {
                status: None,
                error: describe(&e, self.timeout),
            },
        };
        (outcome, started.elapsed())
    }

    /// In production, an IP-literal target must be public (names are
    /// checked by the resolver).
    fn refuse_literal_address(&self, url: &str) -> Option<SendOutcome> {
        if self.allow_private {
            return None;
        }
        let host = reqwest::Url::parse(url).ok()?.host_str()?.to_owned();
        let ip: IpAddr = host.trim_matches(['[', ']']).parse().ok()?;
        (!is_public_ip(ip)).then(|| SendOutcome::Failed {
            status: None,
            error: format!("refused: {ip} is not a public address"),
        })
    }
}

/// A one-line reason for a failed request, without the URL (already known).
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs_f64());
    }
    let mut text = if e.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    inflow_core::text::clip(&text, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(url: &str) -> Outgoing<'_> {
        Outgoing {
            url,
            event_id: "evt_1",
            event_type: "collection.created",
            delivery_id: "whd_1",
            attempt: 1,
            timestamp: 1_700_000_000,
            signature: "t=1700000000,v1=00",
            body: b"{}".to_vec(),
        }
    }

    #[tokio::test]
    async fn production_refuses_private_targets_at_delivery_time_and_sandbox_does_not() {
        // A live local listener, so a refusal cannot be a mere connection error.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let production = Sender::new(Duration::from_secs(2), false).unwrap();
        let (by_ip, _) = production
            .send(outgoing(&format!("http://127.0.0.1:{port}/x")))
            .await;
        assert!(
            matches!(&by_ip, SendOutcome::Failed { status: None, error } if error.contains("not a public address")),
            "{by_ip:?}"
        );
        let (by_name, _) = production
            .send(outgoing(&format!("http://localhost:{port}/x")))
            .await;
        assert!(
            matches!(&by_name, SendOutcome::Failed { status: None, error } if error.contains("private")),
            "{by_name:?}"
        );
        drop(listener);
        // Sandbox lets the request go (nothing listens now: a connection error).
        let sandbox = Sender::new(Duration::from_secs(2), true).unwrap();
        let (o, _) = sandbox
            .send(outgoing(&format!("http://127.0.0.1:{port}/x")))
            .await;
        assert!(
            matches!(&o, SendOutcome::Failed { status: None, error } if error.starts_with("connection failed")),
            "{o:?}"
        );
    }

    /// A production sender whose resolver answers `ips` for every name.
    fn resolving_to(ips: Vec<IpAddr>) -> Sender {
        let lookup: Lookup = Arc::new(move |_host: String| {
            let ips = ips.clone();
            Box::pin(async move { Ok(ips) })
        });
        Sender::with_lookup(Duration::from_secs(2), false, lookup).unwrap()
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_wrapped_private_address_is_refused_at_delivery_time() {
        for ip in [
            "::127.0.0.1",
            "::a9fe:a9fe",
            "2002:7f00:1::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::5db8:d822",
            "fec0::1",
        ] {
            let sender = resolving_to(vec![ip.parse().unwrap()]);
            let (o, _) = sender.send(outgoing("http://hooks.example.com:9/x")).await;
            assert!(
                matches!(&o, SendOutcome::Failed { status: None, error }
                    if error.contains("resolves only to private")),
                "{ip}: {o:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_wrapped_private_address_literal_is_refused_at_delivery_time() {
        let sender = resolving_to(Vec::new());
        for url in [
            "http://[::127.0.0.1]:9/x",
            "http://[::a9fe:a9fe]/x",
            "http://[2002:a00:1::1]/x",
            "http://[fec0::1]/x",
        ] {
            let (o, _) = sender.send(outgoing(url)).await;
            assert!(
                matches!(&o, SendOutcome::Failed { status: None, error }
                    if error.contains("not a public address")),
                "{url}: {o:?}"
            );
        }
    }
}
