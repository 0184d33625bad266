//! The console's static assets, compiled into the binary and served under
//! content-hashed names (`console-<sha256 prefix>.css`) with a year-long
//! immutable cache: a new build with a changed stylesheet gets a new URL.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("assets/console.css");

/// The stylesheet's URL path.
pub static CSS_PATH: LazyLock<String> = LazyLock::new(|| {
    let hash = hex::encode(inflow_core::crypto::sha256(CSS.as_bytes()));
    format!("/console/assets/console-{}.css", &hash[..16])
});

/// `GET /console/assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    if format!("/console/assets/{name}") != *CSS_PATH {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
        .into_response()
}
