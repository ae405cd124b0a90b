//! The one pipeline every mode and command runs: read → model → plan → size → emit.
//!
//! [`load`] reads the vault and builds the model (with who reads what); [`run`] plans the
//! objects (names checked, oversized Roles split), sizes every one of them and the total
//! against the limits, and only then hands the plan to its caller, which emits it (`generate`,
//! the KRM function, the legacy plugin), counts it (`check`) or answers a question from the
//! model (`can-read`, `who-can-read`, `external-secret`). A plan with any error is never
//! handed out, so no mode can print part of a failing run.

use crate::diag::Diagnostics;
use crate::render::{Plan, RenderSettings, plan};
use crate::source::{VaultSource, load_vault};
use crate::vault::Vault;
use crate::vault::access::{Grants, evaluate};

/// A vault read, modelled and evaluated: everything [`run`] needs to plan it.
pub struct Loaded {
    /// The model (valid secrets and users only).
    pub vault: Vault,
    /// Who reads what, evaluated on the model.
    pub grants: Grants,
    /// Every problem found so far.
    pub diags: Diagnostics,
}

/// Reads, models and evaluates a vault.
pub fn load(source: &VaultSource, settings: &RenderSettings) -> Loaded {
    let (vault, diags) = load_vault(source, &settings.namespace);
    let grants = evaluate(&vault);
    Loaded {
        vault,
        grants,
        diags,
    }
}

/// What [`run`] hands its caller.
pub struct Outcome<'a> {
    /// The model.
    pub vault: &'a Vault,
    /// Who reads what.
    pub grants: &'a Grants,
    /// The planned and sized objects; `None` when any error was found.
    pub plan: Option<&'a Plan<'a>>,
    /// Every error and warning: reading, parsing, naming, rules, clashes, limits.
    pub diags: Diagnostics,
}

/// Plans and sizes a [`load`]ed vault, then hands `f` the [`Outcome`].
pub fn run<R>(loaded: &Loaded, settings: &RenderSettings, f: impl FnOnce(Outcome<'_>) -> R) -> R {
    let (vault, grants) = (&loaded.vault, &loaded.grants);
    let mut diags = loaded.diags.clone();
    match plan(vault, grants, settings) {
        Ok((mut plan, warnings)) => {
            diags.extend(warnings);
            diags.extend(plan.size());
            let ok = !diags.has_errors();
            f(Outcome {
                vault,
                grants,
                plan: ok.then_some(&plan),
                diags,
            })
        }
        Err(errors) => {
            diags.extend(errors);
            f(Outcome {
                vault,
                grants,
                plan: None,
                diags,
            })
        }
    }
}

/// [`load`] then [`run`].
pub fn with_plan<R>(
    source: &VaultSource,
    settings: &RenderSettings,
    f: impl FnOnce(Outcome<'_>) -> R,
) -> R {
    run(&load(source, settings), settings, f)
}

/// A vault through the whole pipeline but the output: what `check`, `can-read` and
/// `who-can-read` answer from.
#[derive(Debug)]
pub struct CheckedVault {
    /// The model (valid secrets and users only).
    pub vault: Vault,
    /// Who reads what, evaluated on the model.
    pub grants: Grants,
    /// Every error and warning: reading, parsing, naming, rules, clashes, limits.
    pub diags: Diagnostics,
    /// How many bytes of YAML the vault renders (0 when it has errors).
    pub bytes: usize,
}

/// Reads, models, plans and sizes a vault: the whole validation of the core, the output only
/// counted.
pub fn check_vault(source: &VaultSource, settings: &RenderSettings) -> CheckedVault {
    let loaded = load(source, settings);
    let (diags, bytes) = run(&loaded, settings, |outcome| {
        (outcome.diags, outcome.plan.map_or(0, Plan::total_bytes))
    });
    CheckedVault {
        vault: loaded.vault,
        grants: loaded.grants,
        diags,
        bytes,
    }
}
