//! Just enough PromQL and LogQL to list the metric names, labels and log fields a dashboard
//! query uses. Not a parser: it tokenises identifiers and knows which positions hold what.

use std::collections::BTreeSet;

/// What a PromQL expression refers to.
#[derive(Debug, Default)]
pub struct PromRefs {
    /// Metric names (series selectors).
    pub metrics: BTreeSet<String>,
    /// Label names in matchers and in `by (..)` / `without (..)` / `on (..)` / `ignoring (..)`.
    pub labels: BTreeSet<String>,
}

/// What a LogQL expression refers to.
#[derive(Debug, Default)]
pub struct LogRefs {
    /// Labels of stream selectors (`{service=~".+"}`): Loki indexes only these.
    pub stream_labels: BTreeSet<String>,
    /// Names in label filters after the parser stage (`| correlation_id="..."`) and in
    /// `by (..)`: stream labels or fields the `| json` stage extracted.
    pub fields: BTreeSet<String>,
}

/// Functions, aggregations and keywords of PromQL and LogQL, never metric names.
const KEYWORDS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "histogram_quantile",
    "clamp_min",
    "clamp_max",
    "vector",
    "scalar",
    "abs",
    "absent",
    "sort",
    "sort_desc",
    "time",
    "or",
    "and",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "count_over_time",
    "bytes_over_time",
    "bytes_rate",
    "sum_over_time",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "quantile_over_time",
    "rate_counter",
];
const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
/// LogQL stages after `|` that are not label filters.
const STAGES: &[&str] = &[
    "json",
    "logfmt",
    "regexp",
    "pattern",
    "unpack",
    "line_format",
    "label_format",
    "drop",
    "keep",
    "decolorize",
    "unwrap",
];

/// `expr` with string literals emptied and range/subquery brackets removed, so no quoted
/// value or duration (`[5m]`, `[$__range]`) looks like a name.
fn blank_literals(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let (mut in_string, mut escaped, mut in_range) = (false, false, false);
    for c in expr.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '`' => {
                    in_string = false;
                    out.push('"');
                }
                _ => {}
            }
        } else if in_range {
            in_range = c != ']';
        } else {
            match c {
                '"' | '`' => {
                    in_string = true;
                    out.push('"');
                }
                '[' => in_range = true,
                _ => out.push(c),
            }
        }
    }
    out
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Identifier tokens with their byte offsets; `$grafana_variables` and numbers are skipped.
fn idents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '$' || c.is_ascii_digit() || c == '.' {
            while chars.peek().is_some_and(|&(_, c)| is_ident(c) || c == '.') {
                chars.next();
            }
        } else if is_ident_start(c) {
            let mut end = at + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if !is_ident(c) {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            out.push((at, &text[at..end]));
        }
    }
    out
}

/// The label names of the matchers inside every `{..}` of `text`.
fn selector_labels(text: &str) -> BTreeSet<String> {
    let mut labels = BTreeSet::new();
    for (open, _) in text.match_indices('{') {
        let close = text[open..].find('}').map_or(text.len(), |i| open + i);
        for matcher in text[open + 1..close].split(',') {
            if let Some((_, name)) = idents(matcher).first() {
                labels.insert((*name).to_owned());
            }
        }
    }
    labels
}

/// The label names inside the parentheses after each grouping keyword.
fn grouping_labels(text: &str) -> BTreeSet<String> {
    let mut labels = BTreeSet::new();
    for (at, word) in idents(text) {
        if !GROUPING.contains(&word) {
            continue;
        }
        let rest = text[at + word.len()..].trim_start();
        if let Some(inner) = rest.strip_prefix('(') {
            let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
            labels.extend(idents(inner).into_iter().map(|(_, l)| l.to_owned()));
        }
    }
    labels
}

/// Text outside every `{..}`.
fn outside_selectors(text: &str) -> String {
    let mut depth = 0;
    text.chars()
        .map(|c| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth > 0 || c == '}' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The metric names and label names a PromQL expression uses.
pub fn promql(expr: &str) -> PromRefs {
    let text = blank_literals(expr);
    let mut refs = PromRefs {
        labels: selector_labels(&text),
        ..PromRefs::default()
    };
    refs.labels.extend(grouping_labels(&text));
    let outside = outside_selectors(&text);
    let groups = grouping_labels(&outside);
    for (at, word) in idents(&outside) {
        let called = outside[at + word.len()..].trim_start().starts_with('(');
        if !KEYWORDS.contains(&word) && !called && !groups.contains(word) {
            refs.metrics.insert(word.to_owned());
        }
    }
    refs
}

/// The stream labels and field names a LogQL expression uses.
pub fn logql(expr: &str) -> LogRefs {
    let text = blank_literals(expr);
    let mut refs = LogRefs {
        stream_labels: selector_labels(&text),
        fields: grouping_labels(&text),
    };
    for (pipe, _) in text.match_indices('|') {
        let rest = &text[pipe + 1..];
        if rest.starts_with(['=', '~']) {
            continue; // a line filter: `|= "text"`, `|~ "regex"`
        }
        if let Some((_, word)) = idents(rest).first() {
            let is_first_token = rest.trim_start().starts_with(word);
            if is_first_token && !STAGES.contains(word) {
                refs.fields.insert((*word).to_owned());
            }
        }
    }
    refs
}

#[test]
fn promql_references_are_found_where_they_stand() {
    let refs = promql(
        r#"histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{status=~"5..", route!="/x{y}"}[$__range]))) or vector(0)"#,
    );
    assert_eq!(
        refs.metrics,
        BTreeSet::from(["http_request_duration_seconds_bucket".to_owned()])
    );
    assert_eq!(
        refs.labels,
        ["le", "route", "status"].map(String::from).into()
    );
}

#[test]
fn logql_references_are_found_where_they_stand() {
    let refs = logql(
        r#"sum by (service) (count_over_time({service=~".+", level="error"} |= "a | b" | json | correlation_id="$correlation_id" [$__interval]))"#,
    );
    assert_eq!(
        refs.stream_labels,
        ["level", "service"].map(String::from).into()
    );
    assert_eq!(
        refs.fields,
        ["correlation_id", "service"].map(String::from).into()
    );
}
