//! `kubevault audit`: who read which vault secret, and when, from kube-apiserver audit logs.
//!
//! The input is the API server's JSON-lines log (`--audit-log-path`): one `audit.k8s.io/v1`
//! Event per line. Only events whose `objectRef` is a Secret in the vault namespace count, at
//! their final stage (`ResponseComplete`, or `Panic`). Each is tallied into one row per
//! (identity, verb, secret, response code) with a count and the first and last time it was
//! seen, so memory grows with the number of distinct rows, never with the log: a 1 GB log
//! streams through in bounded memory (a line reader caps each line too).
//!
//! Requesters `system:serviceaccount:NS:USER` of the vault namespace are vault users; Secret
//! names map back to identities (`production-payments-db` → `production/payments/db`) and token
//! Secrets to their user. Denied attempts (401/403) are listed apart. A successful read by a
//! vault user that the current rules no longer allow is flagged, as is any successful
//! `list`/`watch` by one (kubevault's Roles grant `get` on named Secrets only: a list would
//! return every value in the namespace).
//!
//! Nothing but the fields named above is read from an event: request and response bodies (which a
//! `RequestResponse` policy would put there) are skipped unread, so no Secret value can reach the
//! output, and a malformed line is counted, never echoed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::rc::Rc;

use glob_match::glob_match;
use serde::{Deserialize, Serialize};

use super::time::{Micros, parse_timestamp};
use crate::vault::Vault;
use crate::vault::access::Grants;

/// Longest line read as an event (longer ones are skipped as malformed without being held).
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// Most distinct rows kept; events of further rows are counted as `dropped` (a bound on memory
/// for logs with millions of distinct requesters).
pub const MAX_ROWS: usize = 200_000;

/// Which events to keep.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only events received at or after this time.
    pub since: Option<Micros>,
    /// Only this requester: a vault user name or a full user name.
    pub user: Option<String>,
    /// Only this secret: an identity, a Secret name, or a glob over identities. `list`/`watch`
    /// of the whole namespace read every secret, so they are kept too.
    pub secret: Option<String>,
}

/// What a request was about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A kvstore secret: its identity.
    Secret(String),
    /// The token Secret of a vault user.
    Token(String),
    /// A Secret of that name that the current vault does not have.
    Unknown(String),
    /// Every Secret in the namespace (`list`, `watch`, `deletecollection` without a name).
    All,
}

impl Target {
    /// How the target is shown.
    pub fn label(&self, namespace: &str) -> String {
        match self {
            Target::Secret(identity) => identity.clone(),
            Target::Token(user) => format!("(token of user {user})"),
            Target::Unknown(name) => format!("(Secret {name}, not in the vault)"),
            Target::All => format!("(every Secret in {namespace})"),
        }
    }
}

/// One row of the answer: a kind of request and how often it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The requester as the log names it (`system:serviceaccount:ns:alice`, `admin`).
    pub username: String,
    /// The vault user it maps to, if any.
    pub vault_user: Option<String>,
    /// The API verb (`get`, `list`, `watch`, `update`, ...).
    pub verb: String,
    /// What was asked for.
    pub target: Target,
    /// The Secret name requested, when one was.
    pub name: Option<String>,
    /// The response code.
    pub code: u16,
    /// How many such events.
    pub count: u64,
    /// Earliest `requestReceivedTimestamp`, as written in the log.
    pub first: String,
    /// Latest `requestReceivedTimestamp`, as written in the log.
    pub last: String,
    /// Why this row needs a look, when it does.
    pub flag: Option<String>,
    first_at: Micros,
    last_at: Micros,
}

impl Row {
    /// True for a denied attempt (401 or 403).
    pub fn denied(&self) -> bool {
        matches!(self.code, 401 | 403)
    }
}

/// Counts of what was read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines read (blank lines not counted).
    pub lines: u64,
    /// Lines that are not JSON audit events (skipped).
    pub malformed: u64,
    /// Events on Secrets of the vault namespace at their final stage.
    pub matched: u64,
    /// Of those, the events the filter kept.
    pub kept: u64,
    /// Events on vault Secrets at an earlier stage (`RequestReceived`, `ResponseStarted`).
    pub other_stages: u64,
    /// Kept events that did not fit in [`MAX_ROWS`] distinct rows.
    pub dropped: u64,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "apiVersion")]
    api_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    verb: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user: Option<UserInfo<'a>>,
    #[serde(borrow, default, rename = "impersonatedUser")]
    impersonated_user: Option<UserInfo<'a>>,
    #[serde(borrow, default, rename = "objectRef")]
    object_ref: Option<ObjectRef<'a>>,
    #[serde(default, rename = "responseStatus")]
    response_status: Option<Status>,
    #[serde(borrow, default, rename = "requestReceivedTimestamp")]
    received: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UserInfo<'a> {
    #[serde(borrow, default)]
    username: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ObjectRef<'a> {
    #[serde(borrow, default)]
    resource: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "apiGroup")]
    api_group: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    subresource: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<u16>,
}

/// A row's key: interned requester, verb and Secret name ([`NO_NAME`] for none), and the code.
type RowKey = (u32, u32, u32, u16);

/// The interned "name" of a request on the whole namespace.
const NO_NAME: u32 = u32::MAX;

/// One row while tallying: the key's parts are interned, the target and flag are worked out
/// once, when the answer is made.
struct Slot {
    key: RowKey,
    count: u64,
    first_at: Micros,
    last_at: Micros,
    first: Box<str>,
    last: Box<str>,
}

/// Every distinct requester, verb and Secret name of the rows, once.
#[derive(Default)]
struct Strings {
    ids: HashMap<Rc<str>, u32>,
    texts: Vec<Rc<str>>,
}

impl Strings {
    fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.get(text) {
            return id;
        }
        let id = u32::try_from(self.texts.len()).unwrap_or(NO_NAME - 1);
        let text: Rc<str> = Rc::from(text);
        self.ids.insert(Rc::clone(&text), id);
        self.texts.push(text);
        id
    }

    fn text(&self, id: u32) -> &str {
        &self.texts[id as usize]
    }
}

/// What a requested Secret name is, without allocating (see [`Target`]).
#[derive(Clone, Copy)]
enum Resolved<'a> {
    Secret(usize),
    Token(&'a str),
    Unknown(&'a str),
    All,
}

/// The running tally of one `audit` run: feed it lines, then take the [`Answer`].
///
/// Rows are found through a hash map of interned keys, so an event that adds to a known row
/// allocates nothing.
pub struct Tally<'v> {
    namespace: String,
    sa_prefix: String,
    filter: Filter,
    by_name: HashMap<&'v str, usize>,
    vault: &'v Vault,
    users: HashMap<&'v str, usize>,
    readable: Vec<HashSet<usize>>,
    strings: Strings,
    index: HashMap<RowKey, usize>,
    slots: Vec<Slot>,
    counts: Counts,
}

/// The answer: every row, sorted, and the counts.
#[derive(Debug)]
pub struct Answer {
    /// The vault namespace.
    pub namespace: String,
    /// Successful and failed requests other than denials, sorted by secret, requester, verb.
    pub requests: Vec<Row>,
    /// Denied attempts (401/403), sorted the same way.
    pub denied: Vec<Row>,
    /// What was read.
    pub counts: Counts,
}

impl<'v> Tally<'v> {
    /// A tally for the vault's namespace, its current model and rules.
    pub fn new(vault: &'v Vault, grants: &Grants, namespace: &str, filter: Filter) -> Self {
        Tally {
            namespace: namespace.to_string(),
            sa_prefix: format!("system:serviceaccount:{namespace}:"),
            filter,
            by_name: vault
                .secrets
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), i))
                .collect(),
            vault,
            users: vault
                .users
                .iter()
                .enumerate()
                .map(|(i, u)| (u.name.as_str(), i))
                .collect(),
            readable: grants.readable.iter().map(|r| r.iter().collect()).collect(),
            strings: Strings::default(),
            index: HashMap::new(),
            slots: Vec::new(),
            counts: Counts::default(),
        }
    }

    /// Feeds one line of a log (without its newline). `None` is a line too long to read.
    pub fn line(&mut self, line: Option<&[u8]>) {
        let Some(line) = line else {
            self.counts.lines += 1;
            self.counts.malformed += 1;
            return;
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.counts.lines += 1;
        let event: Event = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(_) => {
                self.counts.malformed += 1;
                return;
            }
        };
        let is_event = event.kind.as_deref() == Some("Event")
            && event
                .api_version
                .as_deref()
                .is_some_and(|v| v.starts_with("audit.k8s.io/"));
        if !is_event {
            self.counts.malformed += 1;
            return;
        }
        self.event(event);
    }

    fn event(&mut self, event: Event) {
        let Some(obj) = &event.object_ref else { return };
        let core = obj.api_group.as_deref().is_none_or(str::is_empty);
        if obj.resource.as_deref() != Some("secrets")
            || !core
            || obj.subresource.as_deref().is_some_and(|s| !s.is_empty())
            || obj.namespace.as_deref() != Some(self.namespace.as_str())
        {
            return;
        }
        if !matches!(event.stage.as_deref(), Some("ResponseComplete" | "Panic")) {
            self.counts.other_stages += 1;
            return;
        }
        self.counts.matched += 1;
        let Some(code) = event.response_status.and_then(|s| s.code) else {
            return;
        };
        // The identity the request acted as: an impersonated user where there is one.
        let username = event
            .impersonated_user
            .as_ref()
            .or(event.user.as_ref())
            .and_then(|u| u.username.as_deref())
            .unwrap_or("(unknown)");
        let vault_user = username
            .strip_prefix(self.sa_prefix.as_str())
            .and_then(|name| self.users.get(name).copied());
        let name = obj.name.as_deref().filter(|n| !n.is_empty());
        let verb = event.verb.as_deref().unwrap_or("(unknown)");
        let target = self.resolve(name);
        let received = event.received.as_deref();
        let at = received.and_then(parse_timestamp).unwrap_or(i64::MIN);
        if !self.keep(username, vault_user, target, name, at) {
            return;
        }
        self.counts.kept += 1;
        let stamp = received.unwrap_or("");
        let known = (
            self.strings.get(username),
            self.strings.get(verb),
            name.map(|n| self.strings.get(n)),
        );
        if let (Some(u), Some(v), n) = known
            && let Some(n) = n.unwrap_or(Some(NO_NAME))
            && let Some(&i) = self.index.get(&(u, v, n, code))
        {
            let slot = &mut self.slots[i];
            slot.count += 1;
            if at < slot.first_at {
                slot.first_at = at;
                slot.first = stamp.into();
            }
            if at > slot.last_at {
                slot.last_at = at;
                slot.last = stamp.into();
            }
            return;
        }
        if self.slots.len() >= MAX_ROWS {
            self.counts.dropped += 1;
            return;
        }
        let key = (
            self.strings.intern(username),
            self.strings.intern(verb),
            name.map_or(NO_NAME, |n| self.strings.intern(n)),
            code,
        );
        self.index.insert(key, self.slots.len());
        self.slots.push(Slot {
            key,
            count: 1,
            first_at: at,
            last_at: at,
            first: stamp.into(),
            last: stamp.into(),
        });
    }

    /// What a requested Secret name is: a vault secret, a user's token Secret, or neither.
    fn resolve<'n>(&self, name: Option<&'n str>) -> Resolved<'n> {
        match name {
            None => Resolved::All,
            Some(n) => match self.by_name.get(n) {
                Some(&i) => Resolved::Secret(i),
                None => match n
                    .strip_suffix("-token")
                    .filter(|u| self.users.contains_key(u))
                {
                    Some(user) => Resolved::Token(user),
                    None => Resolved::Unknown(n),
                },
            },
        }
    }

    /// A tallied row as shown: its target, its vault user and why it needs a look.
    fn row(&self, slot: Slot) -> Row {
        let (u, v, n, code) = slot.key;
        let username = self.strings.text(u);
        let verb = self.strings.text(v);
        let name = (n != NO_NAME).then(|| self.strings.text(n));
        let vault_user = username
            .strip_prefix(self.sa_prefix.as_str())
            .and_then(|name| self.users.get(name).copied());
        let resolved = self.resolve(name);
        let flag = match vault_user {
            Some(u) if (200..300).contains(&code) => {
                let user = &self.vault.users[u].name;
                match (verb, resolved) {
                    ("get", Resolved::Secret(i)) if !self.readable[u].contains(&i) => {
                        Some(format!("the current rules no longer let {user} read it"))
                    }
                    ("get", Resolved::Unknown(_)) => {
                        Some("a read of a Secret the vault no longer has".to_string())
                    }
                    ("get", Resolved::Token(owner)) => Some(format!(
                        "{user} read the token of {owner}: kubevault grants no such read"
                    )),
                    ("list" | "watch", _) => Some(format!(
                        "a {verb} returns every Secret in the namespace: the current rules grant {user} no {verb}"
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        let target = match resolved {
            Resolved::Secret(i) => Target::Secret(self.vault.secrets[i].identity.clone()),
            Resolved::Token(user) => Target::Token(user.to_string()),
            Resolved::Unknown(n) => Target::Unknown(n.to_string()),
            Resolved::All => Target::All,
        };
        Row {
            username: username.to_string(),
            vault_user: vault_user.map(|u| self.vault.users[u].name.clone()),
            verb: verb.to_string(),
            target,
            name: name.map(str::to_string),
            code,
            count: slot.count,
            first: slot.first.into(),
            last: slot.last.into(),
            flag,
            first_at: slot.first_at,
            last_at: slot.last_at,
        }
    }

    fn keep(
        &self,
        username: &str,
        vault_user: Option<usize>,
        target: Resolved<'_>,
        name: Option<&str>,
        at: Micros,
    ) -> bool {
        if self.filter.since.is_some_and(|since| at < since) {
            return false;
        }
        if let Some(want) = &self.filter.user
            && want != username
            && vault_user.is_none_or(|u| self.vault.users[u].name != *want)
        {
            return false;
        }
        if let Some(want) = &self.filter.secret {
            let hit = match target {
                Resolved::All => true,
                Resolved::Secret(i) => {
                    let identity = self.vault.secrets[i].identity.as_str();
                    identity == want || name == Some(want.as_str()) || glob_match(want, identity)
                }
                Resolved::Token(_) | Resolved::Unknown(_) => name == Some(want.as_str()),
            };
            if !hit {
                return false;
            }
        }
        true
    }

    /// The rows, sorted, and the counts.
    pub fn finish(mut self) -> Answer {
        let slots = std::mem::take(&mut self.slots);
        self.index = HashMap::new();
        let mut rows: Vec<Row> = slots.into_iter().map(|slot| self.row(slot)).collect();
        // The name breaks ties, as the order rows were kept in used to.
        rows.sort_unstable_by(|a, b| {
            (&a.target, &a.username, &a.verb, a.code, &a.name).cmp(&(
                &b.target,
                &b.username,
                &b.verb,
                b.code,
                &b.name,
            ))
        });
        let (denied, requests) = rows.into_iter().partition(Row::denied);
        Answer {
            namespace: std::mem::take(&mut self.namespace),
            requests,
            denied,
            counts: self.counts,
        }
    }
}

/// Splits a stream into lines without ever holding more than [`MAX_LINE_BYTES`] of one line:
/// the callback gets each line without its newline, or `None` for a line that was too long.
pub fn for_each_line(
    mut reader: impl BufRead,
    mut f: impl FnMut(Option<&[u8]>),
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if too_long {
                f(None);
            } else if !line.is_empty() {
                f(Some(&line));
            }
            return Ok(());
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                line = Vec::new();
            } else if done.is_some() && line.is_empty() {
                // The whole line is in the buffer: no copy.
                f(Some(chunk));
                let used = done.unwrap_or(chunk.len());
                reader.consume(used);
                continue;
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            if too_long {
                f(None);
            } else {
                f(Some(&line));
            }
            line.clear();
            too_long = false;
        }
    }
}

/// The answer as text: requests, then denied attempts, then what was read.
pub fn text(answer: &Answer) -> String {
    let mut out = String::new();
    let ns = &answer.namespace;
    // A row's cells are made twice (for the widths, then for the line) rather than held: the
    // table may have MAX_ROWS rows.
    let cells = |r: &Row| -> [String; 6] {
        let who = match &r.vault_user {
            Some(u)
                if r.username
                    .strip_suffix(u.as_str())
                    .is_some_and(|p| p.ends_with(':')) =>
            {
                u.clone()
            }
            Some(u) => format!("{u} ({})", r.username),
            None => r.username.clone(),
        };
        let when = if r.first == r.last {
            r.first.clone()
        } else {
            format!("{} .. {}", r.first, r.last)
        };
        [
            r.target.label(ns),
            who,
            r.verb.clone(),
            r.code.to_string(),
            r.count.to_string(),
            when,
        ]
    };
    let table = |out: &mut String, rows: &[Row]| {
        let head = ["SECRET", "WHO", "VERB", "CODE", "COUNT", "WHEN"];
        let mut widths = head.map(str::len);
        for r in rows {
            for (w, c) in widths.iter_mut().zip(&cells(r)) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |out: &mut String, cols: [&str; 6]| {
            let start = out.len();
            for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
                if i == 5 {
                    out.push_str(c);
                } else {
                    // `{c:<w$}` pads by characters, as the widths count them.
                    out.push_str(c);
                    let pad = w.saturating_sub(c.chars().count());
                    out.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            let kept = out[start..].trim_end().len();
            out.truncate(start + kept);
            out.push('\n');
        };
        line(out, head);
        for r in rows {
            let row = cells(r);
            line(out, [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
            if let Some(flag) = &r.flag {
                out.push_str("  ! ");
                out.push_str(flag);
                out.push('\n');
            }
        }
    };
    out.push_str(&format!(
        "requests on Secrets in namespace {ns} ({}):\n",
        answer.requests.len()
    ));
    if answer.requests.is_empty() {
        out.push_str("none\n");
    } else {
        table(&mut out, &answer.requests);
    }
    out.push_str(&format!("\ndenied attempts ({}):\n", answer.denied.len()));
    if answer.denied.is_empty() {
        out.push_str("none\n");
    } else {
        table(&mut out, &answer.denied);
    }
    let flagged = answer.requests.iter().filter(|r| r.flag.is_some()).count();
    out.push_str(&format!("\n{}\n", summary(&answer.counts, flagged)));
    out
}

/// The closing line: what was read and skipped.
pub fn summary(c: &Counts, flagged: usize) -> String {
    let mut s = format!(
        "read {} lines: {} events on vault Secrets, {} shown",
        c.lines, c.matched, c.kept
    );
    if flagged > 0 {
        s.push_str(&format!(", {flagged} flagged (!)"));
    }
    if c.malformed > 0 {
        s.push_str(&format!(
            "; skipped {} malformed lines (not audit.k8s.io/v1 Events)",
            c.malformed
        ));
    }
    if c.dropped > 0 {
        s.push_str(&format!(
            "; {} events beyond the {MAX_ROWS}-row limit not shown",
            c.dropped
        ));
    }
    s
}

/// A row as JSON (the fields in this order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonRow<'a> {
    username: &'a str,
    vault_user: Option<&'a str>,
    verb: &'a str,
    target: &'static str,
    identity: Option<&'a str>,
    token_of: Option<&'a str>,
    name: Option<&'a str>,
    code: u16,
    count: u64,
    first: &'a str,
    last: &'a str,
    flag: Option<&'a str>,
}

impl<'a> JsonRow<'a> {
    fn new(r: &'a Row) -> Self {
        let (target, identity, token_of) = match &r.target {
            Target::Secret(id) => ("secret", Some(id.as_str()), None),
            Target::Token(u) => ("token", None, Some(u.as_str())),
            Target::Unknown(_) => ("unknown", None, None),
            Target::All => ("all", None, None),
        };
        JsonRow {
            username: &r.username,
            vault_user: r.vault_user.as_deref(),
            verb: &r.verb,
            target,
            identity,
            token_of,
            name: r.name.as_deref(),
            code: r.code,
            count: r.count,
            first: &r.first,
            last: &r.last,
            flag: r.flag.as_deref(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonCounts {
    lines: u64,
    malformed: u64,
    matched: u64,
    shown: u64,
    other_stages: u64,
    dropped: u64,
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    namespace: &'a str,
    requests: Vec<JsonRow<'a>>,
    denied: Vec<JsonRow<'a>>,
    counts: JsonCounts,
}

/// The answer as one JSON document (serialized from borrowed rows: no copy of the answer).
pub fn json(answer: &Answer) -> String {
    let c = &answer.counts;
    let doc = JsonAnswer {
        namespace: &answer.namespace,
        requests: answer.requests.iter().map(JsonRow::new).collect(),
        denied: answer.denied.iter().map(JsonRow::new).collect(),
        counts: JsonCounts {
            lines: c.lines,
            malformed: c.malformed,
            matched: c.matched,
            shown: c.kept,
            other_stages: c.other_stages,
            dropped: c.dropped,
        },
    };
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::model::{build, test_files};

    fn vault() -> (Vault, Grants) {
        let files = test_files(
            &[
                ("kvstore/production/payments/db.yaml", "k: v\n"),
                ("kvstore/shared/tls", "k: v\n"),
            ],
            &[
                ("access_control/alice", "shared/**\n"),
                ("access_control/bob", "**\n"),
            ],
        );
        let (vault, _) = build(&files, "ns", &crate::review::load::keys_only);
        let grants = crate::vault::access::evaluate(&vault);
        (vault, grants)
    }

    fn event(user: &str, verb: &str, ns: &str, name: Option<&str>, code: u16, at: &str) -> String {
        let name = name
            .map(|n| format!(r#","name":"{n}""#))
            .unwrap_or_default();
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/{ns}/secrets","verb":"{verb}","user":{{"username":"{user}","groups":["system:authenticated"]}},"objectRef":{{"resource":"secrets","namespace":"{ns}"{name},"apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":{code}}},"requestReceivedTimestamp":"{at}","stageTimestamp":"{at}"}}"#
        )
    }

    fn tally(lines: &[String], filter: Filter) -> Answer {
        let (vault, grants) = vault();
        let mut t = Tally::new(&vault, &grants, "ns", filter);
        let text = lines.join("\n");
        for_each_line(text.as_bytes(), |l| t.line(l)).unwrap();
        t.finish()
    }

    const SA: &str = "system:serviceaccount:ns:";

    #[test]
    fn events_map_to_users_and_identities() {
        let a = format!("{SA}alice");
        let b = format!("{SA}bob");
        let lines = vec![
            event(
                &a,
                "get",
                "ns",
                Some("shared-tls"),
                200,
                "2026-12-01T10:00:00Z",
            ),
            event(
                &a,
                "get",
                "ns",
                Some("shared-tls"),
                200,
                "2026-12-01T09:00:00Z",
            ),
            event(
                &a,
                "get",
                "ns",
                Some("production-payments-db"),
                200,
                "2026-12-01T10:00:00Z",
            ),
            event(
                &a,
                "get",
                "ns",
                Some("production-payments-db"),
                403,
                "2026-12-01T11:00:00Z",
            ),
            event(&b, "list", "ns", None, 200, "2026-12-01T10:00:00Z"),
            event(&b, "watch", "ns", None, 403, "2026-12-01T10:00:00Z"),
            event(
                &b,
                "get",
                "other",
                Some("shared-tls"),
                200,
                "2026-12-01T10:00:00Z",
            ),
            event(
                "admin",
                "get",
                "ns",
                Some("gone"),
                200,
                "2026-12-01T10:00:00Z",
            ),
            event(
                &b,
                "get",
                "ns",
                Some("alice-token"),
                200,
                "2026-12-01T10:00:00Z",
            ),
            "not json".into(),
            "{\"kind\":\"Other\"}".into(),
            "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"verb\":1}".into(),
            String::new(),
        ];
        let a = tally(&lines, Filter::default());
        let rows: Vec<(String, &str, &str, u16, u64, bool)> = a
            .requests
            .iter()
            .map(|r| {
                (
                    r.target.label("ns"),
                    r.vault_user.as_deref().unwrap_or(&r.username),
                    r.verb.as_str(),
                    r.code,
                    r.count,
                    r.flag.is_some(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "production/payments/db".into(),
                    "alice",
                    "get",
                    200,
                    1,
                    true
                ),
                ("shared/tls".into(), "alice", "get", 200, 2, false),
                ("(token of user alice)".into(), "bob", "get", 200, 1, true),
                (
                    "(Secret gone, not in the vault)".into(),
                    "admin",
                    "get",
                    200,
                    1,
                    false
                ),
                ("(every Secret in ns)".into(), "bob", "list", 200, 1, true),
            ]
        );
        assert_eq!(a.requests[1].first, "2026-12-01T09:00:00Z");
        assert_eq!(a.requests[1].last, "2026-12-01T10:00:00Z");
        assert_eq!(a.denied.len(), 2);
        assert_eq!(a.counts.malformed, 3);
        assert_eq!(a.counts.lines, 12);
        assert_eq!(a.counts.matched, 8);
    }

    #[test]
    fn filters() {
        let a = format!("{SA}alice");
        let lines = vec![
            event(
                &a,
                "get",
                "ns",
                Some("shared-tls"),
                200,
                "2026-12-01T10:00:00Z",
            ),
            event(
                &a,
                "get",
                "ns",
                Some("production-payments-db"),
                200,
                "2026-11-01T10:00:00Z",
            ),
            event("admin", "list", "ns", None, 200, "2026-12-01T10:00:00Z"),
        ];
        let count = |f: Filter| tally(&lines, f).requests.len();
        assert_eq!(count(Filter::default()), 3);
        let since = Some(parse_timestamp("2026-11-15").unwrap());
        assert_eq!(
            count(Filter {
                since,
                ..Default::default()
            }),
            2
        );
        let user = |u: &str| Filter {
            user: Some(u.into()),
            ..Default::default()
        };
        assert_eq!(count(user("alice")), 2);
        assert_eq!(count(user(&a)), 2);
        assert_eq!(count(user("admin")), 1);
        let secret = |s: &str| Filter {
            secret: Some(s.into()),
            ..Default::default()
        };
        // The list read every secret, so it shows for any secret.
        assert_eq!(count(secret("shared/tls")), 2);
        assert_eq!(count(secret("shared-tls")), 2);
        assert_eq!(count(secret("production/**")), 2);
        assert_eq!(count(secret("nothing")), 1);
    }

    #[test]
    fn long_lines_are_skipped_without_being_held() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let mut input = long.clone();
        input.extend_from_slice(b"\nok\n");
        input.extend_from_slice(&long);
        let mut seen = Vec::new();
        let reader = std::io::BufReader::with_capacity(1024, input.as_slice());
        for_each_line(reader, |l| seen.push(l.map(<[u8]>::to_vec))).unwrap();
        assert_eq!(seen, [None, Some(b"ok".to_vec()), None]);
    }
}
