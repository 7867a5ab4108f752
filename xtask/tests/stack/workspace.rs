//! Facts about the workspace, read from its files: the binary crates and their defaults, the
//! topic catalogue, and what the code emits as metrics and log fields.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_owned()
}

/// The text of `relative` (to the workspace root).
pub fn read(relative: &str) -> String {
    let path = root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A workspace member that builds a deployable binary (it has `src/main.rs`; xtask is a
/// developer tool, not part of the stack).
pub struct Binary {
    /// Crate name, which is also its binary name and its compose service name.
    pub name: String,
    /// Its embedded `config/default.toml`.
    pub defaults: toml::Table,
}

impl Binary {
    /// `http.port` of the defaults.
    pub fn port(&self) -> u16 {
        let port = self.defaults["http"]["port"]
            .as_integer()
            .unwrap_or_else(|| panic!("{}: http.port is not an integer", self.name));
        u16::try_from(port).expect("a port fits u16")
    }
}

/// Every deployable binary crate of the workspace, from the root manifest's members.
pub fn binaries() -> Vec<Binary> {
    let manifest: toml::Table = read("Cargo.toml").parse().expect("root Cargo.toml parses");
    let members = manifest["workspace"]["members"]
        .as_array()
        .expect("workspace.members is a list");
    let binaries: Vec<Binary> = members
        .iter()
        .filter_map(|member| member.as_str())
        .filter(|member| *member != "xtask" && root().join(member).join("src/main.rs").exists())
        .map(|member| Binary {
            name: member.rsplit('/').next().unwrap_or(member).to_owned(),
            defaults: read(&format!("{member}/config/default.toml"))
                .parse()
                .unwrap_or_else(|e| panic!("{member}/config/default.toml: {e}")),
        })
        .collect();
    assert!(binaries.len() >= 6, "expected the six Comanda binaries");
    binaries
}

/// Dotted paths of every leaf of a TOML table (`http.port`, `upstreams.auth.urls`).
pub fn leaf_paths(table: &toml::Table) -> BTreeSet<String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut BTreeSet<String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) => walk(&path, inner, out),
                _ => {
                    out.insert(path);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk("", table, &mut out);
    out
}

/// `pub const NAME: &str = "value";` lines of a Rust file, by name.
fn string_consts(source: &str) -> BTreeMap<String, String> {
    source
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const ")?;
            let (name, value) = rest.split_once(": &str = \"")?;
            Some((name.to_owned(), value.strip_suffix("\";")?.to_owned()))
        })
        .collect()
}

/// `comanda_outbox::topics::ALL`, resolved to topic names.
pub fn catalogued_topics() -> BTreeSet<String> {
    let source = read("libs/outbox/src/topics.rs");
    let consts = string_consts(&source);
    let list = source
        .split_once("pub const ALL: &[&str] = &[")
        .and_then(|(_, rest)| rest.split_once("];"))
        .expect("topics.rs declares ALL")
        .0;
    let topics: BTreeSet<String> = list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            consts
                .get(name)
                .unwrap_or_else(|| panic!("topics.rs: no constant {name}"))
                .clone()
        })
        .collect();
    assert!(!topics.is_empty());
    topics
}

/// `comanda_outbox::topics::PARTITIONS`.
pub fn catalogued_partitions() -> String {
    read("libs/outbox/src/topics.rs")
        .lines()
        .find_map(|line| line.trim().strip_prefix("pub const PARTITIONS: i32 = "))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("topics.rs declares PARTITIONS")
        .to_owned()
}

/// Every `.rs` file under the `src/` of a workspace member (the code that runs deployed).
pub fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = fs::read_to_string(&path).expect("source is UTF-8");
                out.push((path, text));
            }
        }
    }
    let manifest: toml::Table = read("Cargo.toml").parse().expect("root Cargo.toml parses");
    let mut out = Vec::new();
    for member in manifest["workspace"]["members"]
        .as_array()
        .expect("workspace.members is a list")
        .iter()
        .filter_map(|m| m.as_str())
    {
        walk(&root().join(member).join("src"), &mut out);
    }
    out
}

/// The text between the parenthesis opening at `open` and its match; string literals may
/// hold parentheses.
pub fn balanced(text: &str, open: usize) -> &str {
    let bytes = text.as_bytes();
    assert_eq!(bytes[open], b'(');
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parenthesis at byte {open}");
}

/// Splits at commas that are not nested in brackets or strings.
pub fn split_top_level(args: &str) -> Vec<&str> {
    let (mut parts, mut start, mut depth, mut in_string, mut escaped) =
        (vec![], 0, 0i32, false, false);
    for (i, b) in args.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                parts.push(args[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(args[start..].trim());
    parts.retain(|part| !part.is_empty());
    parts
}

/// Byte offsets just past every occurrence of `needle` (which ends with `(`), minus one: the
/// offset of that parenthesis.
fn calls<'a>(source: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    source
        .match_indices(needle)
        .map(move |(at, _)| at + needle.len() - 1)
}

/// A metric the code records: its kind and label names.
#[derive(Debug, Default)]
pub struct Metric {
    /// `counter`, `gauge` or `histogram`.
    pub kind: String,
    /// Label names over all the places that record it.
    pub labels: BTreeSet<String>,
}

/// Every metric recorded with `metrics::counter!|gauge!|histogram!`, by exported name.
///
/// The name is a string literal or a `const` of the same file; labels are `"label" => value`
/// pairs, or `&labels` naming a `let labels = [("label", value), ..]` of the same file.
pub fn emitted_metrics() -> BTreeMap<String, Metric> {
    let mut metrics: BTreeMap<String, Metric> = BTreeMap::new();
    for (path, source) in sources() {
        for kind in ["counter", "gauge", "histogram"] {
            for open in calls(&source, &format!("metrics::{kind}!(")) {
                let args = split_top_level(balanced(&source, open));
                let name = match args[0].strip_prefix('"') {
                    Some(literal) => literal.trim_end_matches('"').to_owned(),
                    None => string_const(&source, args[0])
                        .unwrap_or_else(|| panic!("{}: no const {}", path.display(), args[0])),
                };
                let mut labels = BTreeSet::new();
                for arg in &args[1..] {
                    if let Some((label, _)) = arg.split_once("=>") {
                        labels.insert(label.trim().trim_matches('"').to_owned());
                    } else if let Some(var) = arg.strip_prefix('&') {
                        labels.extend(array_labels(&source, var.trim()));
                    }
                }
                let metric = metrics.entry(name).or_default();
                metric.kind = kind.to_owned();
                metric.labels.extend(labels);
            }
        }
    }
    metrics
}

/// The value of `const NAME: &str = "value";` (public or not) in `source`.
fn string_const(source: &str, name: &str) -> Option<String> {
    let needle = format!("const {name}: &str = \"");
    let rest = &source[source.find(&needle)? + needle.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// The first elements of the tuples of `let VAR = [("label", value), ..]` in `source`.
fn array_labels(source: &str, var: &str) -> BTreeSet<String> {
    let needle = format!("let {var} = [");
    let at = source
        .find(&needle)
        .unwrap_or_else(|| panic!("no `{needle}` next to a metric recorded with &{var}"));
    let list = &source[at + needle.len()..];
    let list = &list[..list.find("];").expect("the array ends")];
    list.split('(')
        .skip(1)
        .filter_map(|tuple| tuple.trim().strip_prefix('"')?.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The field names of every span and event the code declares (`tracing::info_span!`,
/// `tracing::info!` and friends, `#[tracing::instrument(fields(..))]`), plus the fields
/// tracing-loki adds to every line. Span fields are in every line logged inside the span.
pub fn logged_fields() -> BTreeSet<String> {
    const MACROS: &[&str] = &[
        "info_span!(",
        "warn_span!(",
        "error_span!(",
        "debug_span!(",
        "tracing::info!(",
        "tracing::warn!(",
        "tracing::error!(",
        "tracing::debug!(",
        "tracing::instrument(",
    ];
    // tracing-loki 0.2 writes `message` and these on every line (see its `SerializedEvent`).
    let mut fields: BTreeSet<String> = [
        "message",
        "_spans",
        "_target",
        "_module_path",
        "_file",
        "_line",
    ]
    .map(str::to_owned)
    .into();
    for (_, source) in sources() {
        for needle in MACROS {
            for open in calls(&source, needle) {
                collect_fields(balanced(&source, open), &mut fields);
            }
        }
    }
    fields
}

fn collect_fields(args: &str, fields: &mut BTreeSet<String>) {
    for arg in split_top_level(args) {
        if let Some(inner) = arg.strip_prefix("fields(") {
            collect_fields(inner.strip_suffix(')').unwrap_or(inner), fields);
            continue;
        }
        if arg.starts_with('"') {
            continue; // a span name or the message
        }
        let name = match arg.find('=') {
            // `name = value`; skip `target: ..`, `parent: ..` and `skip_all`.
            Some(eq) if !arg[eq..].starts_with("=>") && !arg[eq..].starts_with("==") => &arg[..eq],
            Some(_) => continue,
            // `%name`, `?name`, or plain `name` (the value is the variable of that name).
            None => arg.trim_start_matches(['%', '?']),
        };
        let name = name.trim();
        // Arguments of `#[instrument]` and of the macros that are not fields.
        const NOT_FIELDS: &[&str] = &[
            "skip_all", "err", "ret", "name", "level", "target", "parent",
        ];
        if !name.is_empty()
            && !NOT_FIELDS.contains(&name)
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            fields.insert(name.to_owned());
        }
    }
}
