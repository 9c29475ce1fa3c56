//! `/console/team/bulk`: one action applied to the members selected on the team page
//! (`team.rs`), member by member, with a report of what happened to each.
//!
//! Suspend, reactivate and change role are the team API's bulk call (`TeamService::bulk`: who
//! may run it and which role may be granted are checked once, up front, then each member on
//! their own); the API has no bulk removal, so removal is `TeamService::remove` per member.
//! One refusal never undoes or blocks the others.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use tenantry_http::AppState;
use tenantry_kernel::Role;
use tenantry_team::{BulkOperation, TeamError, MAX_BULK_MEMBERS};

use crate::form::{too_long, ID_MAX};
use crate::team::{draw, explain, refused_visitor, ListQuery, Outcome, ADMITS};
use crate::visitor::visitor;
use crate::ConsoleConfig;

/// The bulk form, read from its pairs: `members` repeats (one per ticked box); every other
/// field counts once.
struct BulkForm {
    csrf: String,
    action: String,
    role: String,
    members: Vec<String>,
}

fn parse_bulk(pairs: Vec<(String, String)>) -> Result<BulkForm, &'static str> {
    let (mut csrf, mut action, mut role) = (None, None, None);
    let mut members: Vec<String> = Vec::new();
    let twice = "A field was sent twice. Nothing was changed.";
    for (field, value) in pairs {
        let slot = match field.as_str() {
            "csrf" => &mut csrf,
            "action" => &mut action,
            "role" => &mut role,
            "members" => {
                if members.contains(&value) {
                    return Err(twice);
                }
                if members.len() >= MAX_BULK_MEMBERS {
                    return Err("More members were selected than one action takes (100). \
                                Nothing was changed.");
                }
                members.push(value);
                continue;
            }
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(twice);
        }
    }
    Ok(BulkForm {
        csrf: csrf.unwrap_or_default(),
        action: action.unwrap_or_default(),
        role: role.unwrap_or_default(),
        members,
    })
}

/// What happened to one selected member, in the visitor's words.
fn bulk_line(result: &Result<bool, TeamError>, done: &str, unchanged: &str) -> (bool, String) {
    match result {
        Ok(true) => (true, done.to_owned()),
        Ok(false) => (true, unchanged.to_owned()),
        Err(e) => (
            false,
            match explain(e.clone()) {
                Ok((_, message)) => format!("refused: {message}"),
                Err(_) => "not done: the service could not finish it; try again.".to_owned(),
            },
        ),
    }
}

pub(crate) async fn bulk(
    req: HttpRequest,
    state: web::Data<AppState>,
    config: web::Data<ConsoleConfig>,
    web::Form(pairs): web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let v = match visitor(&req, &state, &config, ADMITS).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let form = match parse_bulk(pairs) {
        Ok(f) => f,
        Err(message) => return crate::refusal::bad_form(message),
    };
    if !crate::csrf::session_token_matches(&v.token, &form.csrf) {
        return crate::refusal::forged_form();
    }
    if let Some(res) = refused_visitor(&v) {
        return res;
    }
    let mut checks = vec![
        ("Action", form.action.as_str(), ID_MAX),
        ("Role", form.role.as_str(), ID_MAX),
    ];
    checks.extend(
        form.members
            .iter()
            .map(|m| ("A member", m.as_str(), ID_MAX)),
    );
    if let Some(res) = too_long(&checks) {
        return res;
    }
    if form.members.is_empty() {
        let o = Outcome::failed(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Select at least one member. Nothing was changed.",
        );
        return draw(&state, &v, &ListQuery::default(), o).await;
    }
    let operation = match form.action.as_str() {
        "suspend" => Some(BulkOperation::Suspend),
        "reactivate" => Some(BulkOperation::Reactivate),
        "change_role" => match form.role.parse::<Role>() {
            Ok(role) => Some(BulkOperation::UpdateRole(role)),
            Err(_) => {
                let o = Outcome::failed(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Role: choose one of the listed roles. Nothing was changed.",
                );
                return draw(&state, &v, &ListQuery::default(), o).await;
            }
        },
        "remove" => None,
        _ => {
            return crate::refusal::bad_form(
                "Choose one of the listed actions. Nothing was changed.",
            )
        }
    };
    let (done, unchanged) = match &operation {
        Some(BulkOperation::Suspend) => ("suspended", "already suspended"),
        Some(BulkOperation::Reactivate) => ("reactivated", "already active"),
        Some(_) => ("role changed", "already held that role"),
        None => ("removed", "removed"),
    };
    let team = state.team.clone();
    let actor = v.actor.clone();
    let members = form.members;
    let outcome = web::block(move || {
        // Addresses first, so the report names people rather than ids (a removed member has
        // none afterwards); an id that names nobody here stays as sent.
        let names: Vec<String> = members
            .iter()
            .map(|raw| {
                raw.parse()
                    .ok()
                    .and_then(|user| team.get(&actor, user).ok())
                    .map_or_else(|| raw.clone(), |m| m.email)
            })
            .collect();
        let results: Vec<Result<bool, TeamError>> = match operation {
            Some(op) => team
                .bulk(&actor, &op, &members)?
                .into_iter()
                .map(|o| o.result)
                .collect(),
            // Removal has no bulk call in the API: the same `remove`, member by member, each
            // on its own (one refusal leaves the others done).
            None => members
                .iter()
                .map(|raw| {
                    let user = raw.parse().map_err(|_| TeamError::MemberNotFound)?;
                    team.remove(&actor, user).map(|_| true)
                })
                .collect(),
        };
        Ok::<_, TeamError>(names.into_iter().zip(results).collect::<Vec<_>>())
    })
    .await;
    let report = match outcome {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            return match explain(e) {
                Ok((status, message)) => {
                    draw(
                        &state,
                        &v,
                        &ListQuery::default(),
                        Outcome::failed(status, &message),
                    )
                    .await
                }
                Err(res) => *res,
            }
        }
        Err(e) => return crate::refusal::internal(&e),
    };
    let lines: Vec<(String, bool, String)> = report
        .iter()
        .map(|(name, result)| {
            let (ok, text) = bulk_line(result, done, unchanged);
            (name.clone(), ok, text)
        })
        .collect();
    let refused = lines.iter().filter(|l| !l.1).count();
    let summary = format!(
        "{} of {} selected members done; {refused} refused.",
        lines.len() - refused,
        lines.len()
    );
    let message = html! {
        div class=(if refused == 0 { "notice" } else { "error" }) role=(if refused == 0 { "status" } else { "alert" }) {
            p { (summary) }
            ul {
                @for (name, _, text) in &lines { li { (name) ": " (text) } }
            }
        }
    };
    let o = Outcome::with_message(message);
    draw(&state, &v, &ListQuery::default(), o).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn members_repeat_but_other_fields_count_once() {
        let form = parse_bulk(pairs(&[
            ("csrf", "t"),
            ("action", "suspend"),
            ("members", "a"),
            ("members", "b"),
        ]))
        .expect("a form");
        assert_eq!(form.members, ["a", "b"]);
        assert!(parse_bulk(pairs(&[("action", "a"), ("action", "b")])).is_err());
        assert!(parse_bulk(pairs(&[("members", "a"), ("members", "a")])).is_err());
        let many: Vec<(String, String)> = (0..=MAX_BULK_MEMBERS)
            .map(|i| ("members".to_owned(), i.to_string()))
            .collect();
        assert!(parse_bulk(many).is_err());
    }
}
