//! The fake endpoints. Each checks its request field by field (protocol note A1–A3) and then
//! answers according to its [`Mode`].

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use skybridge_actors::signing::unix_now;
use std::collections::BTreeMap;

use super::issuer::{decode_unverified, verify_with_jwks};
use super::{AZURE_APP, AZURE_VM, IAM, METADATA, Mode, STS, State, TOKEN, next_serial};

const FORM: &str = "application/x-www-form-urlencoded";
const IDENTITY_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/identity";

pub async fn dispatch(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let path = req.path().to_owned();
    let (endpoint, checked): (&'static str, Result<Success, String>) = match path.as_str() {
        "/token" => (TOKEN, token_endpoint(&req, &body, &state)),
        IDENTITY_PATH => (METADATA, metadata(&req, &body, &state)),
        "/metadata/identity/oauth2/token" => (AZURE_VM, azure_vm(&req, &body, &state)),
        "/msi/token" => (AZURE_APP, azure_app(&req, &body, &state)),
        "/v1/token" => (STS, sts(&req, &body, &state)),
        p if p.starts_with("/v1/projects/-/serviceAccounts/") => (IAM, iam(&req, &body, &state)),
        _ => {
            state.violation(format!("request to unknown path {path}"));
            return HttpResponse::NotFound().finish();
        }
    };
    state.count(endpoint);
    let success = match checked {
        Ok(success) => success,
        Err(problem) => {
            state.violation(format!("{endpoint}: {problem}"));
            return HttpResponse::BadRequest()
                .json(json!({"error": "invalid_request", "error_description": problem}));
        }
    };
    match state.mode(endpoint) {
        Mode::Ok => success.answer(),
        Mode::Slow(delay) => {
            actix_rt::time::sleep(delay).await;
            success.answer()
        }
        Mode::OAuthError => HttpResponse::BadRequest().json(json!({
            "error": "invalid_grant",
            "error_description": "DESCRIPTION-MARKER Invalid JWT Signature.",
        })),
        Mode::Forbidden => HttpResponse::Forbidden().json(json!({"error": {
            "code": 403,
            "message": "Permission 'iam.serviceAccounts.getOpenIdToken' denied",
            "status": "PERMISSION_DENIED",
        }})),
        Mode::Unavailable => HttpResponse::ServiceUnavailable().body("upstream connect error"),
        Mode::Garbage => HttpResponse::Ok().content_type("text/html").body("<html>oops</html>"),
        Mode::MissingToken => match endpoint {
            METADATA => HttpResponse::Ok().insert_header(("Metadata-Flavor", "Google")).finish(),
            _ => HttpResponse::Ok().json(json!({"token_type": "Bearer", "expires_in": 3600})),
        },
    }
}

/// A checked request's successful answer.
pub struct Success {
    status: StatusCode,
    headers: Vec<(&'static str, &'static str)>,
    body: Body,
}

enum Body {
    Json(Value),
    Text(String),
}

impl Success {
    fn json(body: Value) -> Result<Self, String> {
        Ok(Self { status: StatusCode::OK, headers: Vec::new(), body: Body::Json(body) })
    }

    fn answer(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for header in self.headers {
            response.insert_header(header);
        }
        match self.body {
            Body::Json(value) => response.json(value),
            Body::Text(text) => response.content_type("text/plain").body(text),
        }
    }
}

/// A1: JWT-bearer grant with `target_audience`.
fn token_endpoint(req: &HttpRequest, body: &[u8], state: &State) -> Result<Success, String> {
    expect(req.method() == Method::POST, "method must be POST")?;
    expect(content_type(req) == FORM, "content type must be form-urlencoded")?;
    let form = exact_fields(body, &["grant_type", "assertion"])?;
    expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", "grant_type")?;
    let assertion = &form["assertion"];
    let (header, claims) = decode_unverified(assertion);
    expect(
        header == json!({"alg": "RS256", "typ": "JWT", "kid": state.sa_key_id}),
        "assertion header must be alg RS256, typ JWT, kid = private_key_id",
    )?;
    let token_uri = format!("{}/token", state.base.lock().expect("base"));
    let mut sa_jwks = json!({"keys": [state.sa_jwk.clone()]});
    // The assertion's kid is the key file's private_key_id; the JWK is named by thumbprint.
    sa_jwks["keys"][0]["kid"] = json!(state.sa_key_id);
    verify_with_jwks(&sa_jwks, assertion, &token_uri, &state.sa_email)
        .map_err(|err| format!("assertion does not verify: {err}"))?;
    let mut names: Vec<&str> =
        claims.as_object().map(|c| c.keys().map(String::as_str).collect()).unwrap_or_default();
    names.sort_unstable();
    expect(
        names == ["aud", "exp", "iat", "iss", "target_audience"],
        "assertion claims (no scope)",
    )?;
    let iat = claims["iat"].as_u64().ok_or("iat must be an integer")?;
    expect(claims["exp"].as_u64() == Some(iat + 3600), "exp must be iat + 3600")?;
    expect(iat.abs_diff(unix_now()) <= 5, "iat must be now")?;
    let audience = claims["target_audience"].as_str().ok_or("target_audience")?;
    Success::json(
        json!({"id_token": state.issuer.id_token(audience, &state.sa_email, state.lifetime())}),
    )
}

/// A2: metadata identity endpoint.
fn metadata(req: &HttpRequest, body: &[u8], state: &State) -> Result<Success, String> {
    expect(req.method() == Method::GET, "method must be GET")?;
    expect(header(req, "metadata-flavor") == "Google", "Metadata-Flavor: Google")?;
    expect(body.is_empty(), "no body")?;
    expect(req.headers().get("authorization").is_none(), "no auth")?;
    let query = exact_fields(req.query_string().as_bytes(), &["audience"])?;
    let token = state.issuer.id_token(&query["audience"], "default@test.iam", state.lifetime());
    Ok(Success {
        status: StatusCode::OK,
        headers: vec![("Metadata-Flavor", "Google")],
        body: Body::Text(token),
    })
}

/// A3 step 1 on a VM: IMDS with `Metadata: true`; numbers as strings.
fn azure_vm(req: &HttpRequest, body: &[u8], state: &State) -> Result<Success, String> {
    expect(req.method() == Method::GET && body.is_empty(), "GET without body")?;
    expect(header(req, "metadata").eq_ignore_ascii_case("true"), "Metadata: true")?;
    let query = exact_fields(req.query_string().as_bytes(), &["api-version", "resource"])?;
    expect(query["api-version"] == "2018-02-01", "api-version")?;
    expect(query["resource"] == state.app_id_uri, "resource must be the app ID URI")?;
    let token = issue_azure(state);
    let now = unix_now();
    Success::json(json!({
        "access_token": token, "refresh_token": "", "expires_in": "3599",
        "expires_on": (now + 3599).to_string(), "not_before": now.to_string(),
        "resource": state.app_id_uri, "token_type": "Bearer",
    }))
}

/// A3 step 1 on App Service: `IDENTITY_ENDPOINT` with `X-IDENTITY-HEADER`.
fn azure_app(req: &HttpRequest, body: &[u8], state: &State) -> Result<Success, String> {
    expect(req.method() == Method::GET && body.is_empty(), "GET without body")?;
    expect(header(req, "x-identity-header") == state.app_service_secret, "X-IDENTITY-HEADER")?;
    let query = exact_fields(req.query_string().as_bytes(), &["api-version", "resource"])?;
    expect(query["api-version"] == "2019-08-01", "api-version")?;
    expect(query["resource"] == state.app_id_uri, "resource must be the app ID URI")?;
    let token = issue_azure(state);
    Success::json(json!({
        "access_token": token, "expires_on": (unix_now() + 3599).to_string(),
        "resource": state.app_id_uri, "token_type": "Bearer", "client_id": "mi-client",
    }))
}

fn issue_azure(state: &State) -> String {
    let token = state.issuer.azure_token(&state.app_id_uri);
    state.azure_tokens.lock().expect("tokens").push(token.clone());
    token
}

/// A3 step 2: STS token exchange.
fn sts(req: &HttpRequest, body: &[u8], state: &State) -> Result<Success, String> {
    expect(req.method() == Method::POST, "method must be POST")?;
    expect(content_type(req) == FORM, "content type must be form-urlencoded")?;
    let form = exact_fields(
        body,
        &[
            "grant_type",
            "audience",
            "scope",
            "requested_token_type",
            "subject_token_type",
            "subject_token",
        ],
    )?;
    expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange", "grant_type")?;
    expect(form["audience"] == state.provider, "audience must be the provider")?;
    expect(form["scope"] == "https://www.googleapis.com/auth/cloud-platform", "scope")?;
    expect(
        form["requested_token_type"] == "urn:ietf:params:oauth:token-type:access_token",
        "requested_token_type",
    )?;
    expect(
        form["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt",
        "subject_token_type",
    )?;
    let issued = state.azure_tokens.lock().expect("tokens").contains(&form["subject_token"]);
    expect(issued, "subject_token must be the Azure access token")?;
    let federated = format!("ya29.federated-{}", next_serial(state));
    state.federated_tokens.lock().expect("tokens").push(federated.clone());
    Success::json(json!({
        "access_token": federated,
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
}

/// A3 step 3: IAM Credentials `generateIdToken`.
fn iam(req: &HttpRequest, body: &[u8], state: &State) -> Result<Success, String> {
    expect(req.method() == Method::POST, "method must be POST")?;
    let expected =
        format!("/v1/projects/-/serviceAccounts/{}:generateIdToken", state.service_account);
    expect(req.path() == expected, "path must name the service account with the - wildcard")?;
    expect(content_type(req) == "application/json", "content type must be JSON")?;
    let bearer = header(req, "authorization");
    let federated = bearer.strip_prefix("Bearer ").unwrap_or_default().to_owned();
    expect(
        state.federated_tokens.lock().expect("tokens").contains(&federated),
        "Bearer <federated token>",
    )?;
    let body: Value = serde_json::from_slice(body).map_err(|err| format!("body: {err}"))?;
    let audience = body["audience"].as_str().ok_or("audience")?.to_owned();
    expect(
        body == json!({"audience": audience, "includeEmail": true}),
        "body must be audience + includeEmail",
    )?;
    let lifetime = state.lifetime();
    Success::json(
        json!({"token": state.issuer.id_token(&audience, &state.service_account, lifetime)}),
    )
}

fn expect(ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what.to_owned()) }
}

fn header(req: &HttpRequest, name: &str) -> String {
    req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn content_type(req: &HttpRequest) -> String {
    header(req, "content-type")
}

/// Parses a urlencoded string and requires exactly `names`, each once.
fn exact_fields(encoded: &[u8], names: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let text = std::str::from_utf8(encoded).map_err(|_| "not UTF-8")?;
    let mut fields = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        if fields.insert(decode(name), decode(value)).is_some() {
            return Err(format!("field {name} repeated"));
        }
    }
    let mut got: Vec<&str> = fields.keys().map(String::as_str).collect();
    let mut want = names.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    expect(got == want, &format!("fields must be exactly {want:?}, got {got:?}"))?;
    Ok(fields)
}
