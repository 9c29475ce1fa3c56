//! Every route the server answers, as one table: the OpenAPI document is built from it, and the
//! route test (tests/e2e/openapi.rs) checks it against the router in both directions, so a route
//! added without a row here (or a row without a route) fails CI.

/// Routes the router keeps for old clients and the document leaves out, each with the documented
/// path it answers like: a path that differs only by a trailing slash is a duplicate to OpenAPI
/// tools (redocly's `no-ambiguous-paths`), and generators would emit the operation twice.
#[cfg(test)]
pub(crate) const ALIASES: [(&str, &str); 1] = [(
    "/accounts/{account_name}/settings/",
    "/accounts/{account_name}/settings",
)];

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// No credentials (health, invitation links, sign-in, this document).
    Public,
    /// An account member's API key or session token; the role and scopes decide further.
    Member,
    /// The operator key (`/admin`, `/metrics`).
    Operator,
}

/// A query parameter: name and what it does.
pub(crate) type Param = (&'static str, &'static str);

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub method: &'static str,
    /// The OpenAPI path template (the router's own pattern).
    pub path: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub status: u16,
    /// Another success status some requests get (the settings catalog answers 200 to one setting's creation).
    pub also: Option<u16>,
    pub request: Option<&'static str>,
    /// Content type of the request body when it is not JSON (the token grant's form).
    pub request_media: Option<&'static str>,
    pub response: Option<&'static str>,
    /// Content type of the success body when it is not JSON.
    pub media: Option<&'static str>,
    pub query: &'static [Param],
    /// The answer is `Cache-Control: no-store`: it gets no validator, so no 304 (conditional.rs).
    pub no_store: bool,
    /// The success body may also be YAML (`?format=yaml`).
    pub yaml: bool,
    /// A write that honours `If-Match`/`If-None-Match` (412 when they fail) and answers the
    /// new `ETag` (preconditions.rs).
    pub conditional: bool,
    /// Error statuses this operation answers besides the ones every operation of its kind can
    /// (see `openapi::error_statuses`): conflicts, gone invitations, business rules.
    pub errors: &'static [u16],
}

fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    access: Access,
    status: u16,
) -> Operation {
    Operation {
        method,
        path,
        id,
        summary,
        access,
        status,
        also: None,
        request: None,
        request_media: None,
        response: None,
        media: None,
        query: &[],
        no_store: false,
        yaml: false,
        conditional: false,
        errors: &[],
    }
}

impl Operation {
    fn req(mut self, schema: &'static str) -> Self {
        self.request = Some(schema);
        self
    }

    /// The success body is YAML when asked (`?format=yaml`).
    fn yaml(mut self) -> Self {
        self.yaml = true;
        self
    }

    fn res(mut self, schema: &'static str) -> Self {
        self.response = Some(schema);
        self
    }

    fn also(mut self, status: u16) -> Self {
        self.also = Some(status);
        self
    }

    fn media(mut self, media: &'static str) -> Self {
        self.media = Some(media);
        self
    }

    fn query(mut self, params: &'static [Param]) -> Self {
        self.query = params;
        self
    }

    fn conditional(mut self) -> Self {
        self.conditional = true;
        self
    }

    fn errors(mut self, statuses: &'static [u16]) -> Self {
        self.errors = statuses;
        self
    }

    fn no_store(mut self) -> Self {
        self.no_store = true;
        self
    }

    /// A form-encoded request body (`application/x-www-form-urlencoded`) of `schema`.
    fn form(mut self, schema: &'static str) -> Self {
        self.request = Some(schema);
        self.request_media = Some("application/x-www-form-urlencoded");
        self
    }
}

/// The settings catalog's clients put the version in the path: each catalog route is served at
/// `/v1` + its path too (decision 0024), with the same row but for path and operation id.
fn with_v1_aliases(mut ops: Vec<Operation>) -> Vec<Operation> {
    let aliases: Vec<Operation> = ops
        .iter()
        .filter(|o| V1_ALIASED.iter().any(|p| o.path.starts_with(p)))
        .map(|o| {
            let mut alias = o.clone();
            alias.path = leak(format!("/v1{}", o.path));
            alias.id = leak(format!(
                "v1{}{}",
                o.id[..1].to_ascii_uppercase(),
                &o.id[1..]
            ));
            alias
        })
        .collect();
    ops.extend(aliases);
    ops
}

/// Paths served under `/v1` as well (prefixes of the catalog's routes).
const V1_ALIASED: &[&str] = &["/accounts", "/version", "/authorization/token"];

/// The table is built once per process ([`operations`]), so these few strings live as long as
/// it does.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

const PAGE: &[Param] = &[
    ("limit", "Page size, 1 to 100"),
    ("cursor", "Opaque cursor from the previous page"),
];

/// The whole API, grouped by API: account settings, team, user and organization, settings
/// catalog, tenant settings, operator, service.
pub(crate) fn operations() -> Vec<Operation> {
    static TABLE: std::sync::OnceLock<Vec<Operation>> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| with_v1_aliases(all_operations()))
        .clone()
}

fn all_operations() -> Vec<Operation> {
    use Access::{Member, Operator, Public};
    vec![
        // The account settings API (v2).
        op(
            "get",
            "/v2/accounts/settings",
            "getAccountSettings",
            "All five sections of the account's settings",
            Member,
            200,
        )
        .res("AccountSettings"),
        op(
            "get",
            "/v2/accounts/settings/{section}",
            "getSettingsSection",
            "One section (notifications, billing, security, integrations, preferences)",
            Member,
            200,
        )
        .res("SectionView"),
        op(
            "put",
            "/v2/accounts/settings/{section}",
            "updateSettingsSection",
            "Merge fields into one section; If-Match for optimistic concurrency",
            Member,
            200,
        )
        .req("SectionDocument")
        .res("SectionView")
        .errors(&[400, 402, 409])
        .conditional(),
        op(
            "get",
            "/v2/accounts/settings/{section}/history",
            "getSettingsHistory",
            "Versions of one section with field diffs",
            Member,
            200,
        )
        .res("SectionHistory")
        .query(PAGE),
        op(
            "post",
            "/v2/accounts/settings/{section}/rollback",
            "rollbackSettingsSection",
            "Restore an earlier version as a new version",
            Member,
            200,
        )
        .req("SectionRollback")
        .res("SectionView")
        .errors(&[409])
        .conditional(),
        op(
            "get",
            "/v2/accounts/settings/schema/{section}",
            "getSettingsSchema",
            "JSON Schema of one section",
            Member,
            200,
        )
        .res("SectionJsonSchema")
        .media("application/schema+json"),
        op(
            "post",
            "/v2/accounts/settings/notifications/test",
            "testNotification",
            "Send a test notification through email, Slack or the webhook",
            Member,
            200,
        )
        .req("NotificationTest")
        .res("NotificationTestResult")
        .errors(&[400]),
        op(
            "get",
            "/v2/accounts/settings/export",
            "exportSettings",
            "Export settings as JSON or YAML",
            Member,
            200,
        )
        .res("SettingsExport")
        .query(&[
            ("format", "json (default) or yaml"),
            (
                "include_secrets",
                "true to include secrets (admins; audited)",
            ),
            ("sections", "Comma-separated sections to export"),
        ])
        .no_store()
        .yaml(),
        op(
            "post",
            "/v2/accounts/settings/import",
            "importSettings",
            "Import an export (merge or overwrite, validate_only), all or nothing",
            Member,
            200,
        )
        .req("SettingsImport")
        .res("SettingsImportResult")
        .errors(&[409]),
        op(
            "get",
            "/v2/accounts/audit-logs",
            "listAuditLogs",
            "Audit trail of the account, newest first",
            Member,
            200,
        )
        .res("AuditLogs")
        .query(&[
            ("actor", "Only entries by this user id"),
            ("action", "Only this action, e.g. settings.updated"),
            ("since", "RFC 3339 lower bound"),
            ("until", "RFC 3339 upper bound"),
            ("limit", "Page size, 1 to 100"),
            ("cursor", "Opaque cursor from the previous page"),
        ]),
        op(
            "post",
            "/v2/accounts/usage",
            "recordUsage",
            "Report usage costs (idempotent by record id); fires cost alerts",
            Member,
            200,
        )
        .req("UsageBatch")
        .res("UsageResult"),
        op(
            "post",
            "/v2/accounts/portal-links",
            "createPortalLink",
            "A single-use link that signs a member into the console (admins; never above the caller)",
            Member,
            201,
        )
        .req("PortalLinkCreate")
        .res("PortalLink")
        .errors(&[404])
        .no_store(),
        // The team API.
        op(
            "get",
            "/v2/accounts/team/members",
            "listTeamMembers",
            "Members and pending invitations with role counts",
            Member,
            200,
        )
        .res("MemberList")
        .query(&[
            ("role", "owner, admin, developer or viewer"),
            ("status", "active, pending or suspended"),
            ("limit", "Page size, 1 to 100"),
            ("cursor", "Opaque cursor from the previous page"),
        ]),
        op(
            "post",
            "/v2/accounts/team/members",
            "inviteTeamMember",
            "Invite a member (flat form)",
            Member,
            201,
        )
        .req("InvitationRequest")
        .res("InvitationFlat")
        .errors(&[400, 409]),
        op(
            "post",
            "/v2/accounts/team/members/invite",
            "inviteTeamMemberWrapped",
            "Invite a member",
            Member,
            201,
        )
        .req("InvitationRequest")
        .res("InvitationSent")
        .errors(&[400, 409]),
        op(
            "post",
            "/v2/accounts/team/members/bulk",
            "bulkUpdateTeamMembers",
            "Bulk role/department change, suspend or reactivate",
            Member,
            200,
        )
        .req("BulkOperation")
        .res("BulkResult"),
        op(
            "post",
            "/v2/accounts/team/transfer-ownership",
            "transferOwnership",
            "The owner hands the account to an active admin and becomes an admin",
            Member,
            200,
        )
        .req("OwnershipTransferRequest")
        .res("OwnershipTransfer")
        .errors(&[404]),
        op(
            "get",
            "/v2/accounts/team/members/{id}",
            "getTeamMember",
            "One member with activity and resources",
            Member,
            200,
        )
        .res("MemberDetail"),
        op(
            "put",
            "/v2/accounts/team/members/{id}",
            "updateTeamMember",
            "Change a member's role, department or title",
            Member,
            200,
        )
        .req("MemberUpdate")
        .res("Member"),
        op(
            "delete",
            "/v2/accounts/team/members/{id}",
            "removeTeamMember",
            "Remove a member",
            Member,
            200,
        )
        .res("MemberRemoved")
        .errors(&[422]),
        op(
            "get",
            "/v2/accounts/team/invitations",
            "listInvitations",
            "Every invitation of the account, oldest first (no link or token)",
            Member,
            200,
        )
        .res("InvitationList")
        .query(&[
            ("status", "pending, accepted, expired or cancelled"),
            ("limit", "Page size, 1 to 100"),
            ("cursor", "Opaque cursor from the previous page"),
        ]),
        op(
            "get",
            "/v2/accounts/team/invitations/{id}",
            "getInvitation",
            "One invitation (no link or token)",
            Member,
            200,
        )
        .res("InvitationRecord"),
        op(
            "post",
            "/v2/accounts/team/invitations/{id}/resend",
            "resendInvitation",
            "Resend an invitation with a new link",
            Member,
            200,
        )
        .res("InvitationResent")
        .errors(&[409, 410]),
        op(
            "delete",
            "/v2/accounts/team/invitations/{id}",
            "cancelInvitation",
            "Cancel a pending invitation",
            Member,
            200,
        )
        .res("InvitationCancelled")
        .errors(&[409, 410]),
        op(
            "get",
            "/v2/invitations/{token}",
            "previewInvitation",
            "What an invitation link offers (account, role, expiry)",
            Public,
            200,
        )
        .res("InvitationPreview")
        .no_store(),
        op(
            "post",
            "/v2/invitations/{token}/accept",
            "acceptInvitation",
            "Accept an invitation: join, and get a first API key",
            Public,
            201,
        )
        .req("InvitationAccept")
        .res("InvitationAccepted")
        .errors(&[401, 403, 409, 410]),
        op(
            "get",
            "/v2/accounts/team/activity",
            "getTeamActivity",
            "Team activity figures for a period",
            Member,
            200,
        )
        .res("TeamActivity")
        .query(&[("period", "7d, 30d or 90d")]),
        op(
            "post",
            "/v2/accounts/team/activity/events",
            "recordTeamActivity",
            "Report activity events from the host product",
            Member,
            200,
        )
        .req("ActivityEvents")
        .res("ActivityEventsRecorded"),
        // The user and organization API.
        op(
            "get",
            "/api/user/profile",
            "getProfile",
            "The caller's profile",
            Member,
            200,
        )
        .res("Profile"),
        op(
            "put",
            "/api/user/profile",
            "updateProfile",
            "Update the caller's profile",
            Member,
            200,
        )
        .req("ProfileUpdate")
        .res("Profile"),
        op(
            "post",
            "/api/user/password",
            "changePassword",
            "Change the caller's password",
            Member,
            204,
        )
        .req("PasswordChange")
        .errors(&[409]),
        op(
            "post",
            "/api/user/email",
            "requestEmailChange",
            "Ask to change the caller's sign-in address: mails a confirmation link to the new address and a notice to the current one (same answer whether or not the address is taken)",
            Member,
            202,
        )
        .req("EmailChangeRequest")
        .res("Message"),
        op(
            "post",
            "/api/user/email/confirm/{token}",
            "confirmEmailChange",
            "Apply an email change with the link mailed to the new address",
            Public,
            200,
        )
        .res("EmailChanged")
        .errors(&[409]),
        op(
            "get",
            "/api/user/mfa",
            "getMfaStatus",
            "MFA status",
            Member,
            200,
        )
        .res("MfaStatus"),
        op(
            "post",
            "/api/user/mfa/enable",
            "enableMfa",
            "Start TOTP enrollment",
            Member,
            200,
        )
        .req("MfaEnableRequest")
        .res("MfaEnrollment")
        .errors(&[409]),
        op(
            "post",
            "/api/user/mfa/verify",
            "verifyMfa",
            "Finish enrollment with a code; returns backup codes once",
            Member,
            200,
        )
        .req("MfaVerifyRequest")
        .res("MfaEnabled")
        .errors(&[409]),
        op(
            "post",
            "/api/user/mfa/disable",
            "disableMfa",
            "Turn MFA off (password or code required)",
            Member,
            204,
        )
        .req("MfaDisableRequest")
        .errors(&[409]),
        op(
            "get",
            "/api/user/api-keys",
            "listApiKeys",
            "The caller's API keys (no secrets)",
            Member,
            200,
        )
        .query(PAGE)
        .res("ApiKeyList"),
        op(
            "post",
            "/api/user/api-keys",
            "createApiKey",
            "Create a scoped API key; the secret is shown once",
            Member,
            201,
        )
        .req("ApiKeyRequest")
        .res("ApiKeyCreated")
        .errors(&[409]),
        op(
            "get",
            "/api/user/api-keys/{id}",
            "getApiKey",
            "One API key's metadata",
            Member,
            200,
        )
        .res("ApiKey"),
        op(
            "delete",
            "/api/user/api-keys/{id}",
            "deleteApiKey",
            "Revoke an API key",
            Member,
            204,
        ),
        op(
            "post",
            "/api/user/api-keys/{id}/regenerate",
            "regenerateApiKey",
            "Replace an API key's secret; shown once",
            Member,
            200,
        )
        .res("ApiKeyRegenerated"),
        op(
            "post",
            "/api/auth/login",
            "login",
            "Sign in with email and password (and MFA code); returns a session token",
            Public,
            200,
        )
        .req("Login")
        .res("SessionIssued")
        .errors(&[401, 403]),
        op(
            "post",
            "/api/auth/password-reset",
            "requestPasswordReset",
            "Mail a password set-up or reset link (same answer whether or not the address is known)",
            Public,
            202,
        )
        .req("PasswordResetRequest")
        .res("Message"),
        op(
            "post",
            "/api/auth/password-reset/{token}",
            "completePasswordReset",
            "Choose a password with a mailed link; ends every session of the user",
            Public,
            204,
        )
        .req("PasswordResetCompletion"),
        op(
            "post",
            "/api/auth/logout",
            "logout",
            "End the caller's session",
            Member,
            204,
        ),
        op(
            "get",
            "/api/auth/sessions",
            "listSessions",
            "The caller's active sessions",
            Member,
            200,
        )
        .res("SessionList"),
        op(
            "delete",
            "/api/auth/sessions/{id}",
            "revokeSession",
            "End one session",
            Member,
            204,
        ),
        op(
            "get",
            "/api/session-timeout",
            "getSessionTimeout",
            "Session idle and absolute timeouts",
            Member,
            200,
        )
        .res("SessionTimeout"),
        op(
            "put",
            "/api/session-timeout",
            "updateSessionTimeout",
            "Change session timeouts",
            Member,
            200,
        )
        .req("SessionTimeoutUpdate")
        .res("SessionTimeout"),
        op(
            "get",
            "/api/user-preferences",
            "listUserPreferences",
            "The caller's preferences",
            Member,
            200,
        )
        .res("UserPreferences"),
        op(
            "get",
            "/api/user-preferences/{key}",
            "getUserPreference",
            "One preference",
            Member,
            200,
        )
        .res("UserPreference"),
        op(
            "put",
            "/api/user-preferences/{key}",
            "setUserPreference",
            "Set one preference",
            Member,
            200,
        )
        .req("UserPreferenceValue")
        .res("UserPreference"),
        op(
            "delete",
            "/api/user-preferences/{key}",
            "deleteUserPreference",
            "Reset one preference to its default",
            Member,
            204,
        ),
        op(
            "get",
            "/api/settings",
            "getOrganizationSettings",
            "Organization settings",
            Member,
            200,
        )
        .res("OrganizationSettings"),
        op(
            "post",
            "/api/settings",
            "updateOrganizationSettings",
            "Update organization settings",
            Member,
            200,
        )
        .req("OrganizationSettingsUpdate")
        .res("OrganizationSettings"),
        op(
            "get",
            "/api/settings/all",
            "getAllOrganizationSettings",
            "Organization settings with feature flags",
            Member,
            200,
        )
        .res("OrganizationSettingsAll"),
        op(
            "get",
            "/api/settings/ip-whitelist",
            "listIpWhitelist",
            "IP allowlist entries",
            Member,
            200,
        )
        .query(PAGE)
        .res("IpWhitelist"),
        op(
            "post",
            "/api/settings/ip-whitelist",
            "addIpWhitelistEntry",
            "Add a CIDR to the IP allowlist",
            Member,
            201,
        )
        .req("IpWhitelistEntry")
        .res("IpWhitelistEntryCreated")
        .errors(&[409]),
        op(
            "delete",
            "/api/settings/ip-whitelist/{id}",
            "removeIpWhitelistEntry",
            "Remove an allowlist entry",
            Member,
            204,
        )
        .errors(&[409]),
        op(
            "get",
            "/api/settings/ip-whitelist/status",
            "getIpWhitelistStatus",
            "Whether the allowlist is enforced",
            Member,
            200,
        )
        .res("IpWhitelistStatus"),
        op(
            "post",
            "/api/settings/ip-whitelist/toggle",
            "toggleIpWhitelist",
            "Turn enforcement on or off (lockout guard)",
            Member,
            200,
        )
        .req("IpWhitelistToggle")
        .res("IpWhitelistToggled")
        .errors(&[409]),
        op(
            "get",
            "/api/settings/log-retention",
            "getLogRetention",
            "Log retention periods",
            Member,
            200,
        )
        .res("LogRetention"),
        op(
            "put",
            "/api/settings/log-retention",
            "updateLogRetention",
            "Change log retention periods",
            Member,
            200,
        )
        .req("LogRetentionUpdate")
        .res("LogRetention"),
        op(
            "get",
            "/api/organization",
            "getOrganization",
            "The organization (account)",
            Member,
            200,
        )
        .res("Organization"),
        op(
            "get",
            "/api/features",
            "listFeatures",
            "Features enabled for the tier",
            Member,
            200,
        )
        .res("Features"),
        op(
            "get",
            "/api/features/limits",
            "getLimits",
            "Limits of the tier",
            Member,
            200,
        )
        .res("Limits"),
        op(
            "get",
            "/api/tier",
            "getTier",
            "The account's tier",
            Member,
            200,
        )
        .res("Tier"),
        op(
            "get",
            "/api/notifications/channels",
            "listNotificationChannels",
            "Notification channels, built-in ones included",
            Member,
            200,
        )
        .query(PAGE)
        .res("NotificationChannelList"),
        op(
            "post",
            "/api/notifications/channels",
            "createNotificationChannel",
            "Create an email, Slack or webhook channel",
            Member,
            201,
        )
        .req("NotificationChannelRequest")
        .res("NotificationChannel"),
        op(
            "get",
            "/api/notifications/channels/{id}",
            "getNotificationChannel",
            "One channel, built-in or custom",
            Member,
            200,
        )
        .res("NotificationChannel"),
        op(
            "put",
            "/api/notifications/channels/{id}",
            "updateNotificationChannel",
            "Update a channel",
            Member,
            200,
        )
        .req("NotificationChannelUpdate")
        .res("NotificationChannelUpdated")
        .errors(&[409]),
        op(
            "delete",
            "/api/notifications/channels/{id}",
            "deleteNotificationChannel",
            "Delete a channel",
            Member,
            204,
        )
        .errors(&[409]),
        op(
            "post",
            "/api/notifications/channels/{id}/test",
            "testNotificationChannel",
            "Queue a test delivery",
            Member,
            202,
        )
        .res("DeliveryQueued"),
        op(
            "get",
            "/api/notifications/rules",
            "listNotificationRules",
            "Routing rules",
            Member,
            200,
        )
        .query(PAGE)
        .res("NotificationRuleList"),
        op(
            "post",
            "/api/notifications/rules",
            "createNotificationRule",
            "Create a routing rule, or replace the rule of that name (200)",
            Member,
            201,
        )
        .also(200)
        .req("NotificationRuleRequest")
        .res("NotificationRule")
        .errors(&[409]),
        op(
            "get",
            "/api/notifications/rules/{id}",
            "getNotificationRule",
            "One routing rule, built-in or custom",
            Member,
            200,
        )
        .res("NotificationRule"),
        op(
            "put",
            "/api/notifications/rules/{id}",
            "replaceNotificationRule",
            "Replace a custom routing rule",
            Member,
            200,
        )
        .req("NotificationRuleReplace")
        .res("NotificationRule")
        .errors(&[409]),
        op(
            "delete",
            "/api/notifications/rules/{id}",
            "deleteNotificationRule",
            "Delete a custom routing rule",
            Member,
            204,
        )
        .errors(&[409]),
        op(
            "get",
            "/api/notifications/deliveries",
            "listDeliveries",
            "Delivery log, newest first",
            Member,
            200,
        )
        .res("DeliveryList")
        .query(PAGE),
        op(
            "get",
            "/api/notifications/deliveries/{id}",
            "getDelivery",
            "One delivery with its attempts",
            Member,
            200,
        )
        .res("Delivery"),
        op(
            "post",
            "/api/notifications/deliveries/{id}/redeliver",
            "redeliver",
            "Deliver again (same webhook-id)",
            Member,
            202,
        )
        .res("DeliveryQueued")
        .errors(&[409]),
        op(
            "post",
            "/api/notifications/events",
            "reportEvent",
            "Report a host product's event for routing",
            Member,
            202,
        )
        .req("ReportedEvent")
        .res("EventAccepted"),
        // The settings catalog API.
        op(
            "post",
            "/authorization/token",
            "grantToken",
            "Sign in (grant_type=password) or refresh (grant_type=refresh_token): a session token and a rotating refresh token",
            Public,
            200,
        )
        .form("TokenRequest")
        .res("TokenResponse")
        .no_store(),
        op(
            "get",
            "/accounts",
            "listCatalogAccounts",
            "The accounts the credential can act on (its own), paginated with offset and limit",
            Member,
            200,
        )
        .query(&[
            ("offset", "Entries to skip, 0 or more"),
            ("limit", "Page size, 1 to 100 (default 20)"),
        ])
        .res("CatalogAccounts"),
        op(
            "get",
            "/version",
            "getVersion",
            "The server's version",
            Public,
            200,
        )
        .res("Version"),
        op(
            "get",
            "/accounts/{account_name}/settings",
            "getSettingsCatalog",
            "The settings the account has",
            Member,
            200,
        )
        .res("Catalog"),
        op(
            "get",
            "/accounts/{account_name}/settings/PUSH_NOTIFICATIONS/availableChannels",
            "getAvailableChannels",
            "Channels a push webhook can subscribe to",
            Member,
            200,
        )
        .res("AvailableChannels"),
        op(
            "get",
            "/accounts/{account_name}/settings/{setting_name}",
            "getSetting",
            "One named setting",
            Member,
            200,
        )
        .res("CatalogSetting"),
        op(
            "post",
            "/accounts/{account_name}/settings/{setting_name}",
            "createSetting",
            "Create a named setting (PUSH_NOTIFICATIONS answers 200)",
            Member,
            201,
        )
        .also(200)
        .req("CatalogSetting")
        .res("CatalogSettingWritten")
        .errors(&[409]),
        op(
            "put",
            "/accounts/{account_name}/settings/{setting_name}",
            "replaceSetting",
            "Replace a named setting",
            Member,
            200,
        )
        .req("CatalogSetting")
        .res("CatalogSettingWritten"),
        op(
            "patch",
            "/accounts/{account_name}/settings/{setting_name}",
            "patchSetting",
            "Change part of a named setting",
            Member,
            200,
        )
        .req("CatalogSetting")
        .res("CatalogSettingWritten"),
        op(
            "delete",
            "/accounts/{account_name}/settings/{setting_name}",
            "deleteSetting",
            "Delete a named setting",
            Member,
            204,
        ),
        op(
            "post",
            "/accounts/{account_name}/telemetryWebhook/test",
            "testTelemetryWebhook",
            "Send a test event to a webhook URL, or verify one",
            Member,
            200,
        )
        .req("TelemetryTest")
        .res("TelemetryTestResult")
        .query(&[(
            "telemetryEventId",
            "Verify this earlier test event instead of sending",
        )]),
        // The tenant settings API.
        op(
            "get",
            "/tenants/{id}/settings",
            "getTenantSettings",
            "Tenant settings with defaults",
            Member,
            200,
        )
        .res("TenantSettings"),
        op(
            "patch",
            "/tenants/{id}/settings",
            "patchTenantSettings",
            "JSON merge-PATCH (RFC 7396) of tenant settings",
            Member,
            200,
        )
        .req("TenantSettingsPatch")
        .res("TenantSettings")
        .errors(&[409])
        .conditional(),
        // Operator.
        op(
            "get",
            "/admin/accounts",
            "listAccounts",
            "Every account",
            Operator,
            200,
        )
        .res("AccountList")
        .query(PAGE),
        op(
            "post",
            "/admin/accounts",
            "createAccount",
            "Create an account and its owner; the owner's key is shown once",
            Operator,
            201,
        )
        .req("AccountCreate")
        .res("AccountCreated")
        .errors(&[409]),
        op(
            "patch",
            "/admin/accounts/{id}",
            "updateAccount",
            "Set an account's tier or status",
            Operator,
            200,
        )
        .req("AccountUpdate")
        .res("AccountSummary"),
        op(
            "post",
            "/admin/accounts/{id}/portal-links",
            "createPortalLinkAsOperator",
            "A single-use link that signs any member of the account into the console",
            Operator,
            201,
        )
        .req("PortalLinkCreate")
        .res("PortalLink")
        .no_store(),
        // Service.
        op("get", "/healthz", "healthz", "Liveness", Public, 200).res("Health"),
        op(
            "get",
            "/readyz",
            "readyz",
            "Readiness (the database answers)",
            Public,
            200,
        )
        .res("Health")
        .errors(&[503]),
        op(
            "get",
            "/metrics",
            "metrics",
            "Prometheus metrics (the metrics token or an operator key)",
            Operator,
            200,
        )
        .media("text/plain"),
        op(
            "get",
            "/openapi.json",
            "openapi",
            "This document",
            Public,
            200,
        )
        .res("OpenApiDocument"),
        op(
            "get",
            "/docs",
            "docs",
            "Interactive API reference",
            Public,
            200,
        )
        .media("text/html"),
    ]
}

/// The tag (API document) an operation belongs to.
pub(crate) fn tag(path: &str) -> &'static str {
    if path.starts_with("/v2/accounts/team") || path.starts_with("/v2/invitations") {
        TAGS[1].0
    } else if path.starts_with("/v2/") {
        TAGS[0].0
    } else if path.starts_with("/api/") {
        TAGS[2].0
    } else if path.starts_with("/accounts")
        || path.starts_with("/v1/")
        || path == "/version"
        || path == "/authorization/token"
    {
        TAGS[3].0
    } else if path.starts_with("/tenants/") {
        TAGS[4].0
    } else if path.starts_with("/admin/") {
        TAGS[5].0
    } else {
        TAGS[6].0
    }
}

/// Tags in document order, with their descriptions.
pub(crate) const TAGS: [(&str, &str); 7] = [
    ("Account settings", "The account settings API (v2): the account's five settings sections, their history, export and import, the audit log and usage, under `/v2/accounts/`. snake_case fields; errors are `{error, message, details}`."),
    ("Team", "The team API: members, invitations, bulk changes, ownership and activity, under `/v2/accounts/team/` and `/v2/invitations/`. camelCase fields; errors as in the account settings API."),
    ("User and organization", "The user and organization API: profile, sign-in, sessions, MFA, API keys, preferences, organization settings, the IP allowlist and notifications, under `/api/`. Bodies are wrapped in `{\"data\": ...}`; errors are `{\"error\": {code, message, details}}`."),
    ("Settings catalog", "The settings catalog API: the account's named settings (notification settings, security preferences) under `/accounts/{account_name}/settings/`. camelCase fields; errors are `[{errorCode, errorMessage}]`, a 401 one such object."),
    ("Tenant settings", "The tenant settings API: security, feature and branding settings of a tenant under `/tenants/{id}/settings`, changed with a JSON merge patch. camelCase fields; errors are `application/problem+json`."),
    ("Operator", "The operator API: accounts and their tiers, with the operator key (`/admin/`). Errors as in the account settings API."),
    ("Service", "Health, readiness, metrics, this document and its reference page."),
];
