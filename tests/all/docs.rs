//! The documentation, checked as a new user would find it: every link and path it names
//! exists, every "spec §N" reference names a section of docs/wamr-socket-abi.md, and the
//! README's embedding program is the example that cargo compiles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::repo_root;

/// The repository root without `..` components, for readable messages.
fn repo() -> PathBuf {
    let root = repo_root();
    root.canonicalize().unwrap_or(root)
}

/// Directories that hold no sources of ours: build output, VCS data, fuzzer corpora.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || matches!(name, "target" | "corpus" | "artifacts" | "build")
}

/// Every file under the repository whose name ends with one of `exts`, sorted, skipping
/// [`skipped_dir`]s. Bounded: at most 10,000 files.
fn repo_files(exts: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![repo()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.expect("directory entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                if !skipped_dir(&name) {
                    pending.push(entry.path());
                }
            } else if kind.is_file() && exts.iter().any(|ext| name.ends_with(&format!(".{ext}"))) {
                found.push(entry.path());
            }
        }
        assert!(
            found.len() < 10_000,
            "more than 10,000 files under {}: is a build directory not skipped?",
            repo().display()
        );
    }
    found.sort();
    found
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `path` relative to the repository root (`.` for the root), for messages.
fn shown(path: &Path) -> String {
    let relative = path.strip_prefix(repo()).unwrap_or(path).display().to_string();
    if relative.is_empty() { ".".to_string() } else { relative }
}

/// A fenced code block of a markdown file.
pub(crate) struct Fence {
    /// The info string after the opening backticks (`rust`, `sh`, ...).
    pub info: String,
    /// The text between the fences, each line ending in `\n`.
    pub body: String,
}

/// Splits markdown into its prose lines (with 1-based line numbers) and its fenced blocks.
pub(crate) fn split_markdown(text: &str) -> (Vec<(usize, &str)>, Vec<Fence>) {
    let mut prose = Vec::new();
    let mut fences = Vec::new();
    let mut open: Option<Fence> = None;
    for (i, line) in text.lines().enumerate() {
        let fence_line = line.trim_start().starts_with("```");
        match (&mut open, fence_line) {
            (None, true) => {
                open = Some(Fence { info: line.trim_start()[3..].trim().to_string(), body: String::new() })
            }
            (Some(_), true) => fences.push(open.take().expect("an open fence")),
            (Some(fence), false) => {
                fence.body.push_str(line);
                fence.body.push('\n');
            }
            (None, false) => prose.push((i + 1, line)),
        }
    }
    assert!(open.is_none(), "a code fence is never closed");
    (prose, fences)
}

/// The markdown between the heading line `heading` and the next heading of the same or a
/// higher level.
pub(crate) fn markdown_section<'a>(text: &'a str, heading: &str) -> &'a str {
    let level = heading.chars().take_while(|&c| c == '#').count();
    let start = text.find(&format!("\n{heading}\n")).unwrap_or_else(|| panic!("no heading {heading:?}"))
        + heading.len()
        + 2;
    let rest = &text[start..];
    let end = rest
        .match_indices("\n#")
        .map(|(at, _)| at)
        .find(|&at| {
            let hashes = rest[at + 1..].chars().take_while(|&c| c == '#').count();
            hashes <= level && rest[at + 1 + hashes..].starts_with(' ')
        })
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The link targets `[text](target)` in a line of prose, outside inline code.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_code = false;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => in_code = !in_code,
            ']' if !in_code && chars.get(i + 1) == Some(&'(') => {
                let rest: String = chars[i + 2..].iter().collect();
                if let Some(end) = rest.find(')') {
                    targets.push(rest[..end].split_whitespace().next().unwrap_or("").to_string());
                    i += 2 + rest[..end].chars().count();
                }
            }
            _ => {}
        }
        i += 1;
    }
    targets
}

/// The contents of the inline code spans of a line of prose.
fn code_spans(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of every heading of a markdown file.
fn anchors(text: &str) -> BTreeSet<String> {
    let (prose, _) = split_markdown(text);
    prose
        .iter()
        .filter_map(|(_, line)| line.strip_prefix('#'))
        .map(|rest| anchor(rest.trim_start_matches('#')))
        .collect()
}

/// Whether a code span reads as a path in this repository: no spaces or shell syntax, and
/// either a markdown file or a path whose first component is at the repository's top level
/// (build output under `target/` is not in the repository).
fn names_a_repo_path(span: &str) -> bool {
    if span.is_empty() || span.contains(|c: char| c.is_whitespace() || "*$<>{}=:|".contains(c)) {
        return false;
    }
    if span.starts_with('/') || span.starts_with('-') {
        return false;
    }
    // Build output (`target/`, `guest/rust/wasock-net/target/`) and placeholders
    // (`fuzz/corpus/TARGET/`) are not files of the repository.
    let placeholder =
        |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    if span.split('/').any(|part| part == "target" || placeholder(part)) {
        return false;
    }
    if span.ends_with(".md") {
        return true;
    }
    let first = span.split('/').next().unwrap_or(span);
    span.contains('/') && first != "target" && repo().join(first).exists()
}

/// Every relative link of every markdown file points at a file or directory that exists (and
/// at a heading that exists, for `#anchor`s), and every repository path written as inline
/// code (`guest/c/README.md`, `tests/all/guest.rs`, ...) exists.
#[test]
fn markdown_links_and_paths_exist() {
    let files = repo_files(&["md"]);
    assert!(files.len() >= 4 && files.contains(&repo().join("README.md")), "found only {files:?}");
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = read(file);
        let dir = file.parent().expect("a file has a directory");
        let (prose, _) = split_markdown(&text);
        for (line_no, line) in prose {
            let at = format!("{}:{line_no}", shown(file));
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, fragment) = match target.split_once('#') {
                    Some((path, fragment)) => (path, Some(fragment)),
                    None => (target.as_str(), None),
                };
                let resolved = if path.is_empty() { file.clone() } else { dir.join(path) };
                if !resolved.exists() {
                    broken.push(format!("{at}: link to {target}: {} does not exist", shown(&resolved)));
                    continue;
                }
                if let Some(fragment) = fragment
                    && resolved.extension().is_some_and(|e| e == "md")
                    && !anchors(&read(&resolved)).contains(fragment)
                {
                    broken.push(format!(
                        "{at}: link to {target}: {} has no heading #{fragment}",
                        shown(&resolved)
                    ));
                }
            }
            for span in code_spans(line) {
                if !names_a_repo_path(span) {
                    continue;
                }
                checked += 1;
                if !dir.join(span).exists() && !repo().join(span).exists() {
                    broken.push(format!("{at}: `{span}` exists neither in {} nor at the top", shown(dir)));
                }
            }
        }
    }
    assert!(checked >= 20, "checked only {checked} links and paths: is the parser broken?");
    assert!(broken.is_empty(), "broken links and paths in the documentation:\n{}", broken.join("\n"));
}

/// Source comments that name a markdown file by path (`docs/wamr-socket-abi.md`,
/// `guest/c/README.md`) name one that exists, relative to the repository root or to the file.
#[test]
fn markdown_files_named_in_sources_exist() {
    let files = repo_files(&["rs", "c", "h", "cmake", "sh", "py", "toml", "txt", "md"]);
    let mut broken = Vec::new();
    for file in &files {
        if file.ends_with("tests/all/docs.rs") {
            continue; // this file's examples of broken paths
        }
        let text = read(file);
        let dir = file.parent().expect("a file has a directory");
        for (line_no, line) in text.lines().enumerate() {
            let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || "_./-".contains(c)));
            for word in words {
                let word = word.trim_end_matches('.');
                if !word.ends_with(".md") || !word.contains('/') || word.starts_with("target/") {
                    continue;
                }
                let word = word.trim_start_matches("./");
                if !repo().join(word).is_file() && !dir.join(word).is_file() {
                    broken.push(format!("{}:{}: {word} does not exist", shown(file), line_no + 1));
                }
            }
        }
    }
    assert!(broken.is_empty(), "paths to markdown files that do not exist:\n{}", broken.join("\n"));
}

/// The section numbers of docs/wamr-socket-abi.md: `## N. Title` is N, `### N.M Title` is
/// N.M, and an item `M. ` of a numbered list directly in section N (before any subsection)
/// is N.M.
fn abi_sections() -> BTreeSet<String> {
    doc_sections("docs/wamr-socket-abi.md")
}

/// The numbered sections of the markdown file `doc` (a path from the repository root).
fn doc_sections(doc: &str) -> BTreeSet<String> {
    let text = read(&repo().join(doc));
    let (prose, _) = split_markdown(&text);
    let number = |s: &str| -> Option<String> {
        let n: String = s.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        let n = n.trim_end_matches('.');
        (!n.is_empty()).then(|| n.to_string())
    };
    let mut sections = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut in_subsection = false;
    for (_, line) in prose {
        if let Some(title) = line.strip_prefix("## ") {
            current = number(title);
            in_subsection = false;
            sections.extend(current.clone());
        } else if let Some(title) = line.strip_prefix("### ") {
            in_subsection = true;
            sections.extend(number(title));
        } else if let (Some(section), false) = (&current, in_subsection)
            && let Some(item) = number(line)
            && line[item.len()..].starts_with(". ")
            && !item.contains('.')
        {
            sections.insert(format!("{section}.{item}"));
        }
    }
    sections
}

/// The section numbers a line cites: `§2.3`, `§7.1, §11.11`, `spec section 4.2`,
/// `wamr-socket-abi.md sections 3.1 and 11`.
fn cited_sections(line: &str) -> Vec<String> {
    cited_sections_with_source(line).into_iter().map(|(section, _)| section).collect()
}

/// [`cited_sections`], each with whether it names the WAMR reference itself ("spec §N",
/// "wamr-socket-abi.md section N") rather than the citing file's own reference.
fn cited_sections_with_source(line: &str) -> Vec<(String, bool)> {
    let number_at = |s: &str| -> String {
        let n: String = s.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
        n.trim_end_matches('.').to_string()
    };
    let mut cited = Vec::new();
    for (at, _) in line.match_indices('§') {
        let spec = line[..at].ends_with("spec ") || line[..at].ends_with("wamr-socket-abi.md ");
        cited.push((number_at(&line[at + '§'.len_utf8()..]), spec));
    }
    for marker in ["spec section ", "spec sections ", ".md section ", ".md sections ", "(doc ", " doc "] {
        let spec = marker.starts_with("spec");
        for (at, _) in line.match_indices(marker) {
            let rest = &line[at + marker.len()..];
            let first = number_at(rest);
            let spec = spec || line[..at].ends_with("wamr-socket-abi");
            cited.push((first.clone(), spec));
            if let Some(more) = rest[first.len()..].strip_prefix(" and ") {
                cited.push((number_at(more), spec));
            }
        }
    }
    cited.retain(|(n, _)| !n.is_empty());
    cited
}

/// The reference a file cites sections of: the code and tests of each socket ABI cite their
/// own ABI document ("doc §N"), everything else the WAMR reference ("spec §N").
fn reference_doc_for(file: &Path) -> &'static str {
    let path = shown(file);
    if path.contains("wasix") {
        "docs/wasix-socket-abi.md"
    } else if path.contains("wasmedge") {
        "docs/wasmedge-socket-abi.md"
    } else if path.contains("pthread") || path.contains("wamr_cmake") || path.ends_with("prepare.rs") {
        "docs/wamr-pthread-abi.md"
    } else {
        "docs/wamr-socket-abi.md"
    }
}

/// Every "spec §N" (or "doc §N") in the code and the documentation is a section of the
/// reference that file cites: docs/wamr-socket-abi.md (the WAMR reference the code cites as
/// "spec"), or the ABI document of the file's own socket ABI (see [`reference_doc_for`]).
#[test]
fn spec_section_references_exist() {
    let sections = abi_sections();
    for expected in ["1", "1.5", "2.3", "3.1", "3.2", "11", "11.10", "12"] {
        assert!(
            sections.contains(expected),
            "docs/wamr-socket-abi.md has no section {expected}: {sections:?}"
        );
    }
    let mut docs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in repo_files(&["rs", "c", "h", "cmake", "sh", "py", "md"]) {
        if file.ends_with("tests/all/docs.rs") {
            continue; // this file's examples
        }
        let own = reference_doc_for(&file);
        for (line_no, line) in read(&file).lines().enumerate() {
            for (section, spec) in cited_sections_with_source(line) {
                checked += 1;
                let doc = if spec { "docs/wamr-socket-abi.md" } else { own };
                let sections = docs.entry(doc).or_insert_with(|| doc_sections(doc));
                if !sections.contains(&section) {
                    broken.push(format!("{}:{}: §{section} (of {doc})", shown(&file), line_no + 1));
                }
            }
        }
    }
    assert!(checked >= 30, "found only {checked} section references: is the parser broken?");
    assert!(broken.is_empty(), "references to sections that do not exist:\n{}", broken.join("\n"));
}

#[test]
fn section_parsers() {
    assert_eq!(cited_sections("(spec §7.1, §11.11), see §2."), ["7.1", "11.11", "2"]);
    let mut cited = cited_sections("docs/wamr-socket-abi.md sections 3.1 and 11): x; spec section 4.2.");
    cited.sort();
    assert_eq!(cited, ["11", "3.1", "4.2"]);
    assert!(cited_sections("no references here").is_empty());
    let sourced = cited_sections_with_source("(doc 8.4) and spec §1.5, doc §9");
    assert_eq!(sourced, [("1.5".to_string(), true), ("9".to_string(), false), ("8.4".to_string(), false)]);
    assert_eq!(link_targets("see [a](x.md#b) and `[c](not)` [d](<y> \"t\")"), ["x.md#b", "<y>"]);
    assert_eq!(code_spans("a `b` c `d e` f"), ["b", "d e"]);
    assert_eq!(anchor("5.2 Host side of `sock_addr_resolve`"), "52-host-side-of-sock_addr_resolve");
    assert!(names_a_repo_path("guest/c/README.md"));
    assert!(names_a_repo_path("spec/wamr-socket-abi.md"));
    assert!(!names_a_repo_path("target/bench/results.md"));
    assert!(!names_a_repo_path("guest/rust/wasock-net/target/"));
    assert!(!names_a_repo_path("fuzz/corpus/TARGET/"));
    assert!(names_a_repo_path("fuzz/corpus/"));
    assert!(!names_a_repo_path("app/CMakeLists.txt"), "not in the repository's top level");
    assert!(!names_a_repo_path("--allow-resolve=localhost"));
}

/// The README's embedding section is a whole program, the very text of
/// crates/wasock/examples/embed.rs (which `cargo test` compiles), with the dependency line
/// that makes it build outside the repository.
#[test]
fn readme_embedding_program_is_the_embed_example() {
    let readme = read(&repo().join("README.md"));
    let section = markdown_section(&readme, "## Embedding");
    let (_, fences) = split_markdown(section);
    let example_path = repo().join("crates/wasock/examples/embed.rs");
    let example = read(&example_path);
    let rust: Vec<&Fence> = fences.iter().filter(|f| f.info.starts_with("rust")).collect();
    assert_eq!(rust.len(), 1, "the README's embedding section should show one Rust program");
    assert!(
        rust[0].body == example,
        "the README's embedding program differs from {}: copy the file into the README\n--- README ---\n{}--- file ---\n{example}",
        shown(&example_path),
        rust[0].body
    );
    assert!(example.contains("fn main()"), "the example is not a whole program");

    let toml: Vec<&Fence> = fences.iter().filter(|f| f.info == "toml").collect();
    assert_eq!(toml.len(), 1, "the README's embedding section should show the dependency line");
    let dependency = toml[0]
        .body
        .lines()
        .skip_while(|line| line.trim() != "[dependencies]")
        .find(|line| line.starts_with("wasock "))
        .unwrap_or_else(|| panic!("no `wasock = ...` under [dependencies] in:\n{}", toml[0].body));
    assert!(
        dependency.contains("path = \"") && dependency.contains("/crates/wasock\""),
        "the dependency should be a path to crates/wasock (wasock is not on crates.io): {dependency}"
    );
    let manifest = read(&repo().join("crates/wasock/Cargo.toml"));
    assert!(manifest.contains("\nname = \"wasock\"\n"), "crates/wasock is not the package `wasock`");
}

/// The rows of the markdown tables in `text` whose first cell is inline code starting with
/// `prefix`: (the code in the first cell, the code in the second cell or its text).
fn table_rows<'a>(text: &'a str, prefix: &str) -> Vec<(&'a str, &'a str)> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix('|')?.split('|').map(str::trim).collect();
            let name = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
            let second = cells.get(1)?;
            let second = second.strip_prefix('`').and_then(|s| s.strip_suffix('`')).unwrap_or(second);
            name.starts_with(prefix).then_some((name, second))
        })
        .collect()
}

/// `(name, [argument types])` of every import in a `for_each_*_import!` list.
macro_rules! import_list {
    ($($name:ident($($arg:ident: $ty:ty),*) = $path:path;)*) => {
        vec![$((stringify!($name), vec![$(stringify!($ty)),*])),*]
    };
}

/// The wasm type of a host function whose arguments have these core types (u32 travels as
/// i32, u64 as i64) and which returns an errno.
fn wasm_type(args: &[&str]) -> String {
    let params: Vec<&str> = args
        .iter()
        .map(|ty| match *ty {
            "u32" => "i32",
            "u64" => "i64",
            other => panic!("unexpected argument type {other}"),
        })
        .collect();
    format!("({}) -> i32", params.join(", "))
}

/// §3 of docs/wamr-socket-abi.md lists exactly the `sock_*` functions wasock registers (WAMR's
/// 48 plus the 4 of WASI preview 1), each once, with its wasm type.
#[test]
fn abi_doc_lists_every_import_with_its_wasm_type() {
    let mut registered: Vec<(&str, Vec<&str>)> = wasock_core::for_each_wamr_import!(import_list);
    let p1: Vec<(&str, Vec<&str>)> = wasock_core::for_each_import!(import_list);
    registered.extend(p1.into_iter().filter(|(name, _)| name.starts_with("sock_")));
    assert_eq!(registered.len(), 52, "wasock registers {} sock_* functions", registered.len());

    let text = read(&repo().join("docs/wamr-socket-abi.md"));
    let documented = table_rows(markdown_section(&text, "## 3. The imports"), "sock_");
    let mut problems = Vec::new();
    for (name, args) in &registered {
        let rows: Vec<&&str> = documented.iter().filter(|(n, _)| n == name).map(|(_, ty)| ty).collect();
        let want = wasm_type(args);
        match rows.as_slice() {
            [ty] if **ty == want => {}
            [ty] => problems.push(format!("{name}: documented as {ty}, wasock registers {want}")),
            [] => problems.push(format!("{name}: not in §3")),
            _ => problems.push(format!("{name}: {} rows in §3", rows.len())),
        }
    }
    for (name, _) in &documented {
        if !registered.iter().any(|(n, _)| n == name) {
            problems.push(format!("{name}: in §3, but wasock registers no such function"));
        }
    }
    assert!(
        problems.is_empty(),
        "§3 of docs/wamr-socket-abi.md disagrees with wasock:\n{}",
        problems.join("\n")
    );
}

/// The errno table (§9) gives each errno the number wasock returns for it.
#[test]
fn abi_doc_errno_numbers_are_wasocks() {
    let text = read(&repo().join("docs/wamr-socket-abi.md"));
    let section = markdown_section(&text, "## 9. Errno values");
    let rows: Vec<(&str, &str)> = section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix('|')?.split('|').map(str::trim).collect();
            let name = *cells.first()?;
            let is_errno =
                name.len() > 1 && name.starts_with('E') && name.chars().all(|c| c.is_ascii_uppercase());
            is_errno.then_some((name, *cells.get(1)?))
        })
        .collect();
    assert!(rows.len() >= 30, "found only {} errno rows in §9", rows.len());
    let mut problems = Vec::new();
    for (name, number) in rows {
        let errno = number.parse::<u16>().ok().and_then(wasock_core::Errno::from_raw);
        match errno {
            Some(errno) if format!("E{}", errno.name().to_uppercase()) == name => {}
            Some(errno) => problems.push(format!("{name} = {number}, but {number} is {}", errno.name())),
            None => problems.push(format!("{name} = {number}: no such WASI errno")),
        }
    }
    assert!(
        problems.is_empty(),
        "§9 of docs/wamr-socket-abi.md disagrees with wasock:\n{}",
        problems.join("\n")
    );
}
