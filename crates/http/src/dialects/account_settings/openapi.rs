//! The OpenAPI rows of the account settings API (v2) (`/v2/accounts/...`: settings sections, history, export and import, the audit log, usage and portal links), in document order:
//! openapi/operations.rs assembles every API's rows into the one table the document, the route
//! test and the role table are built from. A row sits with the API document it is tagged with,
//! which is not always the folder of its handler (decision 0042).

use crate::openapi::{op, Operation, PAGE};

/// Every operation of the account settings API (v2).
pub(crate) fn operations() -> Vec<Operation> {
    use crate::openapi::Access::Member;
    vec![
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
    ]
}
