// Deliberately wrong uses of the generated types: `tsc --strict --noEmit` must refuse each
// marked line (tests/e2e/openapi.rs counts them), or the types check nothing.
import type { Req, Res } from "./api_types";

export const badTheme: Req<"updateSettingsSection"> = { theme: "purple" }; // WRONG: not a theme
export const badRole: Req<"inviteTeamMemberWrapped"> = { email: "a@example.com", role: "superuser" }; // WRONG: not a role
export const noName: Req<"createApiKey"> = { scopes: ["settings:read"] }; // WRONG: name is required
declare const created: Res<"createApiKey", 201>;
export const secretAsNumber: number = created.data.secret; // WRONG: the secret is a string
export const badPatch: Req<"patchTenantSettings"> = { security: { maxConcurrentSessions: "7" } }; // WRONG: an integer
export const neverAcceptsFields: Record<string, never> = { theme: "dark" }; // WRONG: what a bare object schema would give
