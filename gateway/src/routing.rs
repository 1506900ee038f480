//! The route table: host, longest path prefix on a segment boundary, then method.

use std::sync::Arc;

use actix_web::http::Method;
use skybridge_shared::config::{AuthPolicy, Config, RouteConfig};

use crate::path::has_prefix;

/// One route, resolved from configuration.
#[derive(Debug)]
pub struct Route {
    /// The route's name.
    pub name: Arc<str>,
    /// The normalised path prefix (no trailing slash except for `/`).
    pub prefix: String,
    /// Accepted methods; empty accepts all.
    pub methods: Vec<Method>,
    /// Lower-case host without port, if the route is host-specific.
    pub host: Option<String>,
    /// The upstream's name.
    pub upstream: Arc<str>,
    /// Who may call.
    pub auth: AuthPolicy,
    /// Rate-limit policy names.
    pub rate_limits: Vec<Arc<str>>,
}

/// Why no route was chosen.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteMiss {
    /// No route matches host and path.
    NotFound,
    /// Routes match the path but none accepts the method; the methods they accept.
    MethodNotAllowed(Vec<String>),
}

/// Every route, most specific first.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Arc<Route>>,
}

impl RouteTable {
    /// Builds the table from a validated configuration.
    pub fn new(config: &Config) -> Self {
        let mut routes: Vec<Arc<Route>> = config.routes.iter().map(build).map(Arc::new).collect();
        // Longest prefix first; among equal prefixes, host-specific routes first.
        routes.sort_by(|a, b| {
            b.prefix
                .len()
                .cmp(&a.prefix.len())
                .then_with(|| b.host.is_some().cmp(&a.host.is_some()))
        });
        Self { routes }
    }

    /// Finds the route for a request. `path` must be normalised; `host` is the request's host
    /// with or without port.
    pub fn find(
        &self,
        host: Option<&str>,
        path: &str,
        method: &Method,
    ) -> Result<Arc<Route>, RouteMiss> {
        let host = host.map(strip_port).map(str::to_ascii_lowercase);
        let mut longest: Option<usize> = None;
        let mut allowed: Vec<String> = Vec::new();
        for route in &self.routes {
            if let Some(len) = longest
                && route.prefix.len() < len
            {
                break;
            }
            let host_ok = route.host.as_deref().is_none_or(|h| host.as_deref() == Some(h));
            if !host_ok || !has_prefix(path, &route.prefix) {
                continue;
            }
            if route.methods.is_empty() || route.methods.contains(method) {
                return Ok(route.clone());
            }
            longest = Some(route.prefix.len());
            allowed.extend(route.methods.iter().map(|m| m.as_str().to_owned()));
        }
        if longest.is_none() {
            return Err(RouteMiss::NotFound);
        }
        allowed.sort();
        allowed.dedup();
        Err(RouteMiss::MethodNotAllowed(allowed))
    }
}

fn build(config: &RouteConfig) -> Route {
    let prefix = match config.path_prefix.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    };
    Route {
        name: config.name.as_str().into(),
        prefix,
        // Validation guarantees upper-case tokens, which always parse.
        methods: config
            .methods
            .iter()
            .filter_map(|m| Method::from_bytes(m.as_bytes()).ok())
            .collect(),
        host: config.host.as_deref().map(strip_port).map(str::to_ascii_lowercase),
        upstream: config.upstream.as_str().into(),
        auth: config.auth.clone().unwrap_or(AuthPolicy::Anonymous),
        rate_limits: config.rate_limits.iter().map(|p| p.as_str().into()).collect(),
    }
}

/// `example.com:8443` → `example.com`; `[::1]:8080` → `[::1]`.
fn strip_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon) if !host[colon..].contains(']') => &host[..colon],
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &str) -> RouteTable {
        let text = format!("[[upstreams]]\nname = \"u\"\nurl = \"http://127.0.0.1:1\"\n{routes}");
        let config: Config = toml_config(&text);
        RouteTable::new(&config)
    }

    fn toml_config(text: &str) -> Config {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).expect("write");
        skybridge_shared::config::load(Some(&path)).expect("loads")
    }

    const ROUTES: &str = r#"
[[routes]]
name = "root"
path_prefix = "/"
upstream = "u"
auth = "anonymous"
[[routes]]
name = "orders-read"
path_prefix = "/orders"
methods = ["GET", "HEAD"]
upstream = "u"
auth = "anonymous"
[[routes]]
name = "orders-write"
path_prefix = "/orders"
methods = ["POST"]
upstream = "u"
auth = "anonymous"
[[routes]]
name = "api-host"
path_prefix = "/orders"
host = "api.example.com"
methods = ["GET"]
upstream = "u"
auth = "anonymous"
"#;

    fn name(result: Result<Arc<Route>, RouteMiss>) -> String {
        result.map(|r| r.name.to_string()).unwrap_or_else(|miss| format!("{miss:?}"))
    }

    #[test]
    fn longest_prefix_then_host_then_method() {
        let table = table(ROUTES);
        assert_eq!(name(table.find(None, "/orders/1", &Method::GET)), "orders-read");
        assert_eq!(name(table.find(None, "/orders", &Method::POST)), "orders-write");
        assert_eq!(name(table.find(None, "/ordersx", &Method::GET)), "root");
        assert_eq!(
            name(table.find(Some("API.example.com:443"), "/orders", &Method::GET)),
            "api-host"
        );
        assert_eq!(
            table.find(None, "/orders", &Method::DELETE).map(|r| r.name.clone()),
            Err(RouteMiss::MethodNotAllowed(vec!["GET".into(), "HEAD".into(), "POST".into()]))
        );
    }

    #[test]
    fn no_route_is_not_found() {
        let table = table(&ROUTES.replacen("path_prefix = \"/\"", "path_prefix = \"/health\"", 1));
        assert_eq!(
            table.find(None, "/admin", &Method::GET).map(|r| r.name.clone()),
            Err(RouteMiss::NotFound)
        );
    }

    #[test]
    fn strips_ports() {
        assert_eq!(strip_port("a.com:80"), "a.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("a.com"), "a.com");
    }
}
