//! The age X25519 identity used to unwrap data keys, with its public key computed once.
//!
//! age's own `x25519::Identity` derives its public key (a scalar multiplication of the base
//! point) for every stanza it tries, to build the HKDF salt: a third of the cost of unwrapping one
//! file's data key, paid again for each of a vault's files. [`X25519Key`] holds the secret and the
//! public key side by side and does exactly what age's `unwrap_stanza` does otherwise
//! (<https://c2sp.org/age#x25519-recipient-stanza>), with age's own primitives: the canonical
//! stanza checks, the Diffie-Hellman with the ephemeral share, the all-zero shared secret
//! refused, HKDF-SHA-256 over `epk || pk`, and ChaCha20-Poly1305 for the wrapped file key. The
//! remaining cost per file is the one Diffie-Hellman.
//!
//! The secret sits in x25519-dalek's zeroizing `StaticSecret`; nothing here implements `Debug`.

use age::DecryptError;
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, hkdf};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use bech32::FromBase32;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

const TAG: &str = "X25519";
const KEY_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
const EPK_LEN: usize = 32;
const WRAPPED_LEN: usize = FILE_KEY_BYTES + 16;

/// An age X25519 identity and its public key.
pub(super) struct X25519Key {
    secret: StaticSecret,
    public: PublicKey,
}

impl X25519Key {
    /// The key of an identity age parsed (and so validated): taken from its `AGE-SECRET-KEY-1…`
    /// encoding, the one way age hands the secret out.
    pub(super) fn new(identity: &age::x25519::Identity) -> Option<X25519Key> {
        use age::secrecy::ExposeSecret;
        let encoded = identity.to_string();
        let (_, data, _) = bech32::decode(encoded.expose_secret()).ok()?;
        let bytes = Zeroizing::new(Vec::<u8>::from_base32(&data).ok()?);
        let mut secret: [u8; 32] = bytes.as_slice().try_into().ok()?;
        let key = StaticSecret::from(secret);
        secret.zeroize();
        let public = PublicKey::from(&key);
        Some(X25519Key {
            secret: key,
            public,
        })
    }
}

impl age::Identity for X25519Key {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != TAG {
            return None;
        }
        // Canonical base64 of exactly 32 bytes, as age requires.
        let epk = match &stanza.args[..] {
            [arg] => {
                let mut buf = [0u8; EPK_LEN + 1];
                match STANDARD_NO_PAD.decode_slice(arg, &mut buf) {
                    Ok(EPK_LEN) => {
                        let mut epk = [0u8; EPK_LEN];
                        epk.copy_from_slice(&buf[..EPK_LEN]);
                        PublicKey::from(epk)
                    }
                    _ => return Some(Err(DecryptError::InvalidHeader)),
                }
            }
            _ => return Some(Err(DecryptError::InvalidHeader)),
        };
        if stanza.body.len() != WRAPPED_LEN {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let shared = self.secret.diffie_hellman(&epk);
        if !shared.was_contributory() {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let mut salt = [0u8; 2 * EPK_LEN];
        salt[..EPK_LEN].copy_from_slice(epk.as_bytes());
        salt[EPK_LEN..].copy_from_slice(self.public.as_bytes());
        let mut enc_key = hkdf(&salt, KEY_LABEL, shared.as_bytes());
        // Not ours (another recipient's stanza) is not an error: the next key is tried.
        let unwrapped = aead_decrypt(&enc_key, FILE_KEY_BYTES, &stanza.body).ok();
        enc_key.zeroize();
        unwrapped.map(|mut plain| {
            Ok(FileKey::init_with_mut(|file_key| {
                file_key.copy_from_slice(&plain);
                plain.zeroize();
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::X25519Key;

    /// Encrypts `payload` to `recipient` with age, then decrypts it with `key`.
    fn round_trip(recipient: &age::x25519::Recipient, key: &X25519Key) -> Option<Vec<u8>> {
        let payload = b"0123456789abcdef0123456789abcdef";
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .unwrap();
        let mut sealed = Vec::new();
        let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
        writer.write_all(payload).unwrap();
        writer.finish().unwrap();
        let decryptor = age::Decryptor::new_buffered(sealed.as_slice()).unwrap();
        let mut reader = decryptor
            .decrypt(std::iter::once(key as &dyn age::Identity))
            .ok()?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        Some(out)
    }

    #[test]
    fn unwraps_what_age_wraps_and_nothing_else() {
        let ours = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let key = X25519Key::new(&ours).unwrap();
        // A wrong public key would change the HKDF salt: the round trip checks it too.
        assert_eq!(
            round_trip(&ours.to_public(), &key).as_deref(),
            Some(&b"0123456789abcdef0123456789abcdef"[..])
        );
        assert_eq!(round_trip(&other.to_public(), &key), None);
    }
}
