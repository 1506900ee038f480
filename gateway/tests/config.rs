//! The configuration as an operator meets it: `check-config`, environment overrides, and the
//! reference example in deploy/.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Gateway, TestDir, Upstream, client, mtls_upstream_block};

fn check_config(path: &Path) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_skybridge"))
        .args(["check-config", "--config"])
        .arg(path)
        .output()
        .expect("run check-config");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_config_lists_every_problem_and_exits_1() {
    let dir = TestDir::new();
    let path = dir.write(
        "broken.toml",
        r#"
[listener]
address = "not-an-address"
max_body_bytes = 0
[listener.tls]
certificate = "nowhere/cert.pem"
private_key = "nowhere/key.pem"

[[upstreams]]
name = "a"
url = "ftp://example"
[[upstreams]]
name = "a"
url = "http://127.0.0.1:1"

[[routes]]
name = "r"
path_prefix = "/x/../y"
methods = ["get"]
upstream = "missing"
"#,
    );
    let (ok, _, stderr) = check_config(&path);
    assert!(!ok);
    for expected in [
        "listener.address",
        "listener.max_body_bytes",
        "nowhere/cert.pem",
        "nowhere/key.pem",
        "upstreams[0].url",
        "upstreams[1].name",
        "routes[0].path_prefix",
        "routes[0].methods[0]",
        "routes[0].upstream",
        "routes[0].auth",
    ] {
        assert!(stderr.contains(expected), "missing {expected} in:\n{stderr}");
    }
    assert!(stderr.lines().all(|l| l.starts_with(&path.display().to_string())), "{stderr}");
}

#[test]
fn check_config_names_unknown_keys_and_bad_types() {
    let dir = TestDir::new();
    let path = dir.write("typo.toml", "[listener]\nadress = \"127.0.0.1:1\"\n");
    let (ok, _, stderr) = check_config(&path);
    assert!(!ok);
    assert!(stderr.contains("adress") && stderr.contains("typo.toml"), "{stderr}");

    let path = dir.write("type.toml", "[listener]\nshutdown_timeout = \"forever\"\n");
    let (ok, _, stderr) = check_config(&path);
    assert!(!ok);
    assert!(stderr.contains("shutdown_timeout"), "{stderr}");

    let path = dir.write("empty.toml", "");
    let (ok, _, stderr) = check_config(&path);
    assert!(!ok, "an empty file routes nothing");
    assert!(stderr.contains("routes: no route is configured"), "{stderr}");

    let (ok, _, stderr) = check_config(&dir.path().join("absent.toml"));
    assert!(!ok);
    assert!(stderr.contains("absent.toml"), "{stderr}");
}

#[test]
fn check_config_reports_unusable_certificates() {
    let dir = TestDir::new();
    let garbage = dir.write("garbage.pem", "not a certificate");
    let route = "[[upstreams]]\nname = \"u\"\nurl = \"http://127.0.0.1:1\"\n\
                 [[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"u\"\n\
                 auth = \"anonymous\"\n";
    let path = dir.write(
        "tls.toml",
        &format!(
            "{route}[listener.tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
            garbage.display(),
            dir.certs.caller.key.display()
        ),
    );
    let (ok, _, stderr) = check_config(&path);
    assert!(!ok);
    assert!(
        stderr.contains("listener.tls.certificate") && stderr.contains("garbage.pem"),
        "{stderr}"
    );

    // A key that does not belong to the certificate.
    let path = dir.write(
        "mismatch.toml",
        &format!(
            "{route}[listener.tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
            dir.certs.gateway_server.cert.display(),
            dir.certs.caller.key.display()
        ),
    );
    let (ok, _, stderr) = check_config(&path);
    assert!(!ok);
    assert!(stderr.contains("listener.tls.private_key"), "{stderr}");
}

#[test]
fn a_valid_file_passes() {
    let dir = TestDir::new();
    let text = format!(
        "{}\n[[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"echo\"\n\
         auth = \"anonymous\"\n",
        mtls_upstream_block("echo", 1, &dir.certs, "")
    );
    let (ok, stdout, stderr) = check_config(&dir.write("ok.toml", &text));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("valid"), "{stdout}");
}

#[test]
fn the_reference_example_parses_and_only_lacks_its_files() {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config/skybridge.example.toml");
    let config = skybridge_shared::config::load(Some(&example)).expect("the example parses");
    assert!(
        !config.routes.is_empty() && !config.issuers.is_empty() && !config.credentials.is_empty()
    );
    let problems = config.validate();
    // The example names certificates and keys an operator provides; nothing else may be wrong.
    for problem in &problems.0 {
        assert!(problem.reason.starts_with("cannot read"), "{}: {}", problem.key, problem.reason);
    }
}

#[actix_rt::test]
async fn environment_overrides_the_file() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let text = format!(
        "[listener]\naddress = \"127.0.0.1:0\"\n[admin]\naddress = \"127.0.0.1:0\"\n{}\n\
         [[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"echo\"\n\
          auth = \"anonymous\"\n",
        mtls_upstream_block("echo", upstream.port(), &dir.certs, "")
    );
    let config = dir.write("gateway.toml", &text);
    let gateway =
        Gateway::start_with_env(&config, &[("SKYBRIDGE__LISTENER__MAX_BODY_BYTES", "10")]);
    let response = client().post(gateway.url("/x")).send_body("01234567890").await.expect("send");
    assert_eq!(response.status().as_u16(), 413);
    let response = client().post(gateway.url("/x")).send_body("0123456789").await.expect("send");
    assert_eq!(response.status().as_u16(), 200);
}

#[test]
fn run_refuses_an_invalid_file_before_binding() {
    let dir = TestDir::new();
    let path = dir
        .write("bad.toml", "[[routes]]\nname = \"r\"\npath_prefix = \"/\"\nupstream = \"nope\"\n");
    let output = Command::new(env!("CARGO_BIN_EXE_skybridge"))
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("routes[0].upstream") && stderr.contains("routes[0].auth"), "{stderr}");
}
