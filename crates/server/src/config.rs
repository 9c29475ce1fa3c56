//! The TOML configuration file (`--config FILE` or `TENANTRY_CONFIG`).
//!
//! Precedence, lowest first: built-in defaults < the file < environment variables < flags. The
//! file does not have a parser of its own: each of its keys is an option of `tenantry serve`
//! (the flag's name with `_` for `-`), and its value becomes that option's default before clap
//! parses the command line. Every value therefore goes through the same parser, with the same
//! rules, as the flag and the environment variable, and one option list (the clap definitions)
//! is the source of `config print`, `config check` and docs/configuration.md.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};

/// The options a file may set: every option of `serve` but the file's own path.
fn options(cli: &Command) -> Vec<&clap::Arg> {
    cli.find_subcommand("serve")
        .map(|serve| {
            serve
                .get_arguments()
                .filter(|a| a.get_long().is_some() && !is_builtin(a))
                .collect()
        })
        .unwrap_or_default()
}

fn is_builtin(arg: &clap::Arg) -> bool {
    matches!(arg.get_id().as_str(), "help" | "version" | "config")
}

/// A loaded configuration file: option id → value as the command line would spell it.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub values: BTreeMap<String, String>,
    /// The line each key is on, so that a problem found later names `file:line`.
    pub lines: BTreeMap<String, usize>,
    /// Every problem of the file, each naming `file[:line[:column]]`; the good keys are in
    /// `values` all the same, so that `config check` goes on to check the environment.
    pub problems: Vec<String>,
}

impl ConfigFile {
    /// `path:line` of a key the file sets.
    pub fn place_of(&self, key: &str) -> Option<String> {
        let path = self.path.as_ref()?;
        match self.lines.get(key) {
            Some(line) => Some(format!("{}:{line}", path.display())),
            None => Some(path.display().to_string()),
        }
    }
}

/// `cmd` with no option read from the environment: a value is then checked alone, and a bad
/// environment variable is never blamed on the file (or on another variable).
pub fn without_env(cmd: Command) -> Command {
    let ids: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.get_env().is_some())
        .map(|a| a.get_id().to_string())
        .collect();
    let mut cmd = ids.into_iter().fold(cmd, |cmd, id| {
        cmd.mut_arg(id, |a| a.env(None::<&'static str>))
    });
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, without_env);
    }
    cmd
}

/// The reason of a clap error, without its usage lines.
pub fn reason(e: &clap::Error) -> String {
    let text = e.to_string();
    text.split("\n\nFor more information")
        .next()
        .unwrap_or_default()
        .split("\n\nUsage:")
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The line a top-level key is written on (`key = …`, optionally quoted).
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix(key)
                .or_else(|| line.strip_prefix(&format!("\"{key}\"")))
                .or_else(|| line.strip_prefix(&format!("'{key}'")));
            rest.is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// Levenshtein distance, for suggesting the key an unknown one was meant to be.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The known key closest to `unknown`, if it is close enough to be a typo: written as a flag
/// (`-`), as an environment variable (`TENANTRY_`, upper case) or misspelt by a few letters.
pub fn closest_key<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let normal = unknown
        .trim_start_matches("--")
        .to_ascii_lowercase()
        .replace('-', "_");
    let normal = normal.strip_prefix("tenantry_").unwrap_or(&normal);
    known
        .iter()
        .map(|k| (edit_distance(normal, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min()
        .map(|(_, k)| k)
}

/// The file named by `--config FILE`/`--config=FILE` among the arguments, else by
/// `TENANTRY_CONFIG`. Read before clap runs, because the file supplies clap's defaults.
pub fn path_from(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter().skip(1);
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = arg.to_str().and_then(|a| a.strip_prefix("--config=")) {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("TENANTRY_CONFIG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// Reads and checks the file against the options of `cli`. Every problem is reported, each
/// naming its place (`file:line`) and key; an unreadable file or a TOML syntax error is the
/// only problem then.
pub fn load(path: &Path, cli: &Command) -> ConfigFile {
    let mut file = ConfigFile {
        path: Some(path.to_path_buf()),
        ..ConfigFile::default()
    };
    let at = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            file.problems.push(format!("{at}: {e}"));
            return file;
        }
    };
    let table: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => {
            let e: toml::de::Error = e;
            let place = match e.span() {
                Some(span) => {
                    let (line, column) = line_column(&text, span.start);
                    format!("{at}:{line}:{column}")
                }
                None => at.to_string(),
            };
            file.problems
                .push(format!("{place}: not valid TOML: {}", e.message().trim()));
            return file;
        }
    };
    // Each value alone: the environment's values are checked (and blamed) on their own.
    let cli = without_env(cli.clone());
    let options = options(&cli);
    let known: Vec<&str> = options.iter().map(|a| a.get_id().as_str()).collect();
    for (key, value) in table {
        let place = match line_of(&text, &key) {
            Some(line) => {
                file.lines.insert(key.clone(), line);
                format!("{at}:{line}")
            }
            None => at.to_string(),
        };
        let Some(arg) = options.iter().find(|a| a.get_id().as_str() == key) else {
            let hint = match closest_key(&key, &known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("the keys are: {}", known.join(", ")),
            };
            file.problems
                .push(format!("{place}: unknown key `{key}`; {hint}"));
            continue;
        };
        let text = match scalar(&value) {
            Some(text) => text,
            None => {
                file.problems.push(format!(
                    "{place}: key `{key}`: expected a string, number, boolean or list of strings, got {}",
                    value.type_str()
                ));
                continue;
            }
        };
        // The option's own parser, the one the flag and the environment variable go through:
        // `serve --option=value` parsed on its own.
        let long = arg.get_long().unwrap_or(key.as_str());
        if let Err(e) = cli.clone().try_get_matches_from([
            "tenantry".to_owned(),
            "serve".to_owned(),
            format!("--{long}={text}"),
        ]) {
            file.problems
                .push(format!("{place}: key `{key}`: {}", reason(&e)));
            continue;
        }
        file.values.insert(key, text);
    }
    file
}

/// A TOML value as the command line would spell it; lists become comma-separated.
fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                toml::Value::String(s) => Some(s.clone()),
                toml::Value::Integer(i) => Some(i.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        toml::Value::Datetime(_) | toml::Value::Table(_) => None,
    }
}

/// Makes the file's values the defaults of every subcommand option with the same id.
pub fn apply(cli: Command, file: &ConfigFile) -> Command {
    if file.values.is_empty() {
        return cli;
    }
    fn walk(cmd: Command, values: &BTreeMap<String, String>) -> Command {
        let ids: Vec<String> = cmd
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .filter(|id| values.contains_key(id))
            .collect();
        let mut cmd = ids.into_iter().fold(cmd, |cmd, id| {
            // clap keeps defaults as `&'static str`; the file is read once per process.
            let value: &'static str = Box::leak(values[&id].clone().into_boxed_str());
            cmd.mut_arg(id, |a| a.default_value(value))
        });
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in names {
            cmd = cmd.mut_subcommand(name, |sub| walk(sub, values));
        }
        cmd
    }
    walk(cli, &file.values)
}

/// Secrets are masked: options whose environment value clap hides, and the password of URLs.
fn shown(arg: &clap::Arg, value: &str) -> String {
    if arg.is_hide_env_values_set() && !arg.get_id().as_str().ends_with("_url") {
        return "\"********\"".into();
    }
    let masked = match value.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:********@{host}"),
                None => value.to_owned(),
            },
            None => value.to_owned(),
        },
        None => value.to_owned(),
    };
    format!("{masked:?}")
}

/// The effective configuration of `serve` as TOML, each line saying where its value came from.
pub fn print(cli: &Command, matches: &ArgMatches, file: &ConfigFile) -> String {
    let mut out = String::new();
    if let Some(path) = &file.path {
        out.push_str(&format!("# configuration file: {}\n", path.display()));
    }
    for arg in options(cli) {
        let id = arg.get_id().as_str();
        let raw: Option<Vec<&OsStr>> = matches.get_raw(id).map(|values| values.collect::<Vec<_>>());
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => "flag",
            Some(ValueSource::EnvVariable) => "environment",
            Some(ValueSource::DefaultValue) if file.values.contains_key(id) => "file",
            Some(ValueSource::DefaultValue) => "default",
            _ => "unset",
        };
        match raw {
            Some(values) => {
                let value: Vec<String> = values
                    .iter()
                    .map(|v| v.to_string_lossy().into_owned())
                    .collect();
                out.push_str(&format!(
                    "{id} = {}  # {source}\n",
                    shown(arg, &value.join(","))
                ));
            }
            None => out.push_str(&format!("# {id} is unset\n")),
        }
    }
    out
}

/// docs/configuration.md, generated from the options so that it cannot drift from them.
pub fn reference(cli: &Command) -> String {
    let mut out = String::from(
        "# Configuration\n\n\
         <!-- Generated by `tenantry config docs > docs/configuration.md`; a test fails when it is stale. -->\n\n\
         Every option of `tenantry serve` can be given, from lowest to highest precedence, as its\n\
         built-in default, as a key of the TOML file named by `--config FILE` or `TENANTRY_CONFIG`,\n\
         as an environment variable, or as a flag. The other commands (`migrate`, `accounts`,\n\
         `audit`, `allowlist`, `keys`, `bootstrap`) read the same file for the options they share\n\
         with `serve` (the database ones).\n\n\
         `tenantry config check [--config FILE] [-- FLAGS]` validates the file, the environment\n\
         and the flags together (every bad value is reported with its source: `file:line`, the\n\
         environment variable or the flag; an unknown key with the closest valid one; and the\n\
         command exits non-zero); `tenantry config print` shows the effective configuration, each\n\
         value with where it came from, secrets masked.\n\n\
         ```toml\n\
         # /etc/tenantry/tenantry.toml\n\
         bind = \"0.0.0.0:8080\"\n\
         data_dir = \"/var/lib/tenantry\"\n\
         log = \"json\"\n\
         trusted_proxies = [\"10.0.0.0/8\"]\n\
         retry_schedule = [5, 300, 1800]\n\
         ```\n\n\
         Lists may be written as TOML arrays or as comma-separated strings. Keep secrets\n\
         (`master_key`, `operator_key`, passwords in `database_url` and `smtp_url`) in the\n\
         environment or in a file readable by the service only.\n\n\
         | key | flag | environment | default | meaning |\n|---|---|---|---|---|\n",
    );
    for arg in options(cli) {
        let id = arg.get_id().as_str();
        let flag = arg
            .get_long()
            .map(|l| format!("`--{l}`"))
            .unwrap_or_default();
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        let default: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let default = if default.is_empty() {
            "unset".to_owned()
        } else if default.iter().all(String::is_empty) {
            "empty".to_owned()
        } else {
            format!("`{}`", default.join(","))
        };
        let possible: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_owned())
            .collect();
        let mut help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string().replace('\n', " "))
            .unwrap_or_default();
        if !possible.is_empty() {
            if !help.ends_with('.') {
                help.push('.');
            }
            help.push_str(&format!(" One of: {}.", possible.join(", ")));
        }
        out.push_str(&format!(
            "| `{id}` | {flag} | {env} | {default} | {} |\n",
            help.replace('|', "\\|")
        ));
    }
    out
}
