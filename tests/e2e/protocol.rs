//! What actix refuses before any application code runs (decision 0016, addendum "Protocol-level
//! refusals"): a request head it cannot parse gets a bare status line, no body (there is no
//! path to choose a dialect by, and no handler ran), and the connection is closed. The server
//! stays healthy, and none of it writes an ERROR line: those are client faults, logged as one
//! rate-limited WARN line (crates/server/src/telemetry.rs).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::on_both_backends;
use crate::support::TestApp;

/// Everything the server writes back to `request` on a fresh connection, up to its closing the
/// connection (the test fails if it stays open for 10 s).
async fn raw(app: &TestApp, request: &[u8]) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// The malformed heads actix refuses itself, with the status it answers.
fn malformed_heads() -> Vec<(&'static str, Vec<u8>, u16)> {
    let many_headers: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    vec![
        (
            "more than 96 headers",
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
            431,
        ),
        ("a malformed request line", b"GARBAGE\r\n\r\n".to_vec(), 400),
        (
            "an unknown HTTP version",
            b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
            400,
        ),
        (
            "Content-Length with Transfer-Encoding",
            b"POST /v2/accounts/settings/import HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            400,
        ),
        (
            "two Content-Length headers",
            b"POST /api/user/profile HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(),
            400,
        ),
    ]
}

/// Checks one refusal: the status line, no body, the connection closed.
fn assert_bare_refusal(what: &str, answer: &str, status: u16) {
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status} ")),
        "{what}: {answer:?}"
    );
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole head");
    assert!(body.is_empty(), "{what}: a body after the head: {answer:?}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("\r\ncontent-length: 0"), "{what}: {answer:?}");
    assert!(head.contains("\r\nconnection: close"), "{what}: {answer:?}");
}

async fn protocol_errors_get_a_bare_status_and_leave_the_server_healthy(app: TestApp) {
    for (what, request, status) in malformed_heads() {
        let answer = raw(&app, &request).await;
        assert_bare_refusal(what, &answer, status);
        let res = app.get("/healthz", None).await;
        assert_eq!(res.status(), 200, "healthy after {what}");
    }
    // A head that does not arrive whole within the client timeout (slowloris): 408.
    let answer = raw(&app, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
    assert_bare_refusal("a slow head", &answer, 408);
    let res = app
        .get("/v2/accounts/settings", Some(app.owner_key()))
        .await;
    assert_eq!(res.status(), 200);
}

/// An attack run sent malformed requests and got 31 ERROR lines: actix logs each connection it
/// closes on a parse error at ERROR. Client faults are a WARN line at most once a second, which
/// counts the ones it held back; the server's log has no ERROR line.
async fn malformed_requests_write_no_error_lines(app: TestApp) {
    let started = Instant::now();
    for _ in 0..10 {
        for (what, request, status) in malformed_heads() {
            assert_bare_refusal(what, &raw(&app, &request).await, status);
        }
    }
    // The next line, a second later, reports how many were held back.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (what, request, status) = malformed_heads().remove(1);
    assert_bare_refusal(what, &raw(&app, &request).await, status);
    let elapsed = started.elapsed();

    let log = app.server_log().await;
    let errors: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(errors.is_empty(), "ERROR lines:\n{}", errors.join("\n"));
    let faults: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("tenantry::client_faults"))
        .collect();
    assert!(faults.iter().all(|l| l.contains(" WARN ")), "{faults:#?}");
    assert!(
        !faults.is_empty(),
        "no line about the malformed requests:\n{log}"
    );
    assert!(
        faults.len() as u64 <= 1 + elapsed.as_secs(),
        "{} lines in {elapsed:?}: {faults:#?}",
        faults.len()
    );
    let held_back: u64 = faults
        .iter()
        .filter_map(|l| l.split("suppressed=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert!(
        held_back as usize + faults.len() >= 10 * malformed_heads().len(),
        "{held_back} held back, {} lines: {faults:#?}",
        faults.len()
    );
}

on_both_backends!(env [("TENANTRY_CLIENT_TIMEOUT_MS", "1000")];
    protocol_errors_get_a_bare_status_and_leave_the_server_healthy,
    malformed_requests_write_no_error_lines,
);
