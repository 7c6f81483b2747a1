#!/usr/bin/env python3
"""The aws driver against moto_server with signature checking, driven in-process through its
vtable by aws-drv (tests/integration/aws/aws-drv.c), inside a network namespace that has only
loopback. After every verb the test reads EC2 itself (boto3) and checks what the verb promised.

usage: test_aws_driver.py PATH/TO/aws-drv
"""
import base64
import os
import subprocess

import awstest
from awstest import TAGS, Tap, tags_of

REGION = "eu-west-1"
CIDR = "203.0.113.7/32"
WRONG_SECRET = "wrongSECRETwrongSECRETwrongSECRET0000000"
CRASH_POINTS = [
    "aws:key-pair-imported",
    "aws:key-pair-saved",
    "aws:security-group-created",
    "aws:security-group-saved",
    "aws:ingress-authorized",
    "aws:run-instances-answered",
    "aws:instance-saved",
    "aws:instance-running",
]
RM_CRASH_POINTS = [
    "aws:rm-instances-terminated",
    "aws:rm-key-pairs-deleted",
    "aws:rm-groups-deleted",
]
# Two Debian-like images and a decoy, so that the default owner and name pattern pick the newest.
# moto 5.2 cannot take creation_date from MOTO_AMIS_PATH in more than one region (it parses the
# shared list in place), so all three get the same creation time and the newest is the one whose
# name sorts last; ordering by creationDate itself is unit-tested (test-aws-ops).
AMIS = [
    {"ami_id": "ami-0deb12new00000002", "name": "debian-12-amd64-20240610-1200",
     "owner_id": awstest.DEBIAN_OWNER,
     "state": "available", "public": True, "root_device_name": "/dev/xvda",
     "root_device_type": "ebs", "architecture": "x86_64", "virtualization_type": "hvm",
     "hypervisor": "xen", "description": "Debian 12 (new)"},
    {"ami_id": "ami-0deb12old00000001", "name": "debian-12-amd64-20240101-1000",
     "owner_id": awstest.DEBIAN_OWNER,
     "state": "available", "public": True, "root_device_name": "/dev/xvda",
     "root_device_type": "ebs", "architecture": "x86_64", "virtualization_type": "hvm",
     "hypervisor": "xen", "description": "Debian 12 (old)"},
    {"ami_id": "ami-0ubuntu0000000003", "name": "debian-12-amd64-20250101-0000",
     "owner_id": "099720109477",
     "state": "available", "public": True, "root_device_name": "/dev/sda1",
     "root_device_type": "ebs", "architecture": "x86_64", "virtualization_type": "hvm",
     "hypervisor": "xen", "description": "same name, another owner"},
]


class Suite:
    def __init__(self, drv):
        self.drv = drv
        self.t = Tap()
        self.dir = awstest.tmpdir()
        self.store = os.path.join(self.dir, "store")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        self.moto = awstest.Moto(self.dir, AMIS)
        self.ec2 = self.moto.client("ec2", region=REGION)
        self.key_file, self.key = awstest.ssh_keypair(self.dir, "id_test")
        self.image = self.ec2.register_image(Name="machine-test-debian-12-amd64-1")["ImageId"]
        self.moto.client("ec2", region="ap-southeast-2").register_image(
            Name="machine-test-debian-12-amd64-1")
        self.image_opts = ["ami-owner=" + awstest.MOTO_ACCOUNT,
                           "ami-name=machine-test-debian-12-*", "open-cidr=" + CIDR]

    def run(self, verb, name, opts=(), env=None, stdin=None, expect=0, desc=None):
        cmd = [self.drv, "--store", self.store]
        if verb in ("create", "precreate"):
            cmd += ["--key", self.key_file]
        cmd += [verb, name] + list(opts)
        p = subprocess.run(cmd, env=env or awstest.machine_env(self.moto, self.home, REGION),
                           input=stdin, capture_output=True, text=True, timeout=300)
        if expect is not None:
            self.t.ok(p.returncode == expect, desc or "%s %s exits %s" % (verb, name, expect),
                      "exit %s\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr))
        return p

    def state(self, name):
        path = os.path.join(self.store, name, "state.json")
        import json
        with open(path) as f:
            return json.load(f)

    def describe(self, instance_id):
        return self.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0][
            "Instances"][0]

    # ---- the journey: create, every verb, rm ----

    def journey(self):
        t = self.t
        self.run("create", "web1", self.image_opts, desc="create web1 (no provisioning)")
        st = self.state("web1")
        iid = st.get("instance_id")
        t.ok(iid and st.get("region") == REGION and len(st.get("id", "")) == 16,
             "the state records the instance, the region and the create id", st)
        t.ok("environment" in st.get("credentials", ""), "the state says where credentials came "
             "from", st.get("credentials"))
        t.ok(self.moto.secret not in awstest.tree_text(self.store), "no secret anywhere in the machine's files")
        inst = self.describe(iid)
        tags = tags_of(inst)
        t.is_(inst["State"]["Name"], "running", "EC2: the instance runs")
        t.is_({k: tags.get(k) for k in TAGS},
              {"Name": "web1", "machine-name": "web1", "machine-id": st["id"],
               "managed-by": "machine"}, "EC2: the instance carries its tags")
        t.is_((inst["ImageId"], inst["InstanceType"], inst["KeyName"]),
              (self.image, "t3.small", st["key_name"]),
              "EC2: image found by owner and name, default type, imported key")
        t.is_(inst.get("MetadataOptions", {}).get("HttpTokens"), "required", "EC2: IMDSv2 only")
        ud = self.ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
        text = base64.b64decode(ud["UserData"]["Value"]).decode()
        t.ok(text.startswith("#cloud-config") and "hostname: web1" in text and self.key in text
             and "name: admin" in text, "EC2: cloud-init user data from templates/", text)

        kp = self.ec2.describe_key_pairs(KeyNames=[st["key_name"]])["KeyPairs"]
        t.ok(len(kp) == 1 and tags_of(kp[0]).get("machine-id") == st["id"]
             and kp[0].get("KeyType") == "ed25519", "EC2: the key pair is imported and tagged", kp)
        sg = self.ec2.describe_security_groups(GroupIds=[st["security_group_id"]])[
            "SecurityGroups"][0]
        rules = sorted((p["IpProtocol"], p["FromPort"], p["ToPort"],
                        tuple(r["CidrIp"] for r in p["IpRanges"])) for p in sg["IpPermissions"])
        t.is_(rules, [("tcp", 22, 22, (CIDR,)), ("tcp", 2376, 2376, (CIDR,))],
              "EC2: the group has exactly the two ingress rules from the caller's address")
        t.is_(tags_of(sg).get("machine-id"), st["id"], "EC2: the group is tagged")
        t.is_(sg["VpcId"], inst["VpcId"], "EC2: the group is in the instance's VPC")

        def verb_then(verb, ec2_state, driver_state):
            self.run(verb, "web1")
            got = self.describe(iid)["State"]["Name"]
            t.is_(got, ec2_state, "after %s EC2 says %s" % (verb, ec2_state))
            p = self.run("state", "web1")
            t.is_(p.stdout.strip(), driver_state, "after %s the driver says %s" % (verb,
                                                                                   driver_state))

        p = self.run("state", "web1")
        t.is_(p.stdout.strip(), "Running", "state: Running")
        p = self.run("ip", "web1")
        t.is_(p.stdout.strip(), self.describe(iid)["PublicIpAddress"], "ip: the public address")
        p = self.run("ssh", "web1")
        t.is_(p.stdout.strip(), "admin@%s:22" % self.describe(iid)["PublicIpAddress"],
              "ssh target: admin at the public address")
        p = self.run("url", "web1")
        t.is_(p.stdout.strip(), "tcp://%s:2376" % self.describe(iid)["PublicIpAddress"], "url")
        verb_then("stop", "stopped", "Stopped")
        p = self.run("ip", "web1", expect=1, desc="ip of a stopped instance fails")
        t.ok("has no public address (it is stopped)" in p.stderr, "... saying why", p.stderr)
        verb_then("start", "running", "Running")
        p = self.run("ip", "web1")
        t.is_(p.stdout.strip(), self.describe(iid)["PublicIpAddress"],
              "ip after start: the new public address")
        verb_then("restart", "running", "Running")
        verb_then("kill", "stopped", "Stopped")
        verb_then("start", "running", "Running")

        self.run("rm", "web1")
        t.is_(self.describe(iid)["State"]["Name"], "terminated", "rm: the instance is terminated")
        t.is_(awstest.ours(self.ec2), {"instances": [], "key_pairs": [], "groups": []},
              "rm: no instance, key pair or group of ours is left")
        groups = [g["GroupName"] for g in self.ec2.describe_security_groups()["SecurityGroups"]]
        t.ok(all(g == "default" for g in groups), "rm: only default groups remain", groups)
        t.ok(self.ec2.describe_key_pairs()["KeyPairs"] == [], "rm: no key pair at all remains")
        self.run("rm", "web1", desc="rm again is a no-op")
        p = self.run("state", "web1")
        t.is_(p.stdout.strip(), "NotFound", "state after rm: NotFound")

    # ---- credentials ----

    def wrong_secret(self):
        t = self.t
        before = awstest.ours(self.ec2)
        env = awstest.machine_env(self.moto, self.home, REGION,
                                  {"AWS_SECRET_ACCESS_KEY": WRONG_SECRET})
        p = self.run("create", "bad1", self.image_opts, env=env, expect=3,
                     desc="create with a wrong secret fails its pre-create check (exit 3)")
        t.ok("AuthFailure" in p.stderr and "the credentials came from the environment "
             "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)" in p.stderr,
             "the error names the failure and the credential source", p.stderr)
        t.ok(WRONG_SECRET not in p.stderr + p.stdout and self.moto.secret not in p.stderr,
             "the error shows no secret", p.stderr)
        t.is_(awstest.ours(self.ec2), before, "nothing was made")

        os.makedirs(os.path.join(self.home, ".aws"), exist_ok=True)
        with open(os.path.join(self.home, ".aws", "credentials"), "w") as f:
            f.write("[bad]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (self.moto.key_id, WRONG_SECRET))
        env = awstest.machine_env(self.moto, self.home, REGION, {"AWS_PROFILE": "bad"},
                                  keys=False)
        p = self.run("create", "bad2", self.image_opts, env=env, expect=3,
                     desc="a wrong secret in a profile fails too")
        t.ok("the credentials came from profile 'bad' in '%s/.aws/credentials'" % self.home
             in p.stderr and WRONG_SECRET not in p.stderr, "... naming the profile and its file",
             p.stderr)

    def credential_sources(self):
        t = self.t
        aws_dir = os.path.join(self.home, ".aws")
        os.makedirs(aws_dir, exist_ok=True)
        with open(os.path.join(aws_dir, "credentials"), "w") as f:
            f.write("[dev]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (self.moto.key_id, self.moto.secret))
        with open(os.path.join(aws_dir, "config"), "w") as f:
            f.write("[profile dev]\nregion = ap-southeast-2\n")

        # An explicit profile beats wrong keys in the environment; its region applies.
        env = awstest.machine_env(self.moto, self.home, None,
                                  {"AWS_ACCESS_KEY_ID": "AKIAWRONG",
                                   "AWS_SECRET_ACCESS_KEY": WRONG_SECRET})
        self.run("create", "prof1", self.image_opts + ["profile=dev"], env=env,
                 desc="create with profile=dev while the environment holds other keys")
        st = self.state("prof1")
        t.ok(st.get("credentials", "").startswith("profile 'dev' in '%s" % aws_dir)
             and st.get("region") == "ap-southeast-2",
             "credentials from the profile, region from its config section", st)
        ec2_ap = self.moto.client("ec2", region="ap-southeast-2")
        t.is_(len(awstest.live_instances(ec2_ap, st.get("id"))), 1,
              "EC2: the instance is in the profile's region")
        self.run("rm", "prof1", env=env, desc="rm with the same profile")
        t.ok(awstest.nothing(awstest.ours(ec2_ap)), "nothing left in ap-southeast-2")

        # AWS_PROFILE without keys in the environment.
        env = awstest.machine_env(self.moto, self.home, REGION, {"AWS_PROFILE": "dev"},
                                  keys=False)
        self.run("create", "prof2", self.image_opts, env=env, desc="create with AWS_PROFILE=dev")
        st = self.state("prof2")
        t.ok(st.get("region") == REGION and "profile 'dev'" in st.get("credentials", ""),
             "AWS_REGION beats the profile's region", st)
        self.run("rm", "prof2", env=env)

        # A key pair on standard input, kept 0600 in the machine's folder.
        env = awstest.machine_env(self.moto, self.home, REGION, keys=False)
        os.remove(os.path.join(aws_dir, "credentials"))
        pair = "aws_access_key_id=%s\naws_secret_access_key=%s\n" % (self.moto.key_id,
                                                                    self.moto.secret)
        self.run("create", "stdin1", self.image_opts + ["credentials-stdin=1"], env=env,
                 stdin=pair, desc="create with --aws-credentials-stdin")
        path = os.path.join(self.store, "stdin1", "driver", "credentials")
        t.ok(os.path.exists(path) and (os.stat(path).st_mode & 0o777) == 0o600,
             "the key pair is kept in the machine's folder, mode 0600")
        st = self.state("stdin1")
        t.ok("the key pair this machine keeps" in st.get("credentials", ""),
             "the state names the stored key pair as the source", st.get("credentials"))
        with open(os.path.join(self.store, "stdin1", "state.json")) as f1, \
                open(os.path.join(self.store, "stdin1", "options.json")) as f2:
            t.ok(self.moto.secret not in f1.read() + f2.read(),
                 "the secret is not in the state or the options")
        p = self.run("state", "stdin1", env=env)
        t.is_(p.stdout.strip(), "Running", "later verbs use the stored pair (no stdin, no env)")
        self.run("rm", "stdin1", env=env)
        p = self.run("create", "stdin2", self.image_opts + ["credentials-stdin=1"], env=env,
                     stdin="just one line\n", expect=3, desc="a malformed pair on stdin fails")
        t.ok("standard input holds no AWS key pair" in p.stderr and "just one line" not in
             p.stderr, "... without echoing what was read", p.stderr)

    # ---- crash points ----

    def crash_then_rm(self, label, n):
        t = self.t
        name = "crash%d" % n
        env = awstest.machine_env(self.moto, self.home, REGION, {"MACHINE_TEST_CRASH_AT": label})
        p = self.run("create", name, self.image_opts, env=env, expect=None)
        t.is_(p.returncode, -9, "create killed at %s" % label)
        st = self.state(name)
        self.run("rm", name, desc="rm after a crash at %s" % label)
        left = awstest.live_instances(self.ec2, st.get("id"))
        inv = awstest.ours(self.ec2)
        t.ok(not left and awstest.nothing(inv),
             "after the crash at %s rm leaves no instance, key pair or group" % label, inv)

    def crash_then_resume(self, label, n):
        t = self.t
        name = "resume%d" % n
        env = awstest.machine_env(self.moto, self.home, REGION, {"MACHINE_TEST_CRASH_AT": label})
        p = self.run("create", name, self.image_opts, env=env, expect=None)
        t.is_(p.returncode, -9, "create killed at %s" % label)
        self.run("create", name, self.image_opts, desc="create resumes after %s" % label)
        st = self.state(name)
        live = awstest.live_instances(self.ec2, st.get("id"))
        t.ok(len(live) == 1 and live[0]["InstanceId"] == st.get("instance_id")
             and live[0]["State"]["Name"] == "running",
             "after the crash at %s exactly one instance runs, the saved one" % label,
             [i["InstanceId"] for i in live])
        keys = [k for k in self.ec2.describe_key_pairs()["KeyPairs"]
                if tags_of(k).get("machine-id") == st.get("id")]
        groups = [g for g in self.ec2.describe_security_groups()["SecurityGroups"]
                  if tags_of(g).get("machine-id") == st.get("id")]
        t.ok(len(keys) == 1 and len(groups) == 1, "... with one key pair and one group")
        self.run("rm", name)
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "and rm cleans it")

    def crash_during_rm(self):
        """An rm killed after each of its steps leaves a record that the next rm finishes."""
        t = self.t
        for n, label in enumerate(RM_CRASH_POINTS):
            name = "rmcrash%d" % n
            self.run("create", name, self.image_opts, desc="create %s" % name)
            env = awstest.machine_env(self.moto, self.home, REGION,
                                      {"MACHINE_TEST_CRASH_AT": label})
            p = self.run("rm", name, env=env, expect=None)
            t.is_(p.returncode, -9, "rm killed at %s" % label)
            self.run("rm", name, desc="rm again after the crash at %s" % label)
            t.ok(awstest.nothing(awstest.ours(self.ec2)),
                 "after the crash at %s the second rm leaves nothing" % label,
                 awstest.ours(self.ec2))

    def dead_instance(self):
        """An instance that dies between two runs of create is replaced, not waited for."""
        t = self.t
        env = awstest.machine_env(self.moto, self.home, REGION,
                                  {"MACHINE_TEST_CRASH_AT": "aws:instance-saved"})
        p = self.run("create", "dead1", self.image_opts, env=env, expect=None)
        t.is_(p.returncode, -9, "create killed after the instance was saved")
        first = self.state("dead1")["instance_id"]
        self.ec2.terminate_instances(InstanceIds=[first])
        p = self.run("create", "dead1", self.image_opts, expect=1,
                     desc="create again finds the instance terminated")
        t.ok("is terminated instead of running; creating again runs a new instance" in p.stderr,
             "... and says so", p.stderr)
        self.run("create", "dead1", self.image_opts, desc="create once more runs a new instance")
        st = self.state("dead1")
        live = awstest.live_instances(self.ec2, st["id"])
        t.ok(len(live) == 1 and live[0]["InstanceId"] == st["instance_id"] != first,
             "exactly one live instance, a new one", [i["InstanceId"] for i in live])
        self.run("rm", "dead1")
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "rm cleans it")

    def crash_points(self):
        env = awstest.machine_env(self.moto, self.home, REGION,
                                  {"MACHINE_TEST_CRASH_TRACE": os.path.join(self.dir, "trace")})
        self.run("create", "trace1", self.image_opts, env=env, desc="a create that records its "
                 "crash points")
        with open(os.path.join(self.dir, "trace")) as f:
            passed = [line.split()[1] for line in f if line.split()[1].startswith("aws:")]
        self.t.is_(passed, CRASH_POINTS, "create passes every crash point, in order")
        self.run("rm", "trace1")
        for n, label in enumerate(CRASH_POINTS):
            self.crash_then_rm(label, n)
            self.crash_then_resume(label, n)

    # ---- options ----

    def options(self):
        t = self.t
        iam = self.moto.client("iam", region=REGION)
        iam.create_instance_profile(InstanceProfileName="machine-test-profile")
        self.run("create", "spot1", self.image_opts + [
            "request-spot-instance=1", "spot-price=0.05",
            "iam-instance-profile=machine-test-profile", "use-private-address=1",
            "instance-type=t3.micro", "root-size=20"], desc="create a spot instance with a "
                 "profile, reached at its private address")
        st = self.state("spot1")
        inst = self.describe(st["instance_id"])
        t.is_(inst.get("InstanceLifecycle"), "spot", "EC2: a spot instance")
        t.ok("machine-test-profile" in inst.get("IamInstanceProfile", {}).get("Arn", ""),
             "EC2: the instance profile is attached", inst.get("IamInstanceProfile"))
        t.is_(inst["InstanceType"], "t3.micro", "EC2: the instance type asked for")
        p = self.run("ip", "spot1")
        t.is_(p.stdout.strip(), inst["PrivateIpAddress"], "ip: the private address")
        self.run("rm", "spot1")
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "rm cleans the spot machine")

        # The default image: the newest Debian 12 image of Debian's account, not a newer
        # image of the same name from another owner.
        self.run("create", "deb1", ["open-cidr=" + CIDR], desc="create with the default image")
        st = self.state("deb1")
        t.is_(st.get("ami"), "ami-0deb12new00000002", "the newest debian-12-amd64-* of Debian's")
        self.run("rm", "deb1")

        p = self.run("create", "noami", ["open-cidr=" + CIDR, "ami-name=nothing-*"], expect=1,
                     desc="no matching image fails")
        t.ok("no available image named 'nothing-*' from owner 136693071363" in p.stderr,
             "... naming the pattern and the owner", p.stderr)
        self.run("rm", "noami")
        p = self.run("create", "badcidr", self.image_opts[:2] + ["open-cidr=300.1.2.3/8"],
                     expect=3, desc="a bad --aws-open-cidr is refused before anything is made")
        t.ok("'300.1.2.3/8' is not an address or a CIDR block" in p.stderr, "... saying why",
             p.stderr)
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "nothing was left by failed creates")

    def network(self):
        t = self.t
        vpc = self.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])[
            "Vpcs"][0]["VpcId"]
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
            "Subnets"]
        zone_b = [n for n in subnets if n["AvailabilityZone"] == REGION + "b"][0]
        self.run("create", "zb", self.image_opts + ["zone=b"], desc="create in zone b")
        inst = self.describe(self.state("zb")["instance_id"])
        t.is_((inst["SubnetId"], inst["Placement"]["AvailabilityZone"]),
              (zone_b["SubnetId"], REGION + "b"), "EC2: the default subnet of zone b")
        self.run("rm", "zb")
        other = self.ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        sub = self.ec2.create_subnet(VpcId=other, CidrBlock="10.77.1.0/24",
                                     AvailabilityZone=REGION + "c")["Subnet"]["SubnetId"]
        self.run("create", "own", self.image_opts + ["subnet-id=" + sub],
                 desc="create in a given subnet of another VPC")
        st = self.state("own")
        inst = self.describe(st["instance_id"])
        t.is_((inst["SubnetId"], inst["VpcId"], st["vpc_id"]), (sub, other, other),
              "EC2: the instance is in the subnet and its VPC")
        sg = self.ec2.describe_security_groups(GroupIds=[st["security_group_id"]])[
            "SecurityGroups"][0]
        t.is_(sg["VpcId"], other, "EC2: the group is made in that VPC")
        self.run("rm", "own")
        p = self.run("create", "mism", self.image_opts + ["subnet-id=" + sub, "vpc-id=" + vpc],
                     expect=1, desc="a subnet outside --aws-vpc-id is refused")
        t.ok("subnet '%s' is in VPC '%s', not in '%s'" % (sub, other, vpc) in p.stderr,
             "... naming both", p.stderr)
        self.run("rm", "mism")
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "nothing left after the network cases")

    def shared_group(self):
        t = self.t
        opts = self.image_opts + ["security-group=machine-shared-sg"]
        self.run("create", "sha", opts, desc="machine sha makes the named group")
        self.run("create", "shb", opts, desc="machine shb uses the same group")
        a, b = self.state("sha"), self.state("shb")
        t.ok(a.get("security_group_created") and not b.get("security_group_created")
             and a["security_group_id"] == b["security_group_id"],
             "the group is made once and shared", (a, b))
        sg = self.ec2.describe_security_groups(GroupIds=[a["security_group_id"]])[
            "SecurityGroups"][0]
        t.is_(len(sg["IpPermissions"]), 2, "the second machine adds no duplicate rule")
        p = self.run("rm", "sha")
        t.ok("keeping security group" in p.stderr, "rm of the maker keeps a group in use",
             p.stderr)
        sg = self.ec2.describe_security_groups(GroupIds=[a["security_group_id"]])[
            "SecurityGroups"][0]
        t.is_(tags_of(sg).get("machine-id"), b["id"], "... and hands it to the machine using it")
        self.run("rm", "shb")
        t.ok(awstest.nothing(awstest.ours(self.ec2)), "rm of the last user deletes the group")

    def main(self):
        return awstest.run_suite(self, [
            self.journey,
            self.wrong_secret,
            self.credential_sources,
            self.options,
            self.network,
            self.shared_group,
            self.dead_instance,
            self.crash_points,
            self.crash_during_rm,
        ])


if __name__ == "__main__":
    awstest.main(Suite, "test_aws_driver.py PATH/TO/aws-drv")
