//! The OpenAPI rows of the operator API (`/admin/...`), in document order:
//! openapi/operations.rs assembles every API's rows into the one table the document, the route
//! test and the role table are built from. A row sits with the API document it is tagged with,
//! which is not always the folder of its handler (decision 0042).

use crate::openapi::{op, Operation, PAGE};

/// Every operation of the operator API.
pub(crate) fn operations() -> Vec<Operation> {
    use crate::openapi::Access::Operator;
    vec![
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
    ]
}
