//! Skybridge at scale, through the real binaries: three instances behind nginx (configured
//! from `deploy/nginx/cluster.conf.template`) share one rate limit through a real Redis, each
//! sends its audit records to the collector under its own `service.instance.id`, and neither
//! a rolling restart nor a SIGHUP reload under steady load from the load-test suite loses a
//! request. The tests run one at a time: each starts a dozen processes on two shared cores.

mod common;
#[path = "cluster/harness.rs"]
mod harness;
#[path = "cluster/load.rs"]
mod load;
#[path = "cluster/script.rs"]
mod script;
#[path = "../../actors/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use harness::{Cluster, audit_query, get, status};
use load::{SteadyLoad, Totals};
use script::ScriptCluster;

/// One cluster at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Asserts that the load saw nothing but 200s, and enough of them.
fn assert_lossless(totals: &Totals, at_least: u64) {
    assert!(
        totals.failed == 0 && totals.unsent == 0 && totals.other_statuses.is_empty(),
        "requests were lost: {totals:#?}"
    );
    assert!(totals.runs > 0 && totals.ok >= at_least, "only {} answered: {totals:#?}", totals.ok);
    assert_eq!(totals.ok, totals.completed, "{totals:#?}");
}

#[test]
fn three_instances_behind_nginx_admit_exactly_the_shared_limit() {
    let _serial = serial();
    let cluster = Cluster::start(false, "");
    // Every instance's connection to the upstream is made before the burst.
    for _ in 0..6 {
        assert_eq!(status(cluster.nginx.port, "/demo/warm"), 200);
    }
    let before = cluster.nginx.log_lines();
    let port = cluster.nginx.port;
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let senders: Vec<_> =
            (0..25).map(|_| scope.spawn(move || status(port, "/limited/x"))).collect();
        senders.into_iter().map(|s| s.join().expect("sender")).collect()
    });
    let mut counts = (0, 0);
    for code in statuses {
        match code {
            200 => counts.0 += 1,
            429 => counts.1 += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(counts, (10, 15), "10 per minute in total, whichever instance answers");
    // nginx spread the burst over all three instances, each answering on its first try.
    let served = cluster.nginx.served(before);
    assert_eq!(served.len(), 25, "{served:?}");
    let used: BTreeSet<&String> = served.iter().filter_map(|s| s.upstreams.last()).collect();
    assert_eq!(used.len(), 3, "every instance took part: {used:?}");
    assert!(served.iter().all(|s| s.upstreams.len() == 1), "no retries: {served:?}");
}

#[test]
fn audit_records_from_every_instance_reach_the_collector() {
    let _serial = serial();
    let mut cluster = Cluster::start(true, "");
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    for n in 0..30 {
        let request = format!(
            "GET /demo/audit/{n} HTTP/1.1\r\nHost: cluster\r\nConnection: close\r\n\
             x-request-id: audit-{n}\r\ntraceparent: 00-{trace}-00f067aa0ba902b7-01\r\n\r\n"
        );
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], cluster.nginx.port));
        let response = common::raw_request(address, request.as_bytes());
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
    // SIGTERM makes each instance flush its audit sink; rotel forwards within a second.
    for index in 0..3 {
        cluster.stop_instance(index);
    }
    let trail = cluster.collector.as_ref().expect("collector").sink.out.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let records = loop {
        let records = audit_query(&trail, &["--trace-id", trace]);
        if records.len() >= 30 || Instant::now() > deadline {
            break records;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(records.len(), 30, "one record per request: {records:#?}");
    let ids: BTreeSet<&str> = records
        .iter()
        .map(|r| r["resource"]["service.instance.id"].as_str().expect("instance id"))
        .collect();
    assert_eq!(ids, BTreeSet::from(["gw-1", "gw-2", "gw-3"]));
    let requests: BTreeSet<&str> = records
        .iter()
        .map(|r| r["attributes"]["skybridge.request_id"].as_str().expect("request id"))
        .collect();
    assert_eq!(requests.len(), 30, "the caller's request ids, each once: {requests:?}");
    let one = audit_query(&trail, &["--request-id", "audit-7"]);
    assert_eq!(one.len(), 1, "{one:#?}");
    assert_eq!(one[0]["attributes"]["skybridge.route"], "demo");
    assert_eq!(one[0]["resource"]["service.name"], "skybridge-cluster-test");
}

#[test]
fn a_rolling_restart_under_steady_load_loses_no_request() {
    let _serial = serial();
    let mut cluster = Cluster::start(false, "");
    let out = cluster.dir.path().join("load");
    let load = SteadyLoad::start(cluster.nginx.url(""), "/demo/roll", 50, 8, out);
    std::thread::sleep(Duration::from_secs(1));
    for index in 0..3 {
        cluster.stop_instance(index);
        let since = cluster.nginx.log_lines();
        cluster.start_instance(index);
        // nginx only finds out by trying: wait until it uses the new process, as an operator
        // rolling instances behind open-source nginx must, before stopping the next one.
        let waited = cluster.wait_until_balanced_to(index, since, Duration::from_secs(20));
        eprintln!("Instance {index} took traffic again {waited:?} after its restart.");
    }
    std::thread::sleep(Duration::from_secs(1));
    let totals = load.finish();
    assert_lossless(&totals, 200);
    let served = cluster.nginx.served(0);
    assert!(served.iter().all(|s| s.status == 200), "nginx answered something else");
    let retried = served.iter().filter(|s| s.upstreams.len() > 1).count();
    eprintln!("{} requests, {retried} of them retried on another instance.", served.len());
}

/// Routes for the reload test: `/gone` only before, `/extra` only after.
const BEFORE: &str = "[[routes]]\nname = \"gone\"\npath_prefix = \"/gone\"\nupstream = \"demo\"\n\
                      auth = \"anonymous\"\n";
const AFTER: &str = "[[routes]]\nname = \"extra\"\npath_prefix = \"/extra\"\nupstream = \"demo\"\n\
                     auth = \"anonymous\"\n";
const BROKEN: &str = "[[routes]]\nname = \"broken\"\npath_prefix = \"/broken\"\n\
                      upstream = \"nowhere\"\nauth = \"anonymous\"\n";

/// The status of `path` on every instance directly, then through nginx.
fn everywhere(cluster: &Cluster, path: &str) -> Vec<u16> {
    let mut statuses: Vec<u16> = cluster.instances.iter().map(|i| status(i.public, path)).collect();
    statuses.push(status(cluster.nginx.port, path));
    statuses
}

#[test]
fn sighup_changes_routes_under_load_and_a_broken_file_changes_nothing() {
    let _serial = serial();
    let mut cluster = Cluster::start(false, BEFORE);
    assert_eq!(everywhere(&cluster, "/gone/1"), [200; 4]);
    assert_eq!(everywhere(&cluster, "/extra/1"), [404; 4]);
    let out = cluster.dir.path().join("load");
    let load = SteadyLoad::start(cluster.nginx.url(""), "/demo/reload", 50, 8, out);
    std::thread::sleep(Duration::from_secs(1));

    std::fs::write(&cluster.config, cluster.config_text(AFTER)).expect("rewrite");
    cluster.signal_all(libc::SIGHUP);
    cluster.wait_all_logged("Configuration reloaded.");
    assert_eq!(everywhere(&cluster, "/extra/1"), [200; 4]);
    assert_eq!(everywhere(&cluster, "/gone/1"), [404; 4]);
    std::thread::sleep(Duration::from_secs(1));

    std::fs::write(&cluster.config, cluster.config_text(&format!("{AFTER}{BROKEN}")))
        .expect("break the file");
    cluster.signal_all(libc::SIGHUP);
    cluster.wait_all_logged("Reload rejected");
    cluster.wait_all_logged("nowhere");
    assert_eq!(everywhere(&cluster, "/extra/1"), [200; 4]);
    assert_eq!(everywhere(&cluster, "/broken/1"), [404; 4]);
    let (code, body) = get(cluster.nginx.port, "/demo/after");
    assert_eq!(code, 200, "{body}");
    std::thread::sleep(Duration::from_secs(1));

    let totals = load.finish();
    assert_lossless(&totals, 150);
}

#[test]
fn make_cluster_starts_everything_and_cluster_down_stops_it() {
    let _serial = serial();
    let cluster = ScriptCluster { dir: tempfile::tempdir().expect("tempdir") };
    let up = cluster.run("up");
    let stdout = String::from_utf8_lossy(&up.stdout).into_owned();
    assert!(up.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&up.stderr));
    let balancer: u16 = cluster.endpoint("BALANCER").parse().expect("port");
    assert!(stdout.contains(&format!("http://127.0.0.1:{balancer}")), "{stdout}");
    assert!(stdout.contains("audit query --file"), "{stdout}");
    let pids = cluster.pids();
    assert_eq!(pids.len(), 8, "{pids:?}");

    let statuses: Vec<u16> = (0..12).map(|_| status(balancer, "/limited/x")).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
    let token = std::fs::read_to_string(cluster.dir.path().join("token")).expect("token");
    assert!(stdout.contains(token.trim()), "the ready-made token is printed");
    let request = format!(
        "GET /orders/1 HTTP/1.1\r\nHost: cluster\r\nConnection: close\r\n\
         authorization: Bearer {}\r\n\r\n",
        token.trim()
    );
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], balancer));
    let response = common::raw_request(address, request.as_bytes());
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(status(balancer, "/orders/1"), 401);

    let down = cluster.run("down");
    assert!(down.status.success(), "{}", String::from_utf8_lossy(&down.stderr));
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(stat.is_empty() || stat.contains(") Z "), "process {pid} still runs: {stat}");
    }
    assert_eq!(status(balancer, "/demo/x"), 0, "nothing listens any more");
    // Every record reached the trail before the collector stopped, each with its instance.
    let records = audit_query(&cluster.dir.path().join("audit.jsonl"), &["--route", "limited"]);
    assert_eq!(records.len(), 12, "{records:#?}");
}
