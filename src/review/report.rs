//! `kubevault report --html FILE`: the whole access matrix (users × secrets) on one
//! self-contained page: no network, no external script, style or font (a Content-Security-Policy
//! forbids them), so it opens offline from disk or a CI artifact.
//!
//! Secrets are rows grouped by folder (collapsible), users are columns; each cell says whether
//! the user may read the secret, and its tooltip names the deciding rule (`file:line pattern`,
//! or "no rule matches"). Filters by user and secret (also from the URL: `#user=alice&secret=prod/`),
//! counts per user, per secret, per folder and in total. Rows are rendered virtually (only those
//! in view exist in the DOM), so 10,000 secrets × 200 users scroll smoothly; the data is
//! embedded as compact JSON (deciding rules run-length encoded per user), a few MB at that size.
//!
//! Pure: the model in, the page out. Names are inserted as text, never as markup.

use crate::vault::Vault;
use crate::vault::access::deciders;

/// Run-length encoding of one user's deciding rules over the secrets in page order:
/// `[rule, count, rule, count, ...]`, rule 0 = no rule matches.
fn runs(decider: &[u32], order: &[usize]) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for &i in order {
        let d = decider[i];
        match out.len() {
            n if n >= 2 && out[n - 2] == d => out[n - 1] += 1,
            _ => {
                out.push(d);
                out.push(1);
            }
        }
    }
    out
}

/// The folder of an identity (`production/payments` for `production/payments/db`; `` at the
/// top).
fn folder(identity: &str) -> &str {
    identity.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The page data as JSON (safe to embed in a `<script>` element).
pub fn data(vault: &Vault, title: &str) -> String {
    let mut order: Vec<usize> = (0..vault.secrets.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&vault.secrets[a].identity, &vault.secrets[b].identity);
        (folder(x), x).cmp(&(folder(y), y))
    });
    let mut folders: Vec<&str> = Vec::new();
    let mut secret_folder = Vec::with_capacity(order.len());
    for &i in &order {
        let f = folder(&vault.secrets[i].identity);
        if folders.last() != Some(&f) {
            folders.push(f);
        }
        secret_folder.push(folders.len() - 1);
    }
    let deciders = deciders(vault);
    let users: Vec<serde_json::Value> = vault
        .users
        .iter()
        .zip(&deciders)
        .map(|(u, d)| {
            serde_json::json!({
                "n": u.name,
                "f": u.source,
                "r": u.rules.iter().map(|r| serde_json::json!([r.line, r.allow, r.pattern])).collect::<Vec<_>>(),
                "d": runs(d, &order),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "title": title,
        "folders": folders,
        "ids": order.iter().map(|&i| vault.secrets[i].identity.as_str()).collect::<Vec<_>>(),
        "names": order.iter().map(|&i| vault.secrets[i].name.as_str()).collect::<Vec<_>>(),
        "sf": secret_folder,
        "users": users,
    });
    // `<`, `>` and `&` as JSON escapes: nothing in the data can close the script element.
    serde_json::to_string(&doc)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The whole page.
pub fn page(vault: &Vault, title: &str) -> String {
    let mut out = String::with_capacity(64 * 1024 + vault.secrets.len() * 64);
    out.push_str(HEAD);
    out.push_str(&html_text(title));
    out.push_str(MIDDLE);
    out.push_str(&data(vault, title));
    out.push_str(TAIL);
    out
}

/// Text for HTML element content.
fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const HEAD: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>"##;

const MIDDLE: &str = r##"</title>
<style>
:root { --cell: 18px; --row: 20px; --left: 360px; font: 13px/1.3 system-ui, sans-serif; color: #1d232a; }
body { margin: 0; }
header { padding: 8px 12px; background: #f3f5f7; border-bottom: 1px solid #d5dbe1; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
header h1 { font-size: 15px; margin: 0; }
header input[type=search] { width: 220px; padding: 3px 6px; }
#status { color: #4a5560; }
#grid { position: relative; overflow: auto; height: calc(100vh - 48px); }
#heads { position: sticky; top: 0; z-index: 2; display: flex; background: #fff; border-bottom: 1px solid #d5dbe1; height: 120px; }
#heads .corner { position: sticky; left: 0; z-index: 3; flex: 0 0 var(--left); background: #fff; display: flex; align-items: flex-end; padding: 4px 8px; box-sizing: border-box; color: #4a5560; }
.uh { flex: 0 0 var(--cell); position: relative; }
.uh span { position: absolute; bottom: 18px; left: 4px; transform: rotate(-60deg); transform-origin: left bottom; white-space: nowrap; font-size: 12px; }
.uh b { position: absolute; bottom: 2px; left: 0; width: var(--cell); text-align: center; font-size: 10px; font-weight: normal; color: #4a5560; }
#body { position: relative; }
.row { position: absolute; left: 0; display: flex; height: var(--row); align-items: center; }
.row .label { position: sticky; left: 0; z-index: 1; flex: 0 0 var(--left); box-sizing: border-box; padding: 0 8px; background: #fff; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; display: flex; gap: 6px; }
.row .label .n { margin-left: auto; color: #4a5560; font-size: 11px; }
.row.folder .label { font-weight: 600; background: #eef1f4; cursor: pointer; }
.row.folder { background: #eef1f4; }
.c { flex: 0 0 var(--cell); height: var(--cell); box-sizing: border-box; border: 1px solid #fff; }
.c.y { background: #2e9d5b; }
.c.x { background: #f1d4d4; }
.c.n { background: #eceff2; }
.row:hover .label, .row:hover { background: #fff7d6; }
footer { display: none; }
.legend .c { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-left: 8px; }
#heads .corner { border-right: 1px solid #d5dbe1; }
.uh span { left: 6px; }
</style>
</head>
<body>
<header>
<h1 id="title"></h1>
<label>user <input type="search" id="fu" placeholder="name contains…"></label>
<label>secret <input type="search" id="fs" placeholder="identity contains…"></label>
<label><input type="checkbox" id="only"> readable only</label>
<span id="status"></span>
<span class="legend"><span class="c y" style="display:inline-block"></span> may read <span class="c x" style="display:inline-block"></span> denied by a rule <span class="c n" style="display:inline-block"></span> no rule matches</span>
</header>
<div id="grid"><div id="heads"><div class="corner" id="corner"></div></div><div id="body"></div></div>
<script type="application/json" id="data">"##;

const TAIL: &str = r##"</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = D.ids.length, NU = D.users.length;
const ROW = 20, CELL = 18;
// Deciding rule per user and secret (1-based, 0 = none), expanded from the runs.
const dec = D.users.map(u => {
  const a = new Uint32Array(NS);
  let at = 0;
  for (let k = 0; k < u.d.length; k += 2) { a.fill(u.d[k], at, at + u.d[k + 1]); at += u.d[k + 1]; }
  return a;
});
const can = (u, s) => { const r = dec[u][s]; return r > 0 && D.users[u].r[r - 1][1]; };
const userCount = D.users.map((_, u) => { let n = 0; for (let s = 0; s < NS; s++) if (can(u, s)) n++; return n; });
const secretCount = new Uint32Array(NS);
for (let u = 0; u < NU; u++) for (let s = 0; s < NS; s++) if (can(u, s)) secretCount[s]++;
const collapsed = new Set();
let users = [], rows = [];
const $ = id => document.getElementById(id);
$("title").textContent = D.title;
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  $("fu").value = p.get("user") || "";
  $("fs").value = p.get("secret") || "";
  $("only").checked = p.get("only") === "1";
}
function writeHash() {
  const p = new URLSearchParams();
  if ($("fu").value) p.set("user", $("fu").value);
  if ($("fs").value) p.set("secret", $("fs").value);
  if ($("only").checked) p.set("only", "1");
  history.replaceState(null, "", "#" + p.toString());
}
function rule(u, s) {
  const r = dec[u][s], user = D.users[u];
  const head = user.n + " \u2192 " + D.ids[s] + ": ";
  if (r === 0) return head + "denied, no rule matches (default deny)";
  const [line, allow, pattern] = user.r[r - 1];
  return head + (allow ? "may read" : "denied") + " by " + user.f + ":" + line + " " + (allow ? "" : "!") + pattern;
}
function filter() {
  const fu = $("fu").value.trim(), fs = $("fs").value.trim(), only = $("only").checked;
  users = [];
  for (let u = 0; u < NU; u++) if (D.users[u].n.includes(fu)) users.push(u);
  rows = [];
  let shown = 0, grants = 0, lastFolder = -1, folderRow = null;
  for (let s = 0; s < NS; s++) {
    if (!D.ids[s].includes(fs)) continue;
    let n = 0;
    for (const u of users) if (can(u, s)) n++;
    if (only && n === 0) continue;
    shown++; grants += n;
    const f = D.sf[s];
    if (f !== lastFolder) { folderRow = { folder: f, count: 0, readers: 0 }; rows.push(folderRow); lastFolder = f; }
    folderRow.count++; folderRow.readers += n;
    if (!collapsed.has(f)) rows.push({ secret: s, readers: n });
  }
  $("status").textContent = "showing " + shown + " of " + NS + " secrets \u00d7 " + users.length + " of " + NU + " users; " + grants + " grants";
  $("status").dataset.secrets = shown; $("status").dataset.users = users.length; $("status").dataset.grants = grants;
  const heads = $("heads");
  while (heads.children.length > 1) heads.lastChild.remove();
  for (const u of users) {
    const h = document.createElement("div");
    h.className = "uh"; h.dataset.user = D.users[u].n;
    h.title = D.users[u].n + " (" + D.users[u].f + "): may read " + userCount[u] + " of " + NS + " secrets";
    const name = document.createElement("span"); name.textContent = D.users[u].n;
    const count = document.createElement("b"); count.className = "uc"; count.textContent = userCount[u];
    h.append(name, count); heads.append(h);
  }
  $("corner").textContent = NS + " secrets, " + NU + " users";
  const body = $("body");
  body.style.height = rows.length * ROW + "px";
  body.style.width = "calc(var(--left) + " + users.length * CELL + "px)";
  heads.style.width = body.style.width;
  render(true);
}
let drawn = "";
function render(force) {
  const grid = $("grid"), body = $("body");
  const top = Math.max(0, grid.scrollTop - 120), h = grid.clientHeight || 800;
  const first = Math.max(0, Math.floor(top / ROW) - 10), last = Math.min(rows.length, Math.ceil((top + h) / ROW) + 10);
  const key = first + ":" + last;
  if (!force && key === drawn) return;
  drawn = key;
  const frag = document.createDocumentFragment();
  for (let i = first; i < last; i++) {
    const r = rows[i], div = document.createElement("div");
    div.style.top = i * ROW + "px";
    const label = document.createElement("div"); label.className = "label";
    const n = document.createElement("span"); n.className = "n";
    if (r.secret === undefined) {
      div.className = "row folder"; div.dataset.folder = D.folders[r.folder];
      label.textContent = (collapsed.has(r.folder) ? "\u25b8 " : "\u25be ") + (D.folders[r.folder] || "(top level)") + "/";
      n.textContent = r.count + " secrets";
      label.append(n);
      label.onclick = () => { collapsed.has(r.folder) ? collapsed.delete(r.folder) : collapsed.add(r.folder); filter(); };
      div.append(label);
    } else {
      const s = r.secret;
      div.className = "row secret"; div.dataset.id = D.ids[s];
      const id = document.createElement("span"); id.textContent = D.ids[s].slice(D.ids[s].lastIndexOf("/") + 1);
      label.title = D.ids[s] + " (Secret " + D.names[s] + "): " + secretCount[s] + " of " + NU + " users may read it";
      n.className = "n sc"; n.textContent = r.readers;
      label.append(id, n); div.append(label);
      for (const u of users) {
        const c = document.createElement("span");
        const d = dec[u][s];
        c.className = "c " + (d === 0 ? "n" : can(u, s) ? "y" : "x");
        c.dataset.user = D.users[u].n;
        c.title = rule(u, s);
        div.append(c);
      }
    }
    frag.append(div);
  }
  body.replaceChildren(frag);
}
$("grid").addEventListener("scroll", () => render(false), { passive: true });
window.addEventListener("resize", () => render(true));
for (const id of ["fu", "fs", "only"]) $(id).addEventListener("input", () => { writeHash(); filter(); });
window.addEventListener("hashchange", () => { readHash(); filter(); });
readHash();
filter();
document.body.dataset.ready = "1";
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::model::{build, test_files};

    #[test]
    fn runs_compress_deciders_in_page_order() {
        assert_eq!(
            runs(&[1, 1, 0, 2, 2, 2], &[0, 1, 2, 3, 4, 5]),
            [1, 2, 0, 1, 2, 3]
        );
        assert_eq!(runs(&[1, 0, 1], &[0, 2, 1]), [1, 2, 0, 1]);
        assert!(runs(&[], &[]).is_empty());
    }

    #[test]
    fn data_cannot_close_the_script_and_names_stay_text() {
        let files = test_files(
            &[
                ("kvstore/a/x", "k: SENTINEL-report\n"),
                ("kvstore/b", "k: v\n"),
            ],
            &[("access_control/alice", "a/**\n!b\n")],
        );
        let (vault, _) = build(&files, "ns", &crate::review::load::keys_only);
        let page = page(&vault, "</title><script>alert(1)</script>");
        assert!(!page.contains("SENTINEL-report"));
        assert!(!page.contains("<script>alert"), "{page}");
        let json = data(&vault, "x</script>");
        assert!(!json.contains('<'));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["ids"], serde_json::json!(["b", "a/x"]));
        assert_eq!(v["folders"], serde_json::json!(["", "a"]));
        // alice: b decided by rule 2 (deny), a/x by rule 1.
        assert_eq!(v["users"][0]["d"], serde_json::json!([2, 1, 1, 1]));
    }
}
