//! The HTTP server: actix-web on a thread and actix system of its own, one worker, serving the
//! page, its script and style, and the latest JSON the sampler kept.

use std::net::SocketAddr;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse, HttpServer};

use crate::assets;
use crate::sampler::Latest;
use crate::UiError;

/// A running server; [`Server::stop`] ends it.
pub(crate) struct Server {
    pub addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

type Shared = Arc<Mutex<Latest>>;

fn no_store(content_type: &'static str, body: impl Into<Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.into())
}

fn unavailable(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": message }))
}

async fn index() -> HttpResponse {
    no_store("text/html; charset=utf-8", assets::INDEX_HTML)
}

async fn script() -> HttpResponse {
    no_store("text/javascript; charset=utf-8", assets::APP_JS)
}

async fn style() -> HttpResponse {
    no_store("text/css; charset=utf-8", assets::APP_CSS)
}

async fn topology(latest: web::Data<Shared>) -> HttpResponse {
    let json = latest
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .topology
        .clone();
    match json {
        Some(json) => no_store("application/json", json),
        None => unavailable(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "the run has not started yet",
        ),
    }
}

async fn job(latest: web::Data<Shared>) -> HttpResponse {
    let json = latest.lock().unwrap_or_else(|p| p.into_inner()).job.clone();
    match json {
        Some(json) => no_store("application/json", json),
        None => unavailable(
            actix_web::http::StatusCode::NOT_FOUND,
            "this run is not a MapReduce job",
        ),
    }
}

impl Server {
    /// Binds `addr` (port 0 picks a free port) and serves until stopped.
    pub(crate) fn start(addr: SocketAddr, latest: Shared) -> Result<Server, UiError> {
        let (ready_tx, ready) = channel();
        let thread = std::thread::Builder::new()
            .name("squall-ui".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let data = web::Data::new(latest);
                    let bound = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .route("/", web::get().to(index))
                            .route("/app.js", web::get().to(script))
                            .route("/app.css", web::get().to(style))
                            .route("/api/v1/topology", web::get().to(topology))
                            .route("/api/v1/job", web::get().to(job))
                    })
                    .workers(1)
                    // The command handles SIGINT and SIGTERM itself (they drain the run).
                    .disable_signals()
                    .shutdown_timeout(1)
                    .bind(addr);
                    let server = match bound {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let local = server.addrs().first().copied().unwrap_or(addr);
                    let running = server.run();
                    let _ = ready_tx.send(Ok((local, running.handle())));
                    let _ = running.await;
                });
            })
            .map_err(|e| UiError::Io { addr, source: e })?;
        match ready.recv() {
            Ok(Ok((addr, handle))) => Ok(Server {
                addr,
                handle,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(UiError::Io { addr, source: e })
            }
            Err(_) => {
                let _ = thread.join();
                Err(UiError::Io {
                    addr,
                    source: std::io::Error::other("the server thread ended before listening"),
                })
            }
        }
    }

    /// Stops serving (requests in flight finish) and waits for the thread.
    pub(crate) fn stop(mut self) {
        let handle = self.handle.clone();
        let stopping = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(handle.stop(true));
        });
        let _ = stopping.join();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
