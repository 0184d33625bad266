//! A short-lived cache of API keys and customers for request authentication.
//!
//! Every request needs its key and customer; reading them costs a database
//! round trip or two on the hot path. Entries live for `auth_cache_ttl_secs`
//! (default 5 s). A revocation or customer change on this node clears the
//! cache at once; other nodes sharing PostgreSQL see it within the TTL. The
//! TTL runs on a monotonic timer: it is a cache lifetime, not business time.

use inflow_core::ids::CustomerId;
use inflow_core::model::{ApiKey, Customer};
use inflow_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Beyond this many entries a map is emptied rather than grown.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
pub struct AuthCache {
    ttl: Duration,
    generation: AtomicU64,
    keys: Mutex<HashMap<Vec<u8>, (Instant, ApiKey)>>,
    customers: Mutex<HashMap<CustomerId, (Instant, Customer)>>,
}

fn fresh<K: std::hash::Hash + Eq, V: Clone>(
    map: &Mutex<HashMap<K, (Instant, V)>>,
    k: &K,
    ttl: Duration,
) -> Option<V> {
    let map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.get(k)
        .filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, v)| v.clone())
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            keys: Mutex::default(),
            customers: Mutex::default(),
        }
    }

    fn remember<K: std::hash::Hash + Eq, V>(
        &self,
        map: &Mutex<HashMap<K, (Instant, V)>>,
        generation: u64,
        k: K,
        v: V,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        // Skip values read before an invalidation that happened meanwhile.
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(k, (Instant::now(), v));
    }

    /// The key with this hash (revoked or not), if it exists.
    pub async fn api_key(&self, store: &Store, hash: &[u8]) -> Result<Option<ApiKey>, StoreError> {
        let hash = hash.to_vec();
        if let Some(k) = fresh(&self.keys, &hash, self.ttl) {
            return Ok(Some(k));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let found = store.read().await?.find_api_key_by_hash(&hash).await?;
        if let Some(k) = &found {
            self.remember(&self.keys, generation, hash, k.clone());
        }
        Ok(found)
    }

    pub async fn customer(&self, store: &Store, id: &CustomerId) -> Result<Customer, StoreError> {
        if let Some(c) = fresh(&self.customers, id, self.ttl) {
            return Ok(c);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let c = store.read().await?.get_customer(id).await?;
        self.remember(&self.customers, generation, id.clone(), c.clone());
        Ok(c)
    }

    /// Forget everything (after a key is revoked or a customer changes).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.customers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
