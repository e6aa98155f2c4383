//! The layer order of docs/architecture.md, checked: a module may use only modules of a
//! lower layer (`crate::X` paths outside test code). A new import that climbs a layer, or
//! ties two modules of one layer together, fails here with the file and the path.

use std::collections::BTreeMap;
use std::path::Path;

mod common;

/// Lowest first; modules of one layer do not use each other. Keep in step with the
/// "Layers" section of docs/architecture.md (checked below).
const LAYERS: &[&[&str]] = &[
    &["ts"],
    &["proto"],
    &["decode"],
    &["flow"],
    &["decrypt"],
    &["config", "capture"],
    &["conn"],
    &["analyzer", "diagnosis"],
    &["record"],
    &["emit"],
    &["report", "pipeline", "live"],
    &["tui"],
];

fn layer_of(m: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&m))
}

/// The top-level modules a file's non-test code names through `crate::`.
fn used_modules(text: &str) -> Vec<String> {
    // Inline test modules sit last by convention: drop from `#[cfg(test)]` + `mod` on.
    let code = match text
        .find("#[cfg(test)]\nmod ")
        .or_else(|| text.find("#[cfg(test)]\n#[allow"))
    {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, ...}`: the first segment of each item.
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
}

#[test]
fn no_module_uses_one_of_its_own_layer_or_above() {
    let src = common::root().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut violations = Vec::new();
    let mut seen = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        let top = first.trim_end_matches(".rs").to_string();
        // The binary (main.rs, cmd/) sits above every layer; lib.rs only declares modules.
        if top == "main" || top == "lib" || top == "cmd" || rel.ends_with("tests.rs") {
            continue;
        }
        let Some(own) = layer_of(&top) else {
            violations.push(format!(
                "{}: module `{top}` is in no layer (add it to LAYERS and docs)",
                rel.display()
            ));
            continue;
        };
        seen.insert(top.clone(), own);
        let text = std::fs::read_to_string(f).unwrap();
        for used in used_modules(&text) {
            if used == top {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                Some(l) => violations.push(format!(
                    "{}: `{top}` (layer {own}) uses `crate::{used}` (layer {l})",
                    rel.display()
                )),
                None => violations.push(format!("{}: `crate::{used}` is in no layer", rel.display())),
            }
        }
    }
    assert!(violations.is_empty(), "layer order broken:\n{}", violations.join("\n"));
    // Every declared layer module exists, so the list cannot rot silently.
    for m in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(
            seen.contains_key(*m),
            "LAYERS names `{m}`, which has no file under src/"
        );
    }
}

#[test]
fn the_checker_sees_grouped_and_plain_paths() {
    let uses = used_modules("use crate::flow::Side;\nuse crate::{record, emit::Emitter};\nlet x = crate::ts::Ts(0);\n#[cfg(test)]\nmod tests { use crate::tui; }");
    assert_eq!(uses, ["flow", "record", "emit", "ts"]);
}

#[test]
fn docs_state_the_same_layers() {
    let doc = std::fs::read_to_string(common::root().join("docs/architecture.md")).unwrap();
    for (i, layer) in LAYERS.iter().enumerate() {
        let line = format!(
            "{}. {}",
            i + 1,
            layer.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        );
        assert!(
            doc.contains(&line),
            "docs/architecture.md lacks the layer line {line:?}"
        );
    }
}
