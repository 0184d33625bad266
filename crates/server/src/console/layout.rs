//! The page shell: the document head (the hashed stylesheet, nothing
//! inline), a skip link, the navigation, the signed-in key and sign-out,
//! and the error page an [`ApiError`] renders as.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::console::assets::CSS_PATH;
use crate::console::csrf;
use crate::console::session::Operator;
use crate::error::ApiError;

const NAV: &[(&str, &str)] = &[
    ("/console", "Overview"),
    ("/console/collections", "Collections"),
    ("/console/files", "ACH files"),
    ("/console/webhooks", "Webhooks"),
    ("/console/customers", "Customers"),
    ("/console/api-keys", "API keys"),
    ("/console/reports", "Reports"),
    ("/console/clock", "Sandbox clock"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Inflow console" }
            link rel="stylesheet" href=(CSS_PATH.as_str());
            // No favicon request (the console has none).
            link rel="icon" href="data:,";
        }
    }
}

/// A page without navigation (sign-in, refusals).
pub fn bare(title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body.bare { main id="main" { (body) } }
            }
        }
        .into_string(),
    )
}

/// A console page: `active` is the navigation entry it belongs to.
pub fn page(op: &Operator, active: &str, title: &str, sandbox: bool, body: Markup) -> Html<String> {
    Html(html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "Inflow" @if sandbox { " " span.badge { "sandbox" } } }
                    nav aria-label="Console" {
                        ul {
                            @for (href, label) in NAV {
                                @if *href != "/console/clock" || sandbox {
                                    li { a href=(href) aria-current=[(*href == active).then_some("page")] { (label) } }
                                }
                            }
                        }
                    }
                    form.signout method="post" action="/console/sign-out" {
                        (csrf::field(op))
                        span.who { "Signed in with " (op.key_name) " (" (op.key_id.as_str()) ")" }
                        button type="submit" { "Sign out" }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }.into_string())
}

/// The sign-in page.
pub fn sign_in(token: &str, note: Option<&str>, sandbox: bool) -> Html<String> {
    bare(
        "Sign in",
        html! {
            h1 { "Inflow console" }
            @if let Some(n) = note { p.note role="status" { (n) } }
            form.card method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(token);
                label for="api_key" { "Operator API key" }
                input id="api_key" name="api_key" type="password" autocomplete="off" required;
                button type="submit" { "Sign in" }
            }
            p.hint {
                "Sign in with an operator (admin) API key. Customer keys cannot sign in."
                @if sandbox { " In sandbox mode, `inflow serve` printed one and keeps it in inflow-data/demo-credentials.json." }
            }
        },
    )
}

/// An error as a page, with the status the API would answer.
pub fn error_page(e: ApiError) -> Response {
    let status = e.status;
    if status.is_server_error() {
        tracing::error!(code = %e.code, message = %e.message, "console request failed");
    }
    (
        status,
        bare(
            "Error",
            html! {
                h1 { (status_title(status)) }
                p { (e.message) }
                @if let Some(p) = &e.param { p { "Field: " code { (p) } } }
                p { a href="/console" { "Back to the console" } }
            },
        ),
    )
        .into_response()
}

fn status_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "Not accepted",
        403 => "Refused",
        404 => "Not found",
        409 => "Not possible now",
        503 => "Unavailable, try again",
        _ => "Something went wrong",
    }
}
