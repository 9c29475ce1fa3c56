//! The OpenAPI rows of the settings catalog API (the token grant, the account list, the version and `/accounts/{account_name}/settings/...`; openapi/operations.rs adds each row's `/v1` twin), in document order:
//! openapi/operations.rs assembles every API's rows into the one table the document, the route
//! test and the role table are built from. A row sits with the API document it is tagged with,
//! which is not always the folder of its handler (decision 0042).

use crate::openapi::{op, Operation};

/// Every operation of the settings catalog API.
pub(crate) fn operations() -> Vec<Operation> {
    use crate::openapi::Access::{Member, Public};
    vec![
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
    ]
}
