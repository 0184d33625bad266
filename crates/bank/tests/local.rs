//! The local-folder transport: the same upload protocol as SFTP (temporary
//! name, check, rename; idempotent; no overwrite) and the inbound pickup.

use inflow_bank::inbound::{poll, Pickup};
use inflow_bank::{BankTransport, FileName, LocalFolder, PickupAction, TransportError};

fn name(s: &str) -> FileName {
    FileName::new(s).unwrap()
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn upload_writes_the_final_file_once_and_never_overwrites_another() {
    let tmp = tempfile::tempdir().unwrap();
    let bank = LocalFolder::new(tmp.path().join("out"), tmp.path().join("in"));
    let r = bank.upload(&name("A.ach"), b"bytes").await.unwrap();
    assert!(!r.already_present);
    assert_eq!(
        std::fs::read(tmp.path().join("out/A.ach")).unwrap(),
        b"bytes"
    );
    assert!(
        bank.upload(&name("A.ach"), b"bytes")
            .await
            .unwrap()
            .already_present
    );
    let err = bank.upload(&name("A.ach"), b"other").await.unwrap_err();
    assert!(matches!(err, TransportError::Conflict { .. }));
    assert_eq!(names(&tmp.path().join("out")), vec!["A.ach"]);
}

#[tokio::test]
async fn inbound_files_are_deduplicated_and_moved_or_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let inbound = tmp.path().join("in");
    std::fs::create_dir_all(&inbound).unwrap();
    std::fs::write(inbound.join("R1.ach"), b"same").unwrap();
    std::fs::write(inbound.join("R2.ach"), b"same").unwrap();
    std::fs::write(inbound.join("R3.ach.part"), b"writing").unwrap();
    let bank = LocalFolder::new(tmp.path().join("out"), &inbound);

    let found = poll(&bank, 1 << 20, &|_| false).await.unwrap();
    let Pickup::New(first) = &found[0] else {
        panic!("{found:?}")
    };
    assert_eq!(first.name.as_str(), "R1.ach");
    assert!(matches!(&found[1], Pickup::Deferred { .. }));
    bank.dispose_inbound(&first.name).await.unwrap();
    let applied = first.sha256.clone();
    let found = poll(&bank, 1 << 20, &|h| h == applied).await.unwrap();
    assert!(matches!(&found[..], [Pickup::Duplicate { .. }]));
    assert_eq!(names(&inbound.join("processed")), vec!["R1.ach", "R2.ach"]);

    std::fs::write(inbound.join("R4.ach"), b"four").unwrap();
    let deleting = LocalFolder {
        pickup: PickupAction::Delete,
        ..bank
    };
    deleting.dispose_inbound(&name("R4.ach")).await.unwrap();
    assert_eq!(names(&inbound), vec!["R3.ach.part", "processed"]);
}
