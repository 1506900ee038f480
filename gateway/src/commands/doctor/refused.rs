//! An upstream's 401 or 403 to the probe, explained with the evidence the earlier links
//! gathered (protocol note A4): 401 means the token itself was refused (audience, not an ID
//! token, wrong header, signature or expiry); 403 means the token was fine but its identity
//! may not invoke the service (`roles/run.invoker`).

use skybridge_shared::config::{CredentialConfig, CredentialKind, InjectHeader};

use super::credential::{GOOGLE_ISSUER, Minted};
use super::explain;
use super::report::Link;

/// Link 5 for a 401. `retried` is the other header when the token was accepted there.
pub(crate) fn unauthorized(
    subject: String,
    summary: String,
    credential: Option<&CredentialConfig>,
    minted: Option<&Minted>,
    retried: Option<InjectHeader>,
) -> Link {
    let (Some(credential), Some(minted)) = (credential, minted) else {
        return Link::broken(
            subject,
            summary,
            "the upstream wants a token and this upstream has no credential",
            "add `credential = \"NAME\"` to the upstream and a [[credentials]] entry for it",
        );
    };
    let name = &credential.name;
    let (cause, fix) = if let Some(why) = &minted.audience_problem {
        let aud = minted.claims.as_ref().map(|c| c.aud.clone()).unwrap_or_default();
        let fix = explain::audience_fix(name, &minted.expected_audience, &aud);
        (format!("audience mismatch: {why}"), fix)
    } else if let Some(why) = &minted.not_id_token {
        (
            format!("the token is not an ID token: {why}"),
            "use a credential kind that mints ID tokens for the service URL".to_owned(),
        )
    } else if let Some(other) = retried {
        (
            format!(
                "wrong header: the upstream reads the token from `{}`, not from `{}`",
                other.name(),
                minted.token.header_name()
            ),
            format!("set `header = \"{}\"` on credential {name:?}", other.name()),
        )
    } else {
        signature_or_expiry(credential, minted)
    };
    Link::broken(subject, summary, cause, fix)
}

/// A 401 to a token with the right audience, in the right header: the upstream does not
/// trust who signed it, or finds it expired.
fn signature_or_expiry(credential: &CredentialConfig, minted: &Minted) -> (String, String) {
    let iss = minted.claims.as_ref().and_then(|c| c.iss.clone()).unwrap_or_default();
    let cause = format!(
        "the upstream refused the token although its aud and header fit: it does not trust \
         the signer (iss {iss:?}) or finds it expired (clock skew)"
    );
    let fix = match credential.kind {
        CredentialKind::SelfSigned => "the upstream must verify against the gateway's \
             /.well-known/jwks.json (the keys in signing_keys) and expect this iss; a Cloud Run \
             service accepts only Google-signed ID tokens"
            .to_owned(),
        _ if iss != GOOGLE_ISSUER => format!(
            "Cloud Run accepts only ID tokens signed by Google (iss {GOOGLE_ISSUER}); check \
             the endpoints in credential {:?}",
            credential.name
        ),
        _ => "check the clocks of this machine and the identity endpoint; a Google ID token \
             lives one hour"
            .to_owned(),
    };
    (cause, fix)
}

/// Link 5 for a 403: the token was accepted, its identity is not allowed in.
pub(crate) fn forbidden(subject: String, summary: String, minted: Option<&Minted>) -> Link {
    let Some(minted) = minted else {
        return Link::broken(
            subject,
            summary,
            "the upstream refuses unauthenticated callers and this upstream has no credential",
            "add `credential = \"NAME\"` to the upstream and a [[credentials]] entry for it",
        );
    };
    let claims = minted.claims.as_ref();
    let email = claims.and_then(|c| c.email.as_deref());
    let who =
        email.or_else(|| claims.and_then(|c| c.sub.as_deref())).unwrap_or("the token's identity");
    let cause = format!(
        "the upstream accepted the token but not its identity: {who} lacks roles/run.invoker on \
         this Cloud Run service (granted on another service, region or project, or removed by \
         an organisation policy)"
    );
    let fix = format!(
        "grant the invoker role on the service (checklist part 1 step 1):\n  {}\nnew bindings \
         can take a few minutes to apply",
        invoker_binding(email)
    );
    Link::broken(subject, summary, cause, fix)
}

/// The command granting the invoker role, with the token's identity when it names one.
pub(crate) fn invoker_binding(email: Option<&str>) -> String {
    let member = email.unwrap_or("SA");
    format!(
        "gcloud run services add-iam-policy-binding SERVICE --region=REGION \
         --member=\"serviceAccount:{member}\" --role=\"roles/run.invoker\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invoker_command_names_the_tokens_identity() {
        let command = invoker_binding(Some("invoker@p.iam.gserviceaccount.com"));
        assert!(command.contains("serviceAccount:invoker@p.iam.gserviceaccount.com"));
        assert!(command.contains("roles/run.invoker"));
    }
}
