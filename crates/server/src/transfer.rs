//! `tenantry export` and `tenantry import`: the HTTP export's format, run by the operator in
//! an account with its owner's rights (`Credential::Operator`, audited as `operator:cli`).

use anyhow::{anyhow, Context};
use serde_json::{json, Value};
use tenantry_kernel::{AccountName, Actor};
use tenantry_settings::{MergeStrategy, Section};

use crate::cli::{ExportArgs, ExportFormat, ImportArgs, ImportStrategy};
use crate::progress::Progress;
use crate::wiring::Services;

fn operator_in(services: &Services, account: &str) -> anyhow::Result<Actor> {
    let name = AccountName::parse(account).map_err(|e| anyhow!("--account: {e}"))?;
    services
        .provisioning
        .operator_actor(&name)?
        .ok_or_else(|| anyhow!("no account named `{name}`"))
}

fn sections(raw: Option<&str>) -> anyhow::Result<Vec<Section>> {
    Section::parse_export_list(raw).map_err(|name| {
        anyhow!("--sections: `{name}` is not one of: notifications, billing, security, integrations, preferences")
    })
}

/// The export, rendered as the HTTP endpoint renders it.
pub fn export(services: &Services, args: &ExportArgs) -> anyhow::Result<String> {
    let actor = operator_in(services, &args.account)?;
    let sections = sections(args.sections.as_deref())?;
    let format = match args.format {
        ExportFormat::Json => "json",
        ExportFormat::Yaml => "yaml",
    };
    let envelope = services
        .settings
        .export_envelope(&actor, args.include_secrets, &sections, format)
        .map_err(|e| anyhow!(e))?;
    Ok(match args.format {
        ExportFormat::Json => serde_json::to_string_pretty(&envelope)? + "\n",
        ExportFormat::Yaml => yaml_serde::to_string(&envelope)?,
    })
}

/// Applies a file; returns the per-section summary the HTTP import answers with.
pub fn import(
    services: &Services,
    args: &ImportArgs,
    progress: &Progress,
) -> anyhow::Result<Value> {
    let actor = operator_in(services, &args.account)?;
    progress.step(&format!("reading {}", args.file.display()));
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    // JSON first (an export is JSON unless asked otherwise); YAML is a superset of it, so a
    // file that is neither reports the YAML parser's position.
    let document: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => yaml_serde::from_str(&text)
            .with_context(|| format!("{} is neither JSON nor YAML", args.file.display()))?,
    };
    // An export envelope, or the HTTP import's body.
    let settings = document
        .pointer("/export/settings")
        .or_else(|| document.get("settings"))
        .ok_or_else(|| {
            anyhow!(
                "{}: expected an export (`export.settings`) or an import body (`settings`)",
                args.file.display()
            )
        })?;
    let strategy = match args.strategy {
        ImportStrategy::Merge => MergeStrategy::Merge,
        ImportStrategy::Overwrite => MergeStrategy::Overwrite,
    };
    let given = settings.as_object().map_or(0, serde_json::Map::len);
    progress.step(&format!(
        "{} {given} section(s)",
        if args.validate_only {
            "validating"
        } else {
            "importing"
        }
    ));
    let outcome = services
        .settings
        .import(&actor, settings, strategy, args.validate_only)
        .map_err(|e| anyhow!(e))?;
    let mut sections = serde_json::Map::new();
    let total = outcome.sections.len() as u64;
    let mut changes = 0;
    for (done, s) in outcome.sections.iter().enumerate() {
        changes += s.changes.len();
        progress.count(
            done as u64 + 1,
            total,
            &format!("{}: {} change(s)", s.section.as_str(), s.changes.len()),
        );
        sections.insert(
            s.section.as_str().to_owned(),
            json!({ "changes": s.changes, "version": s.version }),
        );
    }
    progress.finish(&format!(
        "{total} section(s), {changes} change(s){}",
        if outcome.validate_only {
            " (validated only, nothing written)"
        } else {
            ""
        }
    ));
    Ok(json!({ "validate_only": outcome.validate_only, "sections": sections }))
}
