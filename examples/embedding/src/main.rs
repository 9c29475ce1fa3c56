//! Embedding Tenantry: the same services the HTTP server uses, called in-process.
//!
//! Run: `cargo run -p tenantry-embedding-example -- <data dir>` (a fresh directory each time;
//! the account name must be new).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use tenantry_kernel::{AccountName, Clock, Email, OsRandom, RandomSource, SystemClock};
use tenantry_security::{AccountProvisioning, Authenticator, SecretBox};
use tenantry_settings::{Section, SettingsService};
use tenantry_store::{Store, StoreConfig};

type Error = Box<dyn std::error::Error>;

/// What the walk-through found.
#[derive(Debug, PartialEq, Eq)]
struct Report {
    account: String,
    timezone: String,
    allowlist: Vec<String>,
    office_allowed: bool,
    elsewhere_allowed: bool,
}

fn run(data_dir: &Path) -> Result<Report, Error> {
    // 1. The store: SQLite in the data directory (or `StoreConfig::from_url("postgres://…")?`, which refuses any other scheme).
    //    Opening applies the migrations.
    let store = Store::open(&StoreConfig::sqlite(data_dir.join("tenantry.db")))?;
    let shared = Arc::new(store);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    // Secrets at rest are sealed with this key; keep it somewhere safe and stable.
    let mut key = [0u8; 32];
    random.fill(&mut key);
    let secrets = SecretBox::new(&key);

    // 2. The services, wired to the store's ports.
    let settings = SettingsService::new(shared.clone(), secrets, clock.clone(), random.clone());
    let provisioning = AccountProvisioning::new(shared.clone(), clock.clone(), random.clone());
    let authenticator = Authenticator::new(shared, clock);

    // 3. An account with its owner and first API key (shown once: store it or hand it out).
    let account = provisioning.create_account(
        AccountName::parse("embedded")?,
        Some("Embedded Co"),
        &Email::parse("owner@embedded.test")?,
        &tenantry_settings::defaults::initial_documents(),
        // Audited as the operator at the command line: the embedding process itself.
        tenantry_kernel::OperatorCaller::CLI,
    )?;

    // 4. Verify the key as the HTTP server does: the result is the caller (`Actor`).
    let office: IpAddr = "203.0.113.7".parse()?;
    let owner = authenticator.authenticate_api_key(account.owner_key.token(), Some(office))?;

    // 5. Change a setting through the same validation as every dialect: the allowlist.
    settings.update_section(
        &owner,
        Section::Security,
        &json!({
            "api_access": { "ip_whitelist": ["203.0.113.0/24"], "require_ip_whitelist": true },
            "confirm_lockout": true
        }),
        None,
    )?;

    // 6. Read the account's settings and check addresses against its allowlist.
    let current = settings.account_settings(&owner)?;
    let policy = settings.allowlist_policy(owner.account_id)?;
    let elsewhere: IpAddr = "198.51.100.1".parse()?;
    Ok(Report {
        account: account.account_id.to_string(),
        timezone: current.billing.timezone.as_str().to_owned(),
        allowlist: current.allowlist.iter().map(ToString::to_string).collect(),
        office_allowed: policy.allows(Some(office)),
        elsewhere_allowed: policy.allows(Some(elsewhere)),
    })
}

fn main() -> Result<(), Error> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: tenantry-embedding-example <data dir>")?;
    let report = run(Path::new(&dir))?;
    println!("account {}", report.account);
    println!("billing timezone {}", report.timezone);
    println!("allowlist {:?}", report.allowlist);
    println!("203.0.113.7 allowed: {}", report.office_allowed);
    println!("198.51.100.1 allowed: {}", report.elsewhere_allowed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_through_works_in_process() {
        let mut b = [0u8; 8];
        OsRandom.fill(&mut b);
        let unique: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let dir = std::env::temp_dir().join(format!("tenantry-embed-{unique}"));
        let report = run(&dir).expect("walk-through");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(report.account.starts_with("acc_"));
        assert_eq!(report.timezone, "UTC");
        assert_eq!(report.allowlist, ["203.0.113.0/24"]);
        assert!(report.office_allowed);
        assert!(!report.elsewhere_allowed);
    }
}
