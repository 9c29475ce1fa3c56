#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod account_name;
mod actor;
mod clock;
mod closed_set;
mod country;
mod display_name;
mod email;
mod epoch_cache;
mod error;
mod https_url;
mod id;
mod page;
mod permission;
mod random;
mod role;
mod timezone;
mod write_epochs;

pub use account_name::AccountName;
pub use actor::{
    Actor, Credential, ExternalSubject, OperatorCaller, OperatorCredential, REAUTH_WINDOW_MINUTES,
};
pub use clock::{Clock, FixedClock, SystemClock};
pub use country::Country;
pub use display_name::{DisplayName, DisplayNameError};
pub use email::Email;
pub use epoch_cache::EpochCache;
pub use error::{KernelError, PortError};
pub use https_url::HttpsUrl;
pub use id::{
    AccountId, ApiKeyId, AuditId, ChannelId, DeliveryId, EventId, InvitationId, IpEntryId,
    MfaEnrollmentId, OperatorKeyId, PortalLinkId, RefreshTokenId, RuleId, SessionId, UserId,
};
pub use page::{Cursor, Page, PageRequest, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
pub use permission::{default_permissions, effective_permissions, Permission};
pub use random::{OsRandom, RandomSource};
pub use role::Role;
pub use timezone::Timezone;
pub use write_epochs::{
    Epoch, WriteEpochs, CROSS_PROCESS_BOUND, EPOCH_SHARDS, FEED_MAX_LIFETIME, FEED_POLL_INTERVAL,
};
