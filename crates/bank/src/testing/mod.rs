//! Real parts for tests (feature `testing`): a throwaway OpenSSH server on
//! loopback ([`sshd::TestSshd`]) and a throwaway GnuPG home ([`gpg::TestGpg`]).
//! No mocks: the transport and the OpenPGP code are checked against the
//! programs banks actually run. `scripts/ensure-bank-tools.sh` installs
//! them.

pub mod gpg;
pub mod sshd;
