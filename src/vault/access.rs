//! Who reads what: every user's rules evaluated against every secret identity.
//!
//! This is the straightforward evaluation (last matching rule wins, default deny), kept simple
//! so it can serve as the oracle for faster evaluators.

use super::model::Vault;
use super::rules::deciding_rule;

/// The result of evaluating all rules of a vault.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Per user (same order as `Vault::users`): indices into `Vault::secrets` the user may read,
    /// ascending (so in Secret-name order).
    pub readable: Vec<Vec<usize>>,
    /// Per user: for each rule (file order), whether it matches at least one secret.
    pub rule_used: Vec<Vec<bool>>,
}

/// Evaluates every rule of every user against every secret.
pub fn evaluate(vault: &Vault) -> Grants {
    let mut grants = Grants::default();
    for user in &vault.users {
        let readable = vault
            .secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| deciding_rule(&user.rules, &s.identity).is_some_and(|r| r.allow))
            .map(|(i, _)| i)
            .collect();
        let used = user
            .rules
            .iter()
            .map(|r| vault.secrets.iter().any(|s| r.matches(&s.identity)))
            .collect();
        grants.readable.push(readable);
        grants.rule_used.push(used);
    }
    grants
}
