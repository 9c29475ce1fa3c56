//! The OpenAPI rows of the user and organization API (`/api/...`), in document order:
//! openapi/operations.rs assembles every API's rows into the one table the document, the route
//! test and the role table are built from. A row sits with the API document it is tagged with,
//! which is not always the folder of its handler (decision 0042).

use crate::openapi::{op, Operation, PAGE};

/// Every operation of the user and organization API.
pub(crate) fn operations() -> Vec<Operation> {
    use crate::openapi::Access::{Member, Public};
    vec![
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
    ]
}
