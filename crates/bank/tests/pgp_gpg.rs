//! The OpenPGP layer cross-checked with the real `gpg` in both directions,
//! in a throwaway GnuPG home: what we encrypt and sign, gpg decrypts and
//! verifies; what gpg encrypts and signs, we decrypt and verify; unsigned,
//! wrongly signed, tampered and unencrypted inbound files are refused.

use inflow_bank::pgp::{
    generate_key, BankPublicKey, InboundPgp, OurSecretKey, OutboundPgp, PgpError,
};
use inflow_bank::testing::gpg::TestGpg;
use inflow_bank::Secret;

const BANK: &str = "ODFI Test Bank <ach@bank.test>";
const FILE: &[u8] =
    b"101 091000019 1234567892501011200A094101BANK                   INFLOW\n9000000\n";

/// A gpg home holding the bank's key pair and our public key.
struct Setup {
    gpg: TestGpg,
    bank_fpr: String,
    bank_public: BankPublicKey,
    ours: OurSecretKey,
}

fn setup() -> Setup {
    let gpg = TestGpg::new();
    let bank_fpr = gpg.generate_key(BANK);
    let bank_public = BankPublicKey::from_bytes(gpg.export_public(&bank_fpr).as_bytes()).unwrap();
    let generated = generate_key("Inflow <ops@inflow.test>").unwrap();
    gpg.import(&generated.public_armored);
    let ours = OurSecretKey::from_secret(&generated.secret_armored, None).unwrap();
    Setup {
        gpg,
        bank_fpr,
        bank_public,
        ours,
    }
}

/// gpg's decryption of `bytes`: (plaintext, status lines).
fn gpg_decrypt(gpg: &TestGpg, bytes: &[u8]) -> (Vec<u8>, String) {
    let out = gpg.run(&["--status-fd", "2", "--decrypt"], bytes);
    let status = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "gpg refused our file: {status}");
    (out.stdout, status)
}

#[test]
fn our_encrypted_and_signed_file_decrypts_and_verifies_with_gpg() {
    let s = setup();
    for armor in [false, true] {
        let out = OutboundPgp {
            recipient: s.bank_public.clone(),
            signer: Some(s.ours.clone()),
            armor,
        };
        let protected = out.protect("ACH_1.txt", FILE).unwrap();
        assert_eq!(protected.starts_with(b"-----BEGIN PGP MESSAGE-----"), armor);
        let (plain, status) = gpg_decrypt(&s.gpg, &protected);
        assert_eq!(plain, FILE);
        assert!(status.contains("DECRYPTION_OKAY"), "{status}");
        let validsig = status
            .lines()
            .find(|l| l.contains("VALIDSIG"))
            .unwrap_or_else(|| panic!("no valid signature: {status}"));
        assert!(validsig.ends_with(&s.ours.fingerprint()), "{validsig}");
    }
}

#[test]
fn a_gpg_encrypted_and_signed_file_decrypts_and_verifies_with_ours() {
    let s = setup();
    let inbound = InboundPgp {
        decrypt_with: Some(s.ours.clone()),
        verify_with: Some(s.bank_public.clone()),
    };
    let ours = s.ours.fingerprint();
    for armor in [&[][..], &["--armor"][..]] {
        let mut args = vec![
            "--encrypt",
            "--sign",
            "--recipient",
            &ours,
            "--local-user",
            &s.bank_fpr,
        ];
        args.extend_from_slice(armor);
        let protected = s.gpg.ok(&args, FILE);
        let opened = inbound.open(&protected).unwrap();
        assert_eq!(opened.plaintext, FILE);
        assert_eq!(opened.signed_by.as_deref(), Some(s.bank_fpr.as_str()));
    }
}

#[test]
fn an_unsigned_inbound_file_is_refused_when_verification_is_required() {
    let s = setup();
    let ours = s.ours.fingerprint();
    let protected = s.gpg.ok(&["--encrypt", "--recipient", &ours], FILE);
    let verifying = InboundPgp {
        decrypt_with: Some(s.ours.clone()),
        verify_with: Some(s.bank_public.clone()),
    };
    assert!(matches!(
        verifying.open(&protected),
        Err(PgpError::Unsigned)
    ));
    // Without verification configured the same file opens.
    let decrypting = InboundPgp {
        decrypt_with: Some(s.ours.clone()),
        verify_with: None,
    };
    assert_eq!(decrypting.open(&protected).unwrap().plaintext, FILE);
}

#[test]
fn a_file_signed_by_another_key_is_refused() {
    let s = setup();
    let mallory = s.gpg.generate_key("Mallory <m@evil.test>");
    let ours = s.ours.fingerprint();
    let protected = s.gpg.ok(
        &[
            "--encrypt",
            "--sign",
            "--recipient",
            &ours,
            "--local-user",
            &mallory,
        ],
        FILE,
    );
    let inbound = InboundPgp {
        decrypt_with: Some(s.ours.clone()),
        verify_with: Some(s.bank_public.clone()),
    };
    assert!(matches!(
        inbound.open(&protected),
        Err(PgpError::BadSignature)
    ));
}

#[test]
fn a_tampered_file_is_refused() {
    let s = setup();
    let ours = s.ours.fingerprint();
    let protected = s.gpg.ok(
        &[
            "--encrypt",
            "--sign",
            "--recipient",
            &ours,
            "--local-user",
            &s.bank_fpr,
        ],
        FILE,
    );
    let inbound = InboundPgp {
        decrypt_with: Some(s.ours.clone()),
        verify_with: Some(s.bank_public.clone()),
    };
    for at in [protected.len() / 2, protected.len() - 5] {
        let mut tampered = protected.clone();
        tampered[at] ^= 0x01;
        assert!(
            inbound.open(&tampered).is_err(),
            "tampered byte {at} accepted"
        );
    }
}

#[test]
fn plaintext_and_signed_only_files_are_refused_when_encryption_is_expected() {
    let s = setup();
    let inbound = InboundPgp {
        decrypt_with: Some(s.ours.clone()),
        verify_with: Some(s.bank_public.clone()),
    };
    let signed_only = s.gpg.ok(&["--sign", "--local-user", &s.bank_fpr], FILE);
    assert!(matches!(
        inbound.open(&signed_only),
        Err(PgpError::NotEncrypted)
    ));
    assert!(matches!(inbound.open(FILE), Err(PgpError::Malformed(_))));
}

#[test]
fn a_file_encrypted_to_another_key_is_refused() {
    let s = setup();
    let other = s.gpg.generate_key("Someone Else <x@else.test>");
    let protected = s.gpg.ok(
        &[
            "--encrypt",
            "--sign",
            "--recipient",
            &other,
            "--local-user",
            &s.bank_fpr,
        ],
        FILE,
    );
    let inbound = InboundPgp {
        decrypt_with: Some(s.ours.clone()),
        verify_with: Some(s.bank_public.clone()),
    };
    assert!(matches!(
        inbound.open(&protected),
        Err(PgpError::Decrypt(_))
    ));
}

#[test]
fn a_passphrase_protected_gpg_key_works_as_our_key() {
    let gpg = TestGpg::new();
    let bank_fpr = gpg.generate_key(BANK);
    let bank_public = BankPublicKey::from_bytes(gpg.export_public(&bank_fpr).as_bytes()).unwrap();
    let our_fpr = gpg.generate_key_with_passphrase("Inflow <ops@inflow.test>", "correct horse");
    let armored = Secret::new(gpg.export_secret(&our_fpr, "correct horse"));
    let wrong = OurSecretKey::from_secret(&armored, Some(Secret::new("wrong"))).unwrap();
    let ours = OurSecretKey::from_secret(&armored, Some(Secret::new("correct horse"))).unwrap();
    assert_eq!(ours.fingerprint(), our_fpr);

    // Outbound: signed with the protected key, verified by gpg.
    let out = OutboundPgp {
        recipient: bank_public.clone(),
        signer: Some(ours.clone()),
        armor: false,
    };
    let (plain, status) = gpg_decrypt(&gpg, &out.protect("f.txt", FILE).unwrap());
    assert_eq!(plain, FILE);
    assert!(
        status.contains(&format!("VALIDSIG {our_fpr}")) || status.contains(&our_fpr),
        "{status}"
    );
    let bad = OutboundPgp {
        recipient: bank_public.clone(),
        signer: Some(wrong.clone()),
        armor: false,
    };
    assert!(bad.protect("f.txt", FILE).is_err());

    // Inbound: decrypted with the protected key.
    let protected = gpg.ok(
        &[
            "--encrypt",
            "--sign",
            "--recipient",
            &our_fpr,
            "--local-user",
            &bank_fpr,
        ],
        FILE,
    );
    let inbound = InboundPgp {
        decrypt_with: Some(ours),
        verify_with: Some(bank_public.clone()),
    };
    assert_eq!(inbound.open(&protected).unwrap().plaintext, FILE);
    let inbound = InboundPgp {
        decrypt_with: Some(wrong),
        verify_with: Some(bank_public),
    };
    assert!(matches!(
        inbound.open(&protected),
        Err(PgpError::Decrypt(_))
    ));
}

#[test]
fn secret_keys_do_not_show_in_debug_output() {
    let generated = generate_key("Inflow <ops@inflow.test>").unwrap();
    let ours =
        OurSecretKey::from_secret(&generated.secret_armored, Some(Secret::new("pw"))).unwrap();
    let shown = format!("{ours:?} {:?}", generated.secret_armored);
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(!shown.contains("pw"), "{shown}");
    assert!(shown.contains(&ours.fingerprint()));
}
