//! The OpenAPI rows of the team API (`/v2/accounts/team/...` and the invitation link `/v2/invitations/{token}`), in document order:
//! openapi/operations.rs assembles every API's rows into the one table the document, the route
//! test and the role table are built from. A row sits with the API document it is tagged with,
//! which is not always the folder of its handler (decision 0042).

use crate::openapi::{op, Operation};

/// Every operation of the team API.
pub(crate) fn operations() -> Vec<Operation> {
    use crate::openapi::Access::{Member, Public};
    vec![
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
    ]
}
