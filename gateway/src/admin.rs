//! The admin listener: liveness, readiness and metrics for orchestrators and load balancers. It is
//! bound separately from the public listener so that it is never reachable by callers.

use actix_web::{HttpResponse, web};
use serde_json::json;
use skybridge_shared::health::HealthState;

use crate::state::Gateway;

/// Registers the admin routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

/// Prometheus text exposition.
async fn metrics(gateway: web::Data<Gateway>) -> HttpResponse {
    let mut body = gateway.services.metrics.render();
    body.push_str(&crate::metrics::render(skybridge_actors::metrics::registry()));
    gateway.services.audit.stats().write_prometheus(&mut body);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body)
}

/// Alive as long as the process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready when not draining and no dependency is unusable; the body says which is which.
async fn readyz(gateway: web::Data<Gateway>) -> HttpResponse {
    let components = gateway.services.health.snapshot();
    let draining = gateway.is_draining();
    let degraded = components.values().any(|c| c.state == HealthState::Degraded);
    let ready = !draining && gateway.services.health.all_serving();
    let status = match (ready, draining, degraded) {
        (false, true, _) => "draining",
        (false, false, _) => "not_ready",
        (true, _, true) => "degraded",
        (true, _, false) => "ready",
    };
    let body = json!({ "status": status, "components": &*components });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
