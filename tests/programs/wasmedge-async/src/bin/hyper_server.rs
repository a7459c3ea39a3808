//! An HTTP/1 server on hyper_wasi and tokio_wasi, in the style of WasmEdge's hyper demo
//! server: tokio accepts, hyper serves each connection in a task of its own.
//!
//! Usage: hyper_server ADDR CONNECTIONS
//!
//! Routes:
//! - `GET /hello/NAME`: 200, body `hello, NAME (request N)\n`, N counting requests from 1;
//! - `POST /reverse`: 200, the request body reversed byte by byte;
//! - anything else: 404, body `no route for METHOD PATH\n`.
//!
//! Prints `listening on ADDR`, a line per request (`request N: METHOD PATH -> STATUS`), and
//! after CONNECTIONS connections have ended `served CONNECTIONS connections`, then exits 0
//! (from the task of the last connection: see `Finish`). A connection that fails is reported
//! as `connection N: ERROR` at the end, and the exit status is 1.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::exit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hyper::server::conn::Http;
use hyper::service::service_fn;
use hyper::{Body, Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use wasock_wasmedge_async_guests::{describe, Finish, Outcome};

async fn route(request: Request<Body>, number: usize) -> Result<Response<Body>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let (status, body) = match (&method, path.strip_prefix("/hello/")) {
        (&Method::GET, Some(name)) if !name.is_empty() => {
            (StatusCode::OK, format!("hello, {name} (request {number})\n").into_bytes())
        }
        _ if method == Method::POST && path == "/reverse" => {
            match hyper::body::to_bytes(request.into_body()).await {
                Ok(bytes) => (StatusCode::OK, bytes.iter().rev().copied().collect()),
                Err(e) => (StatusCode::BAD_REQUEST, format!("cannot read the body: {e}\n").into_bytes()),
            }
        }
        _ => (StatusCode::NOT_FOUND, format!("no route for {method} {path}\n").into_bytes()),
    };
    println!("request {number}: {method} {path} -> {}", status.as_u16());
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    Ok(response)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: hyper_server ADDR CONNECTIONS");
        exit(2);
    }
    let addr: SocketAddr = args[1].parse().unwrap_or_else(|e| {
        eprintln!("bad address {:?}: {e}", args[1]);
        exit(2)
    });
    let connections: usize = args[2].parse().unwrap_or_else(|e| {
        eprintln!("bad connection count {:?}: {e}", args[2]);
        exit(2)
    });

    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            println!("bind {addr} failed: {}", describe(&e));
            exit(1);
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on {local}"),
        Err(e) => {
            println!("local_addr failed: {}", describe(&e));
            exit(1);
        }
    }

    let requests = Arc::new(AtomicUsize::new(0));
    let finish =
        Arc::new(Finish::new(connections, |outcomes| format!("served {} connections", outcomes.len())));
    for index in 0..connections {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                println!("accept {} failed: {}", index + 1, describe(&e));
                exit(1);
            }
        };
        let requests = requests.clone();
        let service = service_fn(move |request| {
            let number = requests.fetch_add(1, Ordering::SeqCst) + 1;
            route(request, number)
        });
        let finish = finish.clone();
        tokio::spawn(async move {
            let outcome = match Http::new().serve_connection(stream, service).await {
                Ok(()) => Outcome { line: None, bytes: 0, failed: false },
                Err(e) => {
                    Outcome { line: Some(format!("connection {}: {e}", index + 1)), bytes: 0, failed: true }
                }
            };
            finish.done(index, outcome);
        });
    }
    // The last connection's task ends the process.
    std::future::pending::<()>().await;
}
