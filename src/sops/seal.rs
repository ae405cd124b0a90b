//! The encrypting half of the value format: sealing values, comments and the MAC, drawing data
//! keys, and wrapping a data key for age recipients.
//!
//! sops seals each value with AES-256-GCM under the file's data key, a fresh random 32-byte IV and
//! the value's key path (`a:b:`) as additional data, and writes
//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` ([`super::format`] reads it back). The data key is
//! 32 random bytes, wrapped for each age recipient as its own ASCII-armored age file. Randomness
//! comes from the operating system (`getrandom`). Nothing here formats a value or a key.

use std::io::Write;
use std::str::FromStr;

use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::U32;
use aes_gcm::aes::Aes256;
use aes_gcm::{AeadInOut, AesGcm, KeyInit};
use age::armor::{ArmoredWriter, Format};
use base64::Engine;
use zeroize::Zeroizing;

use super::SopsError;
use super::format::KEY_LEN;

/// AES-256-GCM with the 32-byte nonce sops uses.
type SopsGcm = AesGcm<Aes256, U32>;

/// Fills a buffer from the operating system's CSPRNG.
pub fn random_fill(buffer: &mut [u8]) -> Result<(), SopsError> {
    getrandom::getrandom(buffer).map_err(|_| SopsError::Unsupported {
        reason: "the operating system's random number generator is unavailable".into(),
    })
}

/// A fresh 32-byte data key.
pub(crate) fn new_data_key() -> Result<Zeroizing<[u8; KEY_LEN]>, SopsError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    random_fill(key.as_mut_slice())?;
    Ok(key)
}

/// Seals `plaintext` as sops does: a fresh IV, `additional_data` authenticated, `kind` recorded
/// (`str`, `comment`, ...).
pub(crate) fn seal(
    key: &[u8; KEY_LEN],
    plaintext: &[u8],
    additional_data: &[u8],
    kind: &str,
) -> Result<String, SopsError> {
    let mut iv = [0u8; 32];
    random_fill(&mut iv)?;
    let cipher = SopsGcm::new(&Array::from(*key));
    let mut buffer = Zeroizing::new(plaintext.to_vec());
    let tag = cipher
        .encrypt_inout_detached(
            &Array::from(iv),
            additional_data,
            buffer.as_mut_slice().into(),
        )
        .map_err(|_| SopsError::Unsupported {
            reason: "a value is too large to encrypt".into(),
        })?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        b64.encode(buffer.as_slice()),
        b64.encode(iv),
        b64.encode(tag)
    ))
}

/// Checks an age recipient (`age1…`), returning it trimmed.
pub fn check_recipient(recipient: &str) -> Result<String, String> {
    let recipient = recipient.trim();
    if recipient.starts_with("ssh-") {
        return Err(format!(
            "`{}` is an SSH recipient; kubevault writes age X25519 recipients (age1...) only",
            shorten(recipient)
        ));
    }
    age::x25519::Recipient::from_str(recipient)
        .map(|_| recipient.to_string())
        .map_err(|_| {
            format!(
                "`{}` is not an age X25519 recipient (age1...)",
                shorten(recipient)
            )
        })
}

/// A recipient as shown in messages: public keys are safe, but keep lines short.
fn shorten(text: &str) -> String {
    let mut shown: String = text.chars().take(72).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

/// Wraps the data key for one age recipient: an armored age file, as sops stores in `enc`.
pub(crate) fn wrap_data_key(key: &[u8; KEY_LEN], recipient: &str) -> Result<String, SopsError> {
    let bad = |reason: String| SopsError::DataKey {
        recipient: recipient.to_string(),
        reason,
    };
    let parsed = age::x25519::Recipient::from_str(recipient)
        .map_err(|_| bad("not an age X25519 recipient".into()))?;
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&parsed as &dyn age::Recipient))
            .map_err(|_| bad("age refused the recipient".into()))?;
    let mut armored = Vec::new();
    let wrap = || -> std::io::Result<()> {
        let armor = ArmoredWriter::wrap_output(&mut armored, Format::AsciiArmor)?;
        let mut writer = encryptor.wrap_output(armor)?;
        writer.write_all(key)?;
        writer.finish()?.finish()?;
        Ok(())
    };
    wrap().map_err(|_| bad("age could not wrap the data key".into()))?;
    String::from_utf8(armored).map_err(|_| bad("age wrote non-text armor".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::format;

    #[test]
    fn sealed_values_open_with_the_same_additional_data() {
        let key = [3u8; 32];
        let a = seal(&key, b"v", b"k:", "str").unwrap();
        let b = seal(&key, b"v", b"k:", "str").unwrap();
        assert_ne!(a, b, "every seal draws a fresh IV");
        let parsed = format::parse(&a).unwrap();
        assert_eq!(parsed.decrypt(&key, b"k:").unwrap().as_slice(), b"v");
        assert!(parsed.decrypt(&key, b"j:").is_err());
    }

    #[test]
    fn recipients_are_checked_without_echoing_long_text() {
        assert!(check_recipient("age1nope").is_err());
        assert!(
            check_recipient("ssh-ed25519 AAAA")
                .unwrap_err()
                .contains("SSH")
        );
        let ok = "age107ncls0xg0d54fztfk62cjw9t9yxd50lfjwepfugu5vtzeeuyv0qyucyl8";
        assert_eq!(check_recipient(&format!(" {ok} ")).unwrap(), ok);
    }
}
