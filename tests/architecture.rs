//! The crate's layering, checked on its source (STYLE rules 1 and 7):
//!
//! - the top-level module graph of `src/` has no cycle: module `a` depends on `b` when a file of
//!   `a` (`src/a.rs` or `src/a/**`) names a `crate::b` path (a `use`, an expression, a type, or
//!   inside a macro call), outside `#[cfg(test)]` items, where tests may reach anywhere;
//! - the *file* graph has no cycle either, inside any module: file `a` depends on file `b`
//!   when `a` (outside `#[cfg(test)]` items) names a path that resolves to `b` — `crate::…`
//!   from the crate root, `self::…` and `super::…` from `a`'s module, `x::…` where `a` declares
//!   `mod x;` — to the deepest module file the path reaches (`crate::a::b::C` is `src/a/b.rs`
//!   or `src/a/b/mod.rs` when it exists, else `src/a.rs` or `src/a/mod.rs`). A `mod x;`
//!   declaration itself is not an edge. So a sub-file that imports an item back through its
//!   parent's `pub use` (`super::Item`, `crate::a::Item`) closes a circle with the parent;
//! - only `src/ui/` imports the GUI crates (egui, eframe, egui_plot, rfd).
//!
//! The files are parsed with `syn`, so comments, strings and doc text never count as imports.
//! `/work/shared/tools/module-cycles.py` prints the same graph's cycles from a shell.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::{self, Visit};

/// Crates only the GUI may import.
const GUI_CRATES: [&str; 4] = ["egui", "eframe", "egui_plot", "rfd"];

/// What one file names: the top-level modules of `crate::…` paths, the first segment of
/// every other path (which is where an external crate's name appears), every path with the
/// inline modules it is named in, and the modules the file declares (`mod x;`).
#[derive(Debug, Default, PartialEq)]
struct Names {
    modules: BTreeSet<String>,
    roots: BTreeSet<String>,
    /// `(inline modules around it, path)`, for the file graph.
    paths: BTreeSet<(Vec<String>, Vec<String>)>,
    declared: BTreeSet<String>,
    /// The inline (`mod x { … }`) modules being visited.
    scope: Vec<String>,
}

impl Names {
    fn add(&mut self, segments: &[String]) {
        self.paths.insert((self.scope.clone(), segments.to_vec()));
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

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_none() {
            if self.scope.is_empty() {
                self.declared.insert(item.ident.to_string());
            }
            return;
        }
        self.scope.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.scope.pop();
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

/// A file graph: each file's dependencies (paths relative to the crate root), with the first
/// path that creates each edge.
type FileGraph = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

/// The module path of a file relative to `src`: `a/b.rs` and `a/b/mod.rs` are `[a, b]`,
/// `lib.rs` is `[]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut module: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
        module.pop();
    }
    module
}

/// The file (relative to `src`) that holds module `module`, if it is a module file.
fn module_file(src: &Path, module: &[String]) -> Option<PathBuf> {
    if module.is_empty() {
        return Some(PathBuf::from("lib.rs"));
    }
    let dir: PathBuf = module.iter().collect();
    [dir.with_extension("rs"), dir.join("mod.rs")]
        .into_iter()
        .find(|candidate| src.join(candidate).is_file())
}

/// The file that `path`, named in the file of `module` inside its inline modules `scope`,
/// resolves to: the deepest module file the path reaches, stopping at the first segment that
/// is not one. `None` for a path that leaves the crate (an external crate, `std`) or names no
/// module (a local item, a variant).
fn resolve(
    src: &Path,
    module: &[String],
    declared: &BTreeSet<String>,
    scope: &[String],
    path: &[String],
) -> Option<PathBuf> {
    let here: Vec<String> = module.iter().chain(scope).cloned().collect();
    let absolute: Vec<String> = match path.first()?.as_str() {
        "crate" => path[1..].to_vec(),
        "self" => here.iter().chain(&path[1..]).cloned().collect(),
        "super" => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            let base = here.get(..here.len().checked_sub(ups)?)?;
            base.iter().chain(&path[ups..]).cloned().collect()
        }
        first if scope.is_empty() && declared.contains(first) => {
            module.iter().chain(path).cloned().collect()
        }
        _ => return None,
    };
    let mut file = module_file(src, &[])?;
    for depth in 1..=absolute.len() {
        match module_file(src, &absolute[..depth]) {
            Some(deeper) => file = deeper,
            None => break,
        }
    }
    Some(file)
}

/// The file graph of `src` (every `.rs` file but `main.rs`, the binary's own crate root).
fn file_graph(src: &Path) -> FileGraph {
    let mut graph = FileGraph::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).unwrap().to_owned();
        if rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let names = names_in(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let module = module_of(&rel);
        let deps = graph.entry(rel.clone()).or_default();
        for (scope, path) in &names.paths {
            if let Some(dep) = resolve(src, &module, &names.declared, scope, path) {
                if dep != rel {
                    deps.entry(dep).or_insert_with(|| path.join("::"));
                }
            }
        }
    }
    graph
}

/// The strongly connected components of more than one file (Tarjan), each sorted, in order
/// of their first file.
fn file_cycles(graph: &FileGraph) -> Vec<Vec<PathBuf>> {
    struct Tarjan<'g> {
        graph: &'g FileGraph,
        index: BTreeMap<&'g PathBuf, usize>,
        low: BTreeMap<&'g PathBuf, usize>,
        stack: Vec<&'g PathBuf>,
        on_stack: BTreeSet<&'g PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    impl<'g> Tarjan<'g> {
        fn strong(&mut self, v: &'g PathBuf) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph[v].keys().filter(|w| self.graph.contains_key(*w)) {
                if !self.index.contains_key(w) {
                    self.strong(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v) {
            tarjan.strong(v);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

/// A component as the test prints it: its files, then each edge inside it with its path.
fn describe_component(graph: &FileGraph, component: &[PathBuf]) -> String {
    let src = |f: &PathBuf| Path::new("src").join(f).display().to_string();
    let files: Vec<String> = component.iter().map(src).collect();
    let mut text = format!("{} files: {}", files.len(), files.join(", "));
    for from in component {
        for (to, path) in &graph[from] {
            if component.contains(to) {
                text.push_str(&format!("\n    {} → {} ({path})", src(from), src(to)));
            }
        }
    }
    text
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
fn no_file_imports_itself_back_through_others() {
    let src = src_dir();
    let graph = file_graph(&src);
    assert!(graph.len() > 50, "files found: {}", graph.len());
    let edge = |from: &str, to: &str| {
        graph
            .get(Path::new(from))
            .map(|d| d.contains_key(Path::new(to)))
    };
    // `use super::mlp::Mlp` and `mod protocol; use protocol::Command`: the graph sees both.
    assert_eq!(edge("model/weights.rs", "model/mlp.rs"), Some(true));
    assert_eq!(edge("worker/mod.rs", "worker/protocol.rs"), Some(true));
    let found = file_cycles(&graph);
    assert!(
        found.is_empty(),
        "file-level import cycles (a sub-file imports its siblings by their own path, \
         `super::sibling::Item`, never an item its parent re-exports):\n{}",
        found
            .iter()
            .map(|c| describe_component(&graph, c))
            .collect::<Vec<_>>()
            .join("\n")
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

/// Writes `files` (path relative to `src`, text) into a fresh crate folder and returns it.
fn synthetic_crate(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn paths_resolve_to_the_deepest_module_file_they_reach() {
    let krate = synthetic_crate(&[
        ("lib.rs", "pub mod a; pub mod b;"),
        ("a/mod.rs", "mod x;"),
        ("a/x.rs", ""),
        ("a/x/deep.rs", ""),
        ("b.rs", "mod c;"),
        ("b/c.rs", ""),
    ]);
    let src = krate.path();
    let path = |p: &str| p.split("::").map(str::to_owned).collect::<Vec<_>>();
    let module = |m: &str| module_of(Path::new(m));
    let declared = BTreeSet::from(["x".to_owned()]);
    let none = BTreeSet::new();
    let at = |file: &str, declared: &BTreeSet<String>, scope: &[&str], p: &str| {
        let scope: Vec<String> = scope.iter().map(|s| (*s).to_owned()).collect();
        resolve(src, &module(file), declared, &scope, &path(p))
    };
    let file = |f: &str| Some(PathBuf::from(f));
    assert_eq!(module("a/x/deep.rs"), ["a", "x", "deep"]);
    assert_eq!(module("a/mod.rs"), ["a"]);
    assert!(module("lib.rs").is_empty());
    // crate:: from the root, down to the deepest module file, past items and missing files.
    assert_eq!(
        at("b.rs", &none, &[], "crate::a::x::deep::Item"),
        file("a/x/deep.rs")
    );
    assert_eq!(
        at("b.rs", &none, &[], "crate::a::x::Item::new"),
        file("a/x.rs")
    );
    assert_eq!(at("b.rs", &none, &[], "crate::a::Item"), file("a/mod.rs"));
    assert_eq!(
        at("b.rs", &none, &[], "crate::a::nothing::x"),
        file("a/mod.rs")
    );
    assert_eq!(at("b/c.rs", &none, &[], "crate::Root"), file("lib.rs"));
    // super:: and self:: from the file's module; super::super:: twice.
    assert_eq!(at("a/x/deep.rs", &none, &[], "super::Item"), file("a/x.rs"));
    assert_eq!(
        at("a/x/deep.rs", &none, &[], "super::super::Item"),
        file("a/mod.rs")
    );
    assert_eq!(at("b/c.rs", &none, &[], "super::c::Item"), file("b/c.rs"));
    assert_eq!(
        at("b/c.rs", &none, &[], "super::super::a::x"),
        file("a/x.rs")
    );
    assert_eq!(at("a/mod.rs", &none, &[], "self::x::Item"), file("a/x.rs"));
    assert_eq!(at("lib.rs", &none, &[], "super::Item"), None);
    // Inside an inline module, super:: first leaves that module, within the same file.
    assert_eq!(at("b.rs", &none, &["inner"], "super::Item"), file("b.rs"));
    assert_eq!(
        at("b.rs", &none, &["inner"], "super::c::Item"),
        file("b/c.rs")
    );
    // A bare path counts when it starts with a module the file declares (`mod x;`).
    assert_eq!(at("a/mod.rs", &declared, &[], "x::Item"), file("a/x.rs"));
    assert_eq!(at("a/mod.rs", &none, &[], "x::Item"), None);
    assert_eq!(at("a/mod.rs", &declared, &[], "std::fmt::Write"), None);
}

/// A sub-file that imports an item back through its parent's re-export closes a circle (the
/// parent uses it); a plain chain does not, nor do `mod` declarations, test-only imports or
/// grouped imports that point one way.
#[test]
fn the_file_graph_finds_a_circle_through_a_parent_and_nothing_else() {
    let krate = synthetic_crate(&[
        ("lib.rs", "pub mod a; pub mod b; pub mod d;"),
        // a/mod.rs → a/x.rs (`x::X`), a/x.rs → a/y.rs (super::y), a/y.rs → a/mod.rs
        // (`super::X`, the parent's re-export): one circle of three files.
        ("a/mod.rs", "mod x; mod y; pub use x::X;"),
        ("a/x.rs", "use super::y::Y; pub struct X(Y);"),
        ("a/y.rs", "pub struct Y; pub fn f() -> super::X { todo!() }"),
        // b.rs → b/c.rs and a/x.rs and d; b/c.rs → a/mod.rs; b/c.rs's test imports b.rs.
        (
            "b.rs",
            "mod c; use c::C; use crate::{a::x::X, d::D}; pub struct B(C, X, D);",
        ),
        (
            "b/c.rs",
            "pub struct C; fn g() -> crate::a::X { todo!() }
             #[cfg(test)] mod tests { use crate::b::B; }",
        ),
        // d/mod.rs only declares e; d/e.rs uses the parent's own item: one way, no circle.
        ("d/mod.rs", "mod e; pub struct D;"),
        ("d/e.rs", "use super::D;"),
    ]);
    let graph = file_graph(krate.path());
    let deps = |f: &str| -> Vec<String> {
        graph[Path::new(f)]
            .keys()
            .map(|p| p.display().to_string())
            .collect()
    };
    assert_eq!(deps("b.rs"), ["a/x.rs", "b/c.rs", "d/mod.rs"]);
    assert_eq!(deps("b/c.rs"), ["a/mod.rs"]);
    assert!(deps("d/mod.rs").is_empty(), "`mod e;` is not an edge");
    assert_eq!(deps("d/e.rs"), ["d/mod.rs"]);
    let found = file_cycles(&graph);
    assert_eq!(
        found,
        [vec![
            PathBuf::from("a/mod.rs"),
            PathBuf::from("a/x.rs"),
            PathBuf::from("a/y.rs")
        ]]
    );
    assert_eq!(
        describe_component(&graph, &found[0]),
        "3 files: src/a/mod.rs, src/a/x.rs, src/a/y.rs\n    \
         src/a/mod.rs → src/a/x.rs (x::X)\n    \
         src/a/x.rs → src/a/y.rs (super::y::Y)\n    \
         src/a/y.rs → src/a/mod.rs (super::X)"
    );

    // With f moved beside X (y no longer imports anything back), the circle is gone.
    std::fs::write(krate.path().join("a/y.rs"), "pub struct Y;").unwrap();
    let graph = file_graph(krate.path());
    assert!(file_cycles(&graph).is_empty(), "{graph:?}");
}
