//! A tiny SMTP server on 127.0.0.1 for tests: it accepts every message and keeps it in memory.
//!
//! Compiled for this crate's tests and, for other crates, with the `test-sink` feature (as a
//! dev-dependency only). It speaks just enough SMTP (RFC 5321) for lettre's unencrypted transport:
//! the greeting, `EHLO`/`HELO`, `MAIL FROM`, `RCPT TO`, `DATA` with dot-unstuffing, `RSET`,
//! `NOOP` and `QUIT`. No TLS, no AUTH.
//!
//! ```text
//! let sink = SmtpSink::start().await;
//! // configure `EmailConfig::Smtp { host: sink.addr.ip().to_string(), port: sink.addr.port(),
//! //                                security: SmtpSecurity::Plain, .. }` and send
//! let mail = sink.wait_for(1, Duration::from_secs(5)).await;
//! let code = mail[0].find_code(6);
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The largest message the sink keeps; a bigger one is refused with 552.
const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedEmail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub to: Vec<String>,
    /// The raw message after dot-unstuffing: headers, a blank line, the encoded body.
    pub data: String,
}

/// A running sink; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    /// Where it listens, always on 127.0.0.1.
    pub addr: SocketAddr,
    received: watch::Receiver<Vec<ReceivedEmail>>,
    accept: JoinHandle<()>,
    /// While set, the sink answers every connection with `421` and hangs up, like a mail server
    /// that is down for maintenance.
    refusing: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// If no port on 127.0.0.1 can be bound (the test cannot run at all then).
    pub async fn start() -> SmtpSink {
        // A test helper: without a port there is no test to run, so a panic is the right answer.
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the SMTP sink on 127.0.0.1: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the SMTP sink's address: {e}"));
        let (store, received) = watch::channel(Vec::new());
        let refusing = Arc::new(AtomicBool::new(false));
        let refuse = refusing.clone();
        let refused = Arc::new(AtomicUsize::new(0));
        let count_refused = refused.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                if refuse.load(Ordering::SeqCst) {
                    count_refused.fetch_add(1, Ordering::SeqCst);
                    let _ = stream
                        .write_all(b"421 gatehouse-sink is down, try again later\r\n")
                        .await;
                    continue;
                }
                let store = store.clone();
                tokio::spawn(async move {
                    // A client that hangs up mid-session loses only its unfinished message.
                    let _ = session(stream, &store).await;
                });
            }
        });
        SmtpSink {
            addr,
            received,
            accept,
            refusing,
            refused,
        }
    }

    /// Makes the sink refuse every new connection (`true`) or accept them again (`false`).
    pub fn set_refusing(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// How many connections were refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Every message received so far, oldest first.
    pub async fn messages(&self) -> Vec<ReceivedEmail> {
        self.received.borrow().clone()
    }

    /// Waits until at least `count` messages have arrived or `timeout` has passed, and returns
    /// all messages received by then (so fewer than `count` on a timeout: assert on the length).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedEmail> {
        let mut received = self.received.clone();
        let _ = tokio::time::timeout(timeout, received.wait_for(|all| all.len() >= count)).await;
        self.messages().await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The envelope of the transaction in progress.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
}

/// Serves one connection until `QUIT` or the client goes away.
async fn session(
    stream: TcpStream,
    store: &watch::Sender<Vec<ReceivedEmail>>,
) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut transaction = Transaction::default();
    writer
        .write_all(b"220 gatehouse-sink ESMTP ready\r\n")
        .await?;
    loop {
        let Some(line) = read_line(&mut reader).await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => {
                transaction = Transaction::default();
                b"250-gatehouse-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
            }
            "HELO" => {
                transaction = Transaction::default();
                b"250 gatehouse-sink\r\n"
            }
            "MAIL" => match path_argument(line, "FROM:") {
                Some(from) => {
                    transaction = Transaction {
                        from: Some(from),
                        to: Vec::new(),
                    };
                    b"250 2.1.0 OK\r\n"
                }
                None => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (&transaction.from, path_argument(line, "TO:")) {
                (None, _) => b"503 5.5.1 MAIL first\r\n",
                (Some(_), None) => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
                (Some(_), Some(to)) => {
                    transaction.to.push(to);
                    b"250 2.1.5 OK\r\n"
                }
            },
            "DATA" => {
                if transaction.from.is_none() || transaction.to.is_empty() {
                    b"503 5.5.1 RCPT first\r\n"
                } else {
                    writer
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let transaction = std::mem::take(&mut transaction);
                    match read_data(&mut reader).await? {
                        None => b"552 5.3.4 Message too big\r\n",
                        Some(data) => {
                            store.send_modify(|all| {
                                all.push(ReceivedEmail {
                                    from: transaction.from.unwrap_or_default(),
                                    to: transaction.to,
                                    data,
                                });
                            });
                            b"250 2.0.0 OK: queued\r\n"
                        }
                    }
                }
            }
            "RSET" => {
                transaction = Transaction::default();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// Reads one line with its ending; `None` at the end of the stream.
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let read = reader.read_until(b'\n', &mut line).await?;
    Ok((read > 0).then_some(line))
}

/// Reads `DATA` up to the lone `.` line, undoing dot-stuffing (RFC 5321 §4.5.2).
/// `None` if the message is too big (the rest is read and dropped).
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<String>> {
    let mut data = Vec::new();
    let mut too_big = false;
    loop {
        let Some(line) = read_line(reader).await? else {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        };
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        too_big |= data.len() + line.len() > MAX_MESSAGE_BYTES;
        if !too_big {
            data.extend_from_slice(line);
        }
    }
    Ok((!too_big).then(|| String::from_utf8_lossy(&data).into_owned()))
}

/// The address in `MAIL FROM:<a> PARAMS` or `RCPT TO:<a>`, without brackets.
fn path_argument(line: &str, keyword: &str) -> Option<String> {
    let (_, rest) = line.split_once(' ')?;
    let rest = rest.trim_start();
    if !rest
        .get(..keyword.len())
        .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
    {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let (address, _) = inner.split_once('>')?;
    Some(address.to_owned())
}

impl ReceivedEmail {
    /// A header's value, unfolded, from the first header of that name (case-insensitive).
    /// Encoded words are left as they are; see [`ReceivedEmail::subject`].
    pub fn header(&self, name: &str) -> Option<String> {
        let mut found: Option<String> = None;
        for line in self.head().lines() {
            let line = line.trim_end_matches('\r');
            if line.starts_with([' ', '\t']) {
                if let Some(value) = found.as_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((key, value)) = line.split_once(':')
                && key.trim().eq_ignore_ascii_case(name)
            {
                found = Some(value.trim().to_owned());
            }
        }
        found
    }

    /// The `Subject`, with RFC 2047 encoded words (`=?utf-8?b?...?=`) decoded.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
            .map(|value| decode_encoded_words(&value))
    }

    /// The plain-text body: in a `multipart/alternative` message its `text/plain` part. The
    /// `Content-Transfer-Encoding` (quoted-printable, base64, 7bit or 8bit) is undone, line endings
    /// made `\n`, trailing line breaks removed.
    pub fn body_text(&self) -> String {
        self.part("text/plain").unwrap_or_default()
    }

    /// The HTML alternative, decoded, when the message has one.
    pub fn body_html(&self) -> Option<String> {
        self.part("text/html")
    }

    /// The decoded body of type `wanted` (a single-part message counts as `text/plain`).
    fn part(&self, wanted: &str) -> Option<String> {
        let content_type = self.header("Content-Type").unwrap_or_default();
        let body = split_head(&self.data).1;
        if !content_type.to_ascii_lowercase().starts_with("multipart/") {
            let encoding = self.header("Content-Transfer-Encoding").unwrap_or_default();
            return (wanted == "text/plain").then(|| decode_body(body, &encoding));
        }
        let boundary = content_type
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()?
            .trim_matches('"')
            .to_owned();
        body.split(&format!("--{boundary}")).find_map(|part| {
            let (head, body) = split_head(part.trim_start_matches(['\r', '\n']));
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_owned())
                })
            };
            header("Content-Type")
                .is_some_and(|t| t.to_ascii_lowercase().starts_with(wanted))
                .then(|| {
                    decode_body(
                        body,
                        &header("Content-Transfer-Encoding").unwrap_or_default(),
                    )
                })
        })
    }

    /// The first run of exactly `digits` ASCII digits in the body (a sign-in code), if any.
    pub fn find_code(&self, digits: usize) -> Option<String> {
        let body = self.body_text();
        body.split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() == digits)
            .map(str::to_owned)
    }

    /// The header block, before the first blank line.
    fn head(&self) -> &str {
        self.data
            .split_once("\r\n\r\n")
            .or_else(|| self.data.split_once("\n\n"))
            .map_or(self.data.as_str(), |(head, _)| head)
    }
}

/// Undoes quoted-printable (RFC 2045 §6.7): `=XX` bytes and `=` soft line breaks.
fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let rest = &input[i..];
        if rest.starts_with(b"=\r\n") {
            i += 3;
        } else if rest.starts_with(b"=\n") {
            i += 2;
        } else if let [b'=', high, low, ..] = rest
            && let (Some(high), Some(low)) = (hex(*high), hex(*low))
        {
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Decodes RFC 2047 encoded words; whitespace between two adjacent words is dropped (§6.2).
fn decode_encoded_words(value: &str) -> String {
    let mut out = Vec::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match decode_word(candidate) {
            Some((bytes, used)) => {
                if !(after_word && before.trim().is_empty()) {
                    out.extend_from_slice(before.as_bytes());
                }
                out.extend_from_slice(&bytes);
                rest = &candidate[used..];
                after_word = true;
            }
            None => {
                out.extend_from_slice(before.as_bytes());
                out.extend_from_slice(b"=?");
                rest = &candidate[2..];
                after_word = false;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// One `=?charset?B|Q?text?=` at the start of `word`: its bytes and its length.
fn decode_word(word: &str) -> Option<(Vec<u8>, usize)> {
    let inner = word.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "Q" | "q" => decode_quoted_printable(text.replace('_', " ").as_bytes()),
        _ => return None,
    };
    let used = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((bytes, used))
}

/// Headers and body of a message or a MIME part.
fn split_head(data: &str) -> (&str, &str) {
    data.split_once("\r\n\r\n")
        .or_else(|| data.split_once("\n\n"))
        .unwrap_or((data, ""))
}

/// A body with its transfer encoding undone.
fn decode_body(body: &str, encoding: &str) -> String {
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "quoted-printable" => decode_quoted_printable(body.as_bytes()),
        "base64" => {
            let compact: String = body.split_ascii_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_else(|_| body.as_bytes().to_vec())
        }
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8_lossy(&bytes)
        .replace("\r\n", "\n")
        .trim_end_matches('\n')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    use super::{ReceivedEmail, SmtpSink, decode_encoded_words, decode_quoted_printable};

    fn email(data: &str) -> ReceivedEmail {
        ReceivedEmail {
            from: String::new(),
            to: Vec::new(),
            data: data.to_owned(),
        }
    }

    /// Sends one command and returns the complete (possibly multi-line) reply.
    async fn command(stream: &mut BufReader<TcpStream>, line: &str) -> String {
        if !line.is_empty() {
            stream.get_mut().write_all(line.as_bytes()).await.unwrap();
        }
        let mut reply = String::new();
        loop {
            let mut next = String::new();
            stream.read_line(&mut next).await.unwrap();
            reply.push_str(&next);
            if next.len() < 4 || next.as_bytes()[3] == b' ' {
                return reply;
            }
        }
    }

    #[tokio::test]
    async fn speaks_enough_smtp_by_hand() {
        let sink = SmtpSink::start().await;
        let mut client = BufReader::new(TcpStream::connect(sink.addr).await.unwrap());

        assert!(command(&mut client, "").await.starts_with("220 "));
        assert!(
            command(&mut client, "EHLO test\r\n")
                .await
                .ends_with("250 SIZE 10485760\r\n")
        );
        assert!(
            command(&mut client, "RCPT TO:<a@b.test>\r\n")
                .await
                .starts_with("503")
        );
        assert!(
            command(&mut client, "MAIL FROM:<x@y.test> BODY=8BITMIME\r\n")
                .await
                .starts_with("250")
        );
        assert!(command(&mut client, "RSET\r\n").await.starts_with("250"));
        assert!(command(&mut client, "DATA\r\n").await.starts_with("503"));
        assert!(
            command(&mut client, "mail from:<s@y.test>\r\n")
                .await
                .starts_with("250")
        );
        assert!(
            command(&mut client, "RCPT TO:<a@b.test>\r\n")
                .await
                .starts_with("250")
        );
        assert!(
            command(&mut client, "RCPT TO:<c@d.test>\r\n")
                .await
                .starts_with("250")
        );
        assert!(command(&mut client, "NOOP\r\n").await.starts_with("250"));
        assert!(command(&mut client, "DATA\r\n").await.starts_with("354"));
        let reply = command(&mut client, "Subject: hi\r\n\r\n..dot\r\nend\r\n.\r\n").await;
        assert!(reply.starts_with("250"));
        assert!(command(&mut client, "VRFY a\r\n").await.starts_with("502"));
        assert!(command(&mut client, "QUIT\r\n").await.starts_with("221"));

        let received = sink.messages().await;
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].from, "s@y.test");
        assert_eq!(received[0].to, ["a@b.test", "c@d.test"]);
        assert_eq!(received[0].data, "Subject: hi\r\n\r\n.dot\r\nend\r\n");
        assert_eq!(received[0].body_text(), ".dot\nend");
    }

    #[tokio::test]
    async fn wait_for_returns_what_arrived_when_time_runs_out() {
        let sink = SmtpSink::start().await;
        let received = sink.wait_for(1, Duration::from_millis(50)).await;
        assert!(received.is_empty());
    }

    #[test]
    fn quoted_printable_is_decoded() {
        let decoded = decode_quoted_printable(b"Your code is 49=\r\n3027 =E2=80=94 ok=3D");
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "Your code is 493027 — ok="
        );
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let mail =
            email("Content-Transfer-Encoding: base64\r\n\r\nWW91ciBjb2Rl\r\nIGlzIDQ5MzAyNy4=\r\n");
        assert_eq!(mail.body_text(), "Your code is 493027.");
        assert_eq!(mail.find_code(6).as_deref(), Some("493027"));
    }

    #[test]
    fn encoded_words_are_decoded() {
        assert_eq!(
            decode_encoded_words("=?utf-8?b?Q29kZSDigJQ=?= =?utf-8?q?f=C3=BCr_dich?= !"),
            "Code —für dich !"
        );
        assert_eq!(
            decode_encoded_words("plain =? not a word"),
            "plain =? not a word"
        );
    }

    #[test]
    fn folded_headers_are_unfolded() {
        let mail = email("Subject: one\r\n two\r\nTo: a@b.test\r\n\r\nbody");
        assert_eq!(mail.header("subject").as_deref(), Some("one two"));
        assert_eq!(mail.header("TO").as_deref(), Some("a@b.test"));
        assert_eq!(mail.header("Cc"), None);
    }

    #[test]
    fn find_code_wants_exactly_that_many_digits() {
        let mail = email("\r\n\r\nOrder 12345678, code 123456, year 2025");
        assert_eq!(mail.find_code(6).as_deref(), Some("123456"));
        assert_eq!(mail.find_code(5), None);
    }
}
