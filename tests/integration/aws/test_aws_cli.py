#!/usr/bin/env python3
"""`machine` with --driver aws against moto_server with signature checking, inside a network
namespace that has only loopback: create --no-provision, ls, status, ip, url, inspect, stop,
start, restart, kill, rm -y, checking EC2 itself (boto3) after every verb; flag over
MACHINE_AWS_* over AWS_* precedence; a wrong secret; crashes during create cleaned by rm or
resumed by create.

usage: test_aws_cli.py PATH/TO/machine
"""
import json
import os
import subprocess

import awstest
from awstest import TAGS, Tap, tags_of

REGION = "eu-west-1"
CIDR = "198.51.100.9/32"
WRONG_SECRET = "cliWRONGcliWRONGcliWRONGcliWRONG00000000"
IMAGE_NAME = "machine-test-debian-12-amd64-cli"


class Suite:
    def __init__(self, machine):
        self.machine = machine
        self.t = Tap()
        self.dir = awstest.tmpdir()
        self.store = os.path.join(self.dir, "store")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        self.moto = awstest.Moto(self.dir)
        # Every call goes through a recording relay (a transparent one, until a test gives it
        # a plan of lost answers and throttling).
        self.proxy = awstest.Proxy(self.moto)
        self.ec2 = self.moto.client("ec2", region=REGION)
        for region in (REGION, "eu-central-1", "us-west-2"):
            self.moto.client("ec2", region=region).register_image(Name=IMAGE_NAME)
        self.flags = ["--driver", "aws", "--no-provision", "--aws-open-cidr", CIDR,
                      "--aws-ami-owner", awstest.MOTO_ACCOUNT, "--aws-ami-name",
                      "machine-test-debian-12-*"]

    def env(self, extra=None, keys=True, region=REGION):
        e = awstest.machine_env(self.moto, self.home, region, None, keys)
        e["AWS_ENDPOINT_URL_EC2"] = self.proxy.endpoint
        e["MACHINE_STORAGE_PATH"] = self.store
        e.update(extra or {})
        return e

    def run(self, args, env=None, expect=0, desc=None, stdin=None):
        p = subprocess.run([self.machine] + args, env=env or self.env(), input=stdin,
                           capture_output=True, text=True, timeout=300)
        if expect is not None:
            self.t.ok(p.returncode == expect, desc or "machine %s exits %s" % (" ".join(args),
                                                                              expect),
                      "exit %s\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr))
        return p

    def record(self, name):
        with open(os.path.join(self.store, "machines", name, "config.json")) as f:
            return json.load(f)

    def driver_state(self, name):
        rec = self.record(name)
        for key in ("driver_state", "DriverState", "state"):
            if isinstance(rec.get(key), dict) and "id" in rec[key]:
                return rec[key]
        drv = rec.get("driver")
        if isinstance(drv, dict):
            for key in ("state", "data"):
                if isinstance(drv.get(key), dict):
                    return drv[key]
        self.t.diag("config.json layout: %s" % json.dumps(rec)[:2000])
        return {}

    def describe(self, iid, ec2=None):
        return (ec2 or self.ec2).describe_instances(InstanceIds=[iid])["Reservations"][0][
            "Instances"][0]

    def journey(self):
        t = self.t
        p = self.run(["create"] + self.flags + ["web1"], desc="machine create --driver aws "
                     "--no-provision web1")
        t.ok(p.stderr.count("machine provision web1") == 1 and
             "created without its engine (--no-provision)" in p.stderr,
             "create --no-provision says once what is left to do", p.stderr)
        st = self.driver_state("web1")
        iid = st.get("instance_id")
        t.ok(iid, "the record holds the driver's state with the instance", st)
        inst = self.describe(iid)
        t.is_(inst["State"]["Name"], "running", "EC2: running")
        t.is_({k: tags_of(inst).get(k) for k in TAGS},
              {"Name": "web1", "machine-name": "web1", "machine-id": st.get("id"),
               "managed-by": "machine"}, "EC2: tagged")
        kp = self.ec2.describe_key_pairs(KeyNames=[st["key_name"]])["KeyPairs"]
        with open(os.path.join(self.store, "machines", "web1", "id_ed25519.pub")) as f:
            pub = f.read().split()
        t.ok(len(kp) == 1 and kp[0].get("KeyType") == "ed25519",
             "EC2: the machine's own ed25519 key is imported")
        ud = self.ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
        import base64
        t.ok(pub[1] in base64.b64decode(ud["UserData"]["Value"]).decode(),
             "EC2: cloud-init gets the machine's public key")
        sg = self.ec2.describe_security_groups(GroupIds=[st["security_group_id"]])[
            "SecurityGroups"][0]
        rules = sorted((p["IpProtocol"], p["FromPort"], p["ToPort"],
                        tuple(r["CidrIp"] for r in p["IpRanges"])) for p in sg["IpPermissions"])
        t.is_(rules, [("tcp", 22, 22, (CIDR,)), ("tcp", 2376, 2376, (CIDR,))],
              "EC2: exactly two ingress rules from the given address")
        t.ok(self.moto.secret not in awstest.tree_text(self.store), "no secret in the store")

        # ls shows the create state of a machine that is not provisioned yet, and must not dial
        # its engine (moto's public addresses belong to strangers; this namespace has no route).
        p = self.run(["ls", "--format", "{{.Name}} {{.DriverName}} {{.State}} {{.CreateState}}"])
        t.ok("web1 aws provisioning provisioning" in p.stdout,
             "ls shows web1 with the aws driver, waiting for provisioning", p.stdout)
        p = self.run(["status", "web1"])
        t.is_(p.stdout.strip(), "Running", "status: Running")
        p = self.run(["ip", "web1"])
        t.is_(p.stdout.strip(), self.describe(iid)["PublicIpAddress"], "ip: EC2's public address")
        p = self.run(["url", "web1"])
        t.is_(p.stdout.strip(), "tcp://%s:2376" % self.describe(iid)["PublicIpAddress"], "url")
        p = self.run(["inspect", "web1"])
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            doc = {}
        t.ok(doc and "aws" in json.dumps(doc) and iid in json.dumps(doc)
             and self.moto.secret not in p.stdout, "inspect: JSON with the driver and instance, "
             "no secret", p.stdout[:1500])

        sent = {"stop": ("StopInstances", None), "start": ("StartInstances", None),
                "restart": ("RebootInstances", None), "kill": ("StopInstances", "true")}
        for verb, ec2_state, status in (("stop", "stopped", "Stopped"),
                                        ("start", "running", "Running"),
                                        ("restart", "running", "Running"),
                                        ("kill", "stopped", "Stopped"),
                                        ("start", "running", "Running")):
            action, force = sent[verb]
            before = len(self.proxy.called(action))
            self.run([verb, "web1"])
            calls = self.proxy.called(action)[before:]
            t.ok(len(calls) == 1 and calls[0].get("InstanceId.1") == iid
                 and calls[0].get("Force") == force,
                 "%s sends one %s for the instance%s" % (verb, action,
                                                         " with Force=true" if force else ""),
                 calls)
            t.is_(self.describe(iid)["State"]["Name"], ec2_state,
                  "after %s EC2 says %s" % (verb, ec2_state))
            p = self.run(["status", "web1"])
            t.is_(p.stdout.strip(), status, "after %s status says %s" % (verb, status))
            if ec2_state == "running":
                p = self.run(["ip", "web1"])
                t.is_(p.stdout.strip(), self.describe(iid)["PublicIpAddress"],
                      "after %s ip gives EC2's current public address" % verb)

        self.run(["rm", "-y", "web1"])
        t.is_(self.describe(iid)["State"]["Name"], "terminated", "rm -y: terminated")
        t.is_(awstest.ours(self.ec2), {"instances": [], "key_pairs": [], "groups": []},
              "rm -y: no instance, key pair or group of ours is left")
        t.ok(not os.path.exists(os.path.join(self.store, "machines", "web1")),
             "rm -y: the record is gone")

    def precedence(self):
        t = self.t
        env = self.env({"MACHINE_AWS_REGION": "eu-central-1"}, region="us-east-1")
        self.run(["create"] + self.flags + ["reg1"], env=env,
                 desc="create with MACHINE_AWS_REGION=eu-central-1 and AWS_REGION=us-east-1")
        t.is_(self.driver_state("reg1").get("region"), "eu-central-1",
              "MACHINE_AWS_REGION beats AWS_REGION")
        self.run(["create"] + self.flags + ["--aws-region", "us-west-2", "reg2"], env=env,
                 desc="create with --aws-region us-west-2 as well")
        t.is_(self.driver_state("reg2").get("region"), "us-west-2", "the flag beats both")
        us = self.moto.client("ec2", region="us-west-2")
        t.is_(len(awstest.live_instances(us, self.driver_state("reg2").get("id"))), 1,
              "EC2: the instance is in us-west-2")
        p = self.run(["status", "reg1"], env=self.env(region="us-east-1"))
        t.is_(p.stdout.strip(), "Running", "later verbs use the machine's region, not AWS_REGION")
        self.run(["rm", "-y", "reg1", "reg2"], env=env)
        for region in ("eu-central-1", "us-west-2"):
            t.ok(awstest.nothing(awstest.ours(self.moto.client("ec2", region=region))),
                 "nothing left in %s" % region)

    def wrong_secret(self):
        t = self.t
        env = self.env({"AWS_SECRET_ACCESS_KEY": WRONG_SECRET})
        p = self.run(["create"] + self.flags + ["bad1"], env=env, expect=3,
                     desc="a wrong secret: the pre-create check fails (exit 3)")
        t.diag("the error: " + p.stderr.strip())
        t.ok("create 'bad1'" in p.stderr and "AuthFailure" in p.stderr
             and "the credentials came from the environment" in p.stderr,
             "the error names the machine, the failure and the credential source", p.stderr)
        t.ok(WRONG_SECRET not in p.stderr + p.stdout, "no secret in the error", p.stderr)
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "nothing was made")

    def stdin_credentials(self):
        t = self.t
        env = self.env(keys=False)
        bad = "%s\n%s\n" % (self.moto.key_id, WRONG_SECRET)
        p = self.run(["create"] + self.flags + ["--aws-credentials-stdin", "in1"], env=env,
                     stdin=bad, expect=3, desc="a wrong pair on stdin fails the pre-create check")
        t.ok("the key pair this machine keeps" in p.stderr and WRONG_SECRET not in p.stderr,
             "... naming the stdin pair as the source, without showing it", p.stderr)
        pair = "%s\n%s\n" % (self.moto.key_id, self.moto.secret)
        self.run(["create"] + self.flags + ["--aws-credentials-stdin", "in1"], env=env,
                 stdin=pair, desc="create with --aws-credentials-stdin")
        path = os.path.join(self.store, "machines", "in1", "driver", "credentials")
        found = [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(self.store, "machines",
                                                                         "in1"))
                 for f in fs if f == "credentials"]
        t.ok(found and all((os.stat(f).st_mode & 0o777) == 0o600 for f in found),
             "the pair is kept 0600 in the machine's folder", found or path)
        rec = json.dumps(self.record("in1"))
        t.ok(self.moto.secret not in rec, "the secret is not in config.json")
        p = self.run(["status", "in1"], env=env)
        t.is_(p.stdout.strip(), "Running", "status works from the kept pair")
        self.run(["rm", "-y", "in1"], env=env)
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "rm with the kept pair cleans everything")

    def session_token_and_logs(self):
        """Temporary credentials (with a session token) from an assumed role, which moto checks
        token and all, and debug logs that show neither the secret nor the token."""
        t = self.t
        iam = self.moto.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
        allow = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        arn = iam.create_role(RoleName="machine-test-role",
                              AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName="machine-test-role", PolicyName="all",
                            PolicyDocument=json.dumps(allow))
        creds = self.moto.client("sts").assume_role(
            RoleArn=arn, RoleSessionName="machine-test")["Credentials"]
        env = self.env({"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                        "AWS_SESSION_TOKEN": creds["SessionToken"], "MACHINE_LOG": "debug"})
        p = self.run(["--debug", "create"] + self.flags + ["tok1"], env=env,
                     desc="create with a session token, logging at debug level")
        p2 = self.run(["--debug", "status", "tok1"], env=env)
        t.is_(p2.stdout.strip(), "Running", "status with the session token")
        out = p.stdout + p.stderr + p2.stdout + p2.stderr
        t.ok("EC2 RunInstances" in out, "the debug log shows the calls", out[-2000:])
        t.ok(creds["SecretAccessKey"] not in out and creds["SessionToken"] not in out
             and creds["SecretAccessKey"] not in awstest.tree_text(self.store)
             and creds["SessionToken"] not in awstest.tree_text(self.store),
             "neither the secret nor the session token is logged or stored")
        p = self.run(["status", "tok1"], env=self.env({
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": "not-the-token"}), expect=None)
        t.ok(p.returncode != 0 and creds["SecretAccessKey"] not in p.stderr,
             "a wrong session token is refused", p.stderr)
        self.run(["rm", "-y", "tok1"], env=env)
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "nothing left")

    def crashes(self):
        t = self.t
        for n, label in enumerate(("aws:run-instances-answered", "aws:instance-saved")):
            name = "cc%d" % n
            p = self.run(["create"] + self.flags + [name],
                         env=self.env({"MACHINE_TEST_CRASH_AT": label}), expect=None)
            t.is_(p.returncode, -9, "machine create killed at %s" % label)
            p = self.run(["ls", "--format", "{{.Name}} {{.CreateState}}"])
            t.ok("%s creating" % name in p.stdout, "ls shows it creating", p.stdout)
            self.run(["rm", "-y", name], desc="machine rm -y after the crash at %s" % label)
            t.ok(awstest.nothing(awstest.ours(self.ec2)),
                 "after the crash at %s rm leaves nothing" % label, awstest.ours(self.ec2))

            name = "cr%d" % n
            p = self.run(["create"] + self.flags + [name],
                         env=self.env({"MACHINE_TEST_CRASH_AT": label}), expect=None)
            t.is_(p.returncode, -9, "machine create killed at %s" % label)
            self.run(["create", name], desc="machine create resumes after %s" % label)
            st = self.driver_state(name)
            live = awstest.live_instances(self.ec2, st.get("id"))
            t.ok(len(live) == 1 and live[0]["InstanceId"] == st.get("instance_id"),
                 "exactly one instance after resuming at %s" % label,
                 [i["InstanceId"] for i in live])
            self.run(["rm", "-y", name])
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "nothing left at the end")

    def help_flags(self):
        """Every flag the issue names exists, and none takes a secret."""
        t = self.t
        p = self.run(["create", "--help"])
        flags = sorted(line.split()[0] for line in p.stdout.splitlines()
                       if line.strip().startswith("--aws-"))
        want = sorted("--aws-" + f for f in (
            "profile", "credentials-stdin", "region", "endpoint", "vpc-id", "subnet-id", "zone",
            "security-group", "open-cidr", "instance-type", "root-size", "volume-type", "ami",
            "ami-owner", "ami-name", "ssh-user", "request-spot-instance", "spot-price",
            "iam-instance-profile", "use-private-address"))
        t.is_(flags, want, "create --help lists every --aws-* flag")
        t.ok(not [f for f in flags if "secret" in f or "access-key" in f or "token" in f],
             "no flag takes a secret", flags)

    def all_flags(self):
        """One create with the other flags, by their names, each checked in EC2 or in what was
        sent: an explicit profile against wrong keys in the environment, an endpoint flag against
        a dead AWS_ENDPOINT_URL_EC2, a given image, a VPC of our own and its zone-b subnet, a
        named group, type, disk, user, spot, instance profile, private address."""
        t = self.t
        region = "us-west-2"
        ec2 = self.moto.client("ec2", region=region)
        image = ec2.register_image(Name="machine-cli-explicit-image")["ImageId"]
        vpc = ec2.create_vpc(CidrBlock="10.88.0.0/16")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.88.1.0/24", AvailabilityZone=region + "a")
        sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.88.2.0/24",
                                  AvailabilityZone=region + "b")["Subnet"]["SubnetId"]
        self.moto.client("iam").create_instance_profile(InstanceProfileName="machine-cli-prof")
        aws_dir = os.path.join(self.home, ".aws")
        os.makedirs(aws_dir, exist_ok=True)
        with open(os.path.join(aws_dir, "credentials"), "w") as f:
            f.write("[clip]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (self.moto.key_id, self.moto.secret))
        dead = "http://127.0.0.1:%d" % awstest.free_port()
        env = self.env({"AWS_ACCESS_KEY_ID": "AKIAWRONGWRONG", "AWS_SECRET_ACCESS_KEY": WRONG_SECRET,
                        "AWS_ENDPOINT_URL_EC2": dead}, region="eu-central-1")
        before = len(self.proxy.called("RunInstances"))
        self.run(["create", "--driver", "aws", "--no-provision", "--aws-open-cidr", CIDR,
                  "--aws-profile", "clip", "--aws-endpoint", self.proxy.endpoint,
                  "--aws-region", region, "--aws-ami", image, "--aws-vpc-id", vpc,
                  "--aws-zone", "b", "--aws-security-group", "machine-cli-sg",
                  "--aws-instance-type", "t3.micro", "--aws-root-size", "24",
                  "--aws-volume-type", "gp2", "--aws-ssh-user", "debian",
                  "--aws-request-spot-instance", "--aws-spot-price", "0.05",
                  "--aws-iam-instance-profile", "machine-cli-prof", "--aws-use-private-address",
                  "opt1"], env=env, desc="create with every other --aws-* flag")
        st = self.driver_state("opt1")
        t.ok(st.get("credentials", "").startswith("profile 'clip'")
             and st.get("endpoint") == self.proxy.endpoint and st.get("region") == region,
             "--aws-profile beats the environment's keys; --aws-endpoint and --aws-region beat "
             "the environment", st)
        inst = self.describe(st.get("instance_id", "i-none"), ec2)
        t.is_((inst["ImageId"], inst["VpcId"], inst["SubnetId"],
               inst["Placement"]["AvailabilityZone"], inst["InstanceType"]),
              (image, vpc, sub_b, region + "b", "t3.micro"),
              "EC2: --aws-ami, --aws-vpc-id with --aws-zone's subnet, --aws-instance-type")
        groups = [(g["GroupName"], ec2.describe_security_groups(GroupIds=[g["GroupId"]])[
            "SecurityGroups"][0]["VpcId"]) for n in inst["NetworkInterfaces"] for g in n["Groups"]]
        t.is_(groups, [("machine-cli-sg", vpc)], "EC2: --aws-security-group, made in that VPC")
        t.ok(inst.get("InstanceLifecycle") == "spot"
             and "machine-cli-prof" in inst.get("IamInstanceProfile", {}).get("Arn", ""),
             "EC2: --aws-request-spot-instance and --aws-iam-instance-profile", inst)
        vols = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id",
                                              "Values": [inst["InstanceId"]]}])["Volumes"]
        t.is_([(v["Size"], v["VolumeType"], tags_of(v).get("machine-id")) for v in vols],
              [(24, "gp2", st.get("id"))], "EC2: the root disk: --aws-root-size, "
              "--aws-volume-type, tagged")
        run = self.proxy.called("RunInstances")[before:]
        t.ok(len(run) == 1
             and run[0].get("InstanceMarketOptions.SpotOptions.MaxPrice") == "0.05"
             and "NetworkInterface.1.AssociatePublicIpAddress" not in run[0],
             "sent: --aws-spot-price as the spot MaxPrice; no public address asked for", run)
        import base64
        ud = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
        t.ok("name: debian" in base64.b64decode(ud["UserData"]["Value"]).decode()
             and st.get("ssh_user") == "debian",
             "EC2: --aws-ssh-user in the cloud-init user data, and the user SSH will log in as",
             st)
        p = self.run(["ip", "opt1"], env=env)
        t.is_(p.stdout.strip(), inst["PrivateIpAddress"], "ip: --aws-use-private-address")
        p = self.run(["status", "opt1"], env=env)
        t.is_(p.stdout.strip(), "Running", "status keeps the machine's endpoint, region and "
              "profile whatever the environment says")
        self.run(["rm", "-y", "opt1"], env=env)
        t.ok(awstest.nothing(awstest.ours(ec2)), "rm -y leaves nothing in %s" % region,
             awstest.ours(ec2))
        os.remove(os.path.join(aws_dir, "credentials"))

    def lossy(self):
        """Lost answers and throttling on the way to a real peer: create retries and ends with
        one of each resource; RunInstances is retried with the same client token; rm too."""
        t = self.t
        self.proxy.set_plan({"DescribeVpcs": ["throttle"], "ImportKeyPair": ["drop"],
                             "CreateSecurityGroup": ["drop"],
                             "AuthorizeSecurityGroupIngress": ["drop"], "RunInstances": ["drop"],
                             "DescribeInstances": ["unavailable", "throttle"]})
        counts = {a: len(self.proxy.called(a)) for a in (
            "ImportKeyPair", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress",
            "RunInstances")}
        self.run(["create"] + self.flags + ["lossy1"],
                 desc="create through lost answers and throttling")
        t.is_(self.proxy.left(), {}, "every lost answer and throttle was met")
        t.is_({a: len(self.proxy.called(a)) - n for a, n in counts.items()},
              {a: 2 for a in counts}, "each call whose answer was lost was sent again")
        tokens = [c.get("ClientToken")
                  for c in self.proxy.called("RunInstances")[counts["RunInstances"]:]]
        t.ok(len(tokens) == 2 and tokens[0] and tokens[0] == tokens[1],
             "RunInstances is retried with its client token", tokens)
        st = self.driver_state("lossy1")
        live = awstest.live_instances(self.ec2, st.get("id"))
        keys = [k for k in self.ec2.describe_key_pairs()["KeyPairs"]
                if tags_of(k).get("machine-id") == st.get("id")]
        groups = [g for g in self.ec2.describe_security_groups()["SecurityGroups"]
                  if tags_of(g).get("machine-id") == st.get("id")]
        t.ok(len(live) == 1 and live[0]["InstanceId"] == st.get("instance_id")
             and len(keys) == 1 and len(groups) == 1 and len(groups[0]["IpPermissions"]) == 2,
             "one instance, one key pair, one group with its two rules",
             (live, keys, groups))
        self.proxy.set_plan({"TerminateInstances": ["drop"], "DeleteKeyPair": ["drop"],
                             "DescribeSecurityGroups": ["throttle"],
                             "DeleteSecurityGroup": ["drop"]})
        self.run(["rm", "-y", "lossy1"], desc="rm through lost answers and throttling")
        t.is_(self.proxy.left(), {}, "... every one of them met")
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "rm leaves nothing",
             awstest.ours(self.ec2))

    def main(self):
        return awstest.run_suite(self, [
            self.journey,
            self.help_flags,
            self.all_flags,
            self.lossy,
            self.precedence,
            self.wrong_secret,
            self.stdin_credentials,
            self.session_token_and_logs,
            self.crashes,
        ])


if __name__ == "__main__":
    awstest.main(Suite, "test_aws_cli.py PATH/TO/machine")
