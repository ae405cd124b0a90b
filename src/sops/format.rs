//! The `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` value format and its AES-256-GCM decryption.
//!
//! sops encrypts each value with AES-256-GCM under the file's 32-byte data key, a random 32-byte IV
//! (not the usual 12) and additional data made of the value's key path (`a:b:`). The ciphertext and
//! the 16-byte tag are stored apart, base64-encoded, with the plaintext's type (`str`, `int`, …).
//! Decrypted bytes live in [`Zeroizing`] buffers; nothing here formats a value, a key or a ciphertext.

use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::U32;
use aes_gcm::aes::Aes256;
use aes_gcm::{AeadInOut, AesGcm, KeyInit, Tag};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

/// AES-256-GCM with the 32-byte nonce sops uses.
type SopsGcm = AesGcm<Aes256, U32>;

/// Length of the data key and of the IV sops writes.
pub(crate) const KEY_LEN: usize = 32;
const IV_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Go's `base64.StdEncoding`: padded, lenient about trailing bits.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// The plaintext type recorded in an encrypted value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ValueType {
    /// `str`: UTF-8 text (or, from Go, arbitrary bytes).
    Str,
    /// `int` / `int64`: a decimal integer.
    Int,
    /// `float`: a decimal float as Go's `FormatFloat(v, 'f', -1, 64)` wrote it.
    Float,
    /// `bool`: `True` / `False`.
    Bool,
    /// `bytes`: raw bytes.
    Bytes,
    /// `time`: an RFC 3339 timestamp (sops 3.10+ for plain YAML timestamps).
    Time,
    /// `comment`: an encrypted YAML comment.
    Comment,
}

/// A parsed (still encrypted) value. Holds ciphertext, so it has no `Debug`.
pub(crate) struct EncValue {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    /// The recorded plaintext type.
    pub(crate) kind: ValueType,
}

/// Parses the `ENC[...]` text. The error is a fixed reason that never quotes the value.
pub(crate) fn parse(text: &str) -> Result<EncValue, String> {
    let inner = text
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(|| "not an ENC[AES256_GCM,...] value".to_string())?;
    let mut parts = inner.split(',');
    let mut field = |name: &str| -> Result<&str, String> {
        parts
            .next()
            .and_then(|part| part.strip_prefix(name)?.strip_prefix(':'))
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("missing or misplaced `{name}` field"))
    };
    let (data, iv, tag, kind) = (field("data")?, field("iv")?, field("tag")?, field("type")?);
    if parts.next().is_some() {
        return Err("unexpected fields after `type`".into());
    }
    let decode = |name: &str, b64: &str| {
        GO_STD
            .decode(b64)
            .map_err(|_| format!("`{name}` is not valid base64"))
    };
    let value = EncValue {
        data: decode("data", data)?,
        iv: decode("iv", iv)?,
        tag: decode("tag", tag)?,
        kind: match kind {
            "str" => ValueType::Str,
            "int" | "int64" => ValueType::Int,
            "float" => ValueType::Float,
            "bool" => ValueType::Bool,
            "bytes" => ValueType::Bytes,
            "time" => ValueType::Time,
            "comment" => ValueType::Comment,
            _ => return Err("unknown value type".into()),
        },
    };
    if value.iv.len() != IV_LEN {
        return Err(format!("iv is {} bytes, expected {IV_LEN}", value.iv.len()));
    }
    if value.tag.len() != TAG_LEN {
        return Err(format!(
            "tag is {} bytes, expected {TAG_LEN}",
            value.tag.len()
        ));
    }
    Ok(value)
}

/// Authentication failed: wrong key, wrong additional data, or changed data/iv/tag.
#[derive(Debug)]
pub(crate) struct AuthFailed;

impl EncValue {
    /// Decrypts and authenticates with the data key and the additional data (`a:b:`).
    pub(crate) fn decrypt(
        &self,
        key: &[u8; KEY_LEN],
        additional_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AuthFailed> {
        let cipher = SopsGcm::new(&Array::from(*key));
        let nonce = Array::try_from(self.iv.as_slice()).map_err(|_| AuthFailed)?;
        let tag: Tag = Array::try_from(self.tag.as_slice()).map_err(|_| AuthFailed)?;
        let mut buffer = Zeroizing::new(self.data.clone());
        cipher
            .decrypt_inout_detached(&nonce, additional_data, buffer.as_mut_slice().into(), &tag)
            .map_err(|_| AuthFailed)?;
        Ok(buffer)
    }
}

#[cfg(test)]
pub(crate) fn encrypt_for_tests(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    plaintext: &[u8],
    additional_data: &[u8],
    kind: &str,
) -> String {
    let cipher = SopsGcm::new(&Array::from(*key));
    let mut buffer = plaintext.to_vec();
    let tag = cipher
        .encrypt_inout_detached(
            &Array::from(*iv),
            additional_data,
            buffer.as_mut_slice().into(),
        )
        .expect("encrypt");
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        b64.encode(&buffer),
        b64.encode(iv),
        b64.encode(tag)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const IV: [u8; 32] = [9; 32];

    #[test]
    fn round_trips_with_the_same_additional_data() {
        let text = encrypt_for_tests(&KEY, &IV, b"s3cret", b"db:password:", "str");
        let value = parse(&text).unwrap();
        assert_eq!(value.kind, ValueType::Str);
        assert_eq!(
            value.decrypt(&KEY, b"db:password:").unwrap().as_slice(),
            b"s3cret"
        );
    }

    #[test]
    fn other_additional_data_or_key_fails() {
        let value = parse(&encrypt_for_tests(&KEY, &IV, b"x", b"a:", "str")).unwrap();
        assert!(value.decrypt(&KEY, b"b:").is_err());
        assert!(value.decrypt(&[8; 32], b"a:").is_err());
    }

    #[test]
    fn parse_rejects_malformed_values_without_quoting_them() {
        let good = encrypt_for_tests(&KEY, &IV, b"SENTINEL", b"a:", "str");
        let cases = [
            "plain text".to_string(),
            good.replace("type:str", "type:weird"),
            good.replace(",iv:", ",nonce:"),
            good.replace("tag:", "tag:!!"),
            good.replace("]", ",extra:1]"),
            format!(
                "ENC[AES256_GCM,data:AAAA,iv:{},tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]",
                "AAAA"
            ),
        ];
        for case in cases {
            let err = parse(&case).err().expect("must be rejected");
            assert!(!err.contains("AAAA") && !err.contains("plain"), "{err}");
        }
    }

    #[test]
    fn accepts_int64_as_int() {
        let text = encrypt_for_tests(&KEY, &IV, b"5", b"a:", "int64");
        assert_eq!(parse(&text).unwrap().kind, ValueType::Int);
    }
}
