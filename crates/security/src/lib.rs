#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod allowlist_enforcement;
mod api_key;
mod audit;
mod authenticator;
mod cidr;
mod data_keys;
mod error;
mod ip_allowlist;
mod key_activity;
mod key_management;
mod login_throttle;
mod mfa;
#[cfg(test)]
mod mfa_in_memory;
mod operator_key;
mod operator_keys;
mod password;
mod policy_quantity;
mod portal_link;
mod portal_link_service;
mod portal_minter;
mod ports;
mod profile;
mod provisioning;
mod retention;
mod scope;
mod secret;
mod secret_box;
mod sessions;
mod sign_in_ticket;
pub use sign_in_ticket::TICKET_SECONDS as SIGN_IN_TICKET_SECONDS;
mod token_grant;

pub use allowlist_enforcement::{
    AllowlistCache, AllowlistDeps, AllowlistEnforcement, Decision, POLICY_TTL_SECONDS,
};
pub use api_key::{ApiKeyEnv, ApiKeyToken, IssuedApiKey};
pub use audit::{
    ApiRequestRecord, AuditEntry, AuditFilter, AuditLogReader, AuditService, ChangeAudit,
};
pub use authenticator::Authenticator;
pub use cidr::Cidr;
pub use data_keys::{
    reseal_all, DataKeyRecord, DataKeyState, DataKeyStore, DataKeyUse, KeyStatus, Keyring,
    OtherKeyUse, ResealBatch, ResealCursor, ResealReport,
};
pub use error::{InvalidField, SecurityError};
pub use ip_allowlist::{AllowlistPolicy, IpMatcher};
pub use key_activity::{latest_per_key, KeyActivity, KeyUse, KEY_ACTIVITY_INTERVAL_SECONDS};
pub use key_management::{ApiKeyInfo, ApiKeyService, ApiKeyStore, KeyAudit, KeyPolicy};
pub use login_throttle::{LoginThrottle, MAX_SECOND_FACTOR_FAILURES};
pub use mfa::{
    base32, code_at, code_for, MfaEnrollment, MfaEnrollments, MfaRecord, MfaService, MfaStatus,
    MfaStore,
};
pub use operator_key::OperatorKey;
pub use operator_keys::{
    operator_key_id_of, IssuedOperatorKey, OperatorKeyAudit, OperatorKeyName, OperatorKeyRecord,
    OperatorKeyService, OperatorKeyStore, OPERATOR_KEY_TOKEN_PREFIX,
};
pub use password::{hash_password, keep_hash_memory_on_this_thread, verify_password, NewPassword};
pub use policy_quantity::{
    ApiKeyLimit, IdleTimeout, InactivityLock, PasswordExpiry, PolicyQuantity, RangeError,
    RetentionDays, SessionLifetime, SessionLimit, WriteRange,
};
pub use portal_link::{
    portal_cap, Minter, PortalIntent, PortalMember, ReturnOrigins, ReturnUrl, SessionCap,
};
pub use portal_link_service::{
    AccountReturnOrigins, MintedPortalLink, PortalAudit, PortalConfig, PortalDeps,
    PortalLinkRecord, PortalLinkService, PortalLinkStore, PortalTarget, RedeemedPortalLink,
};
pub use portal_minter::{PortalMinterDeps, PortalMinters};
pub use ports::{
    AccountStore, AccountSummary, AllowlistSource, AuditPurgeStore, AuditRetentionPolicy,
    CredentialStore, DenialAudit, IpDenial, KeyRecord, MemberStatus, NewAccount, ProfileChange,
    ProfilePreferences, ProfileRecord, ProfileStore, ShownPreferences,
};
pub use profile::{parse_locale, AvatarUrl, Profile, ProfileDeps, ProfileService};
pub use provisioning::{AccountProvisioning, ProvisionedAccount};
pub use retention::{AuditRetention, PURGE_BATCH};
pub use scope::{scopes_permit, Access, Area, Scope};
pub use secret::{
    EmailChangeToken, InvitationToken, PasswordResetToken, PortalLinkToken, SecretHash,
};
pub use secret_box::{
    DataKeyMaterial, Kek, KeySource, LoadedKeys, Sealed, SecretBox, SecretBoxError,
};
pub use sessions::{
    session_expiry, AccountChoice, IssuedSession, LoginCandidate, SessionPolicy,
    SessionPolicySource, SessionRecord, SessionService, SessionStore, SignInProof, SignInStep,
    SEEN_GRANULARITY_SECONDS,
};
pub use token_grant::{
    GrantedTokens, RefreshRecord, RefreshTokenStore, TokenGrantDeps, TokenGrantService,
};
