//! A console client over plain HTTP: it keeps the cookies it is given (one
//! jar, by name), follows no redirect by itself, and reads the CSRF token
//! from the forms it is served.

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use std::collections::BTreeMap;

pub struct Console {
    pub base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no CSRF field in: {}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// Every `href` (and form `action`) on the page under `/console`.
    pub fn links(&self) -> Vec<String> {
        let mut out = Vec::new();
        for marker in [r#"href=""#, r#"action=""#] {
            for (i, _) in self.body.match_indices(marker) {
                let rest = &self.body[i + marker.len()..];
                let link = &rest[..rest.find('"').unwrap_or(0)];
                if link.starts_with("/console") {
                    out.push(link.replace("&amp;", "&"));
                }
            }
        }
        out
    }
}

impl Console {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (kv, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") || val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    /// A `multipart/form-data` POST: `fields` in order, then `file` as the `file` part.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: &[u8],
    ) -> Page {
        let boundary = "inflow-console-test-boundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .bytes(),
            );
        }
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"return.ach\"\r\nContent-Type: application/octet-stream\r\n\r\n").bytes(),
        );
        body.extend_from_slice(file);
        body.extend(format!("\r\n--{boundary}--\r\n").bytes());
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(resp).await
    }

    /// Sign in with `key`; the answer to the sign-in POST.
    pub async fn sign_in(&mut self, key: &str) -> Page {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let token = form.csrf();
        self.post("/console/sign-in", &[("csrf", &token), ("api_key", key)])
            .await
    }

    /// This session's CSRF token, read from the overview's sign-out form.
    pub async fn csrf(&mut self) -> String {
        let p = self.get("/console").await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        p.csrf()
    }
}
