//! SOPS decryption for secret files encrypted with age recipients.
//!
//! A kvstore file that `sops --age … -e` encrypted keeps its keys in clear text and replaces each
//! value with `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, adding a top-level `sops:` mapping with
//! the data key wrapped for each recipient and an encrypted MAC over all values. [`decrypt`] turns
//! such a [`Node`] tree back into the plain tree, matching getsops/sops byte for byte: the data key
//! is unwrapped with one of our age [`Identities`], every value is authenticated with its key path,
//! and the MAC is recomputed and checked before anything is returned.
//!
//! Secrets never leave through this module's side doors: [`SopsError`] holds no value, ciphertext,
//! key or MAC, [`Identities`] prints only public keys, and data keys and decrypted bytes sit in
//! zeroizing buffers. The returned tree holds plaintext in ordinary strings; the caller owns it.
//!
//! Limits (each reported as [`SopsError::Unsupported`]): only age recipients (no PGP or cloud
//! KMS), a single key group (no Shamir), no comment-driven encryption rules. A file is decrypted
//! one YAML document at a time, so multi-document SOPS files (whose MAC spans documents) fail the
//! MAC check. Files in sops' binary format (a name without `.yaml`: the whole file as the one
//! value `data`, in JSON) are read through `binary` and written back in that format through
//! `binary_json` and [`Opened::open_binary`].

mod binary;
mod binary_json;
pub mod creation;
mod document;
mod error;
mod format;
mod header;
mod keyless;
mod keys;
mod metadata;
mod seal;
mod tree;
mod write;
mod x25519;

use zeroize::Zeroize;

pub use binary::{binary_text, is_binary_format};
pub use error::SopsError;
pub use keyless::{Keyless, check_without_key, without_key};
pub use keys::{Identities, default_key_file, load_identities};
pub use seal::{check_recipient, random_fill};
pub use write::{Encryption, Opened, SOPS_VERSION, WriteError, now_rfc3339, recipients};

use crate::yaml::{Node, Value};
use format::ValueType;
use metadata::Metadata;
use tree::Walker;

/// True when a parsed secret document has a top-level `sops:` mapping.
pub fn is_encrypted(doc: &Node) -> bool {
    doc.get("sops").is_some_and(|sops| sops.as_map().is_some())
}

/// Decrypts a SOPS document: unwraps the data key with one of `identities`, decrypts every
/// encrypted value, verifies the MAC, and only then returns the tree with the top-level `sops`
/// key removed.
///
/// Decrypted values of type `str` become string scalars ([`Style::Str`](crate::yaml::Style));
/// `int`, `float`, `bool` and `time` become plain scalars with the text sops stored (booleans as
/// `true`/`false`); `bytes`, and strings that are not UTF-8, become `!!binary` scalars holding
/// base64. Values left unencrypted (`encrypted_regex`, `unencrypted_suffix`, …) and nulls pass
/// through as parsed. Lines are kept.
pub fn decrypt(doc: &Node, identities: &Identities) -> Result<Node, SopsError> {
    let sops = doc.get("sops").filter(|sops| sops.as_map().is_some());
    let (Some(sops), Some(entries)) = (sops, doc.as_map()) else {
        return Err(SopsError::NotEncrypted);
    };
    let metadata = Metadata::parse(sops)?;
    let data_key = identities.unwrap_data_key(&metadata.age, &mut header::Work::default())?;

    let data: Vec<(Node, Node)> = entries
        .iter()
        .filter(|(key, _)| key.as_str() != Some("sops"))
        .cloned()
        .collect();
    let data = Node {
        value: Value::Map(data),
        tag: doc.tag.clone(),
        line: doc.line,
    };

    let mut walker = Walker::new(&data_key, &metadata.rules, metadata.mac_only_encrypted);
    let mut plain = walker.walk(&data)?;
    let computed = walker.finish();

    let stored = format::parse(&metadata.mac).map_err(|reason| SopsError::Malformed {
        key: "sops.mac".into(),
        line: metadata.mac_line,
        reason,
    });
    let verified = stored.and_then(|stored| {
        let bytes = stored
            .decrypt(&data_key, metadata.last_modified.as_bytes())
            .map_err(|_| SopsError::MacMismatch)?;
        let same = stored.kind == ValueType::Str && constant_time_eq(&bytes, computed.as_bytes());
        if same {
            Ok(())
        } else {
            Err(SopsError::MacMismatch)
        }
    });
    match verified {
        Ok(()) => Ok(plain),
        Err(error) => {
            wipe(&mut plain);
            Err(error)
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Overwrites every scalar of a tree: for decrypted trees once their values were taken, and for
/// partly built trees that will not be returned.
pub fn wipe(node: &mut Node) {
    match &mut node.value {
        Value::Scalar { text, .. } => text.zeroize(),
        Value::Seq(items) => items.iter_mut().for_each(wipe),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, value)| wipe(value)),
    }
}
