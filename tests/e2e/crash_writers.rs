//! Crash safety under load: four concurrent writers (seed 01 settings PUTs of the notification email, per-user preference
//! writes, invitations, host events with deliveries pending) while the server is killed with
//! SIGKILL at a pseudo-random moment, five times, restarting after each kill. Afterwards every
//! write that was answered 2xx is present, every accepted event is delivered at least once, and
//! `tenantry check` finds the database consistent (versions against history, foreign keys,
//! every document readable); a write whose answer was lost is either whole or absent, which is
//! what the check verifies for the versioned documents.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::support::{webhook_sink, Backend, Receiver, TestApp, TestDb};

const KILLS: usize = 5;
const ENV: [(&str, &str); 4] = [
    ("TENANTRY_OUTBOUND_ALLOW", "127.0.0.0/8"),
    ("TENANTRY_OUTBOX_POLL_MS", "50"),
    ("TENANTRY_RATE_LIMIT_PER_IP", "0"),
    ("TENANTRY_RATE_LIMIT_PER_KEY", "0"),
];

/// What one writer had confirmed (2xx) before its server died, and any answer that was not 2xx
/// (which fails the test: before the kill, every write must succeed).
#[derive(Default)]
struct Confirmed {
    settings_values: Vec<String>,
    preferences: Vec<String>,
    invitations: Vec<String>,
    events: Vec<String>,
    refused: Vec<String>,
}

/// The fate of one write: answered 2xx, answered otherwise, or no answer (the server died).
enum Outcome {
    Confirmed(Value),
    Refused(String),
    Lost,
}

/// A pseudo-random delay in [300, 900) ms; the clock's nanoseconds are random enough to vary the
/// kill point between rounds and runs, and every delay is printed.
fn kill_delay(round: usize) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(300 + u64::from((nanos / 1000 + round as u32 * 7919) % 600))
}

async fn write(
    client: &reqwest::Client,
    method: Method,
    url: String,
    key: &str,
    body: Value,
) -> Outcome {
    let res = match client
        .request(method.clone(), &url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
    {
        Ok(res) => res,
        Err(_) => return Outcome::Lost,
    };
    let status = res.status();
    // A body cut short by the kill is a lost answer, not a refusal.
    let Ok(text) = res.text().await else {
        return Outcome::Lost;
    };
    if !status.is_success() {
        return Outcome::Refused(format!("{method} {url}: {status} {text}"));
    }
    match serde_json::from_str(&text) {
        Ok(value) => Outcome::Confirmed(value),
        Err(_) => Outcome::Lost,
    }
}

impl Confirmed {
    /// Keeps going while writes are confirmed; a refusal is recorded, and both it and a lost
    /// answer end the writer's round.
    fn settle(&mut self, outcome: Outcome, on_success: impl FnOnce(&mut Self, Value)) -> bool {
        match outcome {
            Outcome::Confirmed(value) => {
                on_success(self, value);
                true
            }
            Outcome::Refused(what) => {
                self.refused.push(what);
                false
            }
            Outcome::Lost => false,
        }
    }
}

/// One round of the four writers against `base`, until the server stops answering.
fn writers(base: &str, key: &str, round: usize) -> Vec<JoinHandle<Confirmed>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    (0..4)
        .map(|kind| {
            let (client, base, key) = (client.clone(), base.to_owned(), key.to_owned());
            tokio::spawn(async move {
                let mut done = Confirmed::default();
                for n in 0..10_000u64 {
                    let tag = format!("r{round}n{n}");
                    let ok = match kind {
                        0 => {
                            let value = format!("{tag}@crash.example.test");
                            let answer = write(
                                &client,
                                Method::PUT,
                                format!("{base}/v2/accounts/settings/notifications"),
                                &key,
                                json!({ "email": { "email": value } }),
                            )
                            .await;
                            done.settle(answer, |d, _| d.settings_values.push(value))
                        }
                        // A user holds at most 200 preference keys: 35 new ones a round
                        // stay below it over the five rounds, so no refusal is expected.
                        1 if n < 35 => {
                            let answer = write(
                                &client,
                                Method::PUT,
                                format!("{base}/api/user-preferences/crash_{tag}"),
                                &key,
                                json!({ "value": tag }),
                            )
                            .await;
                            done.settle(answer, |d, _| d.preferences.push(format!("crash_{tag}")))
                        }
                        2 if n < 12 => {
                            let email = format!("crash-{tag}@example.test");
                            let answer = write(
                                &client,
                                Method::POST,
                                format!("{base}/v2/accounts/team/members/invite"),
                                &key,
                                json!({ "email": email, "role": "viewer" }),
                            )
                            .await;
                            done.settle(answer, |d, _| d.invitations.push(email))
                        }
                        1 | 2 => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            // Still probing, so the task ends when the server dies.
                            client.get(format!("{base}/healthz")).send().await.is_ok()
                        }
                        _ => {
                            let answer = write(
                                &client,
                                Method::POST,
                                format!("{base}/api/notifications/events"),
                                &key,
                                json!({ "event": "crash.item.done", "data": { "tag": tag } }),
                            )
                            .await;
                            done.settle(answer, |d, doc| match doc["data"]["event_id"].as_str() {
                                Some(id) => d.events.push(id.to_owned()),
                                None => {
                                    d.refused.push(format!("event answer without an id: {doc}"))
                                }
                            })
                        }
                    };
                    if !ok {
                        // An answer lost to the kill (or a refusal, recorded): the round is over
                        // for this writer.
                        break;
                    }
                }
                done
            })
        })
        .collect()
}

async fn writers_survive_repeated_kills(db: TestDb) {
    let mut app = TestApp::start(db, &ENV).await;
    let owner = app.owner_key().to_owned();
    let receiver = Receiver::start(200, "ok").await;
    webhook_sink(&app, &owner, &receiver, "crash.item.done").await;

    let mut confirmed = Confirmed::default();
    for round in 0..KILLS {
        let running = writers(&app.base, &owner, round);
        let delay = kill_delay(round);
        tokio::time::sleep(delay).await;
        app = app.restart_with(&ENV).await;
        let mut counts = [0usize; 4];
        let mut refused = Vec::new();
        for handle in running {
            let mut done = handle.await.expect("writer");
            refused.append(&mut done.refused);
            counts[0] += done.settings_values.len();
            counts[1] += done.preferences.len();
            counts[2] += done.invitations.len();
            counts[3] += done.events.len();
            confirmed.settings_values.extend(done.settings_values);
            confirmed.preferences.extend(done.preferences);
            confirmed.invitations.extend(done.invitations);
            confirmed.events.extend(done.events);
        }
        println!("kill {} after {delay:?}: confirmed {} settings PUTs, {} preferences, {} invitations, {} events", round + 1, counts[0], counts[1], counts[2], counts[3]);
        assert!(
            refused.is_empty(),
            "round {round}: writes refused before the kill: {refused:?}"
        );
        assert!(
            counts.iter().all(|&n| n > 0),
            "round {round}: every kind of writer confirms writes in every round: {counts:?}"
        );
    }

    // Every confirmed settings write is a version in the history.
    let history = app
        .query_texts("SELECT document AS t FROM settings_history WHERE section = 'notifications'");
    let versions: HashSet<String> = history
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|d| d["email"]["email"].as_str().map(str::to_owned))
        .collect();
    let lost: Vec<_> = confirmed
        .settings_values
        .iter()
        .filter(|v| !versions.contains(*v))
        .collect();
    assert!(
        lost.is_empty(),
        "confirmed settings writes missing from history: {lost:?}"
    );
    // Every confirmed preference and invitation is there.
    let prefs: HashSet<String> = app
        .query_texts("SELECT pref_key AS t FROM user_preferences")
        .into_iter()
        .collect();
    let lost: Vec<_> = confirmed
        .preferences
        .iter()
        .filter(|p| !prefs.contains(*p))
        .collect();
    assert!(lost.is_empty(), "confirmed preferences missing: {lost:?}");
    let invited: HashSet<String> = app
        .query_texts("SELECT email AS t FROM invitations")
        .into_iter()
        .collect();
    let lost: Vec<_> = confirmed
        .invitations
        .iter()
        .filter(|e| !invited.contains(*e))
        .collect();
    assert!(lost.is_empty(), "confirmed invitations missing: {lost:?}");
    // Every accepted event reaches the receiver at least once.
    let wanted: HashSet<String> = confirmed.events.iter().cloned().collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let delivered: HashSet<String> = receiver
            .received()
            .await
            .iter()
            .filter_map(|r| r.header("webhook-id").map(str::to_owned))
            .collect();
        let missing = wanted.difference(&delivered).count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} accepted events never delivered",
            wanted.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let db = app.stop().await;
    let out = db.command(&["check"]).output().await.expect("run check");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tenantry check after {KILLS} kills:\n{text}"
    );
    println!(
        "{KILLS} kills survived: {} settings writes, {} preferences, {} invitations, {} events confirmed and found",
        confirmed.settings_values.len(),
        confirmed.preferences.len(),
        confirmed.invitations.len(),
        wanted.len()
    );
}

#[tokio::test]
async fn writers_survive_repeated_kills_sqlite() {
    writers_survive_repeated_kills(TestDb::create(Backend::Sqlite).expect("sqlite")).await;
}

#[ignore = "PostgreSQL variant: needs TENANTRY_TEST_PG (cargo xtask test provides it)"]
#[tokio::test]
async fn writers_survive_repeated_kills_postgres() {
    if let Some(db) = TestDb::create(Backend::Postgres) {
        writers_survive_repeated_kills(db).await;
    }
}
