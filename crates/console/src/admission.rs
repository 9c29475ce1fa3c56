//! The opening of a page (or posted form) for higher roles, as extractors: a handler that takes
//! [`PageOf<R>`] or [`PostOf<R, F>`] starts after every check passed, so their order is written
//! once. The order is visitor.rs's: the form is read (a malformed body is the form page's 400),
//! then the visitor (session, its restriction, the scopes of the page's twin in the API), then,
//! for a post, the form token (a forged post is refused before its fields are looked at), then
//! the page's least role ([`below`]). A refusal is the page those checks answer, unchanged.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tenantry_http::AppState;
use tenantry_kernel::Role;

use crate::session::SignedIn;
use crate::visitor::{below, poster, visitor, Admits};
use crate::ConsoleConfig;

/// The least role of a page, as a type: the extractors read it without a value to carry.
pub(crate) trait LeastRole {
    const ROLE: Role;
}

/// Pages for admins and the owner (the role of their twins in the API, `route_roles.rs`).
pub(crate) struct Admins;

impl LeastRole for Admins {
    const ROLE: Role = Role::Admin;
}

/// A posted form: where its form token is.
pub(crate) trait Posted {
    /// The posted form token; empty when the form has none (the token check refuses it).
    fn csrf(&self) -> &str;
}

/// A form whose fields are read by the handler, in order and repeats included: the first
/// `csrf` field is the token.
impl Posted for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter()
            .find(|(field, _)| field == "csrf")
            .map_or("", |(_, value)| value.as_str())
    }
}

/// A button's form: nothing but the token (what it acts on is in the path).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ButtonForm {
    csrf: String,
}

impl Posted for ButtonForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The visitor of a page for role `R` and above, admitted.
pub(crate) struct PageOf<R> {
    pub visitor: SignedIn,
    role: PhantomData<R>,
}

/// The visitor of a form for role `R` and above, admitted, and the form they posted.
pub(crate) struct PostOf<R, F> {
    pub visitor: SignedIn,
    pub form: F,
    role: PhantomData<R>,
}

/// The visitor of `req` if they are at least `role` (and the token matches `csrf`, for a post).
async fn admit(
    req: &HttpRequest,
    role: Role,
    csrf: Option<&str>,
) -> Result<SignedIn, HttpResponse> {
    let (Some(state), Some(config)) = (
        req.app_data::<web::Data<AppState>>(),
        req.app_data::<web::Data<ConsoleConfig>>(),
    ) else {
        // Both are registered with the console's routes (lib.rs); without them no page works.
        return Err(crate::refusal::internal(
            &"the console's state is not registered",
        ));
    };
    let visitor = match csrf {
        Some(csrf) => poster(req, state, config, Admits::Unrestricted, csrf).await?,
        None => visitor(req, state, config, Admits::Unrestricted).await?,
    };
    match below(&visitor, role) {
        Some(res) => Err(res),
        None => Ok(visitor),
    }
}

/// A refusal page as the extractor's error: actix answers it as it is.
fn refused(res: HttpResponse) -> actix_web::Error {
    InternalError::from_response("refused before the handler", res).into()
}

impl<R: LeastRole> FromRequest for PageOf<R> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let visitor = admit(&req, R::ROLE, None).await.map_err(refused)?;
            Ok(Self {
                visitor,
                role: PhantomData,
            })
        })
    }
}

impl<R: LeastRole, F: Posted + DeserializeOwned + 'static> FromRequest for PostOf<R, F> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let form = web::Form::<F>::from_request(&req, payload);
        Box::pin(async move {
            let web::Form(form) = form.await?;
            let visitor = admit(&req, R::ROLE, Some(form.csrf()))
                .await
                .map_err(refused)?;
            Ok(Self {
                visitor,
                form,
                role: PhantomData,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_field_by_field_form_posts_its_first_csrf_field_or_none() {
        assert_eq!(pairs(&[("name", "x"), ("csrf", "t1")]).csrf(), "t1");
        assert_eq!(pairs(&[("csrf", "t1"), ("csrf", "t2")]).csrf(), "t1");
        assert_eq!(pairs(&[("name", "csrf")]).csrf(), "");
        assert_eq!(pairs(&[]).csrf(), "");
    }

    #[test]
    fn a_button_form_without_a_token_reads_as_an_empty_one() {
        let form: ButtonForm =
            serde_json::from_value(serde_json::json!({ "other": "1" })).expect("form");
        assert_eq!(form.csrf(), "");
        let form: ButtonForm =
            serde_json::from_value(serde_json::json!({ "csrf": "abc" })).expect("form");
        assert_eq!(form.csrf(), "abc");
    }
}
