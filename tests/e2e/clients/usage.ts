// The main calls of the API as a TypeScript client types them; `tsc --strict --noEmit` must
// accept every line (tests/e2e/openapi.rs). A request body typed `Record<string, never>` (what a
// bare `{"type": "object"}` becomes) would refuse these literals and fail the compile.
import type { Headers, Req, Res } from "./api_types";

// Account settings: the whole read, then a conditional write of one section.
declare const settings: Res<"getAccountSettings", 200>;
export const theme: "light" | "dark" | "auto" | null | undefined = settings.preferences.theme;
export const timezone: string | null | undefined = settings.preferences.timezone;
export const write: Req<"updateSettingsSection"> = { theme: "dark", timezone: "Europe/London" };
export const precondition: Headers<"updateSettingsSection"> = { "If-Match": '"3"' };
declare const conflict: Res<"updateSettingsSection", 412>;
export const conflictCode: string = conflict.error;

// Team: list and invite.
declare const members: Res<"listTeamMembers", 200>;
export const firstEmail: string | undefined = members.members[0]?.email;
export const owners: number = members.roles.owner;
export const invite: Req<"inviteTeamMemberWrapped"> = {
  email: "new.member@example.com",
  role: "developer",
  department: "Platform",
};
declare const sent: Res<"inviteTeamMemberWrapped", 201>;
export const inviteUrl: string = sent.invitation.inviteUrl;

// API keys: the secret is promised by the create answer.
export const keyRequest: Req<"createApiKey"> = { name: "ci", scopes: ["settings:read"], expires_in_days: 30 };
declare const created: Res<"createApiKey", 201>;
export const secret: string = created.data.secret;

// Tenant settings: a merge patch (null resets), and its answer.
export const patch: Req<"patchTenantSettings"> = {
  security: { maxConcurrentSessions: 7 },
  branding: { logoUrl: null },
};
declare const tenant: Res<"patchTenantSettings", 200>;
export const sessions: number = tenant.security.maxConcurrentSessions;

// Operator: create an account.
export const account: Req<"createAccount"> = { name: "acme", owner_email: "owner@acme.example" };
declare const createdAccount: Res<"createAccount", 201>;
export const ownerKey: string = createdAccount.owner_api_key;

// An error of each API, in its own shape.
declare const v2Error: Res<"getTeamMember", 404>;
export const v2Code: string = v2Error.error;
declare const apiError: Res<"getApiKey", 404>;
export const apiCode: string = apiError.error.code;
declare const catalogError: Res<"getSetting", 404>;
export const catalogCode: number | undefined = catalogError[0]?.errorCode;
declare const catalogUnauthorized: Res<"getSetting", 401>;
export const grant: number = catalogUnauthorized.errorCode;
declare const problem: Res<"patchTenantSettings", 400>;
export const problemField: string | undefined = problem.errors[0]?.field;
