//! `tenantry audit tail`: an account's newest audit entries, filtered by action, actor and time,
//! optionally without the request audit's `api.request` entries, and optionally followed (new
//! entries printed as they are written, until interrupted). One JSON object a line.

use std::io::Write;

use chrono::{DateTime, Utc};
use tenantry_kernel::{AccountId, PageRequest};
use tenantry_security::{AuditEntry, AuditFilter, AuditService};

use crate::cli::AuditTailArgs;

/// How often `--follow` looks for new entries.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Entries read per page while skipping `api.request` ones.
const PAGE: u32 = 200;

fn time(flag: &str, value: Option<&str>) -> anyhow::Result<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| anyhow::anyhow!("{flag}: `{v}` is not an RFC 3339 time ({e})"))
        })
        .transpose()
}

/// The filter the flags describe.
pub fn filter(args: &AuditTailArgs) -> anyhow::Result<AuditFilter> {
    Ok(AuditFilter {
        actor: args.actor.clone(),
        action: args.action.clone(),
        since: time("--since", args.since.as_deref())?,
        until: time("--until", args.until.as_deref())?,
    })
}

/// The newest `lines` entries matching, newest first (skipping `api.request` when asked).
fn newest(
    audit: &AuditService,
    account: Option<AccountId>,
    filter: &AuditFilter,
    args: &AuditTailArgs,
) -> anyhow::Result<Vec<AuditEntry>> {
    let mut out = Vec::new();
    let mut page = PageRequest {
        limit: if args.without_requests {
            PAGE
        } else {
            args.lines
        },
        after: None,
    };
    loop {
        let found = audit.list_for_operator(account, filter, &page)?;
        out.extend(
            found
                .items
                .into_iter()
                .filter(|e| !(args.without_requests && e.action == "api.request")),
        );
        match found.next {
            Some(next) if out.len() < args.lines as usize => page.after = Some(next),
            _ => break,
        }
    }
    out.truncate(args.lines as usize);
    Ok(out)
}

fn print(out: &mut impl Write, e: &AuditEntry) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        serde_json::json!({
            "id": e.id,
            "at": e.created_at.to_rfc3339(),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "ip": e.ip,
            "details": e.details,
        })
    )
}

/// Prints the newest entries, oldest of them first; with `--follow`, then every new one.
pub fn run(
    audit: &AuditService,
    account: Option<AccountId>,
    args: &AuditTailArgs,
) -> anyhow::Result<()> {
    let filter = filter(args)?;
    let mut shown = newest(audit, account, &filter, args)?;
    shown.reverse();
    {
        let mut out = std::io::stdout().lock();
        for e in &shown {
            print(&mut out, e)?;
        }
        out.flush()?;
    }
    if !args.follow {
        return Ok(());
    }
    // Entries are shown once: ids already shown are remembered while they can still come back
    // in a newest-first read (their time within a minute of the newest shown).
    let mut seen: std::collections::HashMap<String, DateTime<Utc>> =
        shown.iter().map(|e| (e.id.clone(), e.created_at)).collect();
    let mut since = shown.last().map(|e| e.created_at);
    loop {
        std::thread::sleep(FOLLOW_EVERY);
        let window = AuditFilter {
            since: match (filter.since, since) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            ..filter.clone()
        };
        let mut fresh = newest(
            audit,
            account,
            &window,
            &AuditTailArgs {
                lines: 1000,
                ..args.clone()
            },
        )?;
        fresh.retain(|e| !seen.contains_key(&e.id));
        fresh.reverse();
        let mut out = std::io::stdout().lock();
        for e in &fresh {
            print(&mut out, e)?;
            seen.insert(e.id.clone(), e.created_at);
        }
        out.flush()?;
        if let Some(newest) = seen.values().max().copied() {
            let horizon = newest - chrono::Duration::minutes(1);
            seen.retain(|_, at| *at >= horizon);
            since = Some(horizon);
        }
    }
}
