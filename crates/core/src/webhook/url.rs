//! Webhook target URLs.
//!
//! A target is an absolute `http` or `https` URL with a host, no user name or
//! password (they would end up in logs) and no fragment. In production mode
//! a target must not point at the operator's own network: loopback, private
//! (RFC 1918, unique-local, site-local), link-local (cloud metadata lives
//! there), carrier-grade NAT, multicast and unspecified addresses are
//! refused, and so are `localhost` names. IPv6 forms that wrap an IPv4
//! address are judged by it (IPv4-mapped, 6to4, well-known NAT64) or refused
//! outright (IPv4-compatible, Teredo, local-use NAT64); see [`is_public_ip`]. Sandbox mode allows them, so a developer can
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
        let invalid = |code: &'static str, msg: String| ValidationError::new(field, code, msg);
        if s.is_empty() {
            return Err(invalid("required", format!("{field} must not be empty")));
        }
        // Only the characters RFC 3986 allows in a URI (others
        // percent-encoded), as the OpenAPI pattern says: no spaces around
        // it, no quotes, braces or non-ASCII letters the URL parser would
        // otherwise encode silently.
        if let Some(c) = s.chars().find(|c| !is_uri_char(*c)) {
            return Err(invalid(
                "invalid_url",
                format!("{field} contains {c:?}, which a URL may not hold unencoded (percent-encode it)"),
            ));
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
        if let ::url::Host::Domain(d) = &host {
            if !is_dns_name(d) {
                return Err(invalid(
                    "invalid_url",
                    format!(
                        "{field} has the host `{}`, which is not a DNS name (labels of letters, digits and inner hyphens, at most 63 characters, separated by dots)",
                        crate::text::clip(d, 80)
                    ),
                ));
            }
        }
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
/// A host name as the OpenAPI pattern states it: dot-separated labels of
/// ASCII letters and digits with inner hyphens, 1 to 63 characters each.
/// (The URL parser accepts more in a host, `*` for one.)
fn is_dns_name(host: &str) -> bool {
    host.split('.').all(|label| {
        let bytes = label.as_bytes();
        (1..=63).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-'
    })
}

/// A character RFC 3986 allows in a URI: unreserved, reserved, or `%`.
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

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
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
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
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        // The 6to4 relay anycast 192.88.99.0/24 (deprecated).
        || (a == 192 && b == 88 && c == 99)
        || a >= 240)
}

/// The IPv4 address in the last 32 bits of `ip`.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// IPv6 is judged by allow-list: only global unicast (`2000::/3`) minus the
/// special blocks inside it, plus the two forms that carry an IPv4 address
/// the network really reaches (IPv4-mapped and the well-known NAT64 prefix),
/// which are judged by that IPv4 address.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // IPv4-mapped ::ffff:0:0/96.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): the IPv4 behind it.
    if s[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(low_v4(ip));
    }
    // Everything else outside 2000::/3 is refused: ::/128, ::1, IPv4-compatible
    // ::/96 (`[::127.0.0.1]`), IPv4-translated ::ffff:0:0:0/96, discard-only
    // 100::/64, local-use NAT64 64:ff9b:1::/48 and the rest of 64:ff9b::/32,
    // unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10,
    // multicast ff00::/8.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 6to4 2002::/16 wraps an IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // IETF protocol assignments 2001::/23: Teredo 2001::/32, benchmarking
    // 2001:2::/48, ORCHID 2001:10::/28 and 2001:20::/28, …
    let ietf_protocol = s[0] == 0x2001 && s[1] < 0x0200;
    // Documentation 2001:db8::/32 and 3fff::/20.
    let documentation = (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000);
    !(ietf_protocol || documentation)
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
            "https://example.com/v5*/a;b=c?x='y'&z=%20",
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
            ("https://example.com/a b", "invalid_url"),
            (" https://example.com/", "invalid_url"),
            ("https://example.com/\"x\"", "invalid_url"),
            ("https://example.com/caf\u{e9}", "invalid_url"),
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

    fn refused(text: &str) -> bool {
        !is_public_ip(text.parse().unwrap())
    }

    #[test]
    fn ipv4_compatible_ipv6_is_refused() {
        for ip in [
            "::127.0.0.1",
            "::a9fe:a9fe",
            "::10.0.0.1",
            "::8.8.8.8",
            "::",
        ] {
            assert!(refused(ip), "{ip}");
        }
    }

    #[test]
    fn ipv4_mapped_and_translated_ipv6_follow_or_refuse_the_ipv4_inside() {
        assert!(refused("::ffff:127.0.0.1"));
        assert!(refused("::ffff:169.254.169.254"));
        assert!(refused("::ffff:10.1.2.3"));
        assert!(!refused("::ffff:93.184.216.34"));
        // SIIT ::ffff:0:0:0/96 is not the mapped form: refused outright.
        assert!(refused("::ffff:0:7f00:1"));
    }

    #[test]
    fn six_to_four_is_refused_when_it_wraps_a_private_or_loopback_ipv4() {
        assert!(refused("2002:7f00:1::")); // 127.0.0.1
        assert!(refused("2002:a00:1::1")); // 10.0.0.1
        assert!(refused("2002:a9fe:a9fe::1")); // 169.254.169.254
        assert!(refused("2002:c0a8:101::1")); // 192.168.1.1
        assert!(!refused("2002:5db8:d822::1")); // 93.184.216.34
    }

    #[test]
    fn teredo_and_the_other_ietf_protocol_assignments_are_refused() {
        assert!(refused("2001:0:4136:e378:8000:63bf:3fff:fdd2")); // Teredo
        assert!(refused("2001::1"));
        assert!(refused("2001:2::1")); // benchmarking
        assert!(refused("2001:10::1")); // ORCHID
        assert!(refused("2001:db8::1")); // documentation
        assert!(refused("3fff::1")); // documentation (RFC 9637)
        assert!(!refused("2001:4860:4860::8888"));
    }

    #[test]
    fn nat64_is_refused_for_private_ipv4_and_local_use_prefixes() {
        assert!(refused("64:ff9b::7f00:1")); // 127.0.0.1
        assert!(refused("64:ff9b::a9fe:a9fe")); // 169.254.169.254
        assert!(refused("64:ff9b::c0a8:101")); // 192.168.1.1
        assert!(!refused("64:ff9b::5db8:d822")); // 93.184.216.34
        assert!(refused("64:ff9b:1::5db8:d822")); // local-use 64:ff9b:1::/48
        assert!(refused("64:ff9b:0:1::1"));
    }

    #[test]
    fn site_local_unique_local_link_local_discard_and_multicast_are_refused() {
        for ip in [
            "fec0::1",
            "feff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "100::1",
            "ff02::1",
            "::1",
        ] {
            assert!(refused(ip), "{ip}");
        }
        assert!(!refused("2606:2800:220:1:248:1893:25c8:1946"));
    }

    #[test]
    fn the_6to4_relay_anycast_is_refused() {
        assert!(refused("192.88.99.1"));
        assert!(!refused("93.184.216.34"));
    }

    #[test]
    fn wrapped_private_addresses_are_refused_as_urls_in_production() {
        for u in [
            "http://[::127.0.0.1]/x",
            "http://[::a9fe:a9fe]/x",
            "http://[2002:7f00:1::]/x",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",
            "http://[64:ff9b::a00:1]/x",
            "http://[64:ff9b:1::5db8:d822]/x",
            "http://[fec0::1]/x",
        ] {
            let e = WebhookUrl::parse("url", u, false).unwrap_err();
            assert_eq!(e.code, "private_address_refused", "{u}");
        }
    }

    #[test]
    fn a_host_that_is_not_a_dns_name_is_refused_naming_the_field() {
        for u in [
            "https://0.J.M*",
            "https://a*b.example/x",
            "https://-a.example/x",
            "https://example.com./x",
            "https://a..example/x",
        ] {
            let e = WebhookUrl::parse("url", u, true).unwrap_err();
            assert_eq!(e.code, "invalid_url", "{u}");
            assert_eq!(e.field, "url", "{u}");
        }
        for u in [
            "https://0.j.m/",
            "https://Acme-Utilities.example/hooks",
            "http://10.0.0.1:8080/x",
        ] {
            WebhookUrl::parse("url", u, true).unwrap();
        }
    }
}
