//! The cluster the tests share: [`Cluster::start`] runs `tests/cluster/start.sh` (etcd,
//! kube-apiserver, kube-controller-manager on free loopback ports) and the returned guard stops
//! every process it started on drop — after the last test, or when a test panics in `main`'s
//! thread; if this process dies without unwinding, the script sees its stdin close and stops them
//! itself. Also: `kubectl` as admin or as a user, raw HTTPS requests with `curl`, and waits.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// True under CI, where a missing binary is a failure rather than a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// This repository.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where `tests/cluster/build.sh` leaves kube-apiserver and kube-controller-manager.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUBEVAULT_CLUSTER_BIN") {
        return dir.into();
    }
    let cache = std::env::var_os("KUBEVAULT_CLUSTER_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/kubevault-cluster")
        });
    cache.join("bin")
}

/// What is missing to run the cluster tests, if anything.
pub fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    for b in ["kube-apiserver", "kube-controller-manager"] {
        if !bin_dir().join(b).is_file() {
            missing.push(format!(
                "{} (build it with tests/cluster/build.sh)",
                bin_dir().join(b).display()
            ));
        }
    }
    for tool in ["etcd", "kubectl", "curl", "openssl", "jq", "python3"] {
        if which(tool).is_none() {
            missing.push(format!("`{tool}` on PATH"));
        }
    }
    missing
}

/// Finds a program on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A running control plane. Dropping it stops every process `start.sh` started.
pub struct Cluster {
    script: Child,
    /// Held open: the script stops everything when it reaches end of input.
    stdin: Option<ChildStdin>,
    dir: tempfile::TempDir,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    /// The admin (system:masters) bearer token.
    pub admin_token: String,
    /// The CA that signed the API server's certificate.
    pub ca: PathBuf,
    /// A kubeconfig for the admin.
    pub kubeconfig: PathBuf,
}

impl Cluster {
    /// Starts the control plane and waits until it is ready (the script waits for `/readyz` and a
    /// filled token Secret). Panics with the script's log when it fails.
    pub fn start() -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("kubevault-cluster.")
            .tempdir()
            .expect("temp dir");
        let log = std::fs::File::create(dir.path().join("start.log")).unwrap();
        let mut script = Command::new("bash")
            .arg(repo().join("tests/cluster/start.sh"))
            .arg(dir.path())
            .env("KUBEVAULT_CLUSTER_BIN", bin_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start tests/cluster/start.sh");
        let stdin = script.stdin.take();
        let mut stdout = BufReader::new(script.stdout.take().unwrap());
        let mut line = String::new();
        let mut ready = false;
        while stdout.read_line(&mut line).unwrap_or(0) > 0 {
            if line.starts_with("READY ") {
                ready = true;
                break;
            }
            line.clear();
        }
        let read_log = || std::fs::read_to_string(dir.path().join("start.log")).unwrap_or_default();
        if !ready {
            let status = script.wait();
            panic!(
                "tests/cluster/start.sh did not get ready ({status:?}):\n{}",
                read_log()
            );
        }
        let env: BTreeMap<String, String> = std::fs::read_to_string(dir.path().join("env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Cluster {
            script,
            stdin,
            server: env["KUBEVAULT_CLUSTER_SERVER"].clone(),
            admin_token: env["KUBEVAULT_CLUSTER_TOKEN"].clone(),
            ca: env["KUBEVAULT_CLUSTER_CA"].clone().into(),
            kubeconfig: env["KUBECONFIG"].clone().into(),
            dir,
        }
    }

    /// The directory holding the certificates, the logs and etcd's data.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The PIDs start.sh recorded (etcd, kube-apiserver, kube-controller-manager).
    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.dir().join("pids"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
            .collect()
    }

    /// `kubectl` as admin.
    pub fn kubectl(&self) -> Kubectl {
        Kubectl {
            kubeconfig: self.kubeconfig.clone(),
        }
    }

    /// `kubectl` authenticated with `token` (and the cluster CA), via a kubeconfig in `dir`.
    pub fn kubectl_as(&self, token: &str, dir: &Path) -> Kubectl {
        let path = dir.join(format!("kubeconfig-{}", short_hash(token)));
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: user\n  user:\n    token: {token}\ncontexts:\n- name: test\n  context: {{cluster: test, user: user}}\ncurrent-context: test\n",
            self.server,
            self.ca.display()
        );
        std::fs::write(&path, text).unwrap();
        Kubectl { kubeconfig: path }
    }

    /// An HTTPS request to the API server with `token`, TLS verified with the cluster CA.
    pub fn http(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Response {
        http(&self.server, &self.ca, method, path, token, body)
    }

    /// Creates a namespace (as admin) and waits until it is usable.
    pub fn namespace(&self, name: &str) {
        self.kubectl().ok(&["create", "namespace", name]);
    }

    /// Waits until the token controller filled `<user>-token` in `ns`; returns the token.
    pub fn token(&self, ns: &str, user: &str) -> String {
        let name = format!("{user}-token");
        let secret = wait_for(&format!("a token in {ns}/{name}"), || {
            let s = self.kubectl().json(&["get", "secret", &name, "-n", ns]);
            s["data"]["token"].as_str().map(|_| s.clone())
        });
        assert_eq!(
            secret["type"], "kubernetes.io/service-account-token",
            "{secret}"
        );
        b64(secret["data"]["token"].as_str().unwrap())
    }

    /// The names of every Secret in `ns` (as admin).
    pub fn secret_names(&self, ns: &str) -> Vec<String> {
        let list = self.kubectl().json(&["get", "secrets", "-n", ns]);
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // End of input: the script stops its processes by PID and exits. TERM only if it hangs.
        drop(self.stdin.take());
        let exited = |script: &mut Child, secs: u64| {
            let deadline = Instant::now() + Duration::from_secs(secs);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = script.try_wait() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        };
        if !exited(&mut self.script, 30) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.script.id().to_string()])
                .status();
            if !exited(&mut self.script, 10) {
                let _ = self.script.kill();
            }
        }
        let _ = self.script.wait();
        // Belt and braces: anything the script recorded and left running (it was killed itself).
        let pids = self.pids();
        for &pid in &pids {
            if alive(pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// True while `pid` runs (a zombie has stopped running).
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid)
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

fn short_hash(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes base64 text into a UTF-8 string.
pub fn b64(text: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
    .unwrap()
}

/// A `kubectl` bound to one kubeconfig.
pub struct Kubectl {
    pub kubeconfig: PathBuf,
}

/// How a command ended.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    /// Runs kubectl with `args` and optional stdin.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Ran {
        self.run_env(args, stdin, &[])
    }

    /// Runs kubectl with `args`, optional stdin and extra environment.
    pub fn run_env(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Ran {
        run(
            Command::new("kubectl")
                .env("KUBECONFIG", &self.kubeconfig)
                .env_remove("KUBECTL_APPLYSET")
                .envs(env.iter().copied())
                .args(args),
            stdin,
        )
    }

    /// Runs kubectl, panics unless it succeeds; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_in(args, None)
    }

    /// Runs kubectl with stdin, panics unless it succeeds; returns stdout.
    pub fn ok_in(&self, args: &[&str], stdin: Option<&str>) -> String {
        let ran = self.run(args, stdin);
        assert_eq!(ran.code, 0, "kubectl {args:?} failed: {ran:?}");
        ran.stdout
    }

    /// Runs kubectl with `-o json` and parses the output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// The Secret names `kubectl auth can-i --list -n NS` shows `get` on, sorted (none: empty).
    pub fn can_i_list_secret_names(&self, ns: &str) -> Vec<String> {
        let out = self.ok(&["auth", "can-i", "--list", "-n", ns]);
        let mut names = Vec::new();
        for line in out.lines() {
            let mut words = line.split_whitespace();
            if words.next() != Some("secrets") {
                continue;
            }
            // `secrets  []  [name name ...]  [verb ...]`: bracketed groups after the resource.
            let rest = line["secrets".len()..].trim();
            let groups: Vec<&str> = rest
                .split(']')
                .map(|g| g.trim().trim_start_matches('['))
                .collect();
            assert!(groups.len() >= 3, "unexpected can-i --list line: {line}");
            let verbs: Vec<&str> = groups[2].split_whitespace().collect();
            if verbs.contains(&"get") || verbs.contains(&"*") {
                if groups[1].is_empty() {
                    // No resourceNames: every Secret of the namespace.
                    names.push("<every secret>".to_string());
                }
                names.extend(groups[1].split_whitespace().map(str::to_string));
            }
        }
        names.sort();
        names
    }

    /// `kubectl auth can-i VERB RESOURCE -n NS`: true for yes, false for no.
    pub fn can_i(&self, verb: &str, resource: &str, ns: &str) -> bool {
        let ran = self.run(&["auth", "can-i", verb, resource, "-n", ns], None);
        match (ran.code, ran.stdout.trim()) {
            (0, "yes") => true,
            (1, "no") => false,
            _ => panic!("kubectl auth can-i {verb} {resource}: {ran:?}"),
        }
    }
}

/// Runs a command with optional stdin and captures its output.
pub fn run(cmd: &mut Command, stdin: Option<&str>) -> Ran {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let input = input.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let out = child.wait_with_output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An HTTP status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// An HTTPS request with a bearer token, TLS verified against `ca` only (curl's `--cacert`
/// replaces the system trust store), as a Kubernetes client such as ESO's makes it. The token
/// goes through curl's config on stdin, never on a command line.
pub fn http(
    server: &str,
    ca: &Path,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Response {
    let mut config = format!(
        "header = \"Authorization: Bearer {token}\"\nheader = \"Accept: application/json\"\n"
    );
    if let Some(body) = body {
        config.push_str("header = \"Content-Type: application/json\"\n");
        config.push_str(&format!(
            "data = \"{}\"\n",
            body.to_string().replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    let ran = run(
        Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(ca)
            .args(["-X", method, "-K", "-", "-w", "\n%{http_code}"])
            .arg(format!("{server}{path}")),
        Some(&config),
    );
    assert_eq!(ran.code, 0, "curl {method} {path}: {ran:?}");
    let (body, status) = ran.stdout.rsplit_once('\n').unwrap();
    Response {
        status: status.trim().parse().unwrap(),
        body: body.to_string(),
    }
}

/// Polls `f` every 100 ms for up to 60 s until it returns `Some`; panics naming `what` on timeout.
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Parses a multi-document YAML stream into JSON values (skipping empty documents).
pub fn docs(text: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .map(|v| serde_json::to_value(v).unwrap())
        .collect()
}

/// Objects as a multi-document YAML stream (kubectl reads a JSON stream only without `---`).
pub fn yaml_stream(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| format!("---\n{}", serde_yaml::to_string(o).unwrap()))
        .collect()
}

/// `Kind/name` of an object.
pub fn id(v: &Value) -> String {
    format!(
        "{}/{}",
        v["kind"].as_str().unwrap_or("?"),
        v["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// The kubevault binary under test.
pub fn kubevault() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubevault"))
}

/// Runs kubevault in `cwd` (clean kubevault environment); panics unless it succeeds.
pub fn kubevault_ok(cwd: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let ran = run(
        Command::new(kubevault())
            .current_dir(cwd)
            .env_remove("KUBEVAULT_DIR")
            .env_remove("KUBEVAULT_NAMESPACE")
            .env("NO_COLOR", "1")
            .args(args),
        stdin,
    );
    assert_eq!(ran.code, 0, "kubevault {args:?} failed: {ran:?}");
    ran.stdout
}

/// The Secret names `kubevault can-read USER --show-only-allowed` lists (`● name ("identity")`).
pub fn can_read(cwd: &Path, vault: &str, user: &str) -> Vec<String> {
    let out = kubevault_ok(
        cwd,
        &[
            "can-read",
            user,
            "--vault-dir",
            vault,
            "--show-only-allowed",
        ],
        None,
    );
    out.lines()
        .filter_map(|l| l.strip_prefix("● "))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// The users of a vault: the file names under `access_control/` (any depth, no dot files).
pub fn users(vault: &Path) -> Vec<String> {
    let mut users = Vec::new();
    let mut stack = vec![vault.join("access_control")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                users.push(name);
            }
        }
    }
    users.sort();
    users
}
