//! Link 2: an issuer a route accepts. Its discovery document and keys are loaded once, the
//! way the JWKS actor loads them, and the usable keys are counted.

use skybridge_actors::jwks::{IssuerProbe, JwksError, Tuning, key_location, probe_issuer};
use skybridge_shared::config::{Config, IssuerConfig};

use super::report::{Link, Status};

/// Checks `issuer`'s key source.
pub(crate) async fn check(config: &Config, issuer: &IssuerConfig) -> Link {
    let subject = format!("issuer {:?}", issuer.name);
    let (kind, location) = key_location(config, issuer).unwrap_or(("keys", String::new()));
    match probe_issuer(config, issuer, &Tuning::default()).await {
        Ok(probe) => found(subject, issuer, &probe),
        Err(err) => failed(subject, issuer, kind, &location, &err),
    }
}

fn found(subject: String, issuer: &IssuerConfig, probe: &IssuerProbe) -> Link {
    let algorithms = issuer.algorithms().join(", ");
    let mut link = if probe.usable == 0 {
        Link::broken(
            subject,
            format!("{} {} loaded, but no key is usable", probe.source, probe.location),
            format!(
                "none of the keys verifies the configured algorithms ({algorithms}); \
                 every caller token of this issuer would be refused"
            ),
            "set the issuer's `algorithms` to the ones its keys are for (see the JWKS `alg` \
             and `kty` members)",
        )
    } else {
        let keys = if probe.usable == 1 { "key" } else { "keys" };
        Link::new(
            subject,
            Status::Ok,
            format!("{} usable {keys} from {} {}", probe.usable, probe.source, probe.location),
        )
    };
    if probe.wrong_algorithm > 0 {
        link = link.fact(format!(
            "{} key(s) ignored: not for the configured algorithms ({algorithms})",
            probe.wrong_algorithm
        ));
    }
    for (kid, reason) in &probe.skipped {
        link =
            link.fact(format!("key {} skipped: {reason}", kid.as_deref().unwrap_or("without kid")));
    }
    if let Some(advertised) = &probe.discovered_algorithms {
        link = link.fact(format!("discovery advertises {}", advertised.join(", ")));
    }
    link
}

fn failed(
    subject: String,
    issuer: &IssuerConfig,
    kind: &str,
    location: &str,
    err: &JwksError,
) -> Link {
    let stage = match err {
        JwksError::Fetch { url, .. }
        | JwksError::Status { url, .. }
        | JwksError::TooLarge { url, .. }
            if kind == "discovery" && url != location =>
        {
            "the keys (jwks_uri named by discovery)"
        }
        _ if kind == "discovery" => "the discovery document",
        _ if kind == "jwks_file" => "the JWKS file",
        _ => "the keys (jwks_uri)",
    };
    let summary = format!("cannot load {stage}");
    let fix = fix_for(err, kind, &issuer.name);
    Link::broken(subject, summary, err.to_string(), fix).fact(format!("{kind}: {location}"))
}

/// What to do about `err` for the issuer called `name` whose keys come from `kind`.
fn fix_for(err: &JwksError, kind: &str, name: &str) -> String {
    match err {
        JwksError::Fetch { reason, .. } if reason.contains("refused") => format!(
            "nothing listens at that address: check `{kind}` of issuer {name:?} and that the \
             identity provider is up and reachable from this machine"
        ),
        JwksError::Fetch { .. } => format!(
            "check `{kind}` of issuer {name:?}, this machine's DNS, proxy and firewall, and that \
             the provider's certificate is trusted by the system roots"
        ),
        JwksError::Status { status: 404, .. } => format!(
            "the URL does not exist: copy `{kind}` from the provider's documentation (for \
             Entra: https://login.microsoftonline.com/TENANT_ID/v2.0\
             /.well-known/openid-configuration)"
        ),
        JwksError::Status { .. } | JwksError::TooLarge { .. } => {
            "the provider answered but not with keys: check the URL and the provider's status"
                .to_owned()
        }
        JwksError::IssuerMismatch { found, .. } => format!(
            "set `issuer` (or add to `additional_issuers`) exactly as discovery names it: \
             {found:?}; for Entra use the {{tenantid}} form with `tenants`"
        ),
        JwksError::Invalid(_) | JwksError::NoUsableKey { .. } => {
            format!("`{kind}` does not point at an OpenID discovery document or a JWK set")
        }
        JwksError::File { .. } => "make the file readable, or write it with `skybridge keys \
                                   generate` (its jwks.json)"
            .to_owned(),
    }
}
