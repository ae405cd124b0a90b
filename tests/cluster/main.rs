//! Cluster tests: kubevault's output against a real Kubernetes API server (1.20, built by
//! `tests/cluster/build.sh`, started by `tests/cluster/start.sh`), driven through the real binary,
//! `kubectl` and plain HTTPS.
//!
//! One control plane serves the whole binary (start-up costs seconds, not milliseconds), so this
//! target has its own small runner (`harness = false`): `main` owns the [`harness::Cluster`] guard,
//! runs every test on worker threads (each in its own namespace), reports like libtest and stops
//! the cluster before it exits — also when tests fail. Arguments that do not start with `-` filter
//! tests by substring; `--list` lists them.
//!
//! Without the binaries the run is a loud skip; under `CI=true` it fails instead.

mod access;
mod consumer;
mod examples;
mod harness;
mod lifecycle;
mod shape;

use std::sync::{Arc, Mutex};

use harness::Cluster;

/// A test: a name and a function that panics on failure.
type Test = (&'static str, fn(&Cluster));

const TESTS: &[Test] = &[
    (
        "examples::every_route_applies_server_side_twice_without_change",
        examples::every_route_applies_server_side_twice_without_change,
    ),
    (
        "access::every_user_reads_exactly_what_can_read_lists",
        access::every_user_reads_exactly_what_can_read_lists,
    ),
    (
        "access::a_user_who_can_read_nothing_has_no_role_and_reads_nothing",
        access::a_user_who_can_read_nothing_has_no_role_and_reads_nothing,
    ),
    (
        "lifecycle::a_removed_rule_is_revoked_by_a_pruning_apply",
        lifecycle::a_removed_rule_is_revoked_by_a_pruning_apply,
    ),
    (
        "lifecycle::a_deleted_user_loses_its_token",
        lifecycle::a_deleted_user_loses_its_token,
    ),
    (
        "lifecycle::a_split_role_grants_exactly_the_same_set",
        lifecycle::a_split_role_grants_exactly_the_same_set,
    ),
    (
        "consumer::eso_kubernetes_provider_requests_with_the_printed_credentials",
        consumer::eso_kubernetes_provider_requests_with_the_printed_credentials,
    ),
    (
        "shape::shaped_secrets_meet_the_api_servers_validation",
        shape::shaped_secrets_meet_the_api_servers_validation,
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let selected: Vec<&Test> = TESTS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &selected {
            println!("{name}: test");
        }
        return;
    }
    if selected.is_empty() {
        println!("\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed\n");
        return;
    }
    let missing = harness::missing();
    if !missing.is_empty() {
        let why = format!("missing: {}", missing.join(", "));
        if harness::in_ci() {
            eprintln!("cluster tests: {why}, and CI=true: refusing to skip");
            std::process::exit(1);
        }
        eprintln!(
            "\n!!!!!!!! SKIPPED {} cluster tests: {why} (this would fail under CI=true) !!!!!!!!\n",
            selected.len()
        );
        return;
    }

    let started = std::time::Instant::now();
    let cluster = Cluster::start();
    eprintln!(
        "cluster tests: API server {} ready in {:.1?}",
        cluster.server,
        started.elapsed()
    );
    println!("\nrunning {} tests", selected.len());
    let failed = run_all(&cluster, &selected);
    if !failed.is_empty() {
        let dir = cluster.dir().display().to_string();
        eprintln!("cluster logs (removed on exit) were in {dir}");
        for log in ["kube-apiserver.log", "kube-controller-manager.log"] {
            let text = std::fs::read_to_string(cluster.dir().join(log)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            eprintln!(
                "--- last lines of {log}:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
    // The guard's promise, checked on every run: every process start.sh started is gone.
    let pids = cluster.pids();
    assert_eq!(
        pids.len(),
        3,
        "start.sh records etcd, kube-apiserver, kube-controller-manager"
    );
    drop(cluster);
    let left: Vec<u32> = pids
        .into_iter()
        .filter(|&pid| harness::alive(pid))
        .collect();
    if !left.is_empty() {
        eprintln!("cluster tests: processes {left:?} still run after the cluster was stopped");
        std::process::exit(101);
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; finished in {:.1?}\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        selected.len() - failed.len(),
        failed.len(),
        started.elapsed()
    );
    if !failed.is_empty() {
        println!("failures:");
        for name in &failed {
            println!("    {name}");
        }
        std::process::exit(101);
    }
}

/// Runs the tests on a few worker threads; returns the names of those that panicked.
fn run_all(cluster: &Cluster, tests: &[&Test]) -> Vec<&'static str> {
    let threads: usize = std::env::var("KUBEVAULT_CLUSTER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    // Popped from the end: the first listed (the slowest) start first.
    let queue = Arc::new(Mutex::new(tests.iter().rev().copied().collect::<Vec<_>>()));
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let failed = &failed;
            scope.spawn(move || {
                loop {
                    let Some(&(name, test)) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let start = std::time::Instant::now();
                    let result =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(cluster)));
                    let verdict = if result.is_ok() { "ok" } else { "FAILED" };
                    println!("test {name} ... {verdict} ({:.1?})", start.elapsed());
                    if result.is_err() {
                        failed.lock().unwrap().push(name);
                    }
                }
            });
        }
    });
    let mut failed = failed.into_inner().unwrap();
    failed.sort();
    failed
}
