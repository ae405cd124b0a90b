//! The one error type of the SOPS module.
//!
//! Every variant holds only what is safe to show: key paths, line numbers, recipients (public keys),
//! file names and fixed reasons. No variant ever holds a plaintext value, a data key, a ciphertext,
//! an identity or the MAC, so both `Display` and the hand-written `Debug` are safe to log.

use std::fmt;

/// Why a SOPS file could not be decrypted, or a key source could not be read.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SopsError {
    /// The document has no top-level `sops:` mapping.
    NotEncrypted,
    /// The `sops:` metadata is missing a field or has one of the wrong shape.
    Metadata {
        /// What is wrong, naming the field.
        reason: String,
    },
    /// The file uses a SOPS feature this decryptor does not implement.
    Unsupported {
        /// What is unsupported, e.g. `this file has no age recipients (it has: pgp, kms)`.
        reason: String,
    },
    /// No age identity was available at all.
    NoIdentities {
        /// The age recipients the file was encrypted to.
        recipients: Vec<String>,
        /// The places that were searched for keys.
        searched: Vec<String>,
    },
    /// None of the available age identities can unwrap the data key.
    NoMatchingIdentity {
        /// The age recipients the file was encrypted to.
        recipients: Vec<String>,
        /// The public keys (recipients) of the identities that were tried.
        tried: Vec<String>,
    },
    /// An age stanza was unwrapped but did not hold a usable data key.
    DataKey {
        /// The recipient whose stanza was bad.
        recipient: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An encrypted value is not a well-formed `ENC[AES256_GCM,...]` string.
    Malformed {
        /// The key path of the value (`a.b[1]`).
        key: String,
        /// The 1-based line of the value, 0 when unknown.
        line: usize,
        /// What is wrong, never quoting the value.
        reason: String,
    },
    /// A value failed AES-GCM authentication: its data, iv or tag was changed, or it was moved to
    /// another key.
    Integrity {
        /// The key path of the value.
        key: String,
        /// The 1-based line of the value, 0 when unknown.
        line: usize,
    },
    /// The recomputed MAC differs from the one stored in `sops.mac`: values were added, removed,
    /// reordered or changed after encryption.
    MacMismatch,
    /// An age key file or `SOPS_AGE_KEY` could not be used.
    KeyFile {
        /// Where the keys came from: a path, or `SOPS_AGE_KEY`.
        origin: String,
        /// The 1-based line, 0 when the problem is not a line.
        line: usize,
        /// What is wrong, never quoting the key.
        reason: String,
    },
    /// An `encrypted_regex` or `unencrypted_regex` in the metadata does not compile.
    Regex {
        /// The metadata field.
        field: &'static str,
        /// The compiler's reason.
        reason: String,
    },
}

impl SopsError {
    /// The 1-based line the error points at, when it points at one value.
    pub fn line(&self) -> Option<usize> {
        match self {
            SopsError::Malformed { line, .. } | SopsError::Integrity { line, .. } if *line > 0 => {
                Some(*line)
            }
            _ => None,
        }
    }

    /// The key path the error is about, when it is about one value.
    pub fn key(&self) -> Option<&str> {
        match self {
            SopsError::Malformed { key, .. } | SopsError::Integrity { key, .. } => Some(key),
            _ => None,
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

fn at(f: &mut fmt::Formatter<'_>, key: &str, line: usize) -> fmt::Result {
    write!(f, "key \"{key}\"")?;
    if line > 0 {
        write!(f, " (line {line})")?;
    }
    Ok(())
}

impl fmt::Display for SopsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SopsError::NotEncrypted => write!(f, "not a SOPS file: no top-level `sops` mapping"),
            SopsError::Metadata { reason } => write!(f, "invalid SOPS metadata: {reason}"),
            SopsError::Unsupported { reason } => write!(f, "unsupported: {reason}"),
            SopsError::NoIdentities {
                recipients,
                searched,
            } => write!(
                f,
                "no age key available to decrypt (searched: {}); the file is encrypted for: {}",
                list(searched),
                list(recipients)
            ),
            SopsError::NoMatchingIdentity { recipients, tried } => write!(
                f,
                "none of the available age keys can decrypt this file: it is encrypted for {}, \
                 the keys tried are for {}",
                list(recipients),
                list(tried)
            ),
            SopsError::DataKey { recipient, reason } => {
                write!(
                    f,
                    "bad data key in the age stanza for {recipient}: {reason}"
                )
            }
            SopsError::Malformed { key, line, reason } => {
                at(f, key, *line)?;
                write!(f, ": malformed encrypted value: {reason}")
            }
            SopsError::Integrity { key, line } => {
                at(f, key, *line)?;
                write!(
                    f,
                    ": encrypted value failed authentication (changed, or moved from another key)"
                )
            }
            SopsError::MacMismatch => write!(
                f,
                "MAC mismatch: the file was changed after it was encrypted (values added, removed, \
                 reordered or edited without sops)"
            ),
            SopsError::KeyFile {
                origin,
                line,
                reason,
            } => {
                write!(f, "age key file {origin}")?;
                if *line > 0 {
                    write!(f, " line {line}")?;
                }
                write!(f, ": {reason}")
            }
            SopsError::Regex { field, reason } => write!(f, "invalid sops.{field}: {reason}"),
        }
    }
}

impl fmt::Debug for SopsError {
    /// Same text as `Display`: no variant holds secret material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SopsError(")?;
        fmt::Display::fmt(self, f)?;
        write!(f, ")")
    }
}

impl std::error::Error for SopsError {}
