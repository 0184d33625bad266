//! Webhook target URLs.
//!
//! A target is an absolute `http` or `https` URL with a host, no user name or
//! password (they would end up in logs) and no fragment. In production mode
//! a target must not point at the operator's own network: loopback, private
//! (RFC 1918, unique-local), link-local (cloud metadata lives there),
//! carrier-grade NAT, multicast and unspecified addresses are refused, and so
//! are `localhost` names. Sandbox mode allows them, so a developer can
//! receive events on their own machine.
//!
//! A host name is only checked by name here; the dispatcher checks the
//! addresses it resolves to at delivery time (a name can be re-pointed after
//! the endpoint was created).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ValidationError;

/// The longest target URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// A validated webhook target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Validate `s` for `field`. `allow_private` is true in sandbox mode.
    pub fn parse(field: &str, s: &str, allow_private: bool) -> Result<Self, ValidationError> {
        let s = s.trim();
        let invalid = |code: &'static str, msg: String| ValidationError::new(field, code, msg);
        if s.is_empty() {
            return Err(invalid("required", format!("{field} must not be empty")));
        }
        if s.len() > MAX_URL_LEN {
            return Err(invalid(
                "too_long",
                format!("{field} must be at most {MAX_URL_LEN} characters"),
            ));
        }
        let url = ::url::Url::parse(s).map_err(|e| {
            invalid(
                "invalid_url",
                format!(
                    "`{}` is not an absolute URL ({e}); expected e.g. https://example.com/webhooks",
                    crate::text::clip(s, 80)
                ),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(
                "invalid_url_scheme",
                format!(
                    "{field} must be an http or https URL, not `{}:`",
                    crate::text::clip(url.scheme(), 20)
                ),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "invalid_url",
                format!("{field} must not contain a user name or password; verify deliveries with the signature instead"),
            ));
        }
        if url.fragment().is_some() {
            return Err(invalid(
                "invalid_url",
                format!("{field} must not contain a #fragment"),
            ));
        }
        let host = match url.host() {
            Some(h) => h,
            None => return Err(invalid("invalid_url", format!("{field} needs a host"))),
        };
        if !allow_private {
            let refused = match &host {
                ::url::Host::Ipv4(ip) => !is_public_ip(IpAddr::V4(*ip)),
                ::url::Host::Ipv6(ip) => !is_public_ip(IpAddr::V6(*ip)),
                ::url::Host::Domain(d) => is_local_name(d),
            };
            if refused {
                return Err(invalid(
                    "private_address_refused",
                    format!(
                        "{field} points at a private, loopback or link-local address (`{}`); \
                         production endpoints must be reachable on the public internet (allowed in sandbox mode)",
                        crate::text::clip(&host.to_string(), 80)
                    ),
                ));
            }
        }
        Ok(Self(url.to_string()))
    }

    /// Wrap a value read back from our own storage.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `localhost` and its subdomains, and names that only resolve locally.
pub fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost"
        || h.ends_with(".localhost")
        || h.ends_with(".local")
        || h.ends_with(".internal")
        || !h.contains('.')
}

/// May a production webhook be delivered to `ip`?
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Carrier-grade NAT 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments 192.0.0.0/24, benchmarking 198.18.0.0/15, reserved 240.0.0.0/4.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7.
        || (first & 0xfe00) == 0xfc00
        // Link-local fe80::/10.
        || (first & 0xffc0) == 0xfe80
        // Documentation 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // NAT64 64:ff9b::/96 can reach IPv4 private space.
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_public_http_and_https_targets() {
        for u in [
            "https://example.com/hooks",
            "http://hooks.example.com:8443/a?b=c",
            "https://93.184.216.34/x",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/x",
        ] {
            assert!(WebhookUrl::parse("url", u, false).is_ok(), "{u}");
        }
    }

    #[test]
    fn refuses_other_schemes_credentials_and_garbage_naming_the_field() {
        for (u, code) in [
            ("ftp://example.com/x", "invalid_url_scheme"),
            ("file:///etc/passwd", "invalid_url_scheme"),
            ("https://user:pw@example.com/", "invalid_url"),
            ("https://example.com/#frag", "invalid_url"),
            ("example.com/hooks", "invalid_url"),
            ("", "required"),
        ] {
            let e = WebhookUrl::parse("url", u, true).unwrap_err();
            assert_eq!((e.code, e.field.as_str()), (code, "url"), "{u}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(
            WebhookUrl::parse("url", &long, true).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn private_targets_are_refused_in_production_and_allowed_in_sandbox() {
        for u in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://api.localhost/x",
            "http://10.1.2.3/x",
            "http://172.16.0.1/x",
            "http://192.168.1.1/x",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/x",
            "http://0.0.0.0/x",
            "http://[::1]/x",
            "http://[fd00::1]/x",
            "http://[fe80::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://intranet/x",
        ] {
            let e = WebhookUrl::parse("url", u, false).unwrap_err();
            assert_eq!(e.code, "private_address_refused", "{u}");
            assert!(WebhookUrl::parse("url", u, true).is_ok(), "{u}");
        }
    }
}
