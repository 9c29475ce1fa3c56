//! The real transports behind the notification ports: HTTP POST (webhooks) and GET (account
//! logos) with the SSRF guard, and email as `.eml` files in the data directory or over SMTP.
//!
//! `TENANTRY_OUTBOUND_CA_FILE` adds the certificates of a PEM bundle to the roots the HTTP
//! client trusts (a private CA in front of internal receivers, and the tests' own); the public
//! roots stay trusted. It changes whom TLS believes, never which addresses may be reached.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tenantry_kernel::{OsRandom, RandomSource};
use tenantry_notifications::{
    DeliveryError, FetchedBody, HttpGet, HttpReply, HttpTransport, MailTransport, OutboundPolicy,
};

const TIMEOUT: Duration = Duration::from_secs(15);
/// A logo is fetched while a page waits for it: a slow host costs the page at most this.
const GET_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BODY: usize = 1024;

pub struct GuardedHttp {
    policy: OutboundPolicy,
    extra_roots: Vec<reqwest::Certificate>,
}

/// The certificates of the PEM bundle at `path` (`TENANTRY_OUTBOUND_CA_FILE`), or why not: a
/// file that cannot be read or holds no certificate is a configuration mistake that stops the
/// start, never a silent fallback to the public roots alone.
pub fn extra_roots(path: Option<&std::path::Path>) -> Result<Vec<reqwest::Certificate>, String> {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{}: not a PEM certificate bundle: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

impl GuardedHttp {
    pub fn new(policy: OutboundPolicy, extra_roots: Vec<reqwest::Certificate>) -> Self {
        Self {
            policy,
            extra_roots,
        }
    }

    /// A client that connects to `addr` for `host` only, follows no redirect (a redirect
    /// would lead past the address check) and trusts the extra roots.
    fn client(
        &self,
        host: &str,
        addr: SocketAddr,
        timeout: Duration,
    ) -> Result<reqwest::blocking::Client, DeliveryError> {
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(host, addr)
            .user_agent(concat!("Tenantry/", env!("CARGO_PKG_VERSION")));
        for root in &self.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        builder
            .build()
            .map_err(|e| DeliveryError::Local(e.to_string()))
    }

    /// Resolves the URL's host and checks every address against the policy; returns the
    /// address to connect to, so the request cannot be re-resolved to somewhere else (DNS
    /// rebinding).
    fn target(&self, url: &reqwest::Url) -> Result<SocketAddr, DeliveryError> {
        let host = url
            .host_str()
            .ok_or_else(|| DeliveryError::Refused("the URL has no host".into()))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| DeliveryError::Refused("the URL has no port".into()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        // Localhost names (`localhost.`, `x.localhost`) are loopback without asking DNS.
        let addrs: Vec<SocketAddr> = tenantry_notifications::OutboundPolicy::resolve(host, port)
            .map_err(|e| DeliveryError::Unreachable(format!("cannot resolve {host}: {e}")))?;
        let first = *addrs
            .first()
            .ok_or_else(|| DeliveryError::Unreachable(format!("{host} has no address")))?;
        for addr in &addrs {
            if !self.policy.allows(addr.ip()) {
                return Err(DeliveryError::Refused(format!(
                    "{} resolves to {}, which outbound deliveries may not reach (see TENANTRY_OUTBOUND_ALLOW)",
                    host,
                    addr.ip()
                )));
            }
        }
        match url.scheme() {
            "https" => {}
            "http" if addrs.iter().all(|a| self.policy.operator_allows(a.ip())) => {}
            other => {
                return Err(DeliveryError::Refused(format!(
                    "scheme {other} is not allowed; use https"
                )))
            }
        }
        Ok(first)
    }
}

impl HttpTransport for GuardedHttp {
    fn post_json(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpReply, DeliveryError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| DeliveryError::Refused(format!("invalid URL: {e}")))?;
        let addr = self.target(&parsed)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let client = self.client(&host, addr, TIMEOUT)?;
        let mut request = client
            .post(parsed)
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let started = Instant::now();
        let response = request.send().map_err(unreachable)?;
        let status = response.status().as_u16();
        let retry_after_secs = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response
            .bytes()
            .map_err(|e| DeliveryError::Unreachable(e.to_string()))?;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY)]).into_owned();
        Ok(HttpReply {
            status,
            body: text,
            latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            retry_after_secs,
        })
    }
}

fn unreachable(e: reqwest::Error) -> DeliveryError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    DeliveryError::Unreachable(format!("{kind}: {e}"))
}

impl HttpGet for GuardedHttp {
    fn get(&self, url: &str, max_bytes: usize) -> Result<FetchedBody, DeliveryError> {
        use std::io::Read;
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| DeliveryError::Refused(format!("invalid URL: {e}")))?;
        let addr = self.target(&parsed)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let client = self.client(&host, addr, GET_TIMEOUT)?;
        let response = client.get(parsed).send().map_err(unreachable)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // A declared length over the limit is refused before reading; an undeclared or false
        // one is cut off one byte past it, so the memory a fetch takes is bounded either way.
        if response
            .content_length()
            .is_some_and(|len| len > max_bytes as u64)
        {
            return Err(DeliveryError::Refused(format!(
                "the body is larger than {max_bytes} bytes"
            )));
        }
        let mut body = Vec::new();
        response
            .take(max_bytes as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| DeliveryError::Unreachable(format!("reading the body: {e}")))?;
        if body.len() > max_bytes {
            return Err(DeliveryError::Refused(format!(
                "the body is larger than {max_bytes} bytes"
            )));
        }
        Ok(FetchedBody {
            status,
            content_type,
            body,
        })
    }
}

/// Writes each message as an RFC 5322 `.eml` file into `<data dir>/mail`.
pub struct EmlFiles {
    dir: PathBuf,
    from: String,
}

impl EmlFiles {
    pub fn new(dir: PathBuf, from: String) -> Self {
        Self { dir, from }
    }
}

/// 24 random hex digits: the local part of a Message-ID.
fn random_id() -> String {
    let mut id = [0u8; 12];
    OsRandom.fill(&mut id);
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl EmlFiles {
    /// Writes one message whose MIME part (its content headers and body, CRLF line ends) is
    /// `part`.
    fn write(&self, to: &str, subject: &str, part: &[u8]) -> Result<String, DeliveryError> {
        // Header injection: a line break in a header value would start a new header.
        if [to, subject].iter().any(|v| v.contains(['\r', '\n'])) {
            return Err(DeliveryError::Refused(
                "line breaks are not allowed in mail headers".into(),
            ));
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| DeliveryError::Local(e.to_string()))?;
        let id = random_id();
        let message_id = format!("<{id}@tenantry>");
        let now = chrono::Utc::now();
        let path = self
            .dir
            .join(format!("{}-{id}.eml", now.format("%Y%m%dT%H%M%S")));
        let mut file =
            std::fs::File::create(&path).map_err(|e| DeliveryError::Local(e.to_string()))?;
        write!(
            file,
            "From: {}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n",
            self.from,
            now.to_rfc2822(),
        )
        .and_then(|()| file.write_all(part))
        .map_err(|e| DeliveryError::Local(e.to_string()))?;
        Ok(message_id)
    }
}

/// A part of `content_type` holding `body` as 8-bit text, as the text-only `.eml` files hold it
/// (what a person reads in the file and a test searches), or encoded by lettre when 8 bits
/// cannot carry it: a line over RFC 5322's 998 bytes, or a NUL or a bare CR. lettre itself
/// would pick quoted-printable for any line over 76 characters, which suits SMTP, not a file
/// read as it is.
fn eight_bit_part(
    content_type: lettre::message::header::ContentType,
    body: &str,
) -> lettre::message::SinglePart {
    use lettre::message::{header::ContentTransferEncoding, Body, SinglePart};
    let carried = !body.contains(['\0', '\r']) && body.lines().all(|l| l.len() <= 998);
    let body = if carried {
        Body::dangerous_pre_encoded(
            body.replace('\n', "\r\n").into_bytes(),
            ContentTransferEncoding::EightBit,
        )
    } else {
        Body::new(body.to_owned())
    };
    SinglePart::builder().header(content_type).body(body)
}

impl MailTransport for EmlFiles {
    fn send(&self, to: &str, subject: &str, text: &str) -> Result<String, DeliveryError> {
        let body = text.replace('\n', "\r\n");
        let part = format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
        );
        self.write(to, subject, part.as_bytes())
    }

    fn send_with_html(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<String, DeliveryError> {
        use lettre::message::{header::ContentType, MultiPart};
        let part = MultiPart::alternative()
            .singlepart(eight_bit_part(ContentType::TEXT_PLAIN, text))
            .singlepart(eight_bit_part(ContentType::TEXT_HTML, html));
        self.write(to, subject, &part.formatted())
    }
}

/// Email over SMTP (lettre): `smtp://host:port` (plain, or STARTTLS with `?tls=required`),
/// `smtps://host:port` (implicit TLS), credentials as `user:pass@` in the URL.
pub struct SmtpMail {
    transport: lettre::SmtpTransport,
    from: lettre::message::Mailbox,
}

impl SmtpMail {
    pub fn from_url(url: &str, from: &str) -> anyhow::Result<Self> {
        use anyhow::Context;
        let transport = lettre::SmtpTransport::from_url(url)
            .context("TENANTRY_SMTP_URL is not a valid smtp:// or smtps:// URL")?
            .timeout(Some(TIMEOUT))
            .build();
        let from = from
            .parse()
            .with_context(|| format!("TENANTRY_MAIL_FROM `{from}` is not a mailbox"))?;
        Ok(Self { transport, from })
    }
}

impl SmtpMail {
    /// Sends the message `body` makes of the builder (the headers every message carries set).
    fn send_message(
        &self,
        to: &str,
        subject: &str,
        body: impl FnOnce(
            lettre::message::MessageBuilder,
        ) -> Result<lettre::Message, lettre::error::Error>,
    ) -> Result<String, DeliveryError> {
        use lettre::Transport;
        let to = to
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| DeliveryError::Refused(format!("recipient `{to}`: {e}")))?;
        // Every message carries a Message-ID in the sender's domain and a Date: large receivers
        // penalise mail without them, and the id is what a test notification reports.
        let id = format!("<{}@{}>", random_id(), self.from.email.domain());
        let builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(id.clone()))
            .date_now();
        let message = body(builder).map_err(|e| DeliveryError::Refused(e.to_string()))?;
        match self.transport.send(&message) {
            Ok(_) => Ok(id),
            // 5xx: the server will never take this message; retrying is pointless.
            Err(e) if e.is_permanent() => Err(DeliveryError::Refused(e.to_string())),
            Err(e) => Err(DeliveryError::Unreachable(e.to_string())),
        }
    }
}

impl MailTransport for SmtpMail {
    fn send(&self, to: &str, subject: &str, text: &str) -> Result<String, DeliveryError> {
        self.send_message(to, subject, |builder| {
            builder
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(text.to_owned())
        })
    }

    fn send_with_html(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
    ) -> Result<String, DeliveryError> {
        self.send_message(to, subject, |builder| {
            builder.multipart(lettre::message::MultiPart::alternative_plain_html(
                text.to_owned(),
                html.to_owned(),
            ))
        })
    }
}
