//! The SFTP transport against a real OpenSSH server on loopback
//! (`inflow_bank::testing::sshd`): uploads, pinned and wrong host keys,
//! credentials, a server that is down then back, a server killed in the
//! middle of an upload, and the inbound pickup with deduplication.

use std::collections::HashSet;
use std::time::Duration;

use inflow_bank::inbound::{poll, Pickup};
use inflow_bank::testing::sshd::TestSshd;
use inflow_bank::{
    BankTransport, FileName, HostKeyPins, PickupAction, Secret, Sftp, SftpAuth, TransportError,
    VerifyMode,
};

fn name(s: &str) -> FileName {
    FileName::new(s).unwrap()
}

/// Names in a server directory, sorted.
fn listing(server: &TestSshd, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.path(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn nacha_like(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"0123456789ABCDEF\n"[i % 17]).collect()
}

#[tokio::test]
async fn upload_puts_the_exact_bytes_under_the_final_name_and_nothing_else() {
    let server = TestSshd::start();
    let sftp = Sftp::new(server.sftp_config()).unwrap();
    let bytes = nacha_like(94 * 1000);
    let receipt = sftp.upload(&name("ACH_1.txt"), &bytes).await.unwrap();
    assert!(!receipt.already_present);
    assert_eq!(receipt.size, bytes.len() as u64);
    assert_eq!(
        std::fs::read(server.path("/outbound/ACH_1.txt")).unwrap(),
        bytes
    );
    assert_eq!(listing(&server, "/outbound"), vec!["ACH_1.txt"]);
    assert!(
        receipt.location.ends_with("/outbound/ACH_1.txt"),
        "{}",
        receipt.location
    );
}

#[tokio::test]
async fn uploading_the_same_file_again_sends_nothing_and_different_bytes_are_a_conflict() {
    let server = TestSshd::start();
    let sftp = Sftp::new(server.sftp_config()).unwrap();
    sftp.upload(&name("f.ach"), b"first").await.unwrap();
    let again = sftp.upload(&name("f.ach"), b"first").await.unwrap();
    assert!(again.already_present);
    let err = sftp.upload(&name("f.ach"), b"other").await.unwrap_err();
    assert!(matches!(err, TransportError::Conflict { .. }), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(
        std::fs::read(server.path("/outbound/f.ach")).unwrap(),
        b"first"
    );
    assert_eq!(listing(&server, "/outbound"), vec!["f.ach"]);
}

#[tokio::test]
async fn password_authentication_works_and_a_wrong_password_is_refused_for_good() {
    let server = TestSshd::start();
    let sftp = Sftp::new(server.sftp_password_config()).unwrap();
    sftp.upload(&name("pw.txt"), b"hello").await.unwrap();
    assert_eq!(
        std::fs::read(server.path("/outbound/pw.txt")).unwrap(),
        b"hello"
    );

    let mut cfg = server.sftp_password_config();
    cfg.auth = SftpAuth::Password(Secret::new("wrong"));
    let err = Sftp::new(cfg)
        .unwrap()
        .upload(&name("x.txt"), b"x")
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::AuthRejected { .. }), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_server_whose_key_is_not_the_pinned_one_is_refused() {
    let server = TestSshd::start();
    let other = TestSshd::start();
    let mut cfg = server.sftp_config();
    // The other server's key, pinned for this server's address.
    cfg.host_keys = HostKeyPins::parse(other.host_key()).unwrap();
    let err = Sftp::new(cfg)
        .unwrap()
        .upload(&name("x.txt"), b"x")
        .await
        .unwrap_err();
    match &err {
        TransportError::HostKeyRejected { offered, .. } => assert!(offered.starts_with("SHA256:")),
        e => panic!("expected a host key refusal, got {e}"),
    }
    assert!(!err.is_retryable());
    assert!(listing(&server, "/outbound").is_empty());

    // The right key pinned for another host does not count either.
    let mut cfg = server.sftp_config();
    cfg.host_keys = HostKeyPins::parse(&format!("sftp.bank.test {}", server.host_key())).unwrap();
    let err = Sftp::new(cfg)
        .unwrap()
        .upload(&name("x.txt"), b"x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::HostKeyRejected { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn production_refuses_a_server_without_a_pinned_key_and_sandbox_accepts_it() {
    let server = TestSshd::start();
    let mut cfg = server.sftp_config();
    cfg.host_keys = HostKeyPins::default();
    let err = Sftp::new(cfg.clone()).unwrap_err();
    assert!(
        matches!(err, TransportError::Config(ref m) if m.contains("pinned")),
        "{err}"
    );

    cfg.production = false;
    Sftp::new(cfg)
        .unwrap()
        .upload(&name("s.txt"), b"s")
        .await
        .unwrap();
    assert_eq!(listing(&server, "/outbound"), vec!["s.txt"]);
}

#[tokio::test]
async fn a_server_that_is_down_gives_a_retryable_error_and_the_retry_sends_the_file_once() {
    let mut server = TestSshd::start();
    let sftp = Sftp::new(server.sftp_config()).unwrap();
    server.stop();
    let err = sftp
        .upload(&name("down.txt"), b"payload")
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Connect { .. }), "{err}");
    assert!(err.is_retryable());

    server.start_again();
    let receipt = sftp.upload(&name("down.txt"), b"payload").await.unwrap();
    assert!(!receipt.already_present);
    // A retry whose first success was not recorded sends nothing twice.
    assert!(
        sftp.upload(&name("down.txt"), b"payload")
            .await
            .unwrap()
            .already_present
    );
    assert_eq!(listing(&server, "/outbound"), vec!["down.txt"]);
}

#[tokio::test]
async fn a_server_killed_mid_upload_leaves_nothing_under_the_final_name_and_a_retry_succeeds() {
    let mut server = TestSshd::start();
    let mut cfg = server.sftp_config();
    cfg.verify = VerifyMode::Size;
    let sftp = Sftp::new(cfg).unwrap();
    let bytes = nacha_like(64 * 1024 * 1024);
    let file = name("BIG.ach");
    let partial = server.path("/outbound").join(file.partial_name());

    let upload = {
        let (sftp, file, bytes) = (sftp.clone(), file.clone(), bytes.clone());
        tokio::spawn(async move { sftp.upload(&file, &bytes).await })
    };
    // Kill the server once part of the file has arrived.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
        if got >= 1024 * 1024 {
            assert!(
                got < bytes.len() as u64,
                "the upload finished before the kill"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "upload never started");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.stop();
    let err = upload.await.unwrap().unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(!server.path("/outbound/BIG.ach").exists());

    server.start_again();
    let receipt = sftp.upload(&file, &bytes).await.unwrap();
    assert!(!receipt.already_present);
    assert!(std::fs::read(server.path("/outbound/BIG.ach")).unwrap() == bytes);
    assert_eq!(listing(&server, "/outbound"), vec!["BIG.ach"]);
}

#[tokio::test]
async fn inbound_files_are_listed_fetched_and_moved_or_deleted() {
    let server = TestSshd::start();
    server.drop_file("/inbound", "RET_2.ach", b"returns two");
    server.drop_file("/inbound", "RET_1.ach", b"returns one");
    server.drop_file("/inbound", ".RET_3.ach.part", b"still being written");
    let sftp = Sftp::new(server.sftp_config()).unwrap();

    let listed = sftp.list_inbound().await.unwrap();
    let names: Vec<_> = listed.iter().map(|f| f.name.to_string()).collect();
    assert_eq!(names, vec!["RET_1.ach", "RET_2.ach"]);
    assert_eq!(listed[0].size, 11);

    let one = sftp.fetch_inbound(&name("RET_1.ach")).await.unwrap();
    assert_eq!(one.bytes, b"returns one");
    assert_eq!(
        one.sha256,
        inflow_bank::transport::content_hash(b"returns one")
    );

    sftp.dispose_inbound(&name("RET_1.ach")).await.unwrap();
    assert_eq!(
        std::fs::read(server.path("/inbound/processed/RET_1.ach")).unwrap(),
        b"returns one"
    );
    // The same name again moves beside the first, never over it.
    server.drop_file("/inbound", "RET_1.ach", b"returns one, again");
    sftp.dispose_inbound(&name("RET_1.ach")).await.unwrap();
    assert_eq!(
        listing(&server, "/inbound/processed"),
        vec!["RET_1.ach", "RET_1.ach.1"]
    );

    let mut cfg = server.sftp_config();
    cfg.pickup = PickupAction::Delete;
    let deleting = Sftp::new(cfg).unwrap();
    deleting.dispose_inbound(&name("RET_2.ach")).await.unwrap();
    assert_eq!(
        listing(&server, "/inbound"),
        vec![".RET_3.ach.part", "processed"]
    );
    let err = deleting
        .fetch_inbound(&name("RET_2.ach"))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn an_inbound_file_seen_twice_is_applied_once() {
    let server = TestSshd::start();
    let sftp = Sftp::new(server.sftp_config()).unwrap();
    server.drop_file("/inbound", "A.ach", b"same content");
    server.drop_file("/inbound", "B.ach", b"same content");
    server.drop_file("/inbound", "C.ach", b"other content");
    let mut applied: HashSet<String> = HashSet::new();

    // First pass: A and C are new; B has A's content and waits.
    let found = poll(&sftp, 1 << 20, &|h| applied.contains(h))
        .await
        .unwrap();
    let mut to_apply = Vec::new();
    for p in found {
        match p {
            Pickup::New(f) => to_apply.push(f),
            Pickup::Deferred { name, .. } => assert_eq!(name.as_str(), "B.ach"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(to_apply.len(), 2);
    for f in &to_apply {
        applied.insert(f.sha256.clone());
        sftp.dispose_inbound(&f.name).await.unwrap();
    }

    // Second pass: B is a duplicate, disposed of without being applied.
    let found = poll(&sftp, 1 << 20, &|h| applied.contains(h))
        .await
        .unwrap();
    assert!(matches!(&found[..], [Pickup::Duplicate { name, .. }] if name.as_str() == "B.ach"));
    assert!(poll(&sftp, 1 << 20, &|h| applied.contains(h))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(listing(&server, "/inbound"), vec!["processed"]);
}

#[tokio::test]
async fn an_inbound_file_over_the_size_limit_is_left_alone() {
    let server = TestSshd::start();
    let sftp = Sftp::new(server.sftp_config()).unwrap();
    server.drop_file("/inbound", "HUGE.ach", &[b'x'; 4096]);
    let found = poll(&sftp, 1024, &|_| false).await.unwrap();
    assert!(matches!(
        &found[..],
        [Pickup::Failed {
            error: TransportError::TooLarge { .. },
            ..
        }]
    ));
    assert_eq!(listing(&server, "/inbound"), vec!["HUGE.ach"]);
}
