//! The node's modules point one way (docs/architecture.md): no module imports one that imports
//! it back, and the layers below never reach up. Read from the source, so a change that bends a
//! layer fails here, not in review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`domain::statuses`) to its source with comments and unit tests removed.
fn modules() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().with_extension("");
                let mut name = rel.to_string_lossy().replace('/', "::");
                if name == "lib" || name == "main" {
                    name = String::new();
                } else if let Some(parent) = name.strip_suffix("::mod") {
                    name = parent.to_string();
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                let code: String = code
                    .lines()
                    .map(|l| l.split("//").next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n");
                out.insert(name, code);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every `a::b::c` path in `code` (only lower-case segments: modules, not types).
fn paths(code: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts =
            is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':'));
        if !starts {
            i += 1;
            continue;
        }
        let begin = i;
        let mut segments = Vec::new();
        loop {
            let s = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let seg: String = chars[s..i].iter().collect();
            if seg.is_empty() || seg.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                break;
            }
            segments.push(seg);
            if i + 1 < chars.len() && chars[i] == ':' && chars[i + 1] == ':' {
                i += 2;
            } else {
                break;
            }
        }
        if segments.len() > 1 {
            out.push((segments.join("::"), begin));
        }
        i = i.max(begin + 1);
    }
    out
}

/// Which modules each module refers to.
fn graph(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<&str> = mods.keys().map(String::as_str).collect();
    let longest = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("::"))
            .find(|m| known.contains(m.as_str()))
    };
    let mut g = BTreeMap::new();
    for (name, code) in mods.iter().filter(|(n, _)| !n.is_empty()) {
        let parent = name.rsplit_once("::").map(|(p, _)| p).unwrap_or("");
        let mut targets = BTreeSet::new();
        for (path, _) in paths(code) {
            let absolute = if let Some(rest) = path.strip_prefix("crate::") {
                rest.to_string()
            } else if let Some(rest) = path.strip_prefix("super::") {
                if parent.is_empty() {
                    rest.to_string()
                } else {
                    format!("{parent}::{rest}")
                }
            } else if path.starts_with("self::") || path.starts_with("std::") {
                continue;
            } else {
                // A child module named from its parent (`events::Hub` in domain/mod.rs).
                let first = path.split("::").next().unwrap_or("");
                if name.is_empty() || !known.contains(format!("{name}::{first}").as_str()) {
                    continue;
                }
                format!("{name}::{path}")
            };
            if let Some(t) = longest(&absolute) {
                if t != *name && !name.starts_with(&format!("{t}::")) {
                    targets.insert(t);
                }
            }
        }
        g.insert(name.clone(), targets);
    }
    g
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        let g = s.g;
        for w in &g[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let g = graph(&modules());
    assert!(
        g.contains_key("domain::audience") && g["domain::statuses"].contains("store::statuses")
    );
    let found = cycles(&g);
    assert!(found.is_empty(), "import cycles: {found:#?}");
}

#[test]
fn lower_layers_do_not_reach_up() {
    let g = graph(&modules());
    let layer = |m: &str| m.split("::").next().unwrap_or("").to_string();
    // What each layer may not name. The store and convert may name the audience module's
    // `Scope` (a leaf value type that rows carry); nothing else of the domain.
    let forbidden: &[(&str, &[&str])] = &[
        (
            "config",
            &["domain", "store", "http", "jobs", "convert", "net"],
        ),
        (
            "names",
            &["domain", "store", "http", "jobs", "convert", "config"],
        ),
        ("store", &["domain", "http", "jobs", "convert"]),
        ("convert", &["domain", "http", "jobs"]),
        ("domain", &["http", "jobs", "cli", "server"]),
        ("jobs", &["http", "cli", "server"]),
    ];
    let mut bad = Vec::new();
    for (from, targets) in &g {
        for (l, refused) in forbidden {
            if layer(from) != *l {
                continue;
            }
            for t in targets {
                if t == "domain::audience" && (*l == "store" || *l == "convert") {
                    continue;
                }
                if refused.contains(&layer(t).as_str()) {
                    bad.push(format!("{from} -> {t}"));
                }
            }
        }
    }
    assert!(
        g["domain::audience"].is_empty(),
        "audience is a leaf: {:?}",
        g["domain::audience"]
    );
    assert!(bad.is_empty(), "layers reaching up: {bad:#?}");
}

#[test]
fn the_domain_returns_views_and_never_renders_mastodon_json() {
    // The domain fills the view types of `convert::views`; only handlers call the renderer.
    let g = graph(&modules());
    assert!(g.contains_key("convert::views") && g.contains_key("convert::mastodon"));
    let bad: Vec<String> = g
        .iter()
        .filter(|(from, _)| from.starts_with("domain") || from.starts_with("jobs"))
        .filter(|(_, targets)| targets.contains("convert::mastodon"))
        .map(|(from, _)| format!("{from} -> convert::mastodon"))
        .collect();
    assert!(bad.is_empty(), "rendering below the handlers: {bad:#?}");
    assert!(
        g["convert::views"].iter().all(|t| t.starts_with("store::")),
        "views are plain data over store rows: {:?}",
        g["convert::views"]
    );
}

/// `code` with comments and the contents of string and char literals blanked out (newlines
/// kept, so offsets and line numbers stay those of the file).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !is_ident(chars[i - 1]))
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            while j < chars.len() && chars[j] == '#' {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let rest: String = chars[j + 1..].iter().collect();
            let len = rest
                .find(&close)
                .map(|n| rest[..n].chars().count())
                .unwrap_or(chars.len() - j - 1);
            let stop = (j + 1 + len + close.len()).min(chars.len());
            out.extend(chars[i..stop].iter().map(|c| blank(*c)));
            i = j + 1 + len + close.len();
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A char literal ('"', '\''), not a lifetime.
            out.push(' ');
            i += 1;
            if chars.get(i) == Some(&'\\') {
                out.push_str("  ");
                i += 2;
            }
            while i < chars.len() && chars[i] != '\'' {
                out.push(blank(chars[i]));
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Where `code` reaches the store itself: `….store.method(` (also split over lines), a store
/// bound to a name (`let s = &node.store;`) or a name `store` used as one (`store.method(`).
/// Handing the store to a domain function (`domain::f(&node.store, …)`) is not reaching it.
/// Line numbers (from 1) with the offending line.
fn store_reaches(text: &str) -> Vec<(usize, String)> {
    let code = code_only(text);
    let chars: Vec<char> = code.chars().collect();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let word: Vec<char> = "store".chars().collect();
    let mut i = 0;
    while i + word.len() <= chars.len() {
        let end = i + word.len();
        let is_word = chars[i..end] == word[..]
            && (i == 0 || !is_ident(chars[i - 1]))
            && (end == chars.len() || !is_ident(chars[end]));
        let path_segment = (i >= 2 && chars[i - 1] == ':' && chars[i - 2] == ':')
            || (chars.get(end) == Some(&':') && chars.get(end + 1) == Some(&':'));
        if !is_word || path_segment {
            i += 1;
            continue;
        }
        let before = chars[..i].iter().rev().find(|c| !c.is_whitespace());
        let after = chars[end..].iter().find(|c| !c.is_whitespace());
        let reaches = match (before, after) {
            // A field of a node or state: only as an argument.
            (Some('.'), after) => !matches!(after, Some(',') | Some(')')),
            // A local named `store`, used as one.
            (_, Some('.')) => true,
            _ => false,
        };
        if reaches {
            let line = chars[..i].iter().filter(|c| **c == '\n').count();
            // The call as written, joined when it spans lines: `.store.notification(`.
            let call: String = chars[i.saturating_sub(1)..]
                .iter()
                .take_while(|c| !matches!(c, '(' | ';' | ','))
                .take(120)
                .filter(|c| !c.is_whitespace())
                .collect();
            let source = lines.get(line).map(|l| l.trim()).unwrap_or_default();
            out.push((line + 1, format!("{source}  [{call}]")));
        }
        i = end;
    }
    out
}

#[test]
fn the_store_scan_finds_what_it_should() {
    let found = |s: &str| store_reaches(s).len();
    assert_eq!(
        found("let n = state.node.store.count_local_accounts().await?;"),
        1
    );
    assert_eq!(
        found("let r = state\n    .node\n    .store\n    .notification(a, b)\n"),
        1
    );
    assert_eq!(
        found("let store = &state.node.store;\nstore.app_by_id(1).await"),
        2
    );
    assert_eq!(found("let s = state.node.store.clone();"), 1);
    assert_eq!(
        found("accounts::find_local(&state.node.store, name).await"),
        0
    );
    assert_eq!(found("media::upload(\n    &state.node.store,\n    dir)"), 0);
    assert_eq!(
        found("use crate::store::oauth::AppRow; crate::store::now_millis()"),
        0
    );
    assert_eq!(
        found("// state.node.store.markers(me.id)\n/* node.store.x() */"),
        0
    );
    assert_eq!(found(r#"let m = "the .store.x() of it"; let c = '"';"#), 0);
    assert_eq!(found(r#"let q = '\''; let m = "node.store.z()";"#), 0);
    assert_eq!(found(r##"let m = r#"node.store.y()"#;"##), 0);
}

/// Handlers parse, authenticate, call the domain and render (docs/architecture.md): no file
/// under `src/http/` calls a store method or holds the store, comments and tests aside.
#[test]
fn handlers_never_call_the_store() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/http is readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&manifest.join("src/http"), &mut files);
    files.sort();
    assert!(files.len() > 10, "src/http has its handlers: {files:?}");
    let mut bad = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let rel = path.strip_prefix(manifest).unwrap().display().to_string();
        for (line, source) in store_reaches(text) {
            bad.push(format!("{rel}:{line}: {source}"));
        }
    }
    assert!(
        bad.is_empty(),
        "handlers reaching the store (call a function of src/domain/ instead, which returns \
         rows or views for convert/ to render):\n{}",
        bad.join("\n")
    );
}
