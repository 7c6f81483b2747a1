"""Shared pieces of the AWS suite.

Everything runs inside a private network namespace that holds only loopback (the script
re-executes itself under `unshare --net`), so nothing here can reach an address outside this
machine -- not AWS, not the public addresses moto hands to its instances, not checkip. moto_server
listens on loopback in that namespace with INITIAL_NO_AUTH_ACTION_COUNT=3: the three free calls
create an IAM user with an allow-all policy and an access key, and from then on moto checks every
signature and answers a wrong one with AuthFailure.
"""
import atexit
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

NETNS_MARK = "MACHINE_AWS_TEST_NETNS"
MOTO_ACCOUNT = "123456789012"
DEBIAN_OWNER = "136693071363"
TAGS = ("Name", "machine-name", "machine-id", "managed-by")


class Tap:
    """TAP output: ok(), is_(), diag(), done()."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc), flush=True)
        if not cond:
            self.failed += 1
            if diag:
                for line in str(diag).splitlines():
                    print("#   " + line, flush=True)
        return cond

    def is_(self, got, want, desc):
        return self.ok(got == want, desc, "got:  %r\nwant: %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        if self.failed:
            print("# %d of %d failed" % (self.failed, self.n), flush=True)
        return 1 if self.failed else 0


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(77)


def bail(reason):
    print("Bail out! " + reason, flush=True)
    sys.exit(1)


def interfaces():
    """Network interfaces of this process's namespace (from /proc, which follows the netns)."""
    with open("/proc/self/net/dev") as f:
        return sorted(line.split(":")[0].strip() for line in f.readlines()[2:])


def enter_private_netns():
    """Re-runs this script inside a new network namespace, unless it already runs in one.

    In the namespace, brings loopback up and refuses to go on if any other interface exists."""
    if os.environ.get(NETNS_MARK) == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        if interfaces() != ["lo"]:
            bail("the test namespace has interfaces besides lo: %s" % interfaces())
        return
    if os.geteuid() != 0:
        skip_all("needs root to make a network namespace with only loopback (unshare --net)")
    for tool in ("unshare", "ip", "moto_server"):
        if not shutil.which(tool):
            skip_all("%s is not installed" % tool)
    try:
        import boto3  # noqa: F401
    except ImportError:
        skip_all("boto3 is not importable by %s" % sys.executable)
    env = dict(os.environ)
    env[NETNS_MARK] = "1"
    os.execvpe("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv, env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """moto_server on loopback with signature checking, and boto3 clients for the checks."""

    def __init__(self, workdir, amis=None):
        import boto3

        self.boto3 = boto3
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        if amis is not None:
            path = os.path.join(workdir, "amis.json")
            with open(path, "w") as f:
                json.dump(amis, f)
            env["MOTO_AMIS_PATH"] = path
        self.log = open(os.path.join(workdir, "moto.log"), "w")
        self.proc = subprocess.Popen(
            ["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        # However the test ends (an exception, SIGTERM from meson's timeout), moto goes too.
        atexit.register(self.stop)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self._wait_listening()
        self._bootstrap_key()

    def _wait_listening(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                bail("moto_server exited with %s" % self.proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        bail("moto_server did not listen within 60 s")

    def _bootstrap_key(self):
        iam = self.client("iam", "anything", "anything")
        iam.create_user(UserName="machine-test")
        iam.put_user_policy(UserName="machine-test", PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="machine-test")["AccessKey"]
        self.key_id = key["AccessKeyId"]
        self.secret = key["SecretAccessKey"]

    def client(self, service, key_id=None, secret=None, region="us-east-1"):
        return self.boto3.client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=key_id or self.key_id,
            aws_secret_access_key=secret or self.secret)

    def stop(self):
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self.log.close()


THROTTLED = (503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request "
                  "limit exceeded.</Message></Error></Errors><RequestID>proxy-1</RequestID>"
                  "</Response>")
UNAVAILABLE = (503, "<Response><Errors><Error><Code>Unavailable</Code><Message>The server is "
                    "overloaded.</Message></Error></Errors><RequestID>proxy-2</RequestID>"
                    "</Response>")


class Proxy:
    """A relay on loopback between the program under test and moto, as a real network and a
    busy EC2 would behave: it records every call (action and parameters), and follows a plan
    per action, one step per call, then relays normally:
      "drop"        relays the call to moto, then closes the connection without answering
                    (the answer is lost; the call took effect);
      "throttle"    answers 503 RequestLimitExceeded without relaying;
      "unavailable" answers 503 Unavailable without relaying.
    moto 5.2 ignores RunInstances' ClientToken; EC2 answers a repeated token with the first
    call's instance. The proxy plays that part: a RunInstances whose token it has seen answered
    gets that answer again instead of a second instance. Requests reach moto byte for byte
    (Host included), so moto still checks every signature."""

    def __init__(self, moto):
        self.moto = moto
        self.calls = []
        self.plan = {}
        self.tokens = {}
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                status, answer = proxy._handle(self.headers, body, params)
                if status is None:
                    self.close_connection = True
                    return
                data = answer if isinstance(answer, bytes) else answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        atexit.register(self.stop)

    def _relay(self, headers, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.moto.port, timeout=60)
        try:
            conn.request("POST", "/", body, {k: v for k, v in headers.items()
                                             if k.lower() not in ("connection", "expect")})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def _handle(self, headers, body, params):
        action = params.get("Action", "")
        token = params.get("ClientToken") if action == "RunInstances" else None
        with self.lock:
            self.calls.append((action, params))
            steps = self.plan.get(action) or []
            step = steps.pop(0) if steps else None
            cached = self.tokens.get(token) if token else None
        if step == "throttle":
            return THROTTLED
        if step == "unavailable":
            return UNAVAILABLE
        if cached:
            return cached
        status, answer = self._relay(headers, body)
        if token and status == 200:
            with self.lock:
                self.tokens[token] = (status, answer)
        return (None, None) if step == "drop" else (status, answer)

    def set_plan(self, plan):
        with self.lock:
            self.plan = {k: list(v) for k, v in plan.items()}

    def left(self):
        """The plan steps not used yet."""
        with self.lock:
            return {k: v for k, v in self.plan.items() if v}

    def called(self, action):
        """The parameters of every call of action so far, in order."""
        with self.lock:
            return [p for a, p in self.calls if a == action]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def machine_env(moto, home, region, extra=None, keys=True):
    """An environment for the program under test: no inherited AWS_* variable, HOME in the test
    folder (so no real ~/.aws is read), and moto's endpoint."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and not k.startswith("MACHINE_")}
    env["HOME"] = home
    env["AWS_ENDPOINT_URL_EC2"] = moto.endpoint
    if region:
        env["AWS_REGION"] = region
    if keys:
        env["AWS_ACCESS_KEY_ID"] = moto.key_id
        env["AWS_SECRET_ACCESS_KEY"] = moto.secret
    env.update(extra or {})
    return env


def tags_of(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def live_instances(ec2, machine_id=None):
    """Every instance that is not terminated (and carries machine_id, when given)."""
    out = []
    for r in ec2.describe_instances()["Reservations"]:
        for i in r["Instances"]:
            if i["State"]["Name"] in ("terminated", "shutting-down"):
                continue
            if machine_id and tags_of(i).get("machine-id") != machine_id:
                continue
            out.append(i)
    return out


def ours(ec2):
    """Everything in the region that this tool made or that is named like it: live instances
    with our tags, key pairs and security groups with our tags or our name prefix."""
    inst = [i for i in live_instances(ec2) if "machine-id" in tags_of(i)]
    keys = [k for k in ec2.describe_key_pairs()["KeyPairs"]
            if "machine-id" in tags_of(k) or k["KeyName"].startswith("machine-")]
    groups = [g for g in ec2.describe_security_groups()["SecurityGroups"]
              if "machine-id" in tags_of(g) or g["GroupName"].startswith("machine-")]
    return {"instances": [i["InstanceId"] for i in inst],
            "key_pairs": [k["KeyName"] for k in keys],
            "groups": [g["GroupId"] for g in groups]}


def nothing(inventory):
    return not any(inventory.values())


def ssh_keypair(workdir, name):
    path = os.path.join(workdir, name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path],
                   check=True)
    with open(path + ".pub") as f:
        return path + ".pub", f.read().strip()


def tree_text(path):
    """Every file under path, read as text, joined: for 'no secret anywhere' checks."""
    out = []
    for root, _, files in os.walk(path):
        for f in files:
            with open(os.path.join(root, f), errors="replace") as fh:
                out.append(fh.read())
    return "\n".join(out)


def run_suite(suite, sections):
    """Runs the suite's sections in order, stops moto however they end, prints the plan and
    returns the exit status (the test folder is kept after a failure)."""
    try:
        for section in sections:
            section()
    finally:
        suite.moto.stop()
    code = suite.t.done()
    cleanup(suite.dir, code == 0)
    return code


def main(suite_class, usage):
    """The entry point of a suite script: checks its one argument, enters the namespace."""
    if len(sys.argv) != 2:
        bail("usage: " + usage)
    enter_private_netns()
    sys.exit(suite_class(sys.argv[1]).main())


def tmpdir():
    return tempfile.mkdtemp(prefix="aws-test-")


def cleanup(path, passed):
    """Removes a test folder after a pass (kept on failure, or with MACHINE_TEST_KEEP=1)."""
    if passed and os.environ.get("MACHINE_TEST_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)
    else:
        print("# kept %s (moto.log, the store)" % path, flush=True)
