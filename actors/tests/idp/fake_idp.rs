//! A fake OpenID provider on loopback: serves a discovery document and a JWKS whose
//! content, status and headers a test changes at will, and counts JWKS fetches.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// What the fake serves next.
pub(crate) struct Behaviour {
    /// The JWKS body.
    pub(crate) jwks: String,
    /// The JWKS status code.
    pub(crate) status: u16,
    /// The JWKS `Cache-Control`, if any.
    pub(crate) cache_control: Option<String>,
    /// The `issuer` the discovery document names.
    pub(crate) issuer: String,
    /// JWKS requests answered so far.
    pub(crate) jwks_fetches: usize,
}

/// The running fake; stops its server when dropped.
pub(crate) struct FakeIdp {
    pub(crate) addr: SocketAddr,
    pub(crate) state: Arc<Mutex<Behaviour>>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeIdp {
    /// Starts the fake inside the current actix System, serving `jwks`.
    pub(crate) fn start(jwks: &Value) -> Self {
        let state = Arc::new(Mutex::new(Behaviour {
            jwks: jwks.to_string(),
            status: 200,
            cache_control: None,
            issuer: String::new(),
            jwks_fetches: 0,
        }));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/.well-known/openid-configuration", web::get().to(discovery))
                .route("/jwks", web::get().to(jwks_handler))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind the fake IdP on loopback");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        let idp = Self { addr, state, handle };
        idp.set(|b| b.issuer = idp.base());
        idp
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes what the fake serves.
    pub(crate) fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.state.lock().expect("fake IdP state"));
    }

    /// JWKS requests answered so far.
    pub(crate) fn fetches(&self) -> usize {
        self.state.lock().expect("fake IdP state").jwks_fetches
    }
}

impl Drop for FakeIdp {
    fn drop(&mut self) {
        // Sends the stop command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

async fn discovery(state: web::Data<Arc<Mutex<Behaviour>>>) -> HttpResponse {
    let issuer = state.lock().map(|b| b.issuer.clone()).unwrap_or_default();
    let base = issuer.clone();
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/jwks"),
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256"],
    }))
}

async fn jwks_handler(state: web::Data<Arc<Mutex<Behaviour>>>) -> HttpResponse {
    let Ok(mut behaviour) = state.lock() else {
        return HttpResponse::InternalServerError().finish();
    };
    behaviour.jwks_fetches += 1;
    let status = actix_web::http::StatusCode::from_u16(behaviour.status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.content_type("application/json");
    if let Some(cache_control) = &behaviour.cache_control {
        response.insert_header(("cache-control", cache_control.clone()));
    }
    response.body(behaviour.jwks.clone())
}
