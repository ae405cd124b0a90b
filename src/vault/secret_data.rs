//! The keys and values of one secret, sorted by key, in one vector: a vault of 100,000 secrets
//! with a few keys each held 54 MB of `BTreeMap` nodes (a node has room for eleven entries
//! however few there are); a sorted vector holds only its entries. A secret file has at most
//! [`crate::limits::MAX_KEYS_PER_SECRET`] keys, so inserting in order by shifting stays cheap.

use super::secret_file::SecretValue;

/// The keys and values of one secret file, sorted by key (the part of `BTreeMap`'s interface
/// the vault uses).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretData(Vec<(String, SecretValue)>);

impl SecretData {
    /// No keys.
    pub fn new() -> Self {
        SecretData(Vec::new())
    }

    /// No keys, with room for `n` without reallocating.
    pub fn with_capacity(n: usize) -> Self {
        SecretData(Vec::with_capacity(n))
    }

    /// Gives back unused room (a vault holds many small secrets).
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Sets `key`; returns the value it replaces.
    pub fn insert(&mut self, key: String, value: SecretValue) -> Option<SecretValue> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&SecretValue> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    /// True when `key` is there.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> + '_ {
        self.0.iter().map(|(k, _)| k)
    }

    /// Keys and values, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &SecretValue)> + '_ {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for SecretData {
    type Output = SecretValue;

    /// The value of `key`; panics when there is none (as `BTreeMap` indexing does).
    fn index(&self, key: &str) -> &SecretValue {
        self.get(key).expect("no such key in the secret")
    }
}

impl<'a> IntoIterator for &'a SecretData {
    type Item = (&'a String, &'a SecretValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, SecretValue)>,
        fn(&'a (String, SecretValue)) -> (&'a String, &'a SecretValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl FromIterator<(String, SecretValue)> for SecretData {
    /// Later entries replace earlier ones with the same key, as in a `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (String, SecretValue)>>(iter: I) -> Self {
        let mut data = SecretData::new();
        for (k, v) in iter {
            data.insert(k, v);
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn v(s: &str) -> SecretValue {
        SecretValue(s.as_bytes().to_vec())
    }

    #[test]
    fn behaves_as_a_btreemap() {
        // A fixed pseudo-random sequence of inserts, replacements and lookups.
        let mut ours = SecretData::new();
        let mut theirs = BTreeMap::new();
        let mut x: u32 = 7;
        for _ in 0..2000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let key = format!("k{}", (x >> 16) % 97);
            let value = format!("{}", x % 1000);
            assert_eq!(
                ours.insert(key.clone(), v(&value)),
                theirs.insert(key.clone(), v(&value))
            );
            let probe = format!("k{}", (x >> 8) % 101);
            assert_eq!(ours.get(&probe), theirs.get(&probe));
            assert_eq!(ours.contains_key(&probe), theirs.contains_key(&probe));
        }
        assert_eq!(ours.len(), theirs.len());
        assert!(ours.iter().eq(theirs.iter()));
        assert!(ours.keys().eq(theirs.keys()));
        assert!((&ours).into_iter().eq(theirs.iter()));
        let collected: SecretData = theirs.clone().into_iter().collect();
        assert_eq!(collected, ours);
        assert!(SecretData::new().is_empty());
    }
}
