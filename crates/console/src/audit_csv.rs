//! The audit log as CSV (RFC 4180): one header row, then one row per entry, newest first, each
//! line ending in CRLF.
//!
//! A cell is data, never a formula: a spreadsheet opening the file runs a cell that starts with
//! `=`, `+`, `-` or `@` (and some read a leading tab or carriage return the same way), and an
//! audit entry carries text others chose (a key's name, a target, an address from a header).
//! Such a cell gets a leading apostrophe, which spreadsheets show as text and which keeps the
//! value readable. Then a cell holding a comma, a double quote or a line break is quoted, with
//! its double quotes doubled.

use tenantry_security::AuditEntry;

/// The first row.
pub(crate) const HEADER: &str = "id,time,actor,action,target,ip,details\r\n";

/// Characters that make a spreadsheet read a cell as a formula when they come first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as one CSV cell: neutralised, then quoted when it must be.
pub(crate) fn cell(value: &str) -> String {
    let neutral = if value.starts_with(FORMULA_STARTS) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One entry as one line, the columns of [`HEADER`]. Times are the API's (RFC 3339, UTC,
/// microseconds); details are the API's JSON, as one cell.
pub(crate) fn row(entry: &AuditEntry) -> String {
    let time = entry
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let details = entry
        .details
        .as_ref()
        .map(serde_json::Value::to_string)
        .unwrap_or_default();
    let cells = [
        entry.id.as_str(),
        time.as_str(),
        entry.actor.as_str(),
        entry.action.as_str(),
        entry.target.as_deref().unwrap_or(""),
        entry.ip.as_deref().unwrap_or(""),
        details.as_str(),
    ];
    let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

    use super::*;

    /// An RFC 4180 reader, written from the RFC's grammar (independent of [`cell`]): the
    /// records of `text`, each a list of fields; `None` when the text is not RFC 4180.
    fn parse(text: &str) -> Option<Vec<Vec<String>>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut chars = text.chars().peekable();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next()? {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        '"' => break,
                        c => field.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if matches!(c, ',' | '\r' | '\n' | '"') {
                        break;
                    }
                    field.push(c);
                    chars.next();
                }
            }
            record.push(field);
            match chars.next() {
                Some(',') => {}
                Some('\r') if chars.next() == Some('\n') => {
                    records.push(std::mem::take(&mut record));
                    if chars.peek().is_none() {
                        return Some(records);
                    }
                }
                _ => return None,
            }
        }
    }

    fn entry(target: &str, ip: &str, details: serde_json::Value) -> AuditEntry {
        AuditEntry {
            id: "aud_1".into(),
            actor: "usr_1".into(),
            action: "key.created".into(),
            target: Some(target.into()),
            details: Some(details),
            ip: Some(ip.into()),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time"),
        }
    }

    #[test]
    fn examples() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("\r\n=x"), "\"'\r\n=x\"");
        assert_eq!(cell("@SUM(A1)\n"), "\"'@SUM(A1)\n\"");
        let line = row(&entry(
            "=HYPERLINK(\"x\")",
            "1.2.3.4",
            serde_json::json!({"a": 1}),
        ));
        assert_eq!(
            line,
            "aud_1,2023-11-14T22:13:20.000000Z,usr_1,key.created,\"'=HYPERLINK(\"\"x\"\")\",\
             1.2.3.4,\"{\"\"a\"\":1}\"\r\n"
        );
    }

    /// Text that leans on what matters: formula starts, separators, quotes, line breaks.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('='),
                Just('+'),
                Just('-'),
                Just('@'),
                Just('\t'),
                Just('\r'),
                Just('\n'),
                Just(','),
                Just('"'),
                Just('\''),
                Just(' '),
                any::<char>(),
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// A fixed budget and seed (`TENANTRY_PROPTEST_SEED` overrides it); a failure prints both.
    #[test]
    fn every_cell_reads_back_as_written_and_never_as_a_formula() {
        let seed = std::env::var("TENANTRY_PROPTEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x00c5_7a1e_u64);
        let mut runner = TestRunner::new(Config {
            cases: 2_000,
            rng_seed: RngSeed::Fixed(seed),
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (text(), text(), text());
        let result = runner.run(&strategy, |(target, ip, detail)| {
            let line = row(&entry(&target, &ip, serde_json::json!({ "v": detail })));
            let text = format!("{HEADER}{line}");
            let records = parse(&text)
                .ok_or_else(|| TestCaseError::fail(format!("not RFC 4180: {text:?}")))?;
            prop_assert_eq!(records.len(), 2);
            prop_assert_eq!(records[0].len(), 7);
            let fields = &records[1];
            prop_assert_eq!(fields.len(), 7);
            for field in fields {
                prop_assert!(!field.starts_with(FORMULA_STARTS), "{:?}", field);
            }
            let unneutral = |f: &str, original: &str| {
                if original.starts_with(FORMULA_STARTS) {
                    f.strip_prefix('\'').map(str::to_owned)
                } else {
                    Some(f.to_owned())
                }
            };
            prop_assert_eq!(unneutral(&fields[4], &target), Some(target.clone()));
            prop_assert_eq!(unneutral(&fields[5], &ip), Some(ip.clone()));
            let details: serde_json::Value =
                serde_json::from_str(&fields[6]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&details["v"], &serde_json::json!(detail));
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}\n(seed {seed}: rerun with TENANTRY_PROPTEST_SEED={seed})");
        }
    }
}
