//! The layers of `src/` against ARCHITECTURE.md: every module may import only what the
//! note's table allows, and nothing imports in a circle — neither between layers nor between
//! the files of one layer.
//!
//! The rules are read from the table in ARCHITECTURE.md, so the note and this test cannot
//! drift apart. Imports are every `crate::…` and `super::…` path in the code of each file
//! (comments and string literals left out), `use` lines and inline paths alike, including
//! grouped `use crate::{a, b}` trees; `super` is resolved against the file's module and the
//! inline modules it sits in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One import: from a module to a path below the crate root.
#[derive(Debug, Clone)]
struct Import {
    /// The file it is in, relative to the crate root (`src/bundle/mod.rs`).
    file: String,
    /// Its line.
    line: usize,
    /// The module path it names, from the crate root (`["mapping", "spec", "Conversion"]`).
    path: Vec<String>,
}

/// The modules of the library, each a file: `src/lib.rs` is `[]`, `src/a/mod.rs` and
/// `src/a.rs` are `["a"]`, `src/a/b.rs` is `["a", "b"]`.
fn module_of(file: &str) -> Vec<String> {
    let rel = file.strip_prefix("src/").unwrap_or(file);
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a Rust file with comments, string and character literals blanked out (line
/// breaks kept, so line numbers stay right).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            // A raw string r"…" or r#"…"#: find its closing quote and hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < b.len() {
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(b[i..j.min(b.len())].iter().map(|c| blank(*c)));
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                j += if b[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            out.extend(b[i..end].iter().map(|c| blank(*c)));
            i = end;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1}') is blanked; a lifetime ('a) is kept.
            let end = if next == Some('\\') {
                (i + 2..b.len()).find(|&j| b[j] == '\'').map(|j| j + 1)
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.extend(b[i..end].iter().map(|c| blank(*c)));
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `crate::` and `super::` path in `code`, resolved from the module `file` is.
fn imports_of(file: &str, text: &str) -> Vec<Import> {
    let code = code_only(text);
    let chars: Vec<char> = code.chars().collect();
    let base = module_of(file);
    // Inline modules (`mod tests { … }`) the cursor is in, with the brace depth they close at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut line = 1;
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => line += 1,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            _ => {}
        }
        if !is_ident(c) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let word: String = chars[i..].iter().take_while(|c| is_ident(**c)).collect();
        let after = i + word.chars().count();
        if word == "mod" {
            let rest: String = chars[after..].iter().collect();
            let rest = rest.trim_start();
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !name.is_empty() && rest[name.len()..].trim_start().starts_with('{') {
                inline.push((name, depth));
            }
        }
        if word == "crate" || word == "super" {
            let mut here = base.clone();
            here.extend(inline.iter().map(|(n, _)| n.clone()));
            for tree in path_trees(&chars[i..]) {
                if let Some(path) = resolve(&here, &tree) {
                    out.push(Import {
                        file: file.to_string(),
                        line,
                        path,
                    });
                }
            }
        }
        i = after;
    }
    out
}

/// The paths a `crate::…`/`super::…` expression starting at `s` names: one, or several for a
/// grouped `use` tree (`crate::{a::B, c}`), each as its segments (`["crate", "a", "B"]`).
fn path_trees(s: &[char]) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    let mut i = 0;
    loop {
        let word: String = s[i..].iter().take_while(|c| is_ident(**c)).collect();
        if word.is_empty() {
            break;
        }
        i += word.chars().count();
        segments.push(word);
        let rest: String = s[i..].iter().take(2).collect();
        if rest != "::" {
            return vec![segments];
        }
        i += 2;
        while s.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if s.get(i) == Some(&'{') {
            return group(&s[i + 1..])
                .into_iter()
                .map(|tail| segments.iter().cloned().chain(tail).collect())
                .collect();
        }
    }
    vec![segments]
}

/// The first segment of each entry of a `{a::b, c, d::{e}}` group (enough to find the module).
fn group(s: &[char]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect = true;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expect = true,
            c if expect && depth == 0 && is_ident(c) => {
                let tree = path_trees(&s[i..]);
                let len: usize = tree
                    .first()
                    .map(|t| t.iter().map(|w| w.chars().count() + 2).sum::<usize>())
                    .unwrap_or(1);
                out.extend(tree);
                expect = false;
                i += len.saturating_sub(2).max(1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// A path's segments below the crate root, from module `here`; `None` for paths that name
/// nothing below it (`crate` alone, `super::*` at the root).
fn resolve(here: &[String], segments: &[String]) -> Option<Vec<String>> {
    let mut at: Vec<String> = here.to_vec();
    let mut rest = segments;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            at.clear();
            rest = &rest[1..];
        }
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                at.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    // `pub(super)`, `use super::*`: no path below the module named.
    if rest.is_empty() {
        return None;
    }
    at.extend(rest.iter().filter(|s| *s != "self").cloned());
    (!at.is_empty()).then_some(at)
}

/// The allowed imports: module → the modules it may import, from ARCHITECTURE.md's table.
fn rules(note: &str) -> BTreeMap<String, BTreeSet<String>> {
    let start = note
        .find("## What each layer may import")
        .expect("ARCHITECTURE.md has a section `## What each layer may import`");
    let mut rules = BTreeMap::new();
    for row in note[start..].lines().skip(1) {
        if row.starts_with("## ") {
            break;
        }
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let module = cells[1].trim_matches('`').to_string();
        let allowed = cells[3]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        rules.insert(module, allowed);
    }
    rules
}

/// Every `.rs` file of the library, as `(src/… path, text)`.
fn library_files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("src")];
    let binary = binary_files(root);
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p: PathBuf = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                // The binary: it uses the library through `sharc::`, never `crate::`.
                if !binary.contains(&rel) {
                    out.push((rel, std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
    }
    out.sort();
    out
}

/// The binary's files: `src/main.rs` and the modules it declares (`mod cli;`).
fn binary_files(root: &Path) -> BTreeSet<String> {
    let main = std::fs::read_to_string(root.join("src/main.rs")).unwrap();
    let mut files: BTreeSet<String> = main
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod ")?.strip_suffix(';'))
        .map(|m| format!("src/{m}.rs"))
        .collect();
    files.insert("src/main.rs".into());
    files
}

/// A circle in `edges`, as the nodes on it, when there is one.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut c = stack[from..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// Everything wrong with `files` against `rules`, one line each.
fn problems(files: &[(String, String)], rules: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut found = Vec::new();
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|(f, _)| (module_of(f), f.clone()))
        .collect();
    let layers: BTreeSet<String> = modules.keys().filter_map(|m| m.first().cloned()).collect();
    for layer in &layers {
        if !rules.contains_key(layer) {
            found.push(format!(
                "src/{layer}: not in ARCHITECTURE.md's table; add a row saying what it may import"
            ));
        }
    }
    let mut layer_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut file_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in files {
        let from = module_of(file);
        for import in imports_of(file, text) {
            // The deepest module file the path names.
            let target = (1..=import.path.len())
                .rev()
                .map(|n| import.path[..n].to_vec())
                .find(|m| modules.contains_key(m));
            let Some(target) = target else { continue };
            let (Some(a), Some(b)) = (from.first(), target.first()) else {
                continue;
            };
            if a != b {
                layer_edges.entry(a.clone()).or_default().insert(b.clone());
                if !rules.get(a).is_some_and(|allowed| allowed.contains(b)) {
                    found.push(format!(
                        "{}:{}: `{a}` imports `{}`, and ARCHITECTURE.md does not let `{a}` import `{b}`",
                        import.file,
                        import.line,
                        import.path.join("::")
                    ));
                }
            }
            // A module file declaring or re-exporting its own children is not an import.
            if !target.starts_with(&from) {
                file_edges
                    .entry(file.clone())
                    .or_default()
                    .insert(modules[&target].clone());
            }
        }
    }
    if let Some(c) = circle(&layer_edges) {
        found.push(format!(
            "layers import each other in a circle: {}",
            c.join(" -> ")
        ));
    }
    if let Some(c) = circle(&file_edges) {
        found.push(format!(
            "files import each other in a circle: {}",
            c.join(" -> ")
        ));
    }
    found
}

fn note() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md")
}

#[test]
fn every_import_follows_the_architecture_note_and_nothing_is_circular() {
    let files = library_files(Path::new(env!("CARGO_MANIFEST_DIR")));
    let found = problems(&files, &rules(&note()));
    assert!(found.is_empty(), "\n{}\n", found.join("\n"));
}

#[test]
fn the_table_itself_is_layered() {
    let rules = rules(&note());
    assert!(rules.len() >= 10, "{rules:?}");
    for (module, allowed) in &rules {
        for m in allowed {
            assert!(
                rules.contains_key(m),
                "`{module}` may import `{m}`, which has no row"
            );
        }
    }
    assert_eq!(circle(&rules), None, "the table allows a circle");
}

#[test]
fn nothing_below_the_binary_knows_clap() {
    for (file, text) in library_files(Path::new(env!("CARGO_MANIFEST_DIR"))) {
        let code = code_only(&text);
        assert!(
            !code.split(|c: char| !is_ident(c)).any(|w| w == "clap"),
            "{file} uses clap; command-line types stop at src/cli.rs"
        );
    }
}

/// The checks on made-up trees, so each kind of mistake is seen to be caught.
mod the_checks_catch {
    use super::*;

    fn rules() -> BTreeMap<String, BTreeSet<String>> {
        let table = "## What each layer may import\n\n| module | what | may import |\n|---|---|---|\n| `app` | glue | `mapping`, `bundle` |\n| `mapping` | maps | `bundle` |\n| `bundle` | bags | — |\n";
        super::rules(table)
    }

    fn tree(files: &[(&str, &str)]) -> Vec<(String, String)> {
        files
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn an_import_that_runs_back_up() {
        let files = tree(&[
            ("src/app/mod.rs", "use crate::mapping::Mapping;"),
            ("src/mapping/mod.rs", "pub struct Mapping;"),
            (
                "src/bundle/writer.rs",
                "fn f() {\n    let m = crate::mapping::Mapping;\n}",
            ),
        ]);
        let found = problems(&files, &rules());
        assert!(
            found[0].starts_with("src/bundle/writer.rs:2: `bundle` imports `mapping::Mapping`"),
            "{found:?}"
        );
    }

    #[test]
    fn grouped_and_super_paths() {
        let files = tree(&[
            (
                "src/bundle/mod.rs",
                "use crate::{fixity, mapping::Mapping};",
            ),
            (
                "src/bundle/zip/reader.rs",
                "use super::super::super::app::X;",
            ),
            ("src/mapping/mod.rs", ""),
            ("src/app/mod.rs", ""),
        ]);
        let found = problems(&files, &rules());
        assert!(
            found
                .iter()
                .any(|f| f.contains("`bundle` imports `mapping::Mapping`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("`bundle` imports `app::X`")),
            "{found:?}"
        );
    }

    #[test]
    fn comments_strings_and_test_modules_read_right() {
        let files = tree(&[
            (
                "src/bundle/mod.rs",
                "// crate::mapping::X\nconst S: &str = \"crate::mapping::Y\";\nconst C: char = '\"';\n/* crate::app */\nmod tests { use super::Thing; }",
            ),
            ("src/mapping/mod.rs", ""),
            ("src/app/mod.rs", ""),
        ]);
        assert_eq!(problems(&files, &rules()), Vec::<String>::new());
    }

    #[test]
    fn a_circle_between_files_of_one_layer() {
        let files = tree(&[
            ("src/mapping/mod.rs", "mod a; mod b;"),
            ("src/mapping/a.rs", "use super::b::B;"),
            ("src/mapping/b.rs", "use crate::mapping::a::A;"),
        ]);
        let found = problems(&files, &rules());
        assert_eq!(
            found,
            [
                "files import each other in a circle: src/mapping/a.rs -> src/mapping/b.rs -> src/mapping/a.rs"
            ]
        );
    }

    #[test]
    fn a_module_missing_from_the_table() {
        let files = tree(&[("src/capture/mod.rs", "")]);
        let found = problems(&files, &rules());
        assert!(
            found[0].starts_with("src/capture: not in ARCHITECTURE.md's table"),
            "{found:?}"
        );
    }

    #[test]
    fn a_table_that_allows_a_circle() {
        let table = "## What each layer may import\n| `a` | x | `b` |\n| `b` | y | `a` |\n";
        assert!(circle(&super::rules(table)).is_some());
    }
}
