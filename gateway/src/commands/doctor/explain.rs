//! The plain-words explanations: a minting failure or an upstream's 401/403 turned into the
//! most likely broken mapping and its fix, following deploy/IDENTITY-CHECKLIST.md.
//!
//! Minting failures arrive as the minter's reason text (`STEP: HTTP 400 (invalid_grant)`),
//! which is safe to show: it never holds a token or an endpoint's body.

use skybridge_shared::config::CredentialKind;

const CHECKLIST: &str = "deploy/IDENTITY-CHECKLIST.md";

/// `(cause, fix)` for a mint that failed with `reason`.
pub(crate) fn mint_failure(kind: CredentialKind, reason: &str) -> (String, String) {
    let (why, fix) = known_failure(kind, reason).unwrap_or((
        "the identity endpoint refused or failed",
        "see the \"Symptom to broken mapping\" table in the identity checklist",
    ));
    (format!("{reason}: {why}"), format!("{fix} ({CHECKLIST})"))
}

fn known_failure(kind: CredentialKind, reason: &str) -> Option<(&'static str, &'static str)> {
    let has = |text: &str| reason.contains(text);
    let found = match kind {
        _ if has("request failed") => (
            "the endpoint cannot be reached (refused, DNS, TLS or timeout)",
            "check the endpoint URL (the key file's token_uri, metadata_url, the credential \
             file's URLs or iam_credentials_url) and that this machine can reach it",
        ),
        _ if has("no token within") => (
            "the endpoint did not answer in time",
            "check the network path to the endpoint, then run doctor again",
        ),
        _ if has("not a compact JWT") || has("no id_token") => (
            "the endpoint did not hand out an ID token (an access token, perhaps)",
            "Cloud Run needs ID tokens: the service-account assertion must carry \
             target_audience and no scope",
        ),
        _ if has("its aud is not") => (
            "the endpoint issued a token for another audience than the credential's `audience`",
            "check that the endpoint is Google's and the `audience` setting is what you meant",
        ),
        CredentialKind::GoogleServiceAccount if has("invalid_grant") => (
            "Google refused the signed assertion: the key was deleted or disabled, the key file \
             belongs to a deleted service account, or this machine's clock is off",
            "list the keys with `gcloud iam service-accounts keys list --iam-account=SA`; \
             create one with `gcloud iam service-accounts keys create KEY.json \
             --iam-account=SA`, point `key_file` at it, and check the clock (timedatectl)",
        ),
        CredentialKind::AzureWorkloadIdentity => return azure_failure(reason),
        CredentialKind::GceMetadata if has("HTTP 404") => (
            "the metadata server has no identity endpoint for the default service account",
            "run on Cloud Run, GKE or a GCE VM with a service account attached (part 1)",
        ),
        CredentialKind::SelfSigned if has("no usable signing key") => (
            "no key in `signing_keys` may sign yet",
            "create one with `skybridge keys generate --out DIR`; a new key signs only after \
             `publish_delay`",
        ),
        _ => return None,
    };
    Some(found)
}

fn azure_failure(reason: &str) -> Option<(&'static str, &'static str)> {
    let has = |text: &str| reason.contains(text);
    let found = if has("Azure identity endpoint") {
        (
            "Azure did not give the managed identity a token: the identity is not attached to \
             this VM, the client_id is wrong, or the app registration lacks a service principal",
            "part 2 of the checklist (az vm identity assign, az ad sp create)",
        )
    } else if has("STS") && has("invalid_grant") {
        (
            "the workload identity provider refused the Azure token: its issuer or allowed \
             audience differs from what the managed identity asked for",
            "part 3 step 2: issuer https://sts.windows.net/TENANT_ID/ (with the slash) and \
             --allowed-audiences = the resource in credential_source.url",
        )
    } else if has("STS") && has("HTTP 400") {
        (
            "the credential file's audience names a wrong project number, pool or provider",
            "part 3 step 3: write the file again with gcloud iam workload-identity-pools \
             create-cred-config",
        )
    } else if has("STS") {
        (
            "the provider's attribute condition rejects this identity",
            "part 3 step 2: the condition's sub must be the managed identity's principal id",
        )
    } else if has("generateIdToken") && has("HTTP 404") {
        ("the service account does not exist", "part 4: check `service_account` and the project")
    } else if has("generateIdToken") && has("HTTP 403") {
        (
            "the federated identity may not act as the service account \
             (iam.serviceAccounts.getOpenIdToken denied)",
            "part 4: grant roles/iam.workloadIdentityUser and \
             roles/iam.serviceAccountOpenIdTokenCreator on the service account to the principal",
        )
    } else {
        return None;
    };
    Some(found)
}

/// The fix for a token whose `aud` is not the upstream URL `expected`.
pub(crate) fn audience_fix(credential: &str, expected: &str, aud: &[String]) -> String {
    let custom = aud.first().map(String::as_str).unwrap_or("AUDIENCE");
    format!(
        "set `audience = \"{expected}\"` on credential {credential:?}, or make {custom:?} a \
         custom audience of the service:\n  gcloud run services update SERVICE --region=REGION \
         --add-custom-audiences={custom}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_grant_from_the_token_endpoint_points_at_the_key() {
        let reason = "token endpoint: HTTP 400 (invalid_grant)";
        let (cause, fix) = mint_failure(CredentialKind::GoogleServiceAccount, reason);
        assert!(cause.starts_with(reason), "{cause}");
        assert!(cause.contains("key was deleted or disabled"), "{cause}");
        assert!(fix.contains("keys create"), "{fix}");
    }

    #[test]
    fn azure_failures_name_the_checklist_part() {
        let cases = [
            ("STS token exchange: HTTP 400 (invalid_grant)", "part 3 step 2"),
            ("STS token exchange: HTTP 400 (invalid_request)", "part 3 step 3"),
            ("IAM Credentials generateIdToken: HTTP 403", "part 4"),
            ("Azure identity endpoint: HTTP 400 (invalid_request)", "part 2"),
        ];
        for (reason, part) in cases {
            let (_, fix) = mint_failure(CredentialKind::AzureWorkloadIdentity, reason);
            assert!(fix.contains(part), "{reason}: {fix}");
        }
    }
}
