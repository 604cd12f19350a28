//! A lean HTTP/1.1 keep-alive connection for the back-channel scenarios (token, userinfo,
//! introspection, discovery, JWKS).
//!
//! The load generator shares the two cores with the server under test, so every microsecond it spends
//! is one the server does not get. A general client (reqwest over hyper, with its pool, header maps and
//! per-request allocations) cost about 35 µs of CPU per request here; this connection writes a request
//! it was handed as bytes and reads exactly one response: the status line, `Content-Length` or chunked
//! framing, and the body. Each worker owns one connection, as `wrk` does, so there is no pool.
//! Bodies are still checked by the caller: a wrong status or body is an error, never a request.

use std::net::SocketAddr;

use anyhow::{Context as _, bail, ensure};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One response: its status and its whole body.
#[derive(Debug)]
pub struct Reply<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

/// One keep-alive connection to the server under test.
pub struct Wire {
    stream: TcpStream,
    /// What has been read and not yet consumed.
    input: Vec<u8>,
    /// The body of the last response (de-chunked when needed).
    body: Vec<u8>,
}

/// How the body of a response is framed.
enum Framing {
    Length(usize),
    Chunked,
}

impl Wire {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            input: Vec::with_capacity(16 * 1024),
            body: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends one whole request and reads its response.
    pub async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<Reply<'_>> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(end) = find(&self.input, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let (status, framing) = parse_head(&self.input[..head_end])?;
        self.input.drain(..head_end);
        self.body.clear();
        match framing {
            Framing::Length(length) => {
                while self.input.len() < length {
                    self.fill().await?;
                }
                self.body.extend_from_slice(&self.input[..length]);
                self.input.drain(..length);
            }
            Framing::Chunked => self.read_chunks().await?,
        }
        Ok(Reply {
            status,
            body: &self.body,
        })
    }

    /// Sends one whole request and expects 200 with a JSON body of type `T`; `what` names the
    /// endpoint in errors, which carry the status and body of a refusal.
    pub async fn json<T: DeserializeOwned>(
        &mut self,
        request: &Request,
        what: &str,
    ) -> anyhow::Result<T> {
        let reply = self.exchange(request.bytes()).await?;
        ensure!(
            reply.status == 200,
            "{what}: {}: {}",
            reply.status,
            String::from_utf8_lossy(reply.body)
        );
        serde_json::from_slice(reply.body).with_context(|| format!("{what}: unexpected body"))
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        self.input.reserve(8 * 1024);
        let read = self.stream.read_buf(&mut self.input).await?;
        ensure!(read > 0, "the server closed the connection");
        Ok(())
    }

    /// Reads a chunked body (RFC 9112 §7.1) into `body`; trailers are skipped.
    async fn read_chunks(&mut self) -> anyhow::Result<()> {
        loop {
            let line_end = loop {
                if let Some(end) = find(&self.input, b"\r\n") {
                    break end;
                }
                self.fill().await?;
            };
            let line = std::str::from_utf8(&self.input[..line_end])?;
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size {size_text:?}"))?;
            self.input.drain(..line_end + 2);
            if size == 0 {
                // Trailers end with an empty line.
                loop {
                    if let Some(end) = find(&self.input, b"\r\n") {
                        self.input.drain(..end + 2);
                        if end == 0 {
                            return Ok(());
                        }
                        continue;
                    }
                    self.fill().await?;
                }
            }
            while self.input.len() < size + 2 {
                self.fill().await?;
            }
            self.body.extend_from_slice(&self.input[..size]);
            self.input.drain(..size + 2);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The status and the body's framing from a response head (status line and headers, CRLF-ended).
fn parse_head(head: &[u8]) -> anyhow::Result<(u16, Framing)> {
    let head = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    ensure!(
        version.starts_with("HTTP/1."),
        "not HTTP/1: {status_line:?}"
    );
    let status: u16 = parts
        .next()
        .unwrap_or_default()
        .parse()
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut framing = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            framing = Some(Framing::Length(
                value.parse().context("bad Content-Length")?,
            ));
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            framing = Some(Framing::Chunked);
            break;
        }
    }
    match framing {
        Some(framing) => Ok((status, framing)),
        // 204 and 304 have no body; anything else must say how long it is on a kept-alive connection.
        None if status == 204 || status == 304 => Ok((status, Framing::Length(0))),
        None => bail!("response {status} without Content-Length or chunked framing"),
    }
}

/// A request written out whole, ready to send as many times as needed.
pub struct Request {
    bytes: Vec<u8>,
}

impl Request {
    pub fn get(host: &str, path: &str, authorization: Option<&str>) -> Self {
        let mut text =
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n");
        if let Some(authorization) = authorization {
            text.push_str(&format!("Authorization: {authorization}\r\n"));
        }
        text.push_str("\r\n");
        Self {
            bytes: text.into_bytes(),
        }
    }

    /// A form POST (`application/x-www-form-urlencoded`), the fields encoded here.
    pub fn post_form(
        host: &str,
        path: &str,
        authorization: Option<&str>,
        form: &[(&str, &str)],
    ) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut text = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(authorization) = authorization {
            text.push_str(&format!("Authorization: {authorization}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(&body);
        Self {
            bytes: text.into_bytes(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    /// A server that answers each request on one connection with the next canned response.
    async fn canned(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for response in responses {
                let mut buf = [0u8; 4096];
                loop {
                    let n = socket.read(&mut buf).await.unwrap();
                    seen.extend_from_slice(&buf[..n]);
                    if let Some(end) = find(&seen, b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        break;
                    }
                }
                // Answer in two writes, split inside the head, as a slow server would.
                let (first, second) = response.split_at(response.len() / 3);
                socket.write_all(first).await.unwrap();
                socket.flush().await.unwrap();
                socket.write_all(second).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_on_one_connection() {
        let addr = canned(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"a\":\"b\"}\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n5;x=y\r\n:\"bc\"\r\n1\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
        ])
        .await;
        let mut wire = Wire::connect(addr).await.unwrap();
        let request = Request::get("x", "/", None);
        let reply = wire.exchange(request.bytes()).await.unwrap();
        assert_eq!((reply.status, reply.body), (200, &b"{\"a\":\"b\"}\r\n"[..]));
        let reply = wire.exchange(request.bytes()).await.unwrap();
        assert_eq!((reply.status, reply.body), (200, &b"{\"a\":\"bc\"}"[..]));
        let reply = wire.exchange(request.bytes()).await.unwrap();
        assert_eq!((reply.status, reply.body), (204, &b""[..]));
        let reply = wire.exchange(request.bytes()).await.unwrap();
        assert_eq!(reply.status, 401);
        // The server has closed: the next exchange is an error, not an empty success.
        assert!(wire.exchange(request.bytes()).await.is_err());
    }

    #[tokio::test]
    async fn json_takes_only_a_200_with_the_expected_body() {
        let addr = canned(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"sub\":\"x\"}",
            b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{\"a\":\"b\"}",
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 25\r\n\r\n{\"error\":\"invalid_token\"}",
        ])
        .await;
        #[derive(serde::Deserialize)]
        struct Claims {
            sub: String,
        }
        let mut wire = Wire::connect(addr).await.unwrap();
        let request = Request::get("x", "/", None);
        let claims: Claims = wire.json(&request, "userinfo").await.unwrap();
        assert_eq!(claims.sub, "x");
        let wrong_body = wire.json::<Claims>(&request, "userinfo").await;
        assert!(format!("{:#}", wrong_body.err().unwrap()).contains("unexpected body"));
        let refused = wire.json::<Claims>(&request, "userinfo").await;
        let message = refused.err().unwrap().to_string();
        assert!(
            message.contains("401") && message.contains("invalid_token"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_response_without_framing_is_an_error() {
        let addr = canned(vec![b"HTTP/1.1 200 OK\r\n\r\nbody"]).await;
        let mut wire = Wire::connect(addr).await.unwrap();
        let request = Request::get("x", "/", None);
        assert!(wire.exchange(request.bytes()).await.is_err());
    }

    #[test]
    fn a_form_post_is_encoded_and_measured() {
        let request = Request::post_form(
            "127.0.0.1:1",
            "/token",
            Some("Basic YTpi"),
            &[("grant_type", "refresh_token"), ("refresh_token", "a+b/c=")],
        );
        let text = String::from_utf8(request.bytes().to_vec()).unwrap();
        let body = "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3D";
        assert!(text.starts_with("POST /token HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"));
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(text.contains("Authorization: Basic YTpi\r\n"));
        assert!(text.ends_with(&format!("\r\n\r\n{body}")));
    }
}
