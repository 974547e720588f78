//! Read queries: users (in the org, in a group, by domain), one user, groups.
//!
//! Lists come as [`Paged`] streams that fetch page after page from page 0 until the
//! server says `lastPage`. Because a page past the end returns the last page again,
//! the stream also stops when the server reports a different page than asked for,
//! when the page count is reached, or when a page repeats the one before — so it
//! never loops forever on a server that forgets `lastPage`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::{Stream, TryStreamExt};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::connection::{Connection, RawResponse};
use crate::error::Error;
use crate::rate::EndpointClass;
use crate::wire::{Group, GroupsPage, User, UserResponse, UsersPage};

/// What the page headers said, as of the last page fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageStats {
    /// `X-Total-Count`: items in the whole list.
    pub total_count: Option<u64>,
    /// `X-Page-Count`: pages in the whole list.
    pub page_count: Option<u64>,
    /// `X-Current-Page`: the page the server says it returned.
    pub current_page: Option<u64>,
    /// `X-Page-Size`: items per page.
    pub page_size: Option<u64>,
    /// Pages fetched so far (every request that returned a page counts).
    pub pages_fetched: u64,
}

/// Which users to list. `UsersQuery::all()` lists every user of the org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsersQuery {
    group: Option<String>,
    domain: Option<String>,
    direct_only: Option<bool>,
    exclude_groups: bool,
}

impl UsersQuery {
    /// Every user of the org.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only the members of this user group, product profile or admin group.
    pub fn in_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Only users of this domain.
    pub fn in_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// With `true` (the server's default) a user's `groups` leave out product
    /// profiles inherited through user groups; with `false` they include them.
    pub fn direct_only(mut self, direct_only: bool) -> Self {
        self.direct_only = Some(direct_only);
        self
    }

    /// Leave the `groups` list out of each user (smaller pages; group queries only).
    pub fn exclude_groups(mut self, exclude: bool) -> Self {
        self.exclude_groups = exclude;
        self
    }
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send>>;
type Fetch<T> = Arc<dyn Fn(u64) -> PageFuture<T> + Send + Sync>;

struct Page<T> {
    items: Vec<T>,
    last_page: bool,
    stats: PageStats,
}

/// A paged list as a stream of items, fetched a page at a time as it is read.
///
/// The first error ends the stream after being yielded.
pub struct Paged<T> {
    fetch: Fetch<T>,
    next_page: u64,
    buffer: VecDeque<T>,
    /// Length, first and last item of the previous page: enough to recognise the
    /// repeat of it that a server sends past the end, without keeping the page.
    previous: Option<(usize, T, T)>,
    in_flight: Option<PageFuture<T>>,
    done: bool,
    stats: Arc<Mutex<PageStats>>,
}

impl<T> std::fmt::Debug for Paged<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paged")
            .field("next_page", &self.next_page)
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + PartialEq + Send + Unpin + 'static> Paged<T> {
    fn new(fetch: Fetch<T>) -> Self {
        Self {
            fetch,
            next_page: 0,
            buffer: VecDeque::new(),
            previous: None,
            in_flight: None,
            done: false,
            stats: Arc::default(),
        }
    }

    /// The page statistics as of the last page fetched.
    pub fn stats(&self) -> PageStats {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads every remaining item; the first error is returned.
    pub async fn collect_all(self) -> Result<Vec<T>, Error> {
        self.try_collect().await
    }

    /// Takes a fetched page in; returns false when it is past the end (not yielded).
    fn accept(&mut self, page: Page<T>) -> bool {
        let requested = self.next_page;
        let repeats_previous = match (&self.previous, page.items.first(), page.items.last()) {
            (Some((len, first, last)), Some(new_first), Some(new_last)) => {
                *len == page.items.len() && first == new_first && last == new_last
            }
            _ => false,
        };
        let past_the_end = repeats_previous
            || page
                .stats
                .current_page
                .is_some_and(|current| current != requested);
        let reached_count = page
            .stats
            .page_count
            .is_some_and(|count| requested + 1 >= count);
        {
            let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            let fetched = stats.pages_fetched + 1;
            *stats = PageStats {
                pages_fetched: fetched,
                ..page.stats
            };
        }
        if past_the_end {
            tracing::debug!(page = requested, "page past the end; stopping");
            self.done = true;
            return false;
        }
        self.done = page.last_page || reached_count || page.items.is_empty();
        self.next_page += 1;
        if let (Some(first), Some(last)) = (page.items.first(), page.items.last()) {
            self.previous = Some((page.items.len(), first.clone(), last.clone()));
        }
        self.buffer.extend(page.items);
        true
    }
}

impl<T: Clone + PartialEq + Send + Unpin + 'static> Stream for Paged<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.in_flight.is_none() {
                let future = (this.fetch)(this.next_page);
                this.in_flight = Some(future);
            }
            let polled = this
                .in_flight
                .as_mut()
                .map(|future| future.as_mut().poll(cx));
            match polled {
                Some(Poll::Pending) | None => return Poll::Pending,
                Some(Poll::Ready(result)) => {
                    this.in_flight = None;
                    match result {
                        Ok(page) => {
                            this.accept(page);
                        }
                        Err(e) => {
                            this.done = true;
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
            }
        }
    }
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn page_stats(headers: &HeaderMap) -> PageStats {
    PageStats {
        total_count: header_number(headers, "X-Total-Count"),
        page_count: header_number(headers, "X-Page-Count"),
        current_page: header_number(headers, "X-Current-Page"),
        page_size: header_number(headers, "X-Page-Size"),
        pages_fetched: 0,
    }
}

fn decode<B: DeserializeOwned>(response: &RawResponse, what: &str) -> Result<B, Error> {
    serde_json::from_slice(&response.body).map_err(|e| Error::Server {
        status: response.status.as_u16(),
        message: format!("unreadable {what} response: {e}"),
        request_id: response.request_id.clone(),
    })
}

fn check_result(result: &str, response: &RawResponse) -> Result<(), Error> {
    if result == "success" {
        Ok(())
    } else {
        Err(Error::Server {
            status: response.status.as_u16(),
            message: format!("query answered with result `{result}`"),
            request_id: response.request_id.clone(),
        })
    }
}

impl Connection {
    /// Lists users as a paged stream.
    pub fn users(&self, query: UsersQuery) -> Paged<User> {
        let conn = self.clone();
        let query = Arc::new(query);
        Paged::new(Arc::new(move |page| {
            let conn = conn.clone();
            let query = Arc::clone(&query);
            Box::pin(async move { conn.users_page(&query, page).await })
        }))
    }

    async fn users_page(&self, query: &UsersQuery, page: u64) -> Result<Page<User>, Error> {
        let page_text = page.to_string();
        let mut segments = vec!["users", self.org_id(), page_text.as_str()];
        if let Some(group) = &query.group {
            segments.push(group);
        }
        let mut url = self.url(&segments);
        {
            let mut params = url.query_pairs_mut();
            if let Some(direct_only) = query.direct_only {
                params.append_pair("directOnly", if direct_only { "true" } else { "false" });
            }
            if let Some(domain) = &query.domain {
                params.append_pair("domain", domain);
            }
            if query.exclude_groups {
                params.append_pair("excludeGroups", "true");
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let response = self
            .send(EndpointClass::Users, Method::GET, url, None)
            .await?;
        if response.status == StatusCode::NOT_FOUND {
            return Ok(empty_page());
        }
        let body: UsersPage = decode(&response, "users page")?;
        check_result(&body.result, &response)?;
        Ok(Page {
            items: body.users,
            last_page: body.last_page,
            stats: page_stats(&response.headers),
        })
    }

    /// Lists user groups, product profiles and admin groups as a paged stream.
    pub fn groups(&self) -> Paged<Group> {
        let conn = self.clone();
        Paged::new(Arc::new(move |page| {
            let conn = conn.clone();
            Box::pin(async move { conn.groups_page(page).await })
        }))
    }

    async fn groups_page(&self, page: u64) -> Result<Page<Group>, Error> {
        let page_text = page.to_string();
        let url = self.url(&["groups", self.org_id(), &page_text]);
        let response = self
            .send(EndpointClass::Groups, Method::GET, url, None)
            .await?;
        if response.status == StatusCode::NOT_FOUND {
            return Ok(empty_page());
        }
        let body: GroupsPage = decode(&response, "groups page")?;
        check_result(&body.result, &response)?;
        Ok(Page {
            items: body.groups,
            last_page: body.last_page,
            stats: page_stats(&response.headers),
        })
    }

    /// Looks up one user by email, or by username plus `domain`. `None` if there is no such user.
    pub async fn user(
        &self,
        email_or_username: &str,
        domain: Option<&str>,
    ) -> Result<Option<User>, Error> {
        let mut url = self.url(&["organizations", self.org_id(), "users", email_or_username]);
        if let Some(domain) = domain {
            url.query_pairs_mut().append_pair("domain", domain);
        }
        let response = self
            .send(EndpointClass::Users, Method::GET, url, None)
            .await?;
        if response.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body: UserResponse = decode(&response, "user")?;
        check_result(&body.result, &response)?;
        Ok(Some(body.user))
    }
}

fn empty_page<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        last_page: true,
        stats: PageStats::default(),
    }
}
