//! The audit trail over HTTP, on both backends: state-changing operator and
//! customer actions leave one record each (who, what, from where, which
//! request, before/after with secrets masked), written with the change — a
//! refused change leaves none; `GET /v1/audit-events` is operator-only and
//! filters by actor, action, object and time; and the database itself
//! refuses to change or delete a record.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::ach::*;
use support::*;

on_both_backends!(
    state_changes_are_recorded_with_who_what_when_and_where,
    a_refused_change_leaves_no_audit_record,
    audit_events_are_operator_only_and_filters_are_checked,
    the_database_refuses_to_update_or_delete_audit_records,
    forwarded_for_is_believed_only_from_a_trusted_proxy,
);

async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get(&admin(), &format!("/v1/audit-events{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["data"].as_array().unwrap().clone()
}

/// The single record of `action` about `object`.
async fn one(app: &TestApp, action: &str, object: &str) -> Value {
    let found = audit(app, &format!("?action={action}&objectId={object}")).await;
    assert_eq!(found.len(), 1, "{action} {object}: {found:#?}");
    found[0].clone()
}

fn key_id_of(app_key: &Value) -> String {
    app_key["id"].as_str().unwrap().to_owned()
}

async fn admin_key_id(app: &TestApp) -> String {
    let keys = app.get(&admin(), "/v1/api-keys").await.json();
    key_id_of(&keys["data"][0])
}

async fn state_changes_are_recorded_with_who_what_when_and_where(b: Backend) {
    let app = spawn_app(b).await;
    let admin_key = admin_key_id(&app).await;

    // An operator creates a customer; X-Forwarded-For is not believed (no trusted proxy).
    let body = json!({"name": "Acme", "kind": "business", "achCompanyName": "ACME", "achCompanyId": "1234567890"});
    let body_text = body.to_string();
    let r = app
        .send(
            Some(&admin()),
            Method::POST,
            "/v1/customers",
            Some(&body_text),
            true,
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let request_id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    let customer = r.json()["id"].as_str().unwrap().to_owned();
    let created = one(&app, "customer.created", &customer).await;
    assert_eq!(created["object"], "audit_event");
    assert_eq!(created["actor"]["type"], "api_key");
    assert_eq!(created["actor"]["id"], admin_key.as_str());
    assert_eq!(created["objectType"], "customer");
    assert_eq!(created["requestId"], request_id.as_str());
    assert_eq!(created["clientIp"], "127.0.0.1");
    assert!(created["before"].is_null());
    assert_eq!(created["after"]["name"], "Acme");

    // A key for it: recorded, its secrets nowhere in the trail.
    let k = app
        .post(
            &admin(),
            "/v1/api-keys",
            json!({"customerId": customer, "name": "billing"}),
        )
        .await;
    assert_eq!(k.status, StatusCode::CREATED, "{}", k.text);
    let k = k.json();
    let creds = Creds {
        key: k["key"].as_str().unwrap().into(),
        secret: k["signingSecret"].as_str().unwrap().into(),
        acting_for: None,
    };
    let key_id = key_id_of(&k);
    let issued = one(&app, "api_key.created", &key_id).await;
    assert_eq!(issued["after"]["customerId"], customer.as_str());

    // Limits and fee schedule: before and after.
    let r = patch(
        &app,
        &admin(),
        &format!("/v1/customers/{customer}"),
        json!({"achLimits": {"dailyDebitMax": {"currency": "USD", "value": "500000"}}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let updated = one(&app, "customer.updated", &customer).await;
    assert_ne!(
        updated["before"]["achLimits"], updated["after"]["achLimits"],
        "{updated:#}"
    );
    let r = app
        .call(
            &admin(),
            Method::PUT,
            &format!("/v1/fee-schedules/{customer}"),
            Some(json!({"achFixed": 25})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fees = one(&app, "fee_schedule.updated", &customer).await;
    assert!(fees["before"].is_null(), "{fees:#}");
    assert_eq!(fees["after"]["achFixed"], 25, "{fees:#}");

    // The customer's own actions: account status, payment method status, a cancel.
    let dest = destination(&app, &creds).await;
    assert_eq!(
        one(&app, "account.created", &dest).await["actor"]["id"],
        key_id.as_str()
    );
    let acting = Creds {
        acting_for: Some(customer.clone()),
        ..admin()
    };
    let r = patch(
        &app,
        &acting,
        &format!("/v1/accounts/{dest}"),
        json!({"status": "blocked"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let blocked = one(&app, "account.updated", &dest).await;
    assert_eq!(blocked["before"]["status"], "active");
    assert_eq!(blocked["after"]["status"], "blocked");
    assert_eq!(blocked["actor"]["customerId"], customer.as_str());
    let r = patch(
        &app,
        &acting,
        &format!("/v1/accounts/{dest}"),
        json!({"status": "active"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let pm = make_pm(&app, &creds, "000123456789").await;
    let r = patch(
        &app,
        &creds,
        &format!("/v1/payment-methods/{pm}"),
        json!({"status": "inactive"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let deactivated = one(&app, "payment_method.updated", &pm).await;
    assert_eq!(deactivated["before"]["status"], "active");
    assert_eq!(deactivated["after"]["status"], "inactive");
    let r = patch(
        &app,
        &creds,
        &format!("/v1/payment-methods/{pm}"),
        json!({"status": "active"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let c = collect(&app, &creds, &dest, &pm, "1234", json!({})).await;
    let col = c["id"].as_str().unwrap();
    let r = app
        .post(&creds, &format!("/v1/collections/{col}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cancelled = one(&app, "collection.cancelled", col).await;
    assert_eq!(cancelled["after"]["status"], "cancelled");
    assert_ne!(cancelled["before"]["status"], "cancelled");

    // The clock advance (operator) and the key's revocation.
    advance_minutes(&app, 30).await;
    let moved = audit(&app, "?action=sandbox.clock_advanced").await;
    assert_eq!(moved.len(), 1);
    assert!(
        moved[0]["before"]["now"].as_str().unwrap() < moved[0]["after"]["now"].as_str().unwrap()
    );
    // A cutoff run by hand, on the next banking day.
    let today = inflow_core::calendar::local_date(sandbox_now(&app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    advance_to_eastern(&app, day, 9, 0).await;
    let r = app.post(&admin(), "/v1/ach/cutoffs", json!({})).await;
    assert!(r.status.is_success(), "{}", r.text);
    let run = audit(&app, "?action=ach.cutoff_run").await;
    assert_eq!(run.len(), 1, "{run:#?}");
    assert_eq!(run[0]["objectId"], day.to_string());
    assert_eq!(run[0]["actor"]["id"], admin_key.as_str());
    let r = app
        .post(
            &admin(),
            &format!("/v1/api-keys/{key_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revoked = one(&app, "api_key.revoked", &key_id).await;
    assert!(revoked["before"]["revokedAt"].is_null());
    assert!(revoked["after"]["revokedAt"].is_string());

    // No secret and no full account number anywhere in the trail.
    let everything = app.get(&admin(), "/v1/audit-events?limit=200").await.text;
    for secret in [
        creds.key.as_str(),
        creds.secret.as_str(),
        ADMIN_KEY,
        ADMIN_SECRET,
        "000123456789",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into the audit trail"
        );
    }

    // Filters: by actor key, and paging newest first.
    let by_key = audit(&app, &format!("?actorKeyId={key_id}&limit=200")).await;
    assert!(!by_key.is_empty());
    assert!(by_key.iter().all(|a| a["actor"]["id"] == key_id.as_str()));
    let all = audit(&app, "?limit=200").await;
    let first = app.get(&admin(), "/v1/audit-events?limit=2").await.json();
    assert_eq!(first["hasMore"], true);
    let last = first["data"][1]["id"].as_str().unwrap();
    let next = audit(&app, &format!("?limit=200&startingAfter={last}")).await;
    assert_eq!(next.len(), all.len() - 2);
    assert_eq!(next[0]["id"], all[2]["id"]);
    let future = audit(&app, "?createdFrom=2999-01-01T00:00:00Z").await;
    assert!(future.is_empty());
    let past = audit(&app, "?createdTo=2000-01-01T00:00:00Z").await;
    assert!(past.is_empty());
}

async fn a_refused_change_leaves_no_audit_record(b: Backend) {
    let app = spawn_app(b).await;
    let (customer, _) = app.customer_with_key("Acme", json!({})).await;
    let r = patch(
        &app,
        &admin(),
        &format!("/v1/customers/{customer}"),
        json!({"name": "Acme 2", "email": "not an email"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(audit(
        &app,
        &format!("?action=customer.updated&objectId={customer}")
    )
    .await
    .is_empty());
    // The last admin key cannot be revoked: 409, and no record.
    let admin_key = admin_key_id(&app).await;
    let r = app
        .post(
            &admin(),
            &format!("/v1/api-keys/{admin_key}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(audit(&app, "?action=api_key.revoked").await.is_empty());
}

async fn audit_events_are_operator_only_and_filters_are_checked(b: Backend) {
    let app = spawn_app(b).await;
    let (_, creds) = app.customer_with_key("Acme", json!({})).await;
    let r = app.get(&creds, "/v1/audit-events").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.error_code(), "admin_key_required");
    for (query, param) in [
        (
            "actorKeyId=cus_0192f1c4a1b27c3d8e9f00112233aabb",
            "actorKeyId",
        ),
        ("action=Customer%20Updated", "action"),
        ("createdFrom=yesterday", "createdFrom"),
        ("limit=0", "limit"),
        ("whatever=1", "whatever"),
    ] {
        let r = app
            .get(&admin(), &format!("/v1/audit-events?{query}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text);
        assert_eq!(
            r.error_param().as_deref(),
            Some(param),
            "{query}: {}",
            r.text
        );
    }
}

async fn the_database_refuses_to_update_or_delete_audit_records(b: Backend) {
    let app = spawn_app(b).await;
    app.customer_with_key("Acme", json!({})).await;
    assert!(!audit(&app, "").await.is_empty());
    let store = &app.state().store;
    for sql in [
        "UPDATE audit_events SET action = 'customer.forged'",
        "DELETE FROM audit_events",
    ] {
        let e = store
            .write(move |tx| Box::pin(async move { tx.execute_raw(sql).await }))
            .await
            .expect_err(sql);
        assert!(e.to_string().contains("immutable"), "{sql}: {e}");
    }
    assert!(audit(&app, "?action=customer.forged").await.is_empty());
    assert_eq!(audit(&app, "?action=customer.created").await.len(), 1);
}

async fn forwarded_for_is_believed_only_from_a_trusted_proxy(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]
    })
    .await;
    let body = json!({"name": "Acme", "kind": "business", "achCompanyName": "ACME", "achCompanyId": "1234567890"})
        .to_string();
    let r = app
        .send(
            Some(&admin()),
            Method::POST,
            "/v1/customers",
            Some(&body),
            true,
            // The client claims 198.51.100.1; the trusted proxy saw 203.0.113.9.
            &[("x-forwarded-for", "198.51.100.1, 203.0.113.9")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let customer = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        one(&app, "customer.created", &customer).await["clientIp"],
        "203.0.113.9"
    );
}
