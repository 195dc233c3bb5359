//! The crate's layering, checked on its source (STYLE rules 1 and 7):
//!
//! - the top-level module graph of `src/` has no cycle: module `a` depends on `b` when a file of
//!   `a` (`src/a.rs` or `src/a/**`) names a `crate::b` path (a `use`, an expression, a type, or
//!   inside a macro call), outside `#[cfg(test)]` items, where tests may reach anywhere;
//! - only `src/ui/` imports the GUI crates (egui, eframe, egui_plot, rfd).
//!
//! The files are parsed with `syn`, so comments, strings and doc text never count as imports.
//! `/work/shared/tools/module-cycles.py` prints the same graph's cycles from a shell.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::{self, Visit};

/// Crates only the GUI may import.
const GUI_CRATES: [&str; 4] = ["egui", "eframe", "egui_plot", "rfd"];

/// What one file names: the top-level modules of `crate::…` paths and the first segment of
/// every other path (which is where an external crate's name appears).
#[derive(Debug, Default, PartialEq)]
struct Names {
    modules: BTreeSet<String>,
    roots: BTreeSet<String>,
}

impl Names {
    fn add(&mut self, segments: &[String]) {
        match segments {
            [first, module, ..] if first == "crate" => {
                self.modules.insert(module.clone());
            }
            [first, ..] if first != "crate" && first != "self" && first != "super" => {
                self.roots.insert(first.clone());
            }
            _ => {}
        }
    }

    /// `a :: b :: c` sequences of identifiers in a macro's tokens (`format!("{}", egui::X)`,
    /// `matches!(e, crate::events::Event::A)`), recursively into groups.
    fn add_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        use proc_macro2::TokenTree;
        let mut path: Vec<String> = Vec::new();
        let mut colons = 0;
        for token in tokens {
            match token {
                TokenTree::Ident(ident) if path.is_empty() || colons == 2 => {
                    path.push(ident.to_string());
                    colons = 0;
                }
                TokenTree::Punct(p) if p.as_char() == ':' && !path.is_empty() && colons < 2 => {
                    colons += 1;
                }
                other => {
                    self.flush(&mut path);
                    colons = 0;
                    match other {
                        TokenTree::Group(group) => self.add_tokens(group.stream()),
                        TokenTree::Ident(ident) => path.push(ident.to_string()),
                        _ => {}
                    }
                }
            }
        }
        self.flush(&mut path);
    }

    /// Records a path of at least two segments (a lone identifier is not a path).
    fn flush(&mut self, path: &mut Vec<String>) {
        if path.len() > 1 {
            self.add(path);
        }
        path.clear();
    }
}

/// Whether an item carries `#[cfg(test)]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

/// The attributes of the items that can carry `#[cfg(test)]` here.
fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Mod(m) => &m.attrs,
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Use(u) => &u.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Struct(s) => &s.attrs,
        syn::Item::Enum(e) => &e.attrs,
        syn::Item::Const(c) => &c.attrs,
        syn::Item::Static(s) => &s.attrs,
        syn::Item::Trait(t) => &t.attrs,
        _ => &[],
    }
}

/// The paths of a `use` tree, each as its list of segments (`use crate::{a, b::c}` gives
/// `crate::a` and `crate::b::c`).
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push([prefix.as_slice(), &[n.ident.to_string()]].concat()),
        syn::UseTree::Rename(r) => out.push([prefix.as_slice(), &[r.ident.to_string()]].concat()),
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_paths(t, prefix, out)),
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&item.tree, &mut Vec::new(), &mut paths);
        for path in paths {
            self.add(&path);
        }
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        self.roots.insert(item.ident.to_string());
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.add(&segments);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.add_tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }
}

/// What a Rust source text names (outside `#[cfg(test)]` items).
fn names_in(source: &str) -> Result<Names, syn::Error> {
    let file = syn::parse_file(source)?;
    let mut names = Names::default();
    names.visit_file(&file);
    Ok(names)
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A module graph: each module's dependencies, with the first file that creates each edge.
type Graph = BTreeMap<String, BTreeMap<String, PathBuf>>;

/// The top-level module graph of `src` (`src/x.rs` and `src/x/**` are module `x`; `lib.rs` and
/// `main.rs`, which declare and run everything, are left out).
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = top.strip_suffix(".rs").unwrap_or(&top).to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let names = names_in(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let deps = graph.entry(module.clone()).or_default();
        for dep in names.modules {
            if dep != module {
                deps.entry(dep)
                    .or_insert_with(|| Path::new("src").join(rel));
            }
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d, _| known.contains(d));
    }
    graph
}

/// The shortest path of dependencies from `from` back to `to`, if there is one.
fn shortest_path(graph: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(node).into_iter().flat_map(|d| d.keys()) {
            if next == to {
                let mut path = vec![to.to_owned(), node.to_owned()];
                let mut at = node;
                while at != from {
                    at = previous[at];
                    path.push(at.to_owned());
                }
                path.reverse();
                return Some(path);
            }
            if next != from && !previous.contains_key(next.as_str()) {
                previous.insert(next.as_str(), node);
                queue.push_back(next.as_str());
            }
        }
    }
    None
}

/// One shortest cycle through each module that lies on one, each described with the file
/// behind every step (`train → worker (src/train/trainer.rs) → train (src/worker/mod.rs)`),
/// without repeating a cycle already listed.
fn cycles(graph: &Graph) -> Vec<String> {
    let mut seen: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    let mut found = Vec::new();
    for module in graph.keys() {
        let Some(path) = shortest_path(graph, module, module) else {
            continue;
        };
        let members: BTreeSet<String> = path.iter().cloned().collect();
        if !seen.insert(members) {
            continue;
        }
        let steps: Vec<String> = path
            .windows(2)
            .map(|w| format!("{} ({})", w[1], graph[&w[0]][&w[1]].display()))
            .collect();
        found.push(format!("{} → {}", path[0], steps.join(" → ")));
    }
    found
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = module_graph(&src_dir());
    assert!(graph.len() > 10, "modules found: {:?}", graph.keys());
    assert!(
        graph["train"].contains_key("model"),
        "the graph sees the trainer's imports"
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "module cycles (a module never imports one above it):\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_ui_imports_the_gui_crates() {
    let src = src_dir();
    let mut offenders = Vec::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap().to_owned();
        if rel.starts_with("ui") {
            continue;
        }
        let names = names_in(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let gui: Vec<&str> = GUI_CRATES
            .into_iter()
            .filter(|c| names.roots.contains(*c))
            .collect();
        if !gui.is_empty() {
            offenders.push(format!("src/{} imports {}", rel.display(), gui.join(", ")));
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

// The checks themselves can fail: they see what they must and ignore what they must.

#[test]
fn names_come_from_uses_paths_and_macros_but_not_tests_comments_or_strings() {
    let names = names_in(
        r#"
        //! Uses crate::docs and egui::Context only in prose.
        use crate::{alpha, beta::Thing};
        use egui_plot::Line as L;
        fn f() -> crate::gamma::T {
            let s = "crate::strings";
            println!("{}", crate::delta::f(rfd::FileDialog::new()));
            crate::epsilon::g()
        }
        #[cfg(test)]
        mod tests {
            use crate::zeta;
            use eframe::App;
        }
        "#,
    )
    .unwrap();
    let modules: Vec<&str> = names.modules.iter().map(String::as_str).collect();
    assert_eq!(modules, ["alpha", "beta", "delta", "epsilon", "gamma"]);
    assert!(names.roots.contains("egui_plot") && names.roots.contains("rfd"));
    assert!(!names.roots.contains("egui") && !names.roots.contains("eframe"));
}

#[test]
fn a_cycle_is_found_and_named_with_its_files() {
    let edge = |to: &str, file: &str| (to.to_owned(), PathBuf::from(file));
    let mut graph = Graph::new();
    graph.insert(
        "train".into(),
        BTreeMap::from([edge("worker", "train/trainer.rs")]),
    );
    graph.insert(
        "worker".into(),
        BTreeMap::from([edge("runs", "worker/mod.rs")]),
    );
    graph.insert(
        "runs".into(),
        BTreeMap::from([edge("train", "runs/mod.rs")]),
    );
    graph.insert("data".into(), BTreeMap::new());
    assert_eq!(
        cycles(&graph),
        ["runs → train (runs/mod.rs) → worker (train/trainer.rs) → runs (worker/mod.rs)"]
    );
    graph.get_mut("runs").unwrap().clear();
    assert!(cycles(&graph).is_empty());
}
