//! Link 3: the upstream's credential. A token is minted exactly as the server mints it, its
//! claims are shown (never the token) and its `aud` is compared with the upstream URL.

use std::time::{SystemTime, UNIX_EPOCH};

use skybridge_actors::minter::{CredentialError, Credentials, Token};
use skybridge_shared::config::{CredentialConfig, CredentialKind, InjectHeader};

use super::claims::{self, Audience, Claims};
use super::explain;
use super::report::{Link, Status};
use crate::state::Upstream;

/// Issuer of every Google-signed ID token (protocol note A4).
pub(crate) const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// A minted token and what link 3 learnt about it, for the probe.
pub(crate) struct Minted {
    /// The token; only ever put in a request header.
    pub(crate) token: Token,
    /// Its claims, when it is a JWT.
    pub(crate) claims: Option<Claims>,
    /// The audience the upstream expects: its URL's scheme and authority.
    pub(crate) expected_audience: String,
    /// How its `aud` differs from the upstream URL, when it does.
    pub(crate) audience_problem: Option<String>,
    /// Why it is not an ID token, when it is not.
    pub(crate) not_id_token: Option<String>,
}

/// Link 3's verdict, and the token when one was minted.
pub(crate) struct CredentialCheck {
    pub(crate) link: Link,
    pub(crate) minted: Option<Minted>,
}

/// Mints a token of `credential` for `upstream` and checks its claims.
pub(crate) async fn check(
    started: &Result<Credentials, String>,
    credential: &CredentialConfig,
    upstream: &Upstream,
    forward_token: bool,
) -> CredentialCheck {
    let subject = format!("credential {:?} ({})", credential.name, kind_name(credential.kind));
    let credentials = match started {
        Ok(credentials) => credentials,
        Err(reason) => {
            let link = Link::broken(
                subject,
                "cannot be set up",
                reason.clone(),
                "fix the file or setting named in the cause; `skybridge check-config` lists \
                 every configuration problem",
            );
            return CredentialCheck { link, minted: None };
        }
    };
    let token = match credentials.token(&credential.name, None).await {
        Ok(token) => token,
        Err(CredentialError::Unavailable { reason, .. }) => {
            let (cause, fix) = explain::mint_failure(credential.kind, &reason);
            let link = Link::broken(subject, "cannot mint a token", cause, fix);
            return CredentialCheck { link, minted: None };
        }
        Err(err) => {
            let link = Link::broken(subject, "cannot mint a token", err.to_string(), "");
            return CredentialCheck { link, minted: None };
        }
    };
    inspect(subject, credential, upstream, forward_token, token)
}

fn inspect(
    subject: String,
    credential: &CredentialConfig,
    upstream: &Upstream,
    forward_token: bool,
    token: Token,
) -> CredentialCheck {
    let expected = claims::expected_audience(&upstream.scheme, &upstream.authority);
    let mut minted = Minted {
        token,
        claims: None,
        expected_audience: expected.clone(),
        audience_problem: None,
        not_id_token: None,
    };
    let claims = match claims::decode(minted.token.jwt()) {
        Ok(claims) => claims,
        Err(why) => {
            minted.not_id_token = Some(why.to_owned());
            let link = not_an_id_token(subject, why);
            return CredentialCheck { link, minted: Some(minted) };
        }
    };
    let header = minted.token.header_name();
    let mut link = Link::new(subject, Status::Ok, format!("minted a token, sent in `{header}`"));
    link.facts = facts(&claims);
    link = judge_audience(link, &claims, &mut minted, &credential.name);
    if !link.is_broken() {
        link = further_checks(link, &claims, upstream, credential, forward_token);
    }
    minted.claims = Some(claims);
    CredentialCheck { link, minted: Some(minted) }
}

/// Whether the token is an ID token for the upstream; records what is wrong in `minted`.
fn judge_audience(mut link: Link, claims: &Claims, minted: &mut Minted, name: &str) -> Link {
    let expected = minted.expected_audience.clone();
    let not_id_token = |link: Link, why: &str| Link {
        facts: link.facts.clone(),
        ..not_an_id_token(link.subject, why)
    };
    match claims::audience(claims, &expected) {
        _ if claims.scoped => {
            let why = "it carries a scope claim, as OAuth access tokens do";
            minted.not_id_token = Some(why.to_owned());
            not_id_token(link, why)
        }
        Audience::Missing => {
            let why = "it has no aud claim (an OAuth access token?)";
            minted.not_id_token = Some(why.to_owned());
            not_id_token(link, why)
        }
        Audience::Matches => link.fact(format!("aud matches the upstream URL {expected}")),
        Audience::Differs(why) => {
            link.status = Status::Broken;
            link.summary = "minted a token for another audience".into();
            let cause = format!(
                "{why}; Cloud Run refuses it with 401 unless it is a custom audience of the service"
            );
            minted.audience_problem = Some(why);
            link.with_cause(cause, explain::audience_fix(name, &expected, &claims.aud))
        }
    }
}

/// Expiry, Cloud Run's issuer rule, and the header clash with a forwarded caller token.
fn further_checks(
    mut link: Link,
    claims: &Claims,
    upstream: &Upstream,
    credential: &CredentialConfig,
    forward_token: bool,
) -> Link {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    if claims.exp.is_none_or(|exp| exp <= now) {
        return Link { status: Status::Broken, ..link }.with_cause(
            "the token has no exp or is already expired when minted",
            "check this machine's clock (timedatectl) and the identity endpoint's",
        );
    }
    let host = upstream.authority.split(':').next().unwrap_or_default();
    if host.ends_with(".run.app") && claims.iss.as_deref() != Some(GOOGLE_ISSUER) {
        return Link { status: Status::Broken, ..link }.with_cause(
            format!("Cloud Run accepts only Google-signed ID tokens (iss {GOOGLE_ISSUER})"),
            "use kind google_service_account, gce_metadata or azure_workload_identity for a \
             Cloud Run upstream",
        );
    }
    if forward_token && credential.header == InjectHeader::Authorization {
        link.status = Status::Warn;
        link.cause = Some(
            "the route forwards the caller's Authorization header and the credential uses the \
             same header: one of the two tokens is lost"
                .into(),
        );
        link.fix = Some(format!(
            "set `header = \"x-serverless-authorization\"` on credential {:?}",
            credential.name
        ));
    }
    link
}

fn not_an_id_token(subject: String, why: &str) -> Link {
    Link::broken(
        subject,
        "minted something that is not an ID token",
        format!("{why}; Cloud Run accepts only ID tokens (JWTs with aud = the service URL)"),
        "a google_service_account key must not ask for a scope; use the identity endpoint \
         (gce_metadata) or generateIdToken (azure_workload_identity), not an access token",
    )
}

fn facts(claims: &Claims) -> Vec<String> {
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "(none)".into());
    let mut facts =
        vec![format!("iss   {}", shown(&claims.iss)), format!("sub   {}", shown(&claims.sub))];
    if let Some(email) = &claims.email {
        facts.push(format!("email {email}"));
    }
    facts.push(format!("aud   {}", claims.aud.join(", ")));
    let exp = claims.exp.map(|exp| claims::describe_expiry(exp, SystemTime::now()));
    facts.push(format!("exp   {}", exp.unwrap_or_else(|| "(none)".into())));
    facts
}

/// The configuration name of a credential kind.
pub(crate) fn kind_name(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::SelfSigned => "self_signed",
        CredentialKind::GoogleServiceAccount => "google_service_account",
        CredentialKind::GceMetadata => "gce_metadata",
        CredentialKind::AzureWorkloadIdentity => "azure_workload_identity",
    }
}
