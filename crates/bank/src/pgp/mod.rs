//! pgp
