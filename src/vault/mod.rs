//! The vault directory: reading it ([`walk`]), parsing secret and access-control files
//! ([`secret_file`], [`rules`]), naming ([`names`]), the model ([`model`]) and who may read what
//! ([`access`]), the spellings of a name ([`spelling`]), and hints about YAML mistakes in
//! secret files ([`yaml_hints`]) and about access mistakes ([`rule_hints`]). Everything but
//! `walk` and `beneath` is pure.

pub mod access;
pub mod beneath;
#[cfg(test)]
mod conformance;
pub mod encryption;
pub mod metadata;
pub mod model;
pub mod names;
pub mod rule_hints;
pub mod rules;
pub mod secret_data;
pub mod secret_file;
pub mod source;
pub mod spelling;
#[cfg(test)]
pub(crate) mod test_rng;
pub mod walk;
pub mod yaml_hints;

pub use model::{Secret, User, Vault};
