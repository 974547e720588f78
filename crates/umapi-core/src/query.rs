//! Read queries: users (in the org, in a group, by domain), one user, groups.
//!
//! Lists come as [`Paged`] streams that fetch page after page from page 0 until the
//! server says `lastPage`. Because a page past the end returns the last page again,
//! the stream also stops when the server reports a different page than asked for,
//! when the page count is reached, or when a page repeats the one before — so it
//! never loops forever on a server that forgets `lastPage`.
//!
//! While the caller works through one page, the next one is already requested (one
//! page of read-ahead, as a task on the Tokio runtime): a large org's read then costs
//! about the slower of the server and the caller, not their sum.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::{Stream, TryStreamExt};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::connection::{Connection, RawResponse};
use crate::error::Error;
use crate::protocol;
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

/// One page request on its way, answered with the undecoded response.
type RawFuture = Pin<Box<dyn Future<Output = Result<RawResponse, Error>> + Send>>;
/// Requests page `n`.
type Fetch = Arc<dyn Fn(u64) -> RawFuture + Send + Sync>;
/// Reads a page out of a response.
type Decode<T> = fn(&RawResponse) -> Result<Page<T>, Error>;

/// A page request in flight.
enum InFlight {
    /// Running as a task, so it makes progress while the caller decodes and
    /// consumes the page before it.
    Spawned(tokio::task::JoinHandle<Result<RawResponse, Error>>),
    /// Outside a Tokio runtime there is nothing to spawn on: polled in place.
    Local(RawFuture),
}

impl InFlight {
    fn start(request: RawFuture) -> Self {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => InFlight::Spawned(runtime.spawn(request)),
            Err(_) => InFlight::Local(request),
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<RawResponse, Error>> {
        match self {
            InFlight::Local(request) => request.as_mut().poll(cx),
            InFlight::Spawned(task) => match Pin::new(task).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(result)) => Poll::Ready(result),
                Poll::Ready(Err(failed)) if failed.is_panic() => {
                    std::panic::resume_unwind(failed.into_panic())
                }
                // Only a runtime shutting down cancels the task (the stream aborts it
                // only when it no longer wants the page).
                Poll::Ready(Err(_)) => Poll::Ready(Err(Error::Http(
                    "the page request was cancelled: the runtime is shutting down".into(),
                ))),
            },
        }
    }

    fn cancel(self) {
        if let InFlight::Spawned(task) = self {
            task.abort();
        }
    }
}

struct Page<T> {
    items: Vec<T>,
    last_page: bool,
    stats: PageStats,
}

/// A paged list as a stream of items, fetched a page at a time as it is read.
///
/// Nothing is requested before the stream is first polled. After that the next page
/// is requested while the current one is decoded and handed out (one page of
/// read-ahead): as soon as a response arrives when its headers say more pages
/// follow, otherwise once the page is decoded and is not the last. Nothing is
/// requested past the last page; a caller that stops early leaves at most one
/// request behind, which dropping the stream cancels. Items, and the first error,
/// come in page order; the first error ends the stream after being yielded.
pub struct Paged<T> {
    fetch: Fetch,
    decode: Decode<T>,
    next_page: u64,
    /// The rest of the current page, handed out in place.
    buffer: std::vec::IntoIter<T>,
    /// Length, first and last item of the previous page: enough to recognise the
    /// repeat of it that a server sends past the end, without keeping the page.
    previous: Option<(usize, T, T)>,
    /// The request for page `next_page`.
    in_flight: Option<InFlight>,
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

impl<T> Drop for Paged<T> {
    fn drop(&mut self) {
        if let Some(in_flight) = self.in_flight.take() {
            in_flight.cancel();
        }
    }
}

/// Whether the headers of page `requested` say that another page follows, so the
/// next one can be requested before this one is decoded.
fn more_pages_promised(response: &RawResponse, requested: u64) -> bool {
    let stats = page_stats(&response.headers);
    response.status != StatusCode::NOT_FOUND
        && stats
            .current_page
            .is_none_or(|current| current == requested)
        && stats.page_count.is_some_and(|count| requested + 1 < count)
}

impl<T: Clone + PartialEq + Send + Unpin + 'static> Paged<T> {
    fn new(fetch: Fetch, decode: Decode<T>) -> Self {
        Self {
            fetch,
            decode,
            next_page: 0,
            buffer: Vec::new().into_iter(),
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

    /// Requests page `page`.
    fn request(&self, page: u64) -> InFlight {
        InFlight::start((self.fetch)(page))
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
        self.buffer = page.items.into_iter();
        true
    }

    /// Takes in the response for page `next_page`, reading the page after it ahead.
    fn receive(&mut self, response: RawResponse) -> Result<(), Error> {
        // Requested before decoding when the headers allow, so that the server works
        // on the next page while this one is decoded.
        let ahead = more_pages_promised(&response, self.next_page)
            .then(|| self.request(self.next_page + 1));
        let decoded = (self.decode)(&response);
        drop(response);
        let wanted = match decoded {
            Ok(page) => self.accept(page) && !self.done,
            Err(e) => {
                if let Some(unwanted) = ahead {
                    unwanted.cancel();
                }
                return Err(e);
            }
        };
        if wanted {
            self.in_flight = Some(ahead.unwrap_or_else(|| self.request(self.next_page)));
        } else if let Some(unwanted) = ahead {
            // The body said otherwise than its headers: that was the last page.
            unwanted.cancel();
        }
        Ok(())
    }
}

impl<T: Clone + PartialEq + Send + Unpin + 'static> Stream for Paged<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.buffer.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let in_flight = match &mut this.in_flight {
                Some(in_flight) => in_flight,
                None => this
                    .in_flight
                    .insert(InFlight::start((this.fetch)(this.next_page))),
            };
            let Poll::Ready(response) = in_flight.poll(cx) else {
                return Poll::Pending;
            };
            this.in_flight = None;
            if let Err(e) = response.and_then(|response| this.receive(response)) {
                this.done = true;
                return Poll::Ready(Some(Err(e)));
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
        let fetch: Fetch = Arc::new(move |page| {
            let conn = conn.clone();
            let query = Arc::clone(&query);
            Box::pin(async move { conn.users_request(&query, page).await })
        });
        Paged::new(fetch, users_page)
    }

    async fn users_request(&self, query: &UsersQuery, page: u64) -> Result<RawResponse, Error> {
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
        self.send(EndpointClass::Users, Method::GET, url, None)
            .await
    }

    /// Lists user groups, product profiles and admin groups as a paged stream.
    pub fn groups(&self) -> Paged<Group> {
        let conn = self.clone();
        let fetch: Fetch = Arc::new(move |page| {
            let conn = conn.clone();
            Box::pin(async move { conn.groups_request(page).await })
        });
        Paged::new(fetch, groups_page)
    }

    async fn groups_request(&self, page: u64) -> Result<RawResponse, Error> {
        let page_text = page.to_string();
        let url = self.url(&["groups", self.org_id(), &page_text]);
        self.send(EndpointClass::Groups, Method::GET, url, None)
            .await
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

fn users_page(response: &RawResponse) -> Result<Page<User>, Error> {
    if response.status == StatusCode::NOT_FOUND {
        return Ok(empty_page());
    }
    let body: UsersPage = decode(response, "users page")?;
    check_result(&body.result, response)?;
    Ok(Page {
        items: body.users,
        last_page: body.last_page,
        stats: page_stats(&response.headers),
    })
}

fn groups_page(response: &RawResponse) -> Result<Page<Group>, Error> {
    if response.status == StatusCode::NOT_FOUND {
        return Ok(empty_page());
    }
    let body: GroupsPage = decode(response, "groups page")?;
    if body.last_page
        && body
            .result
            .eq_ignore_ascii_case(protocol::PAGE_NOT_FOUND_RESULT)
    {
        // The groups query answers a page past the end with 200 and this result.
        return Ok(empty_page());
    }
    check_result(&body.result, response)?;
    Ok(Page {
        items: body.groups,
        last_page: body.last_page,
        stats: page_stats(&response.headers),
    })
}

fn empty_page<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        last_page: true,
        stats: PageStats::default(),
    }
}
