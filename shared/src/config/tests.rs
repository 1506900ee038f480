use std::io::Write;

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(text.as_bytes()).expect("write");
    path
}

const MINIMAL: &str = r#"
[listener]
address = "127.0.0.1:0"
shutdown_timeout = "250ms"

[[upstreams]]
name = "echo"
url = "http://127.0.0.1:9"
connect_timeout = "1s"

[[routes]]
name = "all"
path_prefix = "/"
upstream = "echo"
auth = "anonymous"
"#;

#[test]
fn loads_durations_and_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "a.toml", MINIMAL);
    let config = load(Some(&path)).expect("loads");
    assert_eq!(config.listener.shutdown_timeout, std::time::Duration::from_millis(250));
    assert_eq!(config.upstreams[0].connect_timeout, std::time::Duration::from_secs(1));
    assert_eq!(config.upstreams[0].request_timeout, upstream::DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(config.routes[0].auth, Some(AuthPolicy::Anonymous));
    assert_eq!(config.admin.address, listener::DEFAULT_ADMIN_ADDRESS);
    assert!(config.validate().is_empty(), "{}", config.validate());
}

#[test]
fn unknown_key_is_rejected_with_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = MINIMAL.replace("shutdown_timeout", "shutdown_timout");
    let path = write(dir.path(), "a.toml", &text);
    let err = load(Some(&path)).expect_err("unknown key");
    let message = err.to_string();
    assert!(message.contains("shutdown_timout"), "{message}");
    assert!(message.contains("a.toml"), "{message}");
}

#[test]
fn bad_duration_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = MINIMAL.replace("\"250ms\"", "\"soon\"");
    let path = write(dir.path(), "a.toml", &text);
    let message = load(Some(&path)).expect_err("bad duration").to_string();
    assert!(message.contains("shutdown_timeout"), "{message}");
}

#[test]
fn auth_table_is_parsed_and_bad_string_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = r#"{ issuers = ["a"], scopes = ["s"], claims = { azp = "x", tid = ["1", "2"] } }"#;
    let path = write(dir.path(), "a.toml", &MINIMAL.replace("\"anonymous\"", table));
    let config = load(Some(&path)).expect("loads");
    let Some(AuthPolicy::Required(required)) = &config.routes[0].auth else {
        panic!("expected required auth");
    };
    assert_eq!(required.scopes, ["s"]);
    assert_eq!(required.claims["azp"], ClaimMatcher::Equals("x".into()));
    assert_eq!(required.claims["tid"], ClaimMatcher::OneOf(vec!["1".into(), "2".into()]));

    let path = write(dir.path(), "b.toml", &MINIMAL.replace("\"anonymous\"", "\"public\""));
    let message = load(Some(&path)).expect_err("bad auth").to_string();
    assert!(message.contains("anonymous"), "{message}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = r#"
[listener]
address = "nowhere"
[listener.tls]
certificate = "missing-cert.pem"
private_key = "missing-key.pem"

[[upstreams]]
name = "a"
url = "ftp://x"
credential = "nope"

[[routes]]
name = "r"
path_prefix = "orders"
upstream = "b"
rate_limits = ["p"]

[[rate_limit.policies]]
name = "q"
limit = 5
period = "1m"
burst = 2
cost = 3
key = "cookie:x"
"#;
    let path = write(dir.path(), "broken.toml", text);
    let problems = load(Some(&path)).expect("parses").validate();
    let keys: Vec<&str> = problems.0.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "listener.address",
        "listener.tls.certificate",
        "listener.tls.private_key",
        "upstreams[0].url",
        "upstreams[0].credential",
        "routes[0].path_prefix",
        "routes[0].upstream",
        "routes[0].auth",
        "routes[0].rate_limits[0]",
        "rate_limit.policies[0].cost",
        "rate_limit.policies[0].key",
    ] {
        assert!(keys.contains(&expected), "missing {expected} in {keys:?}");
    }
    let cert = problems.0.iter().find(|p| p.key == "listener.tls.certificate").expect("cert");
    assert!(cert.reason.contains("missing-cert.pem"), "{}", cert.reason);
}

#[test]
fn credential_fields_are_checked_per_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "external_account.json", "{}");
    std::fs::create_dir(dir.path().join("keys")).expect("mkdir");
    let credentials = r#"
[[credentials]]
name = "azure"
kind = "azure_workload_identity"
audience = "https://a.run.app"
credential_file = "external_account.json"
service_account = "bad/account"
iam_credentials_url = "http://127.0.0.1:1"
identity_endpoint_env = "IDENTITY_ENDPOINT"

[[credentials]]
name = "meta"
kind = "gce_metadata"
audience = "https://a.run.app"
metadata_url = "http://127.0.0.1:1"
include_caller = true
identity_header_env = "IDENTITY_HEADER"

[[credentials]]
name = "signed"
kind = "self_signed"
audience = "https://a.run.app"
issuer = "https://skybridge.test"
signing_keys = "external_account.json"
include_caller = true
"#;
    let path = write(dir.path(), "a.toml", &format!("{MINIMAL}{credentials}"));
    let config = load(Some(&path)).expect("loads");
    assert!(config.credentials[2].include_caller);
    let problems = config.validate();
    let keys: Vec<&str> = problems.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "credentials[0].service_account",
            "credentials[0].identity_header_env",
            "credentials[1].identity_endpoint_env",
            "credentials[1].include_caller",
            "credentials[2].signing_keys",
        ],
        "{problems}"
    );

    let fixed = credentials
        .replace("bad/account", "invoker@p.iam.gserviceaccount.com")
        .replace("identity_endpoint_env = \"IDENTITY_ENDPOINT\"", "")
        .replace("include_caller = true\nidentity_header_env = \"IDENTITY_HEADER\"", "")
        .replace("signing_keys = \"external_account.json\"", "signing_keys = \"keys\"");
    let path = write(dir.path(), "b.toml", &format!("{MINIMAL}{fixed}"));
    let config = load(Some(&path)).expect("loads");
    assert!(config.validate().is_empty(), "{}", config.validate());
}

#[test]
fn rate_limit_ranges_and_names_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "{MINIMAL}\n{}",
        r#"
[rate_limit]
expected_instances = 0

[[rate_limit.policies]]
name = "bad\"name\u00e9"
limit = 2000000
period = "1s"
key = "route"

[[rate_limit.policies]]
name = "slow"
limit = 1
period = "1d"
burst = 10000
key = "client_ip"

[[rate_limit.policies]]
name = "ok"
limit = 10
period = "1m"
key = "header:x-api-key"
"#
    );
    let path = write(dir.path(), "a.toml", &text);
    let config = load(Some(&path)).expect("parses");
    let problems = config.validate();
    let keys: Vec<&str> = problems.0.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "rate_limit.expected_instances",
        "rate_limit.policies[0].name",
        "rate_limit.policies[0].limit",
        "rate_limit.policies[1].burst",
    ] {
        assert!(keys.contains(&expected), "missing {expected} in {keys:?}");
    }
    assert!(!keys.iter().any(|k| k.starts_with("rate_limit.policies[2]")), "{keys:?}");
}

#[test]
fn expected_instances_defaults_to_one() {
    assert_eq!(RateLimitConfig::default().expected_instances, 1);
}

#[test]
fn issuer_problems_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "{MINIMAL}{}",
        r#"
[[issuers]]
name = "entra"
issuer = "https://login.example.com/{tenantid}/v2.0"
jwks_uri = "https://login.example.com/common/discovery/v2.0/keys"
leeway = "10m"
algorithms = ["HS256"]
"#
    );
    let path = write(dir.path(), "issuer.toml", &text);
    let problems = load(Some(&path)).expect("parses").validate();
    let keys: Vec<&str> = problems.0.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "issuers[0].audiences",
        "issuers[0].leeway",
        "issuers[0].tenants",
        "issuers[0].algorithms[0]",
    ] {
        assert!(keys.contains(&expected), "missing {expected} in {keys:?}");
    }
}
