//! The team API (`/v2/accounts/team/...`, `/v2/invitations/...`, camelCase): members,
//! invitations, bulk operations, ownership and activity.

use serde_json::{json, Map, Value};

use super::{
    array_of, boolean, closed, email, enumeration, id, integer, nullable_string,
    nullable_timestamp, object, put, reference, string, timestamp,
};

const ROLES: [&str; 4] = ["owner", "admin", "developer", "viewer"];
const INVITABLE_ROLES: [&str; 3] = ["admin", "developer", "viewer"];
const PERMISSIONS: [&str; 5] = ["read", "write", "execute", "manage_team", "manage_billing"];

fn permissions() -> Value {
    array_of(enumeration(&PERMISSIONS))
}

fn member_fields() -> Value {
    json!({
        "id": id("usr"), "email": string(), "name": nullable_string(),
        "username": { "type": "null", "description": "Kept by the host product; always null here" },
        "avatar": { "type": "null", "description": "Kept by the host product; always null here" },
        "role": enumeration(&ROLES), "permissions": permissions(),
        "status": enumeration(&["active", "suspended"]), "joinedAt": timestamp(),
        "lastActive": nullable_timestamp(), "invitedBy": nullable_string(),
        "department": nullable_string(), "title": nullable_string(),
    })
}

const MEMBER_REQUIRED: [&str; 13] = [
    "id",
    "email",
    "name",
    "username",
    "avatar",
    "role",
    "permissions",
    "status",
    "joinedAt",
    "lastActive",
    "invitedBy",
    "department",
    "title",
];

pub(super) fn components(s: &mut Map<String, Value>) {
    put(s, "Member", object(member_fields(), &MEMBER_REQUIRED));
    put(
        s,
        "PendingMember",
        object(
            json!({
                "id": id("inv"), "email": string(), "name": { "type": "null" }, "username": { "type": "null" },
                "avatar": { "type": "null" }, "role": enumeration(&INVITABLE_ROLES), "permissions": permissions(),
                "status": enumeration(&["pending"]), "invitedAt": timestamp(), "invitedBy": id("usr"),
                "invitationExpires": timestamp(),
                "invitationStatus": enumeration(&["sent", "resent", "expired"]),
                "department": nullable_string(), "title": nullable_string(),
            }),
            &[
                "id",
                "email",
                "role",
                "permissions",
                "status",
                "invitedAt",
                "invitedBy",
                "invitationExpires",
                "invitationStatus",
            ],
        ),
    );
    put(
        s,
        "MemberList",
        object(
            json!({
                "members": array_of(json!({ "anyOf": [reference("Member"), reference("PendingMember")] })),
                "total": integer(),
                "roles": object(json!({ "owner": integer(), "admin": integer(), "developer": integer(), "viewer": integer(), "pending": integer() }), &["owner", "admin", "developer", "viewer", "pending"]),
                "nextCursor": { "type": "string", "description": "Present when more members follow" },
            }),
            &["members", "total", "roles"],
        ),
    );
    let mut detail = member_fields();
    detail["activity"] = object(
        json!({ "endpointsCreated": integer(), "clustersManaged": integer(), "totalExecutions": integer(), "lastLogin": nullable_timestamp() }),
        &[
            "endpointsCreated",
            "clustersManaged",
            "totalExecutions",
            "lastLogin",
        ],
    );
    detail["resources"] = object(
        json!({ "ownedEndpoints": integer(), "ownedClusters": integer(), "sharedEndpoints": integer() }),
        &["ownedEndpoints", "ownedClusters", "sharedEndpoints"],
    );
    let mut detail_required = MEMBER_REQUIRED.to_vec();
    detail_required.extend(["activity", "resources"]);
    put(
        s,
        "MemberDetail",
        object(
            json!({ "member": object(detail, &detail_required) }),
            &["member"],
        ),
    );
    // The output-only fields of a read are accepted back as read (a client may PUT what it
    // got), and refused with 422 when they differ from what a read shows (decision 0048);
    // those that move by themselves are ignored.
    let mut update = member_fields();
    for writable in ["role", "permissions", "department", "title"] {
        update[writable]["description"] = json!("Writable");
    }
    for read_only in ["id", "email", "name", "joinedAt", "invitedBy"] {
        update[read_only]["description"] =
            json!("Read-only: accepted when equal to what a read shows, otherwise 422 naming it");
    }
    update["lastActive"]["description"] = json!("Output-only; ignored");
    update["role"] = enumeration(&INVITABLE_ROLES);
    update["permissions"] = json!({ "type": ["array", "null"], "items": enumeration(&PERMISSIONS), "description": "null: the role's defaults" });
    update["activity"] = json!({ "type": "object", "description": "Output-only; ignored", "additionalProperties": true });
    update["resources"] = json!({ "type": "object", "description": "Output-only; ignored", "additionalProperties": true });
    put(s, "MemberUpdate", closed(update, &[]));
    put(
        s,
        "MemberRemoved",
        object(
            json!({ "id": id("usr"), "status": enumeration(&["removed"]), "removedAt": timestamp(), "message": string() }),
            &["id", "status", "removedAt", "message"],
        ),
    );
    put(
        s,
        "InvitationSent",
        object(
            json!({ "invitation": object(json!({
                "id": id("inv"), "email": string(), "role": enumeration(&INVITABLE_ROLES), "status": enumeration(&["sent"]),
                "expiresAt": timestamp(), "inviteUrl": { "type": "string", "format": "uri" },
                "department": nullable_string(), "title": nullable_string(),
            }), &["id", "email", "role", "status", "expiresAt", "inviteUrl", "department", "title"]), "message": string() }),
            &["invitation", "message"],
        ),
    );
    put(
        s,
        "InvitationResent",
        object(
            json!({ "invitation": object(json!({
                "id": id("inv"), "email": string(), "status": enumeration(&["resent"]),
                "expiresAt": timestamp(), "resentAt": timestamp(), "inviteUrl": { "type": "string", "format": "uri" },
            }), &["id", "email", "status", "expiresAt", "resentAt", "inviteUrl"]), "message": string() }),
            &["invitation", "message"],
        ),
    );
    put(
        s,
        "InvitationCancelled",
        object(
            json!({ "invitation": object(json!({
                "id": id("inv"), "status": enumeration(&["cancelled"]), "cancelledAt": timestamp(),
            }), &["id", "status", "cancelledAt"]), "message": string() }),
            &["invitation", "message"],
        ),
    );
    put(
        s,
        "InvitationView",
        object(
            json!({
                "id": id("inv"), "email": string(), "role": enumeration(&INVITABLE_ROLES),
                "permissions": permissions(),
                "status": enumeration(&["pending", "expired", "accepted", "cancelled"]),
                "invitedBy": id("usr"), "createdAt": timestamp(), "expiresAt": timestamp(),
                "resentAt": nullable_timestamp(), "department": nullable_string(),
                "title": nullable_string(), "message": nullable_string(),
            }),
            &[
                "id",
                "email",
                "role",
                "permissions",
                "status",
                "invitedBy",
                "createdAt",
                "expiresAt",
                "resentAt",
                "department",
                "title",
                "message",
            ],
        ),
    );
    put(
        s,
        "InvitationList",
        object(
            json!({ "invitations": array_of(reference("InvitationView")), "total": integer(), "nextCursor": { "type": "string", "description": "Present when more invitations follow" } }),
            &["invitations", "total"],
        ),
    );
    put(
        s,
        "InvitationRecord",
        object(
            json!({ "invitation": reference("InvitationView") }),
            &["invitation"],
        ),
    );
    put(
        s,
        "InvitationPreview",
        object(
            json!({ "invitation": object(json!({
                "id": id("inv"), "email": string(), "role": enumeration(&INVITABLE_ROLES),
                "account": object(json!({ "name": string() }), &["name"]),
                "department": nullable_string(), "title": nullable_string(), "message": nullable_string(),
                "status": enumeration(&["pending", "expired", "accepted", "cancelled"]), "expiresAt": timestamp(),
            }), &["id", "email", "role", "account", "department", "title", "message", "status", "expiresAt"]) }),
            &["invitation"],
        ),
    );
    put(
        s,
        "OwnershipTransferRequest",
        closed(json!({ "userId": id("usr") }), &["userId"]),
    );
    let party = |role: &str| {
        object(
            json!({ "id": id("usr"), "role": enumeration(&[role]) }),
            &["id", "role"],
        )
    };
    put(
        s,
        "OwnershipTransfer",
        object(
            json!({ "previousOwner": party("admin"), "newOwner": party("owner"), "transferredAt": timestamp(), "message": string() }),
            &["previousOwner", "newOwner", "transferredAt", "message"],
        ),
    );
    put(
        s,
        "InvitationFlat",
        object(
            json!({
                "invitationId": id("inv"), "email": string(), "role": enumeration(&INVITABLE_ROLES), "status": enumeration(&["sent"]),
                "expiresAt": timestamp(), "inviteUrl": { "type": "string", "format": "uri" },
            }),
            &[
                "invitationId",
                "email",
                "role",
                "status",
                "expiresAt",
                "inviteUrl",
            ],
        ),
    );
    put(
        s,
        "InvitationRequest",
        closed(
            json!({
                "email": email(), "role": enumeration(&INVITABLE_ROLES), "message": string(),
                "department": string(), "title": string(), "permissions": permissions(),
                "expiresIn": enumeration(&["1d", "7d", "30d"]),
            }),
            &["email", "role"],
        ),
    );
    put(
        s,
        "InvitationAccept",
        closed(
            json!({ "password": { "type": "string", "description": "Needed when the invited address has no user yet" }, "name": string() }),
            &[],
        ),
    );
    let mut first_key = object(
        json!({
            "id": id("key"), "name": string(), "key": { "type": "string", "description": "The secret, shown this once" },
            "prefix": string(), "scopes": array_of(string()), "createdAt": timestamp(),
        }),
        &["id", "name", "key", "prefix", "scopes", "createdAt"],
    );
    first_key["type"] = json!(["object", "null"]);
    first_key["description"] = json!(
        "`null` when the account requires two-factor authentication and the member has not set it up: they sign in, set it up, then create keys"
    );
    put(
        s,
        "InvitationAccepted",
        object(
            json!({
                "accountId": id("acc"), "member": reference("Member"),
                "apiKey": first_key,
                "mfaEnrollmentRequired": { "type": "boolean", "description": "Whether the member must set up two-factor authentication before holding an API key (then `apiKey` is `null`)" },
                "message": string(),
            }),
            &[
                "accountId",
                "member",
                "apiKey",
                "mfaEnrollmentRequired",
                "message",
            ],
        ),
    );
    put(
        s,
        "BulkOperation",
        closed(
            json!({
                "operation": enumeration(&["update_role", "update_department", "suspend", "reactivate"]),
                "members": { "type": "array", "items": { "type": "string", "description": "A member id (`usr_…`); one that names no member is reported in the results, not refused" }, "minItems": 1 },
                "data": closed(json!({ "role": { "type": ["string", "null"], "description": "update_role: one of admin, developer, viewer (ignored by the other operations)" }, "department": nullable_string() }), &[]),
            }),
            &["operation", "members"],
        ),
    );
    put(
        s,
        "BulkResult",
        object(
            json!({
                "operation": enumeration(&["update_role", "update_department", "suspend", "reactivate"]),
                "summary": object(json!({ "total": integer(), "successful": integer(), "failed": integer() }), &["total", "successful", "failed"]),
                "results": array_of(object(json!({
                    "userId": string(), "status": enumeration(&["success", "failed"]), "updated": boolean(),
                    "error": object(json!({ "code": string(), "message": string() }), &["code", "message"]),
                }), &["userId", "status", "updated"])),
            }),
            &["operation", "summary", "results"],
        ),
    );
    put(
        s,
        "TeamActivity",
        object(
            json!({
                "period": enumeration(&["7d", "30d", "90d"]),
                "summary": object(json!({ "totalMembers": integer(), "activeMembers": integer(), "newMembers": integer(), "totalActivity": integer(), "collaborationScore": { "type": "number" } }), &["totalMembers", "activeMembers", "newMembers", "totalActivity", "collaborationScore"]),
                "memberActivity": array_of(object(json!({
                    "userId": id("usr"), "name": nullable_string(), "role": enumeration(&ROLES),
                    "activity": object(json!({ "logins": integer(), "endpointExecutions": integer(), "resourcesCreated": integer(), "collaborations": integer() }), &["logins", "endpointExecutions", "resourcesCreated", "collaborations"]),
                }), &["userId", "name", "role", "activity"])),
                "teamCollaboration": object(json!({ "sharedEndpoints": integer(), "crossTeamProjects": integer(), "knowledgeSharing": integer() }), &["sharedEndpoints", "crossTeamProjects", "knowledgeSharing"]),
                "trends": object(json!({ "activityGrowth": { "type": ["number", "null"] }, "memberEngagement": { "type": ["number", "null"] }, "retentionRate": { "type": ["number", "null"] } }), &["activityGrowth", "memberEngagement", "retentionRate"]),
            }),
            &[
                "period",
                "summary",
                "memberActivity",
                "teamCollaboration",
                "trends",
            ],
        ),
    );
    put(
        s,
        "ActivityEvents",
        closed(
            json!({ "events": { "type": "array", "minItems": 1, "items": closed(json!({
                "id": { "type": "string", "minLength": 1, "description": "Idempotency key of the event" },
                "userId": id("usr"), "type": string(),
                "count": { "type": "integer", "minimum": 1 }, "occurredAt": timestamp(),
            }), &["id", "userId", "type"]) } }),
            &["events"],
        ),
    );
    put(
        s,
        "ActivityEventsRecorded",
        object(
            json!({ "recorded": integer(), "duplicates": integer(), "results": array_of(object(json!({ "id": string(), "status": enumeration(&["recorded", "duplicate"]) }), &["id", "status"])) }),
            &["recorded", "duplicates", "results"],
        ),
    );
}
