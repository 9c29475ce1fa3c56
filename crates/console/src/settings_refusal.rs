//! How the settings pages show a refused write or read: every `SettingsError` variant, one by
//! one, as messages beside the fields, above the form, or a page of its own. User errors never
//! become a 500; only infrastructure does.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use tenantry_settings::SettingsError;

use crate::settings::{label, Extras};

/// How a refused write is shown.
pub(crate) enum Refused {
    /// The form again, with these messages, at this status.
    Form(StatusCode, Extras),
    /// The section changed since the form was drawn.
    Conflict,
    /// A page of its own.
    Page(Box<HttpResponse>),
}

fn on_form(status: StatusCode, message: String) -> Refused {
    Refused::Form(
        status,
        Extras {
            form_errors: vec![message],
            ..Extras::default()
        },
    )
}

fn on_fields(status: StatusCode, fields: Vec<tenantry_settings::FieldError>) -> Refused {
    let mut extras = Extras {
        form_errors: vec!["Nothing was saved: correct the fields marked below.".into()],
        ..Extras::default()
    };
    for f in fields {
        extras
            .field_errors
            .insert(f.field.clone(), f.message.clone());
        // A rule about several fields names their parent: said above the form too.
        extras
            .form_errors
            .push(format!("{}: {}", label(&f.field), f.message));
    }
    Refused::Form(status, extras)
}

/// Every refusal of a section write, one by one (no catch-all: a new variant is a compile
/// error here, not a 500 for a user's mistake).
pub(crate) fn refused(e: SettingsError) -> Refused {
    let page = |res: HttpResponse| Refused::Page(Box::new(res));
    match e {
        SettingsError::Forbidden { required, .. }
        | SettingsError::ForbiddenAction { required, .. } => page(crate::refusal::error_page(
            StatusCode::FORBIDDEN,
            "Not available to your role",
            &format!("Changing these settings needs the {required} role. Nothing was changed."),
        )),
        SettingsError::UnknownFields(fields) => on_form(
            StatusCode::BAD_REQUEST,
            format!(
                "The form held fields these settings do not have ({}). Nothing was saved.",
                fields.join(", ")
            ),
        ),
        SettingsError::InvalidIpWhitelist(entries) => {
            let mut extras = Extras {
                form_errors: vec!["Nothing was saved: correct the fields marked below.".into()],
                ..Extras::default()
            };
            extras.field_errors.insert(
                "api_access.ip_whitelist".into(),
                format!(
                    "Not valid: {}. Use {}.",
                    entries.join(", "),
                    tenantry_settings::VALID_IP_FORMAT
                ),
            );
            Refused::Form(StatusCode::UNPROCESSABLE_ENTITY, extras)
        }
        SettingsError::Validation(fields) => on_fields(StatusCode::UNPROCESSABLE_ENTITY, fields),
        SettingsError::InvalidWebhookUrl(fields) => on_fields(StatusCode::BAD_REQUEST, fields),
        SettingsError::PaymentMethodRequired => {
            let mut extras = Extras {
                form_errors: vec![
                    "Nothing was saved: a valid payment method is required for auto-recharge."
                        .into(),
                ],
                ..Extras::default()
            };
            extras.field_errors.insert(
                "auto_recharge.enabled".into(),
                "Add a payment method first.".into(),
            );
            Refused::Form(StatusCode::PAYMENT_REQUIRED, extras)
        }
        SettingsError::VersionConflict { .. } | SettingsError::PreconditionFailed { .. } => {
            Refused::Conflict
        }
        SettingsError::BadPrecondition => page(crate::refusal::bad_form(
            "The form does not say which version of the settings it was drawn from. Nothing was \
             changed; reload the page and try again.",
        )),
        SettingsError::ReauthRequired => on_form(
            StatusCode::FORBIDDEN,
            "You signed in too long ago to relax re-authentication. Sign out, sign in again, then \
             try again. Nothing was saved."
                .into(),
        ),
        // The API's message (`WOULD_LOCK_OUT`), word for word.
        SettingsError::WouldLockOut { address } => {
            let mut extras = Extras {
                form_errors: vec![format!(
                    "This change would refuse your own address {address} (or every address); it is refused, and `confirm_lockout` does not override it. The operator can disable enforcement with `tenantry allowlist disable`"
                )],
                ..Extras::default()
            };
            extras.field_errors.insert(
                "api_access.ip_whitelist".into(),
                format!("This list does not cover your address {address}."),
            );
            Refused::Form(StatusCode::CONFLICT, extras)
        }
        SettingsError::Port(_) => page(crate::refusal::unavailable()),
        // Infrastructure, or failures of calls a section write does not make.
        e @ (SettingsError::NoDeliverers
        | SettingsError::Secret(_)
        | SettingsError::Kernel(_)
        | SettingsError::UnknownVersion(_)
        | SettingsError::EmailTaken
        | SettingsError::UnknownEntry
        | SettingsError::AllowlistEntryExists { .. }
        | SettingsError::UnknownTenant
        | SettingsError::DeliveryFailed { .. }
        | SettingsError::TelemetryTestFailed { .. }
        | SettingsError::UnknownTelemetryEvent
        | SettingsError::CatalogSettingMissing(_)
        | SettingsError::CatalogSettingExists(_)
        | SettingsError::CatalogOperationUnsupported { .. }) => page(crate::refusal::internal(&e)),
    }
}

/// A refusal of a read: the page that says so.
pub(crate) fn page_refusal(e: SettingsError) -> HttpResponse {
    match refused(e) {
        Refused::Page(res) => *res,
        Refused::Form(_, extras) => crate::refusal::error_page(
            StatusCode::BAD_REQUEST,
            "These settings could not be read",
            &extras.form_errors.join(" "),
        ),
        Refused::Conflict => crate::refusal::unavailable(),
    }
}
