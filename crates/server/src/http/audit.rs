//! The audit context of a request ([`Audit`]): who (the API key, and the
//! customer it acts for), from where (the client IP) and which request (its
//! `req_…` id), extracted once by axum and handed to the use cases, which
//! record their change with it in their own transaction
//! ([`inflow_engine::audit`]).
//!
//! The client IP is the connection's peer address. `X-Forwarded-For` is
//! believed only when the peer is one of the configured `trusted_proxies`;
//! then the client is the right-most address in it that is not itself a
//! trusted proxy (the left-most entries are whatever the client claimed).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use inflow_engine::audit::{Actor, AuditContext};

use crate::error::ApiError;
use crate::http::auth::Auth;
use crate::http::request_id::RequestId;
use crate::state::AppState;

/// The request's [`AuditContext`].
#[derive(Debug, Clone)]
pub struct Audit(pub AuditContext);

impl FromRequestParts<AppState> for Audit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = parts
            .extensions
            .get::<Auth>()
            .cloned()
            .ok_or_else(ApiError::internal)?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Audit(AuditContext {
            actor: Actor::ApiKey(auth.key_id.clone()),
            customer_id: auth.customer.as_ref().map(|c| c.id.clone()),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
            client_ip: client_ip(peer, &parts.headers, &state.config.trusted_proxies)
                .map(|ip| ip.to_string()),
        }))
    }
}

impl Audit {
    /// Record an action that spans several transactions of its own (a
    /// cutoff, a clock advance, a bank file applied, a poll of the ODFIs),
    /// once it has run, in one more transaction. A store error is logged,
    /// not returned: the action itself is done and its answer stands.
    pub async fn record_after(
        &self,
        state: &AppState,
        action: &'static str,
        object: (&'static str, String),
        before: Option<serde_json::Value>,
        after: serde_json::Value,
    ) {
        let ctx = self.0.clone();
        let now = state.clock.now();
        let (object_type, object_id) = object;
        let oid = object_id.clone();
        let written = state
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let change = inflow_engine::audit::Change {
                        action,
                        object_type,
                        object_id: &oid,
                        before,
                        after: Some(after),
                    };
                    ctx.record(tx, change, now).await
                })
            })
            .await;
        if let Err(e) = written {
            tracing::error!(error = %e, action, object = %object_id, "the audit record of a completed action could not be written");
        }
    }
}

/// The client's address: `peer`, or when `peer` is a trusted proxy the
/// right-most `X-Forwarded-For` address that is not one.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(s) = value.to_str() else {
            return Some(peer);
        };
        for part in s.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip),
                // A malformed list is not believed at all.
                Err(_) => return Some(peer),
            }
        }
    }
    Some(
        hops.into_iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let h = xff("203.0.113.9");
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), &h, &[]),
            Some(ip("10.0.0.5"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.5")), &h, &[ip("10.0.0.1")]),
            Some(ip("10.0.0.5"))
        );
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_last_untrusted_hop() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        let h = xff("198.51.100.7, 203.0.113.9, 10.0.0.2");
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &xff("not-an-ip"), &trusted),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &HeaderMap::new(), &trusted),
            Some(ip("10.0.0.1"))
        );
    }
}
