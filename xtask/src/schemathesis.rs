//! The outside tester, `cargo xtask test`'s last step: [schemathesis] over the whole API,
//! through the gateway, against the OpenAPI document the gateway merges from every service.
//!
//! It starts its own stack (every process of [`PROCESSES`], on free ports, with fresh
//! `test_schemathesis_*` databases and its own topic prefix, so a stack of `cargo xtask up`
//! or another suite is left alone), registers a user and signs in as them and as the dev
//! admin, and runs schemathesis once with each token: every operation, every check, a
//! bounded number of cases per operation. Pass: no failure at all (no 5xx, every status,
//! header and body as the document says). It prints one summary line per token.
//!
//! schemathesis installs itself at a pinned version in a virtual environment under
//! `.comanda/` (git-ignored), from PyPI, the first time.
//!
//! [schemathesis]: https://schemathesis.readthedocs.io

use std::{
    collections::BTreeMap,
    fs,
    io::{BufRead, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::{
    exec, http, postgres,
    processes::{self, Group},
    stack::{Process, GATEWAY_PORT, PROCESSES},
    up, workspace,
};

/// The schemathesis release this step installs and runs.
pub const VERSION: &str = "4.32.5";
/// Cases per operation and phase. 60 finds what 30 found in our runs and a little more
/// (schemathesis reports each failure once, by kind and operation), and keeps both runs at
/// a minute or two on 2 cores.
const MAX_EXAMPLES: &str = "60";
/// A fixed seed: a failure is reproduced by running the step again.
const SEED: &str = "20261129";
/// How long the services, and then the gateway, get to answer 200 on `/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// How often a process that exits while starting is started, in all.
const START_ATTEMPTS: u32 = 3;

/// Checks left out of the whole run: none. Every check runs, the stateful ones included
/// (their links are inferred from the document): schemathesis' default, which
/// `xtask/schemathesis.toml` states as `[checks] enabled = true`. Not `--checks all`: a
/// check named on the command line outranks the file, so an operation's
/// `checks.<check>.enabled = false` there was ignored. What the document cannot say is
/// tuned per operation, each with its reason, in that file.
const EXCLUDED_CHECKS: &[&str] = &[];
/// The per-operation settings, relative to the workspace root.
const CONFIG: &str = "xtask/schemathesis.toml";

/// Installs schemathesis if needed, starts a stack and runs schemathesis as a user and as
/// an admin. Fails when either run found anything.
pub fn run() -> Result<()> {
    let st = install()?;
    // `cargo nextest run --workspace` has built every binary; this only makes sure.
    let mut build = exec::cargo();
    build.args(["build", "--locked"]);
    for process in PROCESSES {
        build.args(["--bin", process.name]);
    }
    exec::step("schemathesis: build", &mut build)?;

    let stack = Stack::start()?;
    let client = Client::new(&stack.gateway);
    let tokens = [
        ("user", user_token(&client)?),
        ("admin", admin_token(&client)?),
    ];
    let mut summaries = Vec::new();
    for (who, token) in &tokens {
        summaries.push(fuzz(&st, &stack.gateway, who, token)?);
    }
    drop(stack);
    for summary in &summaries {
        say!("{summary}");
    }
    let failed: Vec<&Summary> = summaries.iter().filter(|s| !s.passed()).collect();
    if !failed.is_empty() {
        bail!(
            "schemathesis found failures as {}; the output above says what and how to reproduce \
             them (logs of the stack: .comanda/logs/schemathesis/)",
            failed
                .iter()
                .map(|s| s.who)
                .collect::<Vec<_>>()
                .join(" and ")
        );
    }
    Ok(())
}

/// `.comanda/schemathesis-<VERSION>/bin/st`, created with `python3 -m venv` and pip the
/// first time.
fn install() -> Result<PathBuf> {
    let venv = workspace::root()
        .join(".comanda")
        .join(format!("schemathesis-{VERSION}"));
    let st = venv.join("bin").join("st");
    if installed_version(&st).as_deref() == Some(VERSION) {
        say!(
            "schemathesis: {VERSION} in {}",
            workspace::relative(&venv).display()
        );
        return Ok(st);
    }
    let python = exec::which("python3").context(
        "schemathesis needs Python 3.10 or later as `python3` \
         (Debian: `apt-get install python3 python3-venv`)",
    )?;
    say!(
        "schemathesis: installing {VERSION} into {} (one time)",
        workspace::relative(&venv).display()
    );
    exec::step(
        "schemathesis: venv",
        Command::new(python)
            .arg("-m")
            .arg("venv")
            .arg("--clear")
            .arg(&venv),
    )?;
    exec::step(
        "schemathesis: pip install",
        Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("schemathesis=={VERSION}"),
        ]),
    )?;
    match installed_version(&st) {
        Some(version) if version == VERSION => Ok(st),
        other => bail!(
            "schemathesis: {} reports version {other:?} after installing {VERSION}",
            st.display()
        ),
    }
}

/// `st --version` prints `st, version 4.32.5`.
fn installed_version(st: &std::path::Path) -> Option<String> {
    let output = exec::output(Command::new(st).arg("--version")).ok()?;
    Some(output.trim().rsplit(' ').next()?.to_owned())
}

/// The stack schemathesis talks to; every process is killed and every database dropped
/// when it drops.
struct Stack {
    gateway: String,
    children: Vec<(String, Child)>,
    databases: Vec<String>,
}

impl Stack {
    fn start() -> Result<Self> {
        let run = std::process::id();
        let ports: BTreeMap<u16, u16> = PROCESSES
            .iter()
            .map(|process| Ok((process.port, free_port()?)))
            .collect::<Result<_>>()?;
        let databases: BTreeMap<&str, String> = PROCESSES
            .iter()
            .filter_map(|process| process.database)
            .map(|database| {
                let short = database.trim_start_matches("comanda_");
                (database, format!("test_schemathesis_{short}_{run}"))
            })
            .collect();
        let mut stack = Self {
            gateway: String::new(),
            children: Vec::new(),
            databases: Vec::new(),
        };
        for database in databases.values() {
            postgres::ensure_database(database)?;
            stack.databases.push(database.clone());
        }
        // The gateway last, once the services answer `/ready`: it starts with every
        // instance in rotation and takes one out only when a health check fails. Started
        // alongside them, its first check found some still starting and kept them out
        // until a later round, and the first request through it was a 503.
        let (services, gateway): (Vec<&Process>, Vec<&Process>) = PROCESSES
            .iter()
            .partition(|process| process.name != "gateway");
        if gateway.is_empty() {
            bail!("the stack has no gateway");
        }
        for group in [services, gateway] {
            let first = stack.children.len();
            for process in &group {
                let child = start_process(process, &ports, &databases, run)?;
                stack.children.push(child);
            }
            let deadline = Instant::now() + READY_TIMEOUT;
            for (at, process) in (first..).zip(&group) {
                let mut attempt = 1;
                while !stack.is_ready(at, process, &ports, deadline)? {
                    // It exited while starting, e.g. the broker of a busy machine took
                    // more than 10 s to create its topics. A broken build fails every time.
                    let (name, _) = &stack.children[at];
                    let tail = processes::log_tail(name, 20);
                    if attempt == START_ATTEMPTS {
                        bail!(
                            "{} exited {attempt} times while starting\n{tail}",
                            process.name
                        );
                    }
                    say!(
                        "schemathesis: {} exited while starting; again\n{tail}",
                        process.name
                    );
                    attempt += 1;
                    stack.children[at] = start_process(process, &ports, &databases, run)?;
                }
            }
        }
        stack.gateway = format!("http://127.0.0.1:{}", ports[&GATEWAY_PORT]);
        say!("schemathesis: the stack is ready at {}", stack.gateway);
        Ok(stack)
    }

    /// Waits until child `at` (`process`) answers 200 on `/ready`: true, or false when it
    /// exited first. Not ready by `deadline` is an error.
    fn is_ready(
        &mut self,
        at: usize,
        process: &Process,
        ports: &BTreeMap<u16, u16>,
        deadline: Instant,
    ) -> Result<bool> {
        let (name, child) = &mut self.children[at];
        let port = ports[&process.port];
        loop {
            if let Some(status) = child.try_wait()? {
                say!("schemathesis: {} exited ({status})", process.name);
                return Ok(false);
            }
            if http::get_status(port, "/ready").is_ok_and(|status| status == 200) {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} not ready after {}s\n{}",
                    process.name,
                    READY_TIMEOUT.as_secs(),
                    processes::log_tail(name, 20)
                );
            }
            thread::sleep(Duration::from_millis(250));
        }
    }
}

/// Starts `process` of the stack on its port, with its environment; its log is
/// `.comanda/logs/schemathesis/<name>.log`.
fn start_process(
    process: &Process,
    ports: &BTreeMap<u16, u16>,
    databases: &BTreeMap<&str, String>,
    run: u32,
) -> Result<(String, Child)> {
    let port = ports[&process.port];
    let name = log_name(process);
    let mut command = Command::new(workspace::target_dir().join("debug").join(process.name));
    command.envs(environment(process, port, ports, databases, run)?);
    let child = processes::spawn(&name, &mut command, Group::Ours)?;
    say!("schemathesis: started {} on port {port}", process.name);
    Ok((name, child))
}

impl Drop for Stack {
    fn drop(&mut self) {
        for (name, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
            let _ = processes::forget(name);
        }
        for database in &self.databases {
            if let Err(error) = postgres::drop_database(database) {
                eprintln!("xtask: warning: {error:#}");
            }
        }
    }
}

fn log_name(process: &Process) -> String {
    format!("schemathesis/{}", process.name)
}

/// `process`'s environment for `cargo xtask up`, moved to this stack's ports, databases and
/// topics, plus what the fuzzer needs.
fn environment(
    process: &Process,
    port: u16,
    ports: &BTreeMap<u16, u16>,
    databases: &BTreeMap<&str, String>,
    run: u32,
) -> Result<Vec<(String, String)>> {
    let mut env: Vec<(String, String)> = process
        .env()
        .into_iter()
        .map(|(name, value)| (name, moved(&value, ports, databases)))
        .collect();
    // Later entries win (`Command::envs`).
    env.push(("COMANDA__HTTP__PORT".into(), port.to_string()));
    env.push((
        "COMANDA__KAFKA__TOPIC_PREFIX".into(),
        format!("schemathesis{run}."),
    ));
    match process.name {
        "gateway" => {
            // Every upstream the gateway knows points into this stack; one without a
            // process here points at a port nobody listens on.
            for upstream in gateway_upstreams()? {
                let service = format!("{upstream}-service");
                let url = match PROCESSES.iter().find(|p| p.name == service) {
                    Some(target) => format!("http://127.0.0.1:{}", ports[&target.port]),
                    None => format!("http://127.0.0.1:{}", free_port()?),
                };
                let variable = format!("COMANDA__UPSTREAMS__{}__URLS", upstream.to_uppercase());
                env.push((variable, url));
            }
            // A debug build fuzzed on a busy machine may take more than the default 500 ms
            // to answer `/health`; the gateway then took it out of rotation and answered
            // 503 upstream_unavailable until the next round. Here an instance leaves only
            // when it would not answer a request either: the health check gets the proxy's
            // own deadline (`proxy.timeout_ms`, 10 s). A process that is gone still fails
            // its connects at once, and a 5xx of a service still reaches schemathesis.
            env.push(("COMANDA__HEALTH_CHECK__TIMEOUT_MS".into(), "10000".into()));
            // The limits are per client and per user, and schemathesis is one client and
            // one user: at the defaults it would mostly meet 429s (documented, so they
            // pass, but nothing behind them is tested). Rate limits have their own tests.
            for (variable, value) in [
                ("COMANDA__RATE_LIMIT__PER_MINUTE", "1000000"),
                ("COMANDA__RATE_LIMIT__BURST", "1000000"),
                ("COMANDA__RATE_LIMIT__ORDERS__PER_MINUTE", "1000000"),
                ("COMANDA__RATE_LIMIT__ORDERS__BURST", "1000000"),
            ] {
                env.push((variable.into(), value.into()));
            }
        }
        // Both tokens must outlive both runs.
        "auth-service" => env.push(("COMANDA__AUTH__ACCESS_TTL_SECS".into(), "3600".into())),
        _ => {}
    }
    Ok(env)
}

/// `value` with every `127.0.0.1:<port of up>` moved to this stack's port, and a database
/// URL of `up` replaced by this stack's database.
fn moved(value: &str, ports: &BTreeMap<u16, u16>, databases: &BTreeMap<&str, String>) -> String {
    for (database, ours) in databases {
        if value == postgres::database_url(database) {
            return postgres::database_url(ours);
        }
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let port = after[..digits].parse::<u16>().ok();
        match port.and_then(|port| ports.get(&port)) {
            Some(ours) => out.push_str(&ours.to_string()),
            None => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// The `[upstreams.<name>]` tables of the gateway's defaults.
fn gateway_upstreams() -> Result<Vec<String>> {
    let path = workspace::root().join("gateway/config/default.toml");
    let defaults =
        fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
    Ok(defaults
        .lines()
        .filter_map(|line| line.trim().strip_prefix("[upstreams.")?.strip_suffix(']'))
        .map(str::to_owned)
        .collect())
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A small JSON client of the gateway, enough to sign in.
struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Self {
            agent,
            base: base.to_owned(),
        }
    }

    /// `(status, JSON body or null)` of `method path` with `headers` and `body`.
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value)> {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = match body {
            Some(body) => self.agent.run(
                request
                    .header("content-type", "application/json")
                    .body(body.to_string())?,
            ),
            None => self.agent.run(request.body(())?),
        }
        .with_context(|| format!("{method} {url}"))?;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Ok((response.status().as_u16(), json))
    }

    /// Polls `GET path` until `done` holds for a 200 body, for at most `within`.
    fn wait_for(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        within: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let (status, body) = self.call("GET", path, headers, None)?;
            if status == 200 && done(&body) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{path} did not settle within {within:?}: {status} {body}");
            }
            thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Registers a user through the gateway, waits until user-service made the account
/// ACTIVE, and signs in.
fn user_token(client: &Client) -> Result<String> {
    let email = format!("schemathesis-{}@example.com", std::process::id());
    let password = "schemathesis fuzzes the api";
    let (status, account) = client.call(
        "POST",
        "/api/v1/auth/register",
        &[],
        Some(json!({"email": email, "password": password, "full_name": "Schemathesis"})),
    )?;
    if status != 202 {
        bail!("registering the schemathesis user: {status} {account}");
    }
    let id = account["id"].as_str().context("no account id")?;
    let poll = account["poll_token"].as_str().context("no poll token")?;
    client.wait_for(
        &format!("/api/v1/auth/accounts/{id}"),
        &[("x-poll-token", poll)],
        Duration::from_secs(30),
        |account| account["status"] == "ACTIVE",
    )?;
    login(client, &email, password)
}

/// Signs in as the admin auth-service bootstraps in `dev`.
fn admin_token(client: &Client) -> Result<String> {
    let (email, password) =
        up::dev_admin().context("no [admin] email and password in auth-service's defaults")?;
    login(client, &email, &password)
}

fn login(client: &Client, email: &str, password: &str) -> Result<String> {
    let (status, tokens) = client.call(
        "POST",
        "/api/v1/auth/login",
        &[],
        Some(json!({"email": email, "password": password})),
    )?;
    if status != 200 {
        bail!("signing in as {email}: {status} {tokens}");
    }
    Ok(tokens["access_token"]
        .as_str()
        .context("no access_token")?
        .to_owned())
}

/// What one run of schemathesis found, from the summary it prints.
#[derive(Debug)]
struct Summary {
    who: &'static str,
    exit_ok: bool,
    operations: Option<u64>,
    cases: Option<u64>,
    failures: u64,
    /// `(code and title, count)`, e.g. `("ST108 Response violates schema", 2)`.
    kinds: Vec<(String, u64)>,
}

impl Summary {
    fn passed(&self) -> bool {
        self.exit_ok && self.failures == 0
    }

    /// Failures of the kinds whose code starts with one of `prefixes`.
    fn count(&self, codes: &[&str]) -> u64 {
        self.kinds
            .iter()
            .filter(|(kind, _)| codes.iter().any(|code| kind.starts_with(code)))
            .map(|(_, n)| n)
            .sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let number = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        write!(
            f,
            "schemathesis as {}: {} operations, {} cases, {} failures \
             ({} server errors, {} schema violations){}",
            self.who,
            number(self.operations),
            number(self.cases),
            self.failures,
            // ST101: a 5xx; ST102: a 5xx for an undeclared content type.
            self.count(&["ST101", "ST102"]),
            // ST103-ST108: status, content type, headers or body not as documented.
            self.count(&["ST103", "ST104", "ST105", "ST106", "ST107", "ST108"]),
            if self.exit_ok {
                ""
            } else {
                "; schemathesis exited with an error"
            }
        )?;
        for (kind, n) in &self.kinds {
            write!(f, "\n    {kind}: {n}")?;
        }
        Ok(())
    }
}

/// One run of schemathesis with `token`; its output goes to the terminal as it comes.
fn fuzz(st: &std::path::Path, gateway: &str, who: &'static str, token: &str) -> Result<Summary> {
    let dir = workspace::root().join(".comanda/schemathesis");
    fs::create_dir_all(&dir)?;
    let mut command = Command::new(st);
    command
        // Its example database and reports stay under .comanda/.
        .current_dir(&dir)
        .arg("--config-file")
        .arg(workspace::root().join(CONFIG))
        .args(["run", &format!("{gateway}/api/docs/openapi.json")])
        .args(["--url", gateway])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--generation-database", "none"])
        .args(["--report", "junit"])
        .args(["--report-junit-path", &format!("{who}.xml")])
        .arg("--no-color")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    if !EXCLUDED_CHECKS.is_empty() {
        command.args(["--exclude-checks", &EXCLUDED_CHECKS.join(",")]);
    }
    say!("schemathesis as {who}: st run ... --max-examples {MAX_EXAMPLES} --seed {SEED} (every check)");
    let mut child = command.spawn().context("could not start schemathesis")?;
    let mut output = String::new();
    let stdout = child.stdout.take().context("schemathesis stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        output.push_str(&line);
        output.push('\n');
    }
    let status = child.wait()?;
    Ok(summarize(who, status.success(), &output))
}

/// Reads schemathesis' closing summary:
///
/// ```text
/// API Operations:
///   Selected: 22/22
///   Tested: 22
/// Failures:
///   ❌ ST108 Response violates schema: 2
/// Test cases:
///   811 generated, 17 found 17 unique failures, 14 skipped
/// ```
fn summarize(who: &'static str, exit_ok: bool, output: &str) -> Summary {
    let summary = output.rsplit_once(" SUMMARY ").map_or(output, |(_, s)| s);
    let lines: Vec<&str> = summary.lines().map(str::trim).collect();
    let operations = lines
        .iter()
        .find_map(|line| line.strip_prefix("Tested: ")?.trim().parse().ok());
    let cases_line = lines
        .iter()
        .position(|line| *line == "Test cases:")
        .and_then(|at| lines.get(at + 1))
        .copied()
        .unwrap_or("");
    let number_before = |word: &str| {
        let words: Vec<&str> = cases_line
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .collect();
        words
            .windows(2)
            .find(|pair| pair[1] == word)
            .and_then(|pair| pair[0].parse::<u64>().ok())
    };
    let cases = number_before("generated");
    let kinds: Vec<(String, u64)> = lines
        .iter()
        .filter_map(|line| {
            let at = line.find("ST")?;
            let (kind, count) = line[at..].rsplit_once(": ")?;
            let code_ok = kind.len() > 5 && kind[2..5].bytes().all(|b| b.is_ascii_digit());
            Some((kind.to_owned(), count.trim().parse().ok()?)).filter(|_| code_ok)
        })
        .collect();
    let failures = number_before("unique").unwrap_or_else(|| kinds.iter().map(|(_, n)| n).sum());
    Summary {
        who,
        exit_ok,
        operations,
        cases,
        failures,
        kinds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_of_up_are_moved_and_other_numbers_are_kept() {
        let ports = BTreeMap::from([(5010, 41000), (5014, 41004)]);
        let databases = BTreeMap::new();
        assert_eq!(
            moved(
                "http://127.0.0.1:5014/api/v1/payments/webhooks/sandbox",
                &ports,
                &databases
            ),
            "http://127.0.0.1:41004/api/v1/payments/webhooks/sandbox"
        );
        assert_eq!(
            moved("127.0.0.1:50100,127.0.0.1:5010", &ports, &databases),
            "127.0.0.1:50100,127.0.0.1:41000"
        );
        assert_eq!(
            moved("127.0.0.1:9092", &ports, &databases),
            "127.0.0.1:9092"
        );
    }

    #[test]
    fn a_database_of_up_is_replaced_by_the_stacks_own() {
        let databases = BTreeMap::from([("comanda_auth", "test_schemathesis_auth_1".to_owned())]);
        assert_eq!(
            moved(
                &postgres::database_url("comanda_auth"),
                &BTreeMap::new(),
                &databases
            ),
            postgres::database_url("test_schemathesis_auth_1")
        );
    }

    #[test]
    fn the_summary_is_read_from_schemathesis_closing_lines() {
        let output = "...\n=== SUMMARY ===\n\nAPI Operations:\n  Selected: 22/22\n  Tested: 22\n\n\
                      Failures:\n  ❌ ST108 Response violates schema: 2\n  ❌ ST101 Server error: 1\n\n\
                      Test cases:\n  811 generated, 17 found 3 unique failures, 14 skipped\n";
        let summary = summarize("user", false, output);
        assert_eq!(summary.operations, Some(22));
        assert_eq!(summary.cases, Some(811));
        assert_eq!(summary.failures, 3);
        assert_eq!(summary.count(&["ST101"]), 1);
        assert_eq!(summary.count(&["ST108"]), 2);
        let passed = summarize(
            "admin",
            true,
            "SUMMARY\nTested: 24\nTest cases:\n  900 generated, 900 passed\n",
        );
        assert!(passed.passed(), "{passed}");
        assert_eq!(passed.cases, Some(900));
    }
}
