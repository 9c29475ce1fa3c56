//! Embedding Tenantry: the same services the HTTP server uses, opened in one call and called
//! in-process by a program with its own sign-in, mail and HTTP.
//!
//! Run: `cargo run -p tenantry-embedding-example -- <data dir>`. The first run sets up an
//! account; every later run on the same directory reads it back with the same master key.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tenantry_kernel::{
    AccountId, AccountName, Actor, Email, ExternalSubject, OperatorCaller, Role, UserId,
};
use tenantry_notifications::{DeliveryError, HttpReply, HttpTransport, MailTransport};
use tenantry_security::{Cidr, Decision, RetentionDays};
use tenantry_services::{master_key, Services};
use tenantry_settings::{Section, SecurityPolicy};
use tenantry_store::StoreConfig;
use tenantry_team::{AcceptInput, InvitationLifetime, InviteRequest};

type Error = Box<dyn std::error::Error>;

/// Where this program's users reach it: invitation links point here.
const PUBLIC_URL: &str = "https://app.embedded.test";
/// The office network the allowlist admits, and an address inside it.
const OFFICE: &str = "203.0.113.0/24";
const OFFICE_IP: &str = "203.0.113.7";
/// The secret stored in the first run and read back in the next.
const GITHUB_TOKEN: &str = "ghp_embedded0example0token0kept0sealed";

/// This program's own mail: Tenantry hands it each email the outbox sends. A real program
/// passes them to its mail service; this one keeps them to follow the invitation link.
#[derive(Default)]
struct Outgoing(Mutex<Vec<(String, String, String)>>);

impl MailTransport for Outgoing {
    fn send(&self, to: &str, subject: &str, text: &str) -> Result<String, DeliveryError> {
        let mut sent = self
            .0
            .lock()
            .map_err(|_| DeliveryError::Local("mail log poisoned".into()))?;
        sent.push((to.to_owned(), subject.to_owned(), text.to_owned()));
        Ok(format!("embedded-{}", sent.len()))
    }
}

/// This program's own HTTP client for webhook and Slack deliveries. This example configures
/// no channel, so nothing reaches it; a real program posts with its client (and its egress
/// rules) and answers with the receiver's status.
struct NoWebhooks;

impl HttpTransport for NoWebhooks {
    fn post_json(
        &self,
        url: &str,
        _headers: &[(String, String)],
        _body: &[u8],
    ) -> Result<HttpReply, DeliveryError> {
        Err(DeliveryError::Refused(format!(
            "this example posts nowhere ({url})"
        )))
    }
}

/// The program's own record of its tenant: which Tenantry account and owner it maps to.
fn read_tenant(path: &Path) -> Result<Option<(AccountId, UserId)>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut lines = text.lines();
    let account = lines.next().ok_or("tenant file: no account")?.parse()?;
    let owner = lines.next().ok_or("tenant file: no owner")?.parse()?;
    Ok(Some((account, owner)))
}

/// The owner as this program's single sign-on vouches for them: audited as
/// `external:sso|owner`, with the owner role.
fn owner(services: &Services, account: AccountId, user: UserId) -> Result<Actor, Error> {
    Ok(Actor::external(
        account,
        user,
        Role::Owner,
        ExternalSubject::parse("sso|owner")?,
        Some(OFFICE_IP.parse()?),
        services.clock.now(),
    ))
}

/// First run: the account, its security policy, allowlist, a secret and an invitation.
fn set_up(services: &Services, tenant_file: &Path) -> Result<(), Error> {
    let account = services.provisioning.create_account(
        AccountName::parse("embedded")?,
        Some("Embedded Co"),
        &Email::parse("owner@embedded.test")?,
        &tenantry_settings::defaults::initial_documents(),
        // Audited as the operator at the command line: the embedding process itself.
        OperatorCaller::CLI,
    )?;
    std::fs::write(
        tenant_file,
        format!("{}\n{}\n", account.account_id, account.owner_id),
    )?;
    let owner = owner(services, account.account_id, account.owner_id)?;

    // The allowlist as typed entries, then a typed policy change that enforces it: the same
    // rules as the APIs (a list that would refuse the caller's own address is refused).
    services
        .settings
        .add_to_allowlist(&owner, Cidr::parse(OFFICE)?, "head office")?;
    // Policy numbers are typed: a retention outside 1-365 days is refused here, by its type.
    let half_year = RetentionDays::new(180)?;
    services
        .settings
        .update::<SecurityPolicy>(&owner, None, |policy| {
            policy.ip_allowlist_enforced = true;
            policy.audit_retention_days = half_year;
        })?;

    // A secret: sealed at rest under the data keys that the master key wraps.
    services.settings.update_section(
        &owner,
        Section::Integrations,
        &json!({ "github": { "enabled": true, "username": "embedded-bot", "access_token": GITHUB_TOKEN } }),
        None,
    )?;

    // An invitation: its email (with the single-use link) waits, sealed, in the outbox.
    services.team.invite(
        &owner,
        InviteRequest {
            email: Email::parse("dev@embedded.test")?,
            role: Role::Developer,
            department: None,
            title: None,
            message: None,
            permissions: None,
            lifetime: InvitationLifetime::SevenDays,
        },
    )?;
    Ok(())
}

/// What a run found.
#[derive(Debug, PartialEq, Eq)]
struct Report {
    first_run: bool,
    audit_retention_days: u32,
    allowlist: Vec<String>,
    office_allowed: bool,
    elsewhere_allowed: bool,
    github_token: String,
    emails_sent: usize,
    members: Vec<String>,
}

fn run(data_dir: &Path) -> Result<Report, Error> {
    // 1. The master key, kept in the data directory (created once, mode 0600): losing it
    //    loses every stored secret.
    let key = master_key::load_or_create(&data_dir.join("master.key"))?;
    // 2. Every service on one store (migrations applied), in one call.
    let services = Services::open(
        &StoreConfig::sqlite(data_dir.join("tenantry.db")),
        &key,
        PUBLIC_URL,
    )?;
    let tenant_file = data_dir.join("tenant.txt");
    let first_run = read_tenant(&tenant_file)?.is_none();
    if first_run {
        set_up(&services, &tenant_file)?;
    }
    let (account, owner_id) = read_tenant(&tenant_file)?.ok_or("tenant file missing")?;
    let owner = owner(&services, account, owner_id)?;

    // 3. Gate this program's own requests with the account's allowlist (refusals audited).
    let office: IpAddr = OFFICE_IP.parse()?;
    let elsewhere: IpAddr = "198.51.100.1".parse()?;
    let office_allowed = services.allowlist.check_address(account, office)? == Decision::Allowed;
    let elsewhere_allowed =
        services.allowlist.check_address(account, elsewhere)? == Decision::Allowed;

    // 4. Read back the typed settings, the allowlist and the secret.
    let settings = services.settings.account_settings(&owner)?;
    let allowlist = services
        .settings
        .allowlist_blocks(&owner)?
        .into_iter()
        .map(|e| format!("{} ({})", e.block, e.description))
        .collect();
    let export = services
        .settings
        .export(&owner, true, &[Section::Integrations])?;
    let github_token = export["integrations"]["github"]["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // 5. The outbox on this program's own transports (a real program drains it on a thread
    //    of its own, pausing when it finds nothing). This example leaves it to the next run,
    //    so that the invitation email sealed by one process is opened by another.
    let mail = Arc::new(Outgoing::default());
    if !first_run {
        let worker = services.outbox_worker(mail.clone(), Arc::new(NoWebhooks));
        while worker
            .run_once(tenantry_notifications::CLAIM_BATCH)?
            .handled()
            > 0
        {}
    }
    let sent = mail.0.lock().map_err(|_| "mail log poisoned")?.clone();

    // 6. The invitee follows the link from their email and joins.
    let marker = format!("{PUBLIC_URL}/invite/");
    for (_, _, text) in sent.iter().filter(|(to, _, _)| to == "dev@embedded.test") {
        if let Some(token) = text
            .split(&marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            services.team.accept(
                token,
                AcceptInput {
                    name: Some("Dev".into()),
                    password: Some("a long passphrase of the invitee".into()),
                    signed_in_as: None,
                    ip: Some(office),
                },
            )?;
        }
    }
    let mut members: Vec<String> = services
        .team
        .list(&owner, &Default::default(), &Default::default())?
        .page
        .items
        .into_iter()
        .map(|m| format!("{} {}", m.email, m.role))
        .collect();
    members.sort();
    Ok(Report {
        first_run,
        audit_retention_days: settings.security.audit_retention_days.get(),
        allowlist,
        office_allowed,
        elsewhere_allowed,
        github_token,
        emails_sent: sent.len(),
        members,
    })
}

fn main() -> Result<(), Error> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: tenantry-embedding-example <data dir>")?;
    let report = run(Path::new(&dir))?;
    println!("first run: {}", report.first_run);
    println!("audit retention days: {}", report.audit_retention_days);
    println!("allowlist: {}", report.allowlist.join(", "));
    println!("{OFFICE_IP} allowed: {}", report.office_allowed);
    println!("198.51.100.1 allowed: {}", report.elsewhere_allowed);
    println!("github token: {}", report.github_token);
    println!("emails sent: {}", report.emails_sent);
    println!("members: {}", report.members.join(", "));
    Ok(())
}
