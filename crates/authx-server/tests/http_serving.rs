//! The serving loop of the real binary: connections spread over several
//! worker threads, slow clients cut off, graceful shutdown on SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{Server, Spawn};

fn start_with(args: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Spawn::new(dir.path()).args(args).start();
    (dir, server)
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream
}

/// Sends one keep-alive GET and reads its response (the body is
/// `Content-Length` delimited); returns the status line and the body.
fn get(stream: &mut TcpStream, path: &str) -> (String, String) {
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
    )
    .expect("write request");
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read head");
        assert_eq!(n, 1, "connection closed mid-response: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).expect("ASCII head");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .expect("content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("read body");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, String::from_utf8(body).expect("UTF-8 body"))
}

/// Reads until the peer closes the connection; true if it did within
/// `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => {}
        }
    }
    false
}

#[test]
fn many_keep_alive_connections_over_three_workers() {
    let (_dir, server) = start_with(&["--http-workers", "3"]);
    assert!(server.stderr().contains("workers=3"), "{}", server.stderr());
    let mut streams: Vec<TcpStream> = (0..12).map(|_| connect(&server)).collect();
    for round in 0..3 {
        for stream in &mut streams {
            let (status, body) = get(stream, "/healthz");
            assert_eq!(status, "HTTP/1.1 200 OK", "round {round}");
            assert_eq!(body, r#"{"status":"ok"}"#);
        }
    }
    // Each connection served its requests on one worker; all still work.
    for stream in &mut streams {
        let (status, body) = get(stream, "/protected");
        assert_eq!(status, "HTTP/1.1 401 Unauthorized");
        assert!(body.contains("\"detail\""), "{body}");
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let (_dir, server) = start_with(&["--header-read-timeout-secs", "1"]);
    let mut slow = connect(&server);
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .expect("write");
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)),
        "the slow connection stayed open"
    );
    // Others are served meanwhile and after.
    let mut fast = connect(&server);
    assert_eq!(get(&mut fast, "/healthz").0, "HTTP/1.1 200 OK");
}

#[test]
fn a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closes() {
    let (_dir, server) = start_with(&["--body-read-timeout-secs", "1"]);
    let mut slow = connect(&server);
    let started = Instant::now();
    slow.write_all(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"username\"",
    )
    .expect("write");
    let mut response = Vec::new();
    // Read to the end: the server answers, then closes.
    let _ = slow.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    assert!(
        response.contains(r#"{"detail":"Request body not received in time"}"#),
        "{response}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // A client that trickles its body is cut off at the same deadline.
    let mut trickle = connect(&server);
    trickle
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n",
        )
        .expect("write");
    let started = Instant::now();
    let mut cut_off = false;
    for _ in 0..20 {
        if trickle.write_all(b" ").is_err() {
            cut_off = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        cut_off || closed_within(&mut trickle, Duration::from_secs(1)),
        "a trickling body held the connection for {:?}",
        started.elapsed()
    );
}

#[test]
fn connections_beyond_the_limit_wait_for_one_to_close() {
    let (_dir, server) = start_with(&["--max-connections", "2"]);
    let mut first = connect(&server);
    let mut second = connect(&server);
    assert_eq!(get(&mut first, "/healthz").0, "HTTP/1.1 200 OK");
    assert_eq!(get(&mut second, "/healthz").0, "HTTP/1.1 200 OK");
    // The third connects (the listen queue) but is not served yet.
    let mut third = connect(&server);
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .expect("read timeout");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("write");
    let mut byte = [0u8; 1];
    assert!(third.read(&mut byte).is_err(), "served beyond the limit");
    // One closes: the third is served.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let n = third.read(&mut byte).expect("served once a slot is free");
        assert_eq!(n, 1, "closed: {head:?}");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200 OK"), "{head:?}");
    assert_eq!(get(&mut second, "/healthz").0, "HTTP/1.1 200 OK");
    assert!(
        server.stderr().contains("connection limit reached"),
        "{}",
        server.stderr()
    );
}

/// The connection cap is lowered to fit the open-file limit, and says so.
#[test]
fn the_connection_cap_fits_the_open_file_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Spawn::new(dir.path()).open_files(256).start();
    let log = server.stderr();
    assert!(log.contains("lowered to fit the open-file limit"), "{log}");
    assert!(log.contains("max_connections=192"), "{log}");
    let mut stream = connect(&server);
    assert_eq!(get(&mut stream, "/healthz").0, "HTTP/1.1 200 OK");
    // With room to spare, the cap is left alone.
    let (_dir, roomy) = start_with(&["--max-connections", "100"]);
    assert!(
        !roomy.stderr().contains("lowered to fit"),
        "{}",
        roomy.stderr()
    );
}

/// RFC 9112 §3.2: an HTTP/1.1 request without a Host header, or with two,
/// is a 400 (HTTP/1.0 needs none).
#[test]
fn http_1_1_needs_exactly_one_host_header() {
    let (_dir, server) = start_with(&[]);
    for request in [
        "GET /healthz HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
    ] {
        let mut stream = connect(&server);
        stream.write_all(request.as_bytes()).expect("write");
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response);
        assert!(
            response.starts_with("HTTP/1.1 400 "),
            "{request:?}: {response}"
        );
        assert!(
            response.ends_with(r#"{"detail":"An HTTP/1.1 request needs exactly one Host header"}"#),
            "{response}"
        );
    }
    let mut stream = connect(&server);
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\n\r\n")
        .expect("write");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.0 200 "), "{response}");
}

#[test]
fn sigterm_closes_idle_connections_and_exits_cleanly() {
    let (_dir, mut server) = start_with(&["--http-workers", "2"]);
    let mut idle: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    for stream in &mut idle {
        assert_eq!(get(stream, "/healthz").0, "HTTP/1.1 200 OK");
    }
    let status = server.terminate().expect("exited within 10 s of SIGTERM");
    assert!(status.success(), "exit status {status}");
    for stream in &mut idle {
        assert!(
            closed_within(stream, Duration::from_secs(2)),
            "an idle keep-alive connection was left open"
        );
    }
    let log = server.stderr();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn zero_workers_means_one_per_cpu_less_one() {
    let (_dir, server) = start_with(&["--http-workers", "0"]);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let expected = cpus.saturating_sub(1).max(1);
    let log = server.stderr();
    assert!(log.contains(&format!("workers={expected}")), "{log}");
    let mut stream = connect(&server);
    assert_eq!(get(&mut stream, "/").0, "HTTP/1.1 200 OK");
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let (_dir, mut server) = start_with(&["--http-workers", "1"]);
    let body = r#"{"username":"user1","password":"password1"}"#;
    let (first, rest) = body.split_at(10);
    let mut stream = connect(&server);
    write!(
        stream,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .expect("write head and part of the body");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(200));
    // The request is in flight (its body half sent) when the signal comes.
    let pid = server.pid();
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(rest.as_bytes()).expect("write the rest");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response, then the connection closes");
    assert!(
        response.starts_with("HTTP/1.1 200 OK"),
        "in-flight login was not answered: {response}"
    );
    assert!(response.contains("\"access_token\""), "{response}");
    let status = server.terminate().expect("exited after the request");
    assert!(status.success(), "exit status {status}");
}
