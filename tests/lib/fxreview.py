"""
fxreview: helpers for the review-process suites (SPEC §4-6): a community of
organizations with a user per role, and notices taken to a given stage of the
review (submitted, under review, determined covered, in assessment, with an
approved grant). Each helper drives the real API and asserts every step.
"""

import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from fxharness import FX, FXD, REPO, create_org, expect, notice_body, unique, user_client

POLICIES = os.path.join(REPO, "policies")

# (org name, kind, extra, roles): the community every review suite builds.
ORGS = [
    ("coordinator", "coordinator", {}, ("admin", "member", "reviewer", "viewer")),
    ("agency_civilian", "agency", {"mission": "civilian"}, ("admin", "member", "reviewer", "viewer")),
    ("agency_natsec", "agency", {"mission": "national_security"},
     ("admin", "member", "reviewer", "viewer")),
    ("agency_other", "agency", {"mission": "civilian"}, ("admin", "member", "reviewer", "viewer")),
    ("developer_a", "developer", {}, ("admin", "member", "viewer")),
    ("developer_b", "developer", {}, ("admin", "member", "viewer")),
    ("operator_partner", "operator", {"sector": "energy"}, ("admin", "member", "viewer")),
    ("operator_other", "operator", {"sector": "healthcare_public_health"},
     ("admin", "member", "viewer")),
]


class Community:
    """Orgs by name and a Client per (org, role); `c["developer_a", "member"]`."""

    def __init__(self, fxd):
        self.fxd = fxd
        self.orgs = {}
        self.people = {}
        for name, kind, extra, roles in ORGS:
            if kind == "coordinator":
                org = {"id": fxd.init_info["org_id"], "kind": "coordinator", "name": "coordinator"}
            else:
                org = create_org(fxd.admin, kind, name="%s %s" % (name, unique()), **extra)
            self.orgs[name] = org
            for role in roles:
                if kind == "coordinator" and role == "admin":
                    self.people[(name, role)] = fxd.admin
                    fxd.admin.org = org
                    fxd.admin.role = "admin"
                else:
                    self.people[(name, role)] = user_client(fxd, fxd.admin, org, role)

    def __getitem__(self, key):
        return self.people[key]

    def org(self, name):
        return self.orgs[name]

    # the usual actors
    @property
    def dev(self):
        return self.people[("developer_a", "member")]

    @property
    def reviewer(self):
        return self.people[("coordinator", "reviewer")]

    @property
    def civ(self):
        return self.people[("agency_civilian", "reviewer")]

    @property
    def natsec(self):
        return self.people[("agency_natsec", "reviewer")]

    @property
    def partner(self):
        return self.people[("operator_partner", "member")]


def covered_body(release=None, **over):
    """A notice that the default policy screens likely covered (compute above 1e26)."""
    over.setdefault("training_compute_flop", 2e26)
    return notice_body(release=release, **over)


def submitted(c, release=None, **over):
    """A submitted notice of developer A."""
    body = covered_body(release=release, **over)
    body["submit"] = True
    return expect(c.dev.post("notices", json=body), 201)


def under_review(c, **kw):
    n = submitted(c, **kw)
    expect(c.reviewer.post("notices/%s/review" % n["id"], json={}), 200)
    return n


def determined(c, determination="covered", **kw):
    n = under_review(c, **kw)
    expect(c.reviewer.post("notices/%s/determination" % n["id"],
                           json={"determination": determination, "rationale": "per policy"}), 201)
    return n


def in_assessment(c, agencies=("agency_civilian", "agency_natsec"), **kw):
    """A covered notice with its assessment open; returns (notice, assessment)."""
    n = determined(c, **kw)
    body = {"agencies": [c.org(a)["id"] for a in agencies]}
    a = expect(c.reviewer.post("notices/%s/assessment" % n["id"], json=body), 201)
    return n, a


def grant_body(c, starts, ends, partner="operator_partner", **over):
    body = {"partner_org": c.org(partner)["id"], "purpose": "Harden the grid's SCADA",
            "starts": str(starts), "ends": str(ends), "terms": "No redistribution. " + unique()}
    body.update(over)
    return body


def approved_grant(c, notice, starts, ends, **over):
    g = expect(c.dev.post("notices/%s/grants" % notice["id"], json=grant_body(c, starts, ends, **over)),
               201)
    expect(c.dev.post("grants/%s/consent" % g["id"], json={}), 200)
    return expect(c.reviewer.post("grants/%s/consent" % g["id"], json={}), 200)


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def policy_file(name):
    with open(os.path.join(POLICIES, name)) as f:
        return json.load(f)


def day(clock, days=0):
    """The test clock's date plus days."""
    return clock.today + _dt.timedelta(days=days)


class Run:
    """What a finished fx or fxd run left: exit status, stdout, stderr."""

    def __init__(self, p):
        self.returncode = p.returncode
        self.out = p.stdout.decode("utf-8", errors="replace")
        self.err = p.stderr.decode("utf-8", errors="replace")
        self.args = p.args

    def ok(self):
        assert self.returncode == 0, "%s -> %d\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, self.args)), self.returncode, self.out, self.err)
        return self

    def json(self):
        self.ok()
        return json.loads(self.out)

    def status(self, code):
        assert self.returncode == code, "expected exit %d: %s -> %d\nstdout: %s\nstderr: %s" % (
            code, " ".join(map(str, self.args)), self.returncode, self.out, self.err)
        return self


def fx(server, client, *args, stdin=None):
    """Runs fx as client (its token) against server, with an empty HOME."""
    home = tempfile.mkdtemp(prefix="fxreview-home-")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FX_")}
        env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), FX_URL=server.url,
                   FX_TOKEN=client.token)
        if isinstance(stdin, str):
            stdin = stdin.encode()
        return Run(subprocess.run([FX] + [str(a) for a in args], env=env, input=stdin,
                                  capture_output=True, timeout=120))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def fxd_cmd(*args):
    """Runs fxd with args (fxd policy apply FILE --data DIR ...)."""
    return Run(subprocess.run([FXD] + [str(a) for a in args], capture_output=True, timeout=300))
