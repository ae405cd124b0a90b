//! The one pipeline every mode and command runs: read → model → plan → size → emit.

use crate::diag::{Diagnostic, Diagnostics};
use crate::limits::{MAX_OBJECT_BYTES, MAX_OUTPUT_BYTES};
use crate::object::{Object, SOURCE};
use crate::render::{Plan, RenderSettings, plan, render};
use crate::source::{VaultSource, load_vault};
use crate::vault::Vault;
use crate::vault::access::{Grants, evaluate};
use crate::yaml::emit_document;

/// A vault read, modelled and rendered in memory: what `check`, `can-read` and `who-can-read`
/// answer from, and what `render_vault` prints.
#[derive(Debug)]
pub struct CheckedVault {
    /// The model (valid secrets and users only).
    pub vault: Vault,
    /// Who reads what, evaluated on the model.
    pub grants: Grants,
    /// The rendered objects, or `None` when any error was found.
    pub objects: Option<Vec<Object>>,
    /// Every error and warning: reading, parsing, naming, rules, clashes.
    pub diags: Diagnostics,
}

/// Reads, models, evaluates and renders a vault: the whole validation of the core.
pub fn check_vault(source: &VaultSource, settings: &RenderSettings) -> CheckedVault {
    let (vault, mut diags) = load_vault(source, &settings.namespace);
    let grants = evaluate(&vault);
    let objects = match render(&vault, &grants, settings) {
        Ok(rendered) => {
            diags.extend(rendered.warnings);
            diags.extend(check_objects(&rendered.objects));
            let ok = !diags.has_errors();
            ok.then_some(rendered.objects)
        }
        Err(errors) => {
            diags.extend(errors);
            None
        }
    };
    CheckedVault {
        vault,
        grants,
        objects,
        diags,
    }
}

/// Reads, checks and renders a vault: the objects, or `None` when any error was found. The
/// diagnostics hold every error and warning.
pub fn render_vault(
    source: &VaultSource,
    settings: &RenderSettings,
) -> (Option<Vec<Object>>, Diagnostics) {
    let checked = check_vault(source, settings);
    (checked.objects, checked.diags)
}

/// A vault read, modelled and evaluated: everything [`with_loaded`] needs to plan it.
pub struct Loaded {
    vault: Vault,
    grants: Grants,
    diags: Diagnostics,
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

/// Reads, checks and plans a vault, then hands `f` the plan (`None` when any error was found)
/// and every error and warning. Objects are built only as they are written.
pub fn with_plan<R>(
    source: &VaultSource,
    settings: &RenderSettings,
    f: impl FnOnce(Option<&Plan<'_>>, Diagnostics) -> R,
) -> R {
    with_loaded(load(source, settings), settings, f)
}

/// [`with_plan`] on a vault already [`load`]ed with the same settings.
pub fn with_loaded<R>(
    loaded: Loaded,
    settings: &RenderSettings,
    f: impl FnOnce(Option<&Plan<'_>>, Diagnostics) -> R,
) -> R {
    let Loaded {
        vault,
        grants,
        mut diags,
    } = loaded;
    match plan(&vault, &grants, settings) {
        Ok((plan, warnings)) => {
            diags.extend(warnings);
            if diags.has_errors() {
                f(None, diags)
            } else {
                f(Some(&plan), diags)
            }
        }
        Err(errors) => {
            diags.extend(errors);
            f(None, diags)
        }
    }
}

/// Checks rendered objects against [`MAX_OBJECT_BYTES`] and [`MAX_OUTPUT_BYTES`]; the errors
/// name the object and its source file, never its content.
pub fn check_objects(objects: &[Object]) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let mut total = 0usize;
    for object in objects {
        let node = object.to_node();
        let size = emit_document(&node).len();
        total += size;
        if size > MAX_OBJECT_BYTES {
            let r = object.resource_ref();
            diags.push(
                Diagnostic::error(
                    node.str_at(&["metadata", "annotations", SOURCE])
                        .unwrap_or_default(),
                    format!(
                        "{} {:?} would be {size} bytes of YAML, more than the {MAX_OBJECT_BYTES} bytes (1.5 MiB) the API server accepts",
                        r.kind, r.name
                    ),
                )
                .about(r),
            );
        }
    }
    if total > MAX_OUTPUT_BYTES {
        diags.push(Diagnostic::error(
            "",
            format!(
                "the rendered objects total {total} bytes of YAML, more than the {MAX_OUTPUT_BYTES} bytes ({} MiB) limit", MAX_OUTPUT_BYTES >> 20
            ),
        ));
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::rbac::v1::{PolicyRule, Role};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn role(names: usize) -> Object {
        Object::Role(Role {
            metadata: ObjectMeta {
                name: Some("kubevault:alice:read".into()),
                annotations: Some(
                    [(SOURCE.to_string(), "access_control/alice".to_string())].into(),
                ),
                ..Default::default()
            },
            rules: Some(vec![PolicyRule {
                resource_names: Some((0..names).map(|i| format!("{i:0>250}")).collect()),
                verbs: vec!["get".into()],
                ..Default::default()
            }]),
        })
    }

    #[test]
    fn objects_over_the_api_limit_are_errors() {
        assert!(check_objects(&[role(10)]).is_empty());
        let msgs: Vec<String> = check_objects(&[role(7000)])
            .sorted()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(msgs.len(), 1);
        assert!(
            msgs[0].starts_with(
                "access_control/alice: error: Role \"kubevault:alice:read\" would be "
            ),
            "{msgs:?}"
        );
        assert!(msgs[0].ends_with("more than the 1572864 bytes (1.5 MiB) the API server accepts"));
    }
}
