//! `tenantry config check`, and the checks of values that parse but cannot run (a database URL
//! of another kind, a guessable operator key), which `serve` makes again before it starts.

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

use crate::config::{self, ConfigFile};
use crate::operator_key::{StrongOperatorKey, HOW_TO_MAKE_ONE};

/// Where the value of option `id` came from, as an operator would look for it: the flag, the
/// environment variable, or `file:line`.
pub fn source_of(command: &Command, serve: &ArgMatches, file: &ConfigFile, id: &str) -> String {
    let arg = command
        .find_subcommand("serve")
        .and_then(|s| s.get_arguments().find(|a| a.get_id() == id));
    let long = arg.and_then(clap::Arg::get_long).unwrap_or(id);
    let env = arg
        .and_then(clap::Arg::get_env)
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    match serve.value_source(id) {
        Some(ValueSource::CommandLine) => format!("flag --{long}"),
        Some(ValueSource::EnvVariable) => format!("environment variable {env}"),
        Some(ValueSource::DefaultValue) if file.values.contains_key(id) => {
            format!("{}: key `{id}`", file.place_of(id).unwrap_or_default())
        }
        _ => format!("the default of --{long}"),
    }
}

/// Values each option's parser accepts but the service cannot run with, each named by its
/// source. Empty when all is well.
pub fn value_problems(command: &Command, serve: &ArgMatches, file: &ConfigFile) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(url) = serve
        .get_one::<String>("database_url")
        .filter(|u| !u.is_empty())
    {
        if let Err(e) = tenantry_store::StoreConfig::from_url(url) {
            problems.push(format!(
                "{}: {e}",
                source_of(command, serve, file, "database_url")
            ));
        }
    }
    if let Some(key) = serve
        .get_one::<String>("operator_key")
        .filter(|k| !k.is_empty())
    {
        if let Err(reason) = StrongOperatorKey::parse(key) {
            problems.push(format!(
                "{}: the operator key is too weak: {reason}; {HOW_TO_MAKE_ONE}",
                source_of(command, serve, file, "operator_key")
            ));
        }
    }
    if let Some(token) = serve
        .get_one::<String>("metrics_token")
        .filter(|t| !t.is_empty())
    {
        let source = source_of(command, serve, file, "metrics_token");
        if let Err(reason) = StrongOperatorKey::parse(token) {
            problems.push(format!(
                "{source}: the metrics token is too weak: {reason}; {HOW_TO_MAKE_ONE}"
            ));
        }
        // The same value would make every scraper an operator: the point of the token is that
        // a leaked scrape configuration opens `/metrics` and nothing else.
        let operator_key = serve.get_one::<String>("operator_key");
        if operator_key.is_some_and(|k| k == token) {
            problems.push(format!(
                "{source}: the metrics token is the operator key; give the scraper a token of its own"
            ));
        }
    }
    if let Some(origins) = serve.get_one::<String>("portal_return_origins") {
        if let Err(e) = tenantry_security::ReturnOrigins::parse_list(origins) {
            problems.push(format!(
                "{}: {e}",
                source_of(command, serve, file, "portal_return_origins")
            ));
        }
    }
    let path = |id: &str| {
        serve
            .get_one::<std::path::PathBuf>(id)
            .filter(|p| !p.as_os_str().is_empty())
            .map(std::path::PathBuf::as_path)
    };
    if let Err(reason) = crate::outbound::extra_roots(path("outbound_ca_file")) {
        problems.push(format!(
            "{}: {reason}",
            source_of(command, serve, file, "outbound_ca_file")
        ));
    }
    let (cert, key) = (path("tls_cert"), path("tls_key"));
    if let Err(reason) = crate::tls::from_options(cert, key) {
        let id = if cert.is_some() {
            "tls_cert"
        } else {
            "tls_key"
        };
        problems.push(format!("{}: {reason}", source_of(command, serve, file, id)));
    }
    problems
}

/// Checks the file, then every `serve` option set in the environment on its own, then the
/// flags, then the values together; prints every problem, naming its source.
pub fn run(command: &Command, file: &ConfigFile, serve_args: &[String]) -> anyhow::Result<()> {
    let mut problems = file.problems.clone();
    let alone = config::without_env(command.clone());
    let options: Vec<clap::Arg> = command
        .find_subcommand("serve")
        .map(|s| s.get_arguments().cloned().collect())
        .unwrap_or_default();
    let mut from_env = 0;
    // Options whose environment value is bad: left out of the check of the values together,
    // so that one bad variable does not hide the problems of the others.
    let mut bad_env = Vec::new();
    for arg in &options {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        let Some(value) = std::env::var_os(env).filter(|v| !v.is_empty()) else {
            continue;
        };
        from_env += 1;
        let mut flag = std::ffi::OsString::from(format!("--{long}="));
        flag.push(&value);
        if let Err(e) =
            alone
                .clone()
                .try_get_matches_from(["tenantry".into(), "serve".into(), flag])
        {
            problems.push(format!(
                "environment variable {}: {}",
                env.to_string_lossy(),
                config::reason(&e)
            ));
            bad_env.push(arg.get_id().to_string());
        }
    }
    let with_flags = |cmd: &Command| {
        cmd.clone().try_get_matches_from(
            ["tenantry", "serve"]
                .into_iter()
                .map(String::from)
                .chain(serve_args.iter().cloned()),
        )
    };
    let flags_ok = match with_flags(&alone) {
        Ok(_) => true,
        Err(e) => {
            problems.push(format!("flags: {}", config::reason(&e)));
            false
        }
    };
    if flags_ok {
        // Now together, as `serve` would see them.
        let together = bad_env.iter().fold(command.clone(), |cmd, id| {
            cmd.mut_subcommand("serve", |s| s.mut_arg(id, |a| a.env(None::<&'static str>)))
        });
        match with_flags(&together) {
            Ok(matches) => {
                if let Some(serve) = matches.subcommand_matches("serve") {
                    problems.extend(value_problems(command, serve, file));
                }
            }
            Err(e) => problems.push(config::reason(&e)),
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("error: {p}");
        }
        anyhow::bail!("{} problem(s) in the configuration", problems.len());
    }
    match &file.path {
        Some(path) => println!(
            "{}: OK ({} keys set; {from_env} environment variables)",
            path.display(),
            file.values.len()
        ),
        None => println!("configuration OK (no file; {from_env} environment variables)"),
    }
    Ok(())
}
