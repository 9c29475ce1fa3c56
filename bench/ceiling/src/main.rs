//! The benchmark ceiling: every request answered with the bytes of a file (see README.md).

use std::io::Write;
use std::net::TcpListener;

use actix_web::{web, App, HttpResponse, HttpServer};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "usage: tenantry-bench-ceiling <body file> [workers] [path=file ...]",
        )
    })?;
    let workers: usize = args.next().and_then(|w| w.parse().ok()).unwrap_or(2);
    let body = web::Bytes::from(std::fs::read(path)?);
    // `path=file` pairs: that path (query ignored) answers with that file's bytes.
    let mut by_path = std::collections::HashMap::new();
    for pair in args {
        if let Some((route, file)) = pair.split_once('=') {
            by_path.insert(route.to_owned(), web::Bytes::from(std::fs::read(file)?));
        }
    }
    let by_path = std::sync::Arc::new(by_path);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let (body, by_path) = (body.clone(), by_path.clone());
            App::new().default_service(web::to(move |req: actix_web::HttpRequest| {
                let body = by_path
                    .get(req.path())
                    .cloned()
                    .unwrap_or_else(|| body.clone());
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body)
                }
            }))
        })
        .workers(workers)
        .listen(listener)?
        .run();
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
        drop(out);
        server.await
    })
}
