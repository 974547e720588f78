//! The UMAPI endpoints: paged users and groups queries, the single-user lookup and the
//! action endpoint.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::{Value, json};
use umapi_core::identity::UserKey;
use umapi_core::protocol::{self, is_email_shaped};
use umapi_core::wire;

use crate::action::{self, ActionLimits};
use crate::app::{SharedState, json_response, lock};
use crate::lookup::UserIndex;
use crate::state::{OrgState, UserRecord, same};

fn query_map(raw: Option<String>) -> HashMap<String, String> {
    raw.map(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&q)
            .unwrap_or_default()
            .into_iter()
            .collect()
    })
    .unwrap_or_default()
}

/// Reads a boolean query flag the way clients send it (`true`, `True`, `1`, …).
fn flag(q: &HashMap<String, String>, name: &str, default: bool) -> bool {
    match q.get(name).map(|v| v.to_ascii_lowercase()) {
        Some(v) if v == "true" || v == "1" || v == "yes" => true,
        Some(v) if v == "false" || v == "0" || v == "no" => false,
        _ => default,
    }
}

fn bad_org() -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"result": "error.organization.invalid_id", "message": "Bad organization Id"}),
    )
}

fn bad_page(page: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"result": "error.command.malformed", "message": format!("page `{page}` is not a number")}),
    )
}

/// One page of `items`: past the end returns the last page again, as UMAPI does for users
/// (getUsersWithPage.md: "Page numbers greater than what exist will return the last page of
/// users.").
struct PageOf {
    items: std::ops::Range<usize>,
    page: usize,
    pages: usize,
    last: bool,
}

fn page_of(len: usize, requested: usize, size: usize) -> PageOf {
    let size = size.max(1);
    let pages = len.div_ceil(size).max(1);
    let page = requested.min(pages - 1);
    let start = page * size;
    let end = (start + size).min(len);
    PageOf {
        items: start.min(end)..end,
        page,
        pages,
        last: page + 1 == pages,
    }
}

fn paged_response<T: Serialize>(
    body: &T,
    total: usize,
    page: usize,
    pages: usize,
    in_page: usize,
) -> Response {
    let mut resp = match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut r = Response::new(axum::body::Body::from(bytes));
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"message": e.to_string()}),
            );
        }
    };
    let h = resp.headers_mut();
    h.insert("x-total-count", HeaderValue::from(total));
    h.insert("x-page-count", HeaderValue::from(pages));
    h.insert("x-current-page", HeaderValue::from(page));
    h.insert("x-page-size", HeaderValue::from(in_page));
    resp
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsersPageBody<'a> {
    result: &'static str,
    last_page: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<&'a str>,
    users: Vec<wire::UserRef<'a>>,
}

fn list_users(
    state: &SharedState,
    org_id: &str,
    page: &str,
    group: Option<&str>,
    raw: Option<String>,
) -> Response {
    if org_id != state.config().org_id {
        return bad_org();
    }
    let Ok(page) = page.parse::<usize>() else {
        return bad_page(page);
    };
    let q = query_map(raw);
    let direct_only = flag(&q, "directOnly", true);
    let exclude_groups = flag(&q, "excludeGroups", false);
    let domain = q.get("domain").map(String::as_str);
    let identity_type = q.get("type").map(String::as_str);

    let org = lock(&state.0.org);
    // Inherited profiles matter only to listings that include them.
    let inherited = if direct_only {
        HashMap::new()
    } else {
        org.inherited_profiles()
    };
    let group_name = match group {
        None => None,
        Some(g) => match org.find_group(g) {
            Some(found) => Some(org.group_name(found).to_string()),
            None => {
                return json_response(
                    StatusCode::NOT_FOUND,
                    &json!({"result": "error.group.not_found", "message": format!("Group {g} was not found")}),
                );
            }
        },
    };
    let unfiltered = domain.is_none() && identity_type.is_none() && group_name.is_none();
    // Only filters that need it pay for building the user's group list. An unfiltered
    // listing (the one that reads a whole org) pages the users in place, so a page costs
    // its own size rather than the org's.
    let selected: Option<Vec<&UserRecord>> = (!unfiltered).then(|| {
        org.users
            .iter()
            .filter(|u| domain.is_none_or(|d| same(&u.domain, d)))
            .filter(|u| {
                identity_type.is_none_or(|t| u.identity_type.as_str().eq_ignore_ascii_case(t))
            })
            .filter(|u| match &group_name {
                None => true,
                Some(g) => OrgState::is_member(u, g, direct_only, &inherited),
            })
            .collect()
    });
    let total = selected.as_ref().map_or(org.users.len(), Vec::len);
    let p = page_of(total, page, state.config().user_page_size);
    let page_users: Vec<&UserRecord> = match &selected {
        None => org.users[p.items.clone()].iter().collect(),
        Some(selected) => selected[p.items.clone()].to_vec(),
    };
    let users = page_users
        .into_iter()
        .map(|u| {
            let groups =
                (!exclude_groups).then(|| OrgState::user_groups_of(u, direct_only, &inherited));
            OrgState::wire_user_ref(u, groups)
        })
        .collect::<Vec<_>>();
    let in_page = users.len();
    let body = UsersPageBody {
        result: "success",
        last_page: p.last,
        group_name: group_name.as_deref(),
        users,
    };
    paged_response(&body, total, p.page, p.pages, in_page)
}

/// `GET /users/{orgId}/{page}`.
pub(crate) async fn users(
    State(state): State<SharedState>,
    Path((org, page)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_users(&state, &org, &page, None, raw)
}

/// `GET /users/{orgId}/{page}/{groupName}`.
pub(crate) async fn users_in_group(
    State(state): State<SharedState>,
    Path((org, page, group)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    list_users(&state, &org, &page, Some(&group), raw)
}

/// `GET /organizations/{orgId}/users/{user}`.
pub(crate) async fn one_user(
    State(state): State<SharedState>,
    Path((org_id, user)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    if org_id != state.config().org_id {
        return bad_org();
    }
    let q = query_map(raw);
    let domain = q.get("domain").map(String::as_str);
    let org = lock(&state.0.org);
    let mut index = lock(&state.0.user_index);
    let index = index.get_or_insert_with(|| UserIndex::build(&org.users));
    // getUser.md: "For AdobeID, Enterprise and email-federated users this should be the full
    // email address including domain. For username-Federated users, this should be the
    // username." The optional domain is `AdobeID` for Adobe IDs.
    let found = if is_email_shaped(&user) {
        let adobe_id = domain.is_some_and(|d| d.eq_ignore_ascii_case("AdobeID"));
        index.find(&org.users, &UserKey::email(&user), adobe_id)
    } else {
        match domain {
            Some(d) => index.find(&org.users, &UserKey::username(&user, d), false),
            // Without a domain the username alone must name the user.
            None => index
                .with_username(&user)
                .filter(|&i| {
                    i < org.users.len()
                        && !is_email_shaped(&org.users[i].username)
                        && same(&org.users[i].username, &user)
                })
                .min(),
        }
    };
    match found {
        Some(i) => {
            let inherited = org.inherited_profiles();
            let u = &org.users[i];
            let body = wire::UserResponse {
                result: "success".into(),
                user: OrgState::wire_user(
                    u,
                    Some(OrgState::user_groups_of(u, true, &inherited).into_owned()),
                ),
            };
            json_response(
                StatusCode::OK,
                &serde_json::to_value(body).unwrap_or(Value::Null),
            )
        }
        None => json_response(
            StatusCode::NOT_FOUND,
            &json!({"result": "error.user.not_found", "message": format!("User {user} was not found")}),
        ),
    }
}

/// `GET /groups/{orgId}/{page}`.
pub(crate) async fn groups(
    State(state): State<SharedState>,
    Path((org_id, page)): Path<(String, String)>,
) -> Response {
    if org_id != state.config().org_id {
        return bad_org();
    }
    let Ok(page) = page.parse::<usize>() else {
        return bad_page(&page);
    };
    let all = lock(&state.0.org).wire_groups();
    let size = state.config().group_page_size.max(1);
    let pages = all.len().div_ceil(size).max(1);
    if page >= pages {
        // group.md, "Response to request for an out-of-bounds page number" (under 200 OK):
        // {"lastPage": true, "result": "Not found"}
        return json_response(
            StatusCode::OK,
            &json!({"lastPage": true, "result": protocol::PAGE_NOT_FOUND_RESULT}),
        );
    }
    let p = page_of(all.len(), page, size);
    let in_page = p.items.len();
    let body = wire::GroupsPage {
        result: "success".into(),
        last_page: p.last,
        groups: all[p.items].to_vec(),
    };
    paged_response(&body, all.len(), p.page, p.pages, in_page)
}

/// `POST /action/{orgId}[?testOnly=true]`.
pub(crate) async fn action(
    State(state): State<SharedState>,
    Path(org_id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    if org_id != state.config().org_id {
        return bad_org();
    }
    let q = query_map(raw);
    let test_mode = flag(&q, "testOnly", false);
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"result": "error.command.malformed", "message": "the request body is not valid JSON"}),
        );
    };
    let config = state.config();
    let limits = ActionLimits {
        max_entries: config.max_entries,
        max_steps: config.max_steps,
        max_list_length: config.max_list_length,
        max_names_per_entry: config.max_names_per_entry,
    };
    let count = parsed.as_array().map_or(0, Vec::len);
    let mut order: Vec<usize> = (0..count).collect();
    if config.shuffle_entries {
        order.shuffle(&mut *lock(&state.0.rng));
    }
    let mut org = lock(&state.0.org);
    let mut index_guard = lock(&state.0.user_index);
    let index = index_guard.get_or_insert_with(|| UserIndex::build(&org.users));
    let outcome = match action::execute(&mut org, index, &parsed, limits, test_mode, &order) {
        Ok(o) => o,
        Err(rejected) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"result": rejected.code, "message": rejected.message}),
            );
        }
    };
    if outcome.changed
        && let Err(e) = state.persist_locked(&org)
    {
        tracing::warn!(error = %e, "sandbox state could not be persisted");
    }
    drop(index_guard);
    drop(org);
    {
        let mut observer = lock(&state.0.observer);
        let c = &mut observer.counters;
        c.action_requests += 1;
        c.action_entries += outcome.entries as u64;
        c.action_steps += outcome.steps as u64;
        c.action_errors += outcome.response.not_completed as u64;
        if test_mode {
            c.test_mode_requests += 1;
        }
    }
    json_response(
        StatusCode::OK,
        &serde_json::to_value(&outcome.response).unwrap_or(Value::Null),
    )
}

/// Any other path: 404 as UMAPI's gateway answers it.
pub(crate) async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"error_code": "404001", "message": "Resource not found"}),
    )
}
