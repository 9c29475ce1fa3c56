"""Drives the Python client generated from the OpenAPI document (openapi-python-client) through
the main flows against a running server, as an API consumer would. Run by
tests/e2e/openapi.rs with the generated package on PYTHONPATH and, in the environment:
TENANTRY_URL, TENANTRY_KEY (an owner's API key), TENANTRY_OPERATOR_KEY, TENANTRY_TENANT (the
account's tenant id). Every response must parse into the model its status documents; any
surprise raises, and the exit status is the verdict."""

import os
import uuid

from tenantry_client import AuthenticatedClient
from tenantry_client.api.account_settings import (
    get_account_settings,
    get_settings_section,
    update_settings_section,
)
from tenantry_client.api.operator import list_accounts
from tenantry_client.api.settings_catalog import get_setting
from tenantry_client.api.team import get_team_member, invite_team_member_wrapped, list_team_members
from tenantry_client.api.tenant_settings import get_tenant_settings, patch_tenant_settings
from tenantry_client.api.user_and_organization import create_api_key, get_api_key
from tenantry_client.models import (
    AccountList,
    AccountSettings,
    ApiError,
    ApiKeyCreated,
    ApiKeyRequest,
    ApiKeyRequestScopesItem,
    CatalogErrorItem,
    CatalogSettingName,
    InvitationRequest,
    InvitationRequestRole,
    InvitationSent,
    Member,
    MemberList,
    PreferencesSection,
    PreferencesSectionTheme,
    PreferencesSectionView,
    Problem,
    SectionName,
    TenantSettings,
    TenantSettingsPatch,
    TenantSettingsPatchSecurityType0,
    V2Error,
)

URL = os.environ["TENANTRY_URL"]
client = AuthenticatedClient(base_url=URL, token=os.environ["TENANTRY_KEY"], raise_on_unexpected_status=True)
operator = AuthenticatedClient(
    base_url=URL, token=os.environ["TENANTRY_OPERATOR_KEY"], raise_on_unexpected_status=True
)
tenant = uuid.UUID(os.environ["TENANTRY_TENANT"])


def expect(response, status, model):
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, model), (type(response.parsed), response.content)
    return response.parsed


# Settings: the whole read, then a conditional write of one section.
settings = expect(get_account_settings.sync_detailed(client=client), 200, AccountSettings)
assert isinstance(settings.preferences, PreferencesSectionView), settings.preferences
read = get_settings_section.sync_detailed(SectionName.PREFERENCES, client=client)
section = expect(read, 200, PreferencesSectionView)
etag = read.headers["etag"]
theme = (
    PreferencesSectionTheme.DARK
    if str(section.theme) != "dark"
    else PreferencesSectionTheme.LIGHT
)
written = update_settings_section.sync_detailed(
    SectionName.PREFERENCES, client=client, body=PreferencesSection(theme=theme), if_match=etag
)
written_view = expect(written, 200, PreferencesSectionView)
assert str(written_view.theme) == str(theme), written_view.theme
# The tag just replaced is stale now: the same write is refused, in the API's error model.
stale = update_settings_section.sync_detailed(
    SectionName.PREFERENCES, client=client, body=PreferencesSection(theme=theme), if_match=etag
)
assert expect(stale, 412, V2Error).error == "VERSION_CONFLICT"

# Team: list, invite.
members = expect(list_team_members.sync_detailed(client=client), 200, MemberList)
assert any(isinstance(m, Member) and str(m.role) == "owner" for m in members.members), members
invited = expect(
    invite_team_member_wrapped.sync_detailed(
        client=client,
        body=InvitationRequest(email="generated-client@example.com", role=InvitationRequestRole.DEVELOPER),
    ),
    201,
    InvitationSent,
)
assert invited.invitation.email == "generated-client@example.com"

# API key: created with its secret, which works as a credential.
created = expect(
    create_api_key.sync_detailed(client=client, body=ApiKeyRequest(name="generated client", scopes=[ApiKeyRequestScopesItem.SETTINGSREAD])),
    201,
    ApiKeyCreated,
)
assert created.data.secret.startswith("tnt_live_"), created.data
scoped = AuthenticatedClient(base_url=URL, token=created.data.secret, raise_on_unexpected_status=True)
expect(get_settings_section.sync_detailed(SectionName.PREFERENCES, client=scoped), 200, PreferencesSectionView)

# Tenant settings: a merge PATCH, read back.
patched = expect(
    patch_tenant_settings.sync_detailed(
        tenant,
        client=client,
        body=TenantSettingsPatch(security=TenantSettingsPatchSecurityType0(max_concurrent_sessions=7)),
    ),
    200,
    TenantSettings,
)
assert patched.security.max_concurrent_sessions == 7
again = expect(get_tenant_settings.sync_detailed(tenant, client=client), 200, TenantSettings)
assert again.security.max_concurrent_sessions == 7

# Operator API.
accounts = expect(list_accounts.sync_detailed(client=operator), 200, AccountList)
assert any(a.tenant_id == tenant for a in accounts.accounts), accounts

# An error of each API, parsed as that API's error model.
missing_member = get_team_member.sync_detailed("usr_" + "0" * 26, client=client)
assert expect(missing_member, 404, V2Error).error == "MEMBER_NOT_FOUND"
missing_key = get_api_key.sync_detailed("key_" + "0" * 26, client=client)
assert expect(missing_key, 404, ApiError).error.code == "NOT_FOUND"
missing_setting = get_setting.sync_detailed("default", CatalogSettingName.PUSH_NOTIFICATIONS, client=client)
assert missing_setting.status_code == 404, missing_setting.content
assert isinstance(missing_setting.parsed, list) and isinstance(missing_setting.parsed[0], CatalogErrorItem)
assert missing_setting.parsed[0].error_code == 40401
invalid = patch_tenant_settings.sync_detailed(
    tenant,
    client=client,
    body=TenantSettingsPatch(security=TenantSettingsPatchSecurityType0(password_expiry_days=5000)),
)
problem = expect(invalid, 400, Problem)
assert problem.code == "VALIDATION_ERROR" and problem.errors[0].field == "security.passwordExpiryDays"
unauthorized = get_setting.sync_detailed(
    "default",
    CatalogSettingName.SECURITY_PREFERENCES,
    client=AuthenticatedClient(base_url=URL, token="tnt_live_nope", raise_on_unexpected_status=True),
)
assert expect(unauthorized, 401, CatalogErrorItem).error_code == 60001

print("generated Python client: settings, conditional write, team, API key, tenant settings, operator and four error models OK")
