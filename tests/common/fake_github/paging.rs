//! GitHub's page-number pagination: `per_page` (default 30, at most 100) and
//! `page`, with a `Link` header of absolute URLs (prefix included) in
//! GitHub's order: prev, next, last, first.

use serde_json::Value;

use super::shapes::Ctx;

pub(super) struct PageRequest<'a> {
    /// Path after the prefix, as the client sent it (still encoded).
    pub raw_path: &'a str,
    pub query: &'a [(String, String)],
}

pub(super) struct Page {
    pub items: Vec<Value>,
    pub link: Option<String>,
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn per_page(query: &[(String, String)]) -> usize {
    match param(query, "per_page").and_then(|v| v.parse::<usize>().ok()) {
        Some(0) | None => 30,
        Some(n) => n.min(100),
    }
}

pub(super) fn paginate(cx: &Ctx, req: &PageRequest<'_>, items: Vec<Value>) -> Page {
    let size = per_page(req.query);
    let page = param(req.query, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    let last = items.len().div_ceil(size).max(1);
    let items: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    let url = |p: usize| page_url(cx, req, p);
    let mut rels = Vec::new();
    if page > 1 {
        rels.push(format!("<{}>; rel=\"prev\"", url(page.min(last + 1) - 1)));
    }
    if page < last {
        rels.push(format!("<{}>; rel=\"next\"", url(page + 1)));
        rels.push(format!("<{}>; rel=\"last\"", url(last)));
    }
    if page > 1 {
        rels.push(format!("<{}>; rel=\"first\"", url(1)));
    }
    Page {
        items,
        link: (!rels.is_empty()).then(|| rels.join(", ")),
    }
}

/// The request's own URL with `page` replaced; every other parameter kept in
/// the order the client sent it.
fn page_url(cx: &Ctx, req: &PageRequest<'_>, page: usize) -> String {
    let mut pairs: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    pairs.push(format!("page={page}"));
    format!("{}{}?{}", cx.api, req.raw_path, pairs.join("&"))
}

pub(super) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
