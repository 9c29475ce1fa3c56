//! The OpenAPI rows of the tenant settings API (`/tenants/{id}/settings`), in document order:
//! openapi/operations.rs assembles every API's rows into the one table the document, the route
//! test and the role table are built from. A row sits with the API document it is tagged with,
//! which is not always the folder of its handler (decision 0042).

use crate::openapi::{op, Operation};

/// Every operation of the tenant settings API.
pub(crate) fn operations() -> Vec<Operation> {
    use crate::openapi::Access::Member;
    vec![
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
    ]
}
