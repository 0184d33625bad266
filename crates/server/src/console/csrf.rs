//! The console's CSRF defence: every form carries the session's random
//! token in a hidden `csrf` field and every POST handler checks it (in
//! constant time) before reading anything else; without it the answer is
//! 403 and nothing changes. `SameSite=Strict` on the session cookie is the
//! second, independent layer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use crate::console::session::Operator;

/// Decoded `application/x-www-form-urlencoded` fields, in order.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-blank value of `name`, trimmed.
    pub fn filled(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Equal, in time independent of where the strings differ.
pub fn same(a: &str, b: &str) -> bool {
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The 403 for a form without the right token.
pub fn refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        crate::console::layout::bare(
            "Refused",
            html! {
                h1 { "Refused" }
                p { "This form did not carry this session's security token, so nothing was changed. "
                    "Reload the page and submit it again." }
                p { a href="/console" { "Back to the console" } }
            },
        ),
    )
        .into_response()
}

/// A form refused for its missing or wrong token (answers [`refused`]).
#[derive(Debug)]
pub struct Refused;

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refused()
    }
}

/// The form's fields, if its `csrf` field is this session's token.
pub fn verify(op: &Operator, body: &[u8]) -> Result<Fields, Refused> {
    let fields = Fields::parse(body);
    if same(&op.csrf, fields.get("csrf").unwrap_or("")) {
        Ok(fields)
    } else {
        Err(Refused)
    }
}

/// The hidden field every console form includes.
pub fn field(op: &Operator) -> Markup {
    html! { input type="hidden" name="csrf" value=(op.csrf); }
}
