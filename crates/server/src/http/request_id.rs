//! Gives every request an id (`req_…`), returned as `X-Request-Id`, carried
//! into error bodies and the request's log line.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::REQUEST_ID;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn assign_request_id(mut req: Request, next: Next) -> Response {
    let id = format!("req_{}", uuid::Uuid::new_v4().simple());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
