#!/usr/bin/env python3
"""Writes fixtures/demo/gitlab/cassette.json: the demo GitLab group, built from the real recorded GitLab API bodies in
../shared/samples/gitlab-api (gitlab4j's test data: project, group, protected branch, approval settings, approval rule,
push rule), with names, ids and settings changed to tell the demo's story. Run from the repository root:

    python3 tools/gitlab_demo_cassette.py ../shared/samples/gitlab-api > fixtures/demo/gitlab/cassette.json
"""

import base64
import copy
import json
import sys
import zlib

SAMPLES = sys.argv[1] if len(sys.argv) > 1 else "../shared/samples/gitlab-api"
GROUP_ID = 4242
PER_PAGE = 2


def sample(name):
    with open(f"{SAMPLES}/{name}") as f:
        return json.load(f)


def group():
    body = sample("gitlab4j-group.json")
    body.update(
        id=GROUP_ID,
        name="Acme Demo",
        path="acme-demo",
        full_name="Acme Demo",
        full_path="acme-demo",
        parent_id=None,
        visibility="private",
        web_url="https://gitlab.example.com/groups/acme-demo",
        require_two_factor_authentication=True,
        two_factor_grace_period=48,
        project_creation_level="maintainer",
        # Access only from the office and the VPN (GitLab Premium, shown to the group's Owners).
        ip_restriction_ranges="203.0.113.0/24,198.51.100.0/24",
    )
    # The recording's runners_token stays: the collector must take it out before anything is kept.
    return body


def project(pid, path, default_branch="main", **settings):
    body = sample("gitlab4j-project.json")
    namespace_path, _, name = path.rpartition("/")
    body.update(
        id=pid,
        name=name,
        path=name,
        name_with_namespace=path.replace("/", " / "),
        path_with_namespace=path,
        default_branch=default_branch,
        web_url=f"https://gitlab.example.com/{path}",
        http_url_to_repo=f"https://gitlab.example.com/{path}.git",
        ssh_url_to_repo=f"git@gitlab.example.com:{path}.git",
        readme_url=f"https://gitlab.example.com/{path}/-/blob/main/README.md",
        namespace={
            "id": GROUP_ID,
            "name": namespace_path,
            "path": namespace_path.rsplit("/", 1)[-1],
            "kind": "group",
            "full_path": namespace_path,
            "parent_id": None,
        },
        permissions={"project_access": None, "group_access": {"access_level": 50, "notification_level": 3}},
    )
    body.update(settings)
    return body


def protected(pid, name, push, merge, force=False, code_owners=False):
    body = sample("gitlab4j-protected-branch.json")
    level = {0: "No one", 30: "Developers + Maintainers", 40: "Maintainers"}
    body.update(
        id=pid * 10,
        name=name,
        push_access_levels=[
            {"id": pid * 100 + i, **entry, "access_level_description": level.get(entry.get("access_level"), "")}
            for i, entry in enumerate(push)
        ],
        merge_access_levels=[
            {"id": pid * 100 + 50 + i, "access_level": m, "access_level_description": level[m]}
            for i, m in enumerate(merge)
        ],
        allow_force_push=force,
        code_owner_approval_required=code_owners,
    )
    return body


def approvals(**settings):
    body = sample("gitlab4j-project-approvals-config.json")
    body.update(settings)
    return body


def approval_rule(rid, name, required, rule_type="any_approver", branches=None):
    body = sample("gitlab4j-approval-rule.json")
    body.update(
        id=rid,
        name=name,
        rule_type=rule_type,
        approvals_required=required,
        applies_to_all_protected_branches=branches is None,
        protected_branches=branches or [],
    )
    body.pop("report_type", None)
    if rule_type == "any_approver":
        body.update(users=[], groups=[], eligible_approvers=[])
    return body


def push_rule(pid, unsigned):
    body = sample("gitlab4j-push-rule.json")
    body.update(id=pid, project_id=pid, reject_unsigned_commits=unsigned, commit_message_regex="", commit_message_negative_regex="")
    return body


def merge_request(pid, iid, author, merger, sha, days_ago, path):
    body = copy.deepcopy(sample("danger-js-getMergeRequestInfo.nock.json")[0]["response"])
    person = lambda name: {**body["author"], "id": zlib.crc32(name.encode()) % 100000, "username": name, "name": name.title(),
                           "web_url": f"https://gitlab.example.com/{name}"}
    body.update(id=pid * 1000 + iid, iid=iid, project_id=pid, target_branch="main", source_branch=f"feature-{iid}",
                author=person(author), merge_user=person(merger), merged_by=person(merger), sha=sha,
                merge_commit_sha=sha[::-1], merged_at=f"{{days_ago:{days_ago}}}",
                created_at=f"{{days_ago:{days_ago + 2}}}", updated_at=f"{{days_ago:{days_ago}}}",
                web_url=f"https://gitlab.example.com/{path}/-/merge_requests/{iid}", title=f"Change {iid}",
                description="", source_project_id=pid, target_project_id=pid)
    return body


def approvals_of(users):
    body = copy.deepcopy(sample("danger-js-getMergeRequestApprovals.nock.json")[0]["response"])
    template = body["approved_by"][0]
    body.update(description="", approved=bool(users),
                approved_by=[{"user": {**template["user"], "username": u, "name": u.title()}} for u in users])
    return body


def notes_of(events):
    template = sample("danger-js-getMergeRequestNotes.nock.json")[0]["response"][0]
    notes = []
    for number, (user, body, days_ago) in enumerate(events, start=1):
        note = copy.deepcopy(template)
        note.update(id=700000 + number * 17 + len(user), body=body, system=True,
                    created_at=f"{{days_ago:{days_ago}}}", updated_at=f"{{days_ago:{days_ago}}}")
        note["author"] = {**note["author"], "username": user, "name": user.title()}
        notes.append(note)
    return notes


def pipelines_of(pid, sha, status):
    item = sample("scorecard-valid-checkruns.json")[0]
    return [{**item, "id": pid * 100 + 1, "project_id": pid, "sha": sha, "status": status, "ref": "refs/merge-requests/1/head",
             "source": "merge_request_event", "updated_at": "{days_ago:3}"}]


def deploy_keys(pid, writable):
    keys = sample("gitlab4j-deploy-keys.json")
    return [{**key, "id": pid * 10 + n, "title": title, "can_push": push}
            for n, (key, (title, push)) in enumerate(zip(keys, writable))]


def hook(hid, url, verify, project_id=None):
    body = sample("gitlab4j-project-hook.json")
    body.update(id=hid, url=url, enable_ssl_verification=verify, alert_status="executable")
    if project_id is None:
        body.pop("project_id", None)
        body["group_id"] = GROUP_ID
    else:
        body["project_id"] = project_id
    return body


def members():
    """The group's members over two pages: its owner, a maintainer, the bot of the collector's group access token
    (GitLab shows two_factor_enabled to group owners; the bot has none, and needs none)."""
    recorded = sample("scorecard-valid-repo-members.json")
    people = [
        {**recorded[0], "id": 9101, "username": "alice", "name": "Alice", "access_level": 50, "two_factor_enabled": True},
        {**recorded[1], "id": 9102, "username": "dave", "name": "Dave", "access_level": 40, "two_factor_enabled": True},
        {**recorded[0], "id": 9001, "username": "group_4242_bot_pipeproof", "name": "pipeproof collector",
         "access_level": 50, "two_factor_enabled": False},
    ]
    path = f"/groups/{GROUP_ID}/members/all"
    return [
        ok(f"{path}?per_page={PER_PAGE}", people[:2],
           {"link": f'<{{base}}{path}?per_page={PER_PAGE}&page=2>; rel="next"', "x-next-page": "2"}),
        ok(f"{path}?per_page={PER_PAGE}&page=2", people[2:], {"x-next-page": ""}),
    ]


def billable_members():
    """The top-level group's billable members with GitLab's activity dates (the bot of an access token is not billed):
    alice was active two days ago, dave last signed in and was last active seven months ago."""
    recorded = sample("scorecard-valid-repo-members.json")
    def member(base, uid, login, active_days, signed_in_days):
        return {"id": uid, "username": login, "name": login.title(), "state": "active",
                "avatar_url": base.get("avatar_url"), "web_url": f"https://gitlab.example.com/{login}",
                "last_activity_on": f"{{days_ago:{active_days}}}", "last_login_at": f"{{days_ago:{signed_in_days}}}",
                "membership_type": "group_member", "removable": True, "created_at": "2024-03-01T09:00:00Z",
                "is_last_owner": login == "alice"}
    people = [member(recorded[0], 9101, "alice", 2, 2), member(recorded[1], 9102, "dave", 210, 212)]
    return [ok(f"/groups/{GROUP_ID}/billable_members?per_page={PER_PAGE}", people)]


def integrations():
    """Deploy keys and webhooks: a read-only key, a key that may push, a webhook over plain HTTP."""
    per = f"per_page={PER_PAGE}"
    forbidden = {"status": 403, "headers": {}, "body": {"message": "403 Forbidden"}}
    return [
        ok(f"/groups/{GROUP_ID}/hooks?{per}", [hook(901, "https://chat.example.com/hooks/acme", True)]),
        ok(f"/projects/501/deploy_keys?{per}", deploy_keys(501, [("ci-mirror (read-only)", False)])),
        ok(f"/projects/501/hooks?{per}", []),
        ok(f"/projects/502/deploy_keys?{per}", deploy_keys(502, [("billing-ci", False), ("release-bot", True)])),
        ok(f"/projects/502/hooks?{per}", [hook(911, "http://ci.acme.internal/gitlab", True, 502)]),
        ok(f"/projects/503/deploy_keys?{per}", []),
        ok(f"/projects/503/hooks?{per}", [hook(912, "https://status.example.com/hook", True, 503)]),
        {"path": f"/projects/504/deploy_keys?{per}", **forbidden},
        {"path": f"/projects/504/hooks?{per}", **forbidden},
    ]


def merge_requests():
    """Merged in the last 90 days: an approved one, one merged by its author unreviewed, one approved by its author."""
    listing = "merge_requests?state=merged&target_branch=main&updated_after=*"
    per = f"per_page={PER_PAGE}"
    api = merge_request(501, 11, "carol", "alice", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", 10, "acme-demo/platform/api-gateway")
    rushed = merge_request(501, 12, "dave", "dave", "b2c3d4e5f60718293a4b5c6d7e8f9012345678a1", 5, "acme-demo/platform/api-gateway")
    billing = merge_request(502, 7, "erin", "erin", "c3d4e5f60718293a4b5c6d7e8f9012345678a1b2", 3, "acme-demo/platform/billing")
    return [
        ok(f"/projects/501/{listing}", [rushed, api]),
        ok("/projects/501/merge_requests/11/approvals", approvals_of(["bob"])),
        ok(f"/projects/501/merge_requests/11/notes?sort=asc&order_by=created_at&{per}",
           notes_of([("carol", "added 1 commit\n\n* a1b2c3d4 - Change 11", 10.6), ("bob", "approved this merge request", 10.3),
                     ("alice", "merged", 10)])),
        ok(f"/projects/501/merge_requests/11/pipelines?{per}", pipelines_of(501, api["sha"], "success")),
        ok("/projects/501/merge_requests/12/approvals", approvals_of([])),
        ok(f"/projects/501/merge_requests/12/notes?sort=asc&order_by=created_at&{per}", notes_of([("dave", "merged", 5)])),
        ok(f"/projects/501/merge_requests/12/pipelines?{per}", pipelines_of(501, rushed["sha"], "success")),
        ok(f"/projects/502/{listing}", [billing]),
        ok("/projects/502/merge_requests/7/approvals", approvals_of(["erin"])),
        ok(f"/projects/502/merge_requests/7/notes?sort=asc&order_by=created_at&{per}",
           notes_of([("erin", "approved this merge request", 3.2), ("erin", "merged", 3)])),
        ok(f"/projects/502/merge_requests/7/pipelines?{per}", pipelines_of(502, billing["sha"], "failed")),
        ok(f"/projects/503/{listing}", []),
        {"path": f"/projects/504/{listing}", "status": 403, "headers": {}, "body": {"message": "403 Forbidden"}},
    ]


def environment(eid, name, tier):
    body = sample("gitlab4j-environment.json")
    body.update(id=eid, name=name, slug=name.replace("/", "-"), tier=tier, external_url=None, auto_stop_at=None)
    body.pop("last_deployment", None)
    return body


def protected_environment(name, deployers, approvers=(), required=0):
    described = {30: "Developers + Maintainers", 40: "Maintainers"}
    return {
        "name": name,
        "deploy_access_levels": [{"id": 60 + n, "access_level": level, "access_level_description": described[level],
                                  "user_id": None, "group_id": None, "group_inheritance_type": 0}
                                 for n, level in enumerate(deployers)],
        "required_approval_count": required,
        "approval_rules": [{"id": 80 + n, "user_id": None, "group_id": 4300 + n, "access_level": None,
                            "access_level_description": who, "required_approvals": 1, "group_inheritance_type": 0}
                           for n, who in enumerate(approvers)],
    }


def deployment(pid, did, env, user, days_ago, pipeline=None, status="success"):
    body = copy.deepcopy(sample("gitlab4j-deployment.json"))
    person = {**body["user"], "id": zlib.crc32(user.encode()) % 100000, "username": user, "name": user.title()}
    body.update(id=did, iid=did % 100, ref="main", status=status, user=person,
                created_at=f"{{days_ago:{days_ago}}}", updated_at=f"{{days_ago:{days_ago}}}",
                environment={"id": env[0], "name": env[1], "external_url": None})
    if pipeline is None:
        body["deployable"] = None
    else:
        body["deployable"].update(id=did * 10, user=person, created_at=f"{{days_ago:{days_ago}}}",
                                  finished_at=f"{{days_ago:{days_ago}}}",
                                  pipeline={"id": pipeline, "project_id": pid, "ref": "main", "sha": body["sha"],
                                            "status": "success"})
    return body


def approved(body, approvers):
    body = copy.deepcopy(body)
    body["pending_approval_count"] = 0
    body["approvals"] = [{"user": {**body["user"], "username": who, "name": who.title()}, "status": "approved",
                          "created_at": body["created_at"], "comment": "ship it"} for who in approvers]
    return body


def pipeline(pid, number, user, days_ago):
    body = copy.deepcopy(sample("gitlab4j-pipeline.json"))
    body.update(id=number, iid=number % 100, project_id=pid, source="push", ref="main", yaml_errors=None,
                created_at=f"{{days_ago:{days_ago + 0.1}}}", updated_at=f"{{days_ago:{days_ago}}}",
                started_at=f"{{days_ago:{days_ago + 0.1}}}", finished_at=f"{{days_ago:{days_ago}}}")
    body["user"] = {**body["user"], "username": user, "name": user.title()}
    return body


def deployments():
    """Environments and deployments: api-gateway's production needs one approval from release managers and got it
    from someone else; billing's prod is unprotected and was deployed through the API; storefront lets developers
    deploy and the pipeline's author approve, and dave did; docs-site hides its protection from a Reporter."""
    per = f"per_page={PER_PAGE}"
    listing = "deployments?updated_after=*"
    forbidden = {"status": 403, "headers": {}, "body": {"message": "403 Forbidden"}}
    gateway = deployment(501, 5101, (51, "production"), "carol", 4, pipeline=50101)
    review = deployment(501, 5102, (52, "review/feature-12"), "carol", 6, pipeline=50102)
    billing = deployment(502, 5201, (53, "prod"), "erin", 2)
    storefront = deployment(503, 5301, (54, "production"), "dave", 1, pipeline=50301)
    docs = deployment(504, 5401, (55, "live"), "frank", 8, pipeline=50401)
    return [
        ok(f"/groups/{GROUP_ID}/protected_environments?{per}", []),
        ok(f"/projects/501/environments?{per}",
           [environment(51, "production", "production"), environment(52, "review/feature-12", "development")]),
        ok(f"/projects/501/protected_environments?{per}",
           [protected_environment("production", [40], approvers=["release-managers"])]),
        ok(f"/projects/501/{listing}", [gateway, review]),
        ok("/projects/501/deployments/5101", approved(gateway, ["bob"])),
        ok("/projects/501/pipelines/50101", pipeline(501, 50101, "carol", 4)),
        ok(f"/projects/502/environments?{per}", [environment(53, "prod", "production")]),
        ok(f"/projects/502/protected_environments?{per}", []),
        ok(f"/projects/502/{listing}", [billing]),
        ok("/projects/502/deployments/5201", approved(billing, [])),
        ok(f"/projects/503/environments?{per}", [environment(54, "production", "production")]),
        ok(f"/projects/503/protected_environments?{per}",
           [protected_environment("production", [30], approvers=["Maintainers"])]),
        ok(f"/projects/503/{listing}", [storefront]),
        ok("/projects/503/deployments/5301", approved(storefront, ["dave"])),
        ok("/projects/503/pipelines/50301", pipeline(503, 50301, "dave", 1)),
        ok(f"/projects/504/environments?{per}", [environment(55, "live", "production")]),
        {"path": f"/projects/504/protected_environments?{per}", **forbidden},
        ok(f"/projects/504/{listing}", [docs]),
        ok("/projects/504/deployments/5401", approved(docs, ["grace"])),
        ok("/projects/504/pipelines/50401", pipeline(504, 50401, "frank", 8)),
    ]


def variable(key, protected, masked, scope="*", hidden=False):
    """A CI/CD variable as GitLab's REST listing sends it: with its value, which pipeproof must never keep (every
    demo value carries the canary `pp-canary-`)."""
    body = dict(sample("gitlab4j-project-variables.json")[0])
    body.update(key=key, value=None if hidden else f"pp-canary-{key.lower()}", protected=protected, masked=masked,
                hidden=hidden, environment_scope=scope, variable_type="env_var", raw=False, description=None)
    return body


def variables():
    """The group shares a masked, protected npm token and a hidden registry password; api-gateway keeps its Sonar
    token masked and protected beside a plain setting; billing's Stripe key is neither masked nor protected; the
    docs-site token (a Reporter) cannot see variables."""
    per = f"per_page={PER_PAGE}"
    bare = {"key": "LEGACY_DEPLOY_TOKEN", "value": "pp-canary-bare"}  # an older GitLab sends only key and value
    return [
        ok(f"/groups/{GROUP_ID}/variables?{per}", [variable("NPM_TOKEN", True, True),
                                                   variable("REGISTRY_PASSWORD", True, True, hidden=True)]),
        ok(f"/projects/501/variables?{per}", [variable("SONAR_TOKEN", True, True), variable("LOG_LEVEL", False, False)]),
        ok(f"/projects/502/variables?{per}", [variable("STRIPE_API_KEY", False, False, scope="production"), bare]),
        ok(f"/projects/503/variables?{per}", []),
        {"path": f"/projects/504/variables?{per}", "status": 403, "headers": {}, "body": {"message": "403 Forbidden"}},
    ]


def ci_file(path, text):
    body = sample("gitlab4j-repository-file.json")
    encoded = base64.b64encode(text.encode()).decode()
    body.update(file_name=path.rsplit("/", 1)[-1], file_path=path, size=len(text), encoding="base64",
                content=encoded, ref="main")
    return body


def lint(valid, merged, includes=(), errors=()):
    return {"valid": valid, "errors": list(errors), "warnings": [], "merged_yaml": merged, "includes": list(includes)}


def ci_configs():
    """Pipeline definitions: api-gateway pins its shared templates by commit SHA and its image by digest; billing
    uses a CI/CD component at ~latest and node by tag; storefront has no .gitlab-ci.yml; docs-site's token (a
    Reporter) reads the file but may not lint it, so what its local include holds is not known."""
    sha = "6f1e2d3c4b5a69788796a5b4c3d2e1f001122334"
    forbidden = {"status": 403, "headers": {}, "body": {"message": "403 Forbidden"}}
    files = "repository/files/.gitlab-ci.yml?ref=main"
    lint_path = "ci/lint?content_ref=main&dry_run=false"
    gateway = (f"include:\n  - project: acme-demo/ci-templates\n    ref: {sha}\n    file: /go.yml\n"
               "  - template: Jobs/SAST.gitlab-ci.yml\n  - template: Jobs/Dependency-Scanning.gitlab-ci.yml\n")
    gateway_merged = ("---\n:build:\n  :image: golang@sha256:4c1d3e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f\n"
                      "  :script:\n  - go build ./...\n:semgrep-sast:\n  :image: $CI_TEMPLATE_REGISTRY_HOST/"
                      "security-products/semgrep@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
                      "  :script:\n  - /analyzer run\n  :allow_failure: false\n"
                      "  :artifacts:\n    :reports:\n      :sast: gl-sast-report.json\n"
                      ":gemnasium-dependency_scanning:\n  :image: $CI_TEMPLATE_REGISTRY_HOST/security-products/"
                      "gemnasium@sha256:1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a\n"
                      "  :script:\n  - /analyzer run\n  :allow_failure: true\n"
                      "  :artifacts:\n    :reports:\n      :dependency_scanning: gl-dependency-scanning-report.json\n")
    billing = ("include:\n  - component: gitlab.example.com/acme-demo/components/deploy@~latest\n"
               "test:\n  image: node:20\n  script: npm test\n")
    billing_merged = ("---\n:test:\n  :image: node:20\n  :script: npm test\n:deploy:\n  :image: "
                      "alpine@sha256:9b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a\n"
                      "  :script: ./deploy.sh\n")
    docs = "include:\n  - local: ci/pages.yml\n"
    return [
        ok(f"/projects/501/{files}", ci_file(".gitlab-ci.yml", gateway)),
        ok(f"/projects/501/{lint_path}", lint(True, gateway_merged, [
            {"type": "file", "location": "/go.yml", "blob": None, "raw": None,
             "extra": {"project": "acme-demo/ci-templates", "ref": sha}, "context_project": "acme-demo/platform/api-gateway",
             "context_sha": sha},
            {"type": "template", "location": "Jobs/SAST.gitlab-ci.yml", "blob": None, "raw": None, "extra": {},
             "context_project": "acme-demo/platform/api-gateway", "context_sha": sha},
            {"type": "template", "location": "Jobs/Dependency-Scanning.gitlab-ci.yml", "blob": None, "raw": None,
             "extra": {}, "context_project": "acme-demo/platform/api-gateway", "context_sha": sha}])),
        ok(f"/projects/502/{files}", ci_file(".gitlab-ci.yml", billing)),
        ok(f"/projects/502/{lint_path}", lint(True, billing_merged, [
            {"type": "component", "location": "gitlab.example.com/acme-demo/components/deploy@~latest", "blob": None,
             "raw": None, "extra": {}, "context_project": "acme-demo/platform/billing", "context_sha": sha}])),
        {"path": f"/projects/503/{files}", "status": 404, "headers": {}, "body": {"message": "404 File Not Found"}},
        ok(f"/projects/503/{lint_path}", lint(False, "", errors=["Please provide content of .gitlab-ci.yml"])),
        ok(f"/projects/504/{files}", ci_file(".gitlab-ci.yml", docs)),
        {"path": f"/projects/504/{lint_path}", **forbidden},
    ]


def audit_events():
    """Audit events: billing's authors were let approve their own merge requests a week ago (GitLab's recorded
    project event, names and times changed); the group's own log records nothing security-relevant; the others
    are quiet, but docs-site's token (a Reporter) cannot read its project's events. Each 30-day window is answered alike; the collector keeps each event once."""
    recorded = sample("gitlab4j-project-audit-events.json")[1]
    change = copy.deepcopy(recorded)
    change["id"] = 90211
    change["entity_id"] = 502
    change["details"].update(change="prevent merge request approval from authors", **{"from": "true", "to": "false"},
                             author_name="Erin", target_id=502, target_details="acme-demo/platform/billing",
                             entity_path="acme-demo/platform/billing")
    change["created_at"] = "{days_ago:7}"
    archived = copy.deepcopy(sample("gitlab4j-audit-events.json")[0])
    archived.update(id=90101, entity_id=4242, entity_type="Group", created_at="{days_ago:20}")
    archived["details"] = {"custom_message": "Group CI/CD settings viewed", "author_name": "Alice",
                           "target_id": 4242, "target_type": "Group", "target_details": "acme-demo",
                           "entity_path": "acme-demo"}
    window = "audit_events?created_after=*"
    return [
        ok(f"/groups/{GROUP_ID}/{window}", [archived]),
        ok(f"/projects/501/{window}", []),
        ok(f"/projects/502/{window}", [change]),
        ok(f"/projects/503/{window}", []),
        {"path": f"/projects/504/{window}", "status": 403, "headers": {}, "body": {"message": "403 Forbidden"}},
    ]


def codeowners():
    """CODEOWNERS: api-gateway's at the root names owners for the pipeline definition; billing's in docs/ has an
    entry without owners; storefront and docs-site have none (GitLab is asked at each of the three places)."""
    missing = {"status": 404, "headers": {}, "body": {"message": "404 File Not Found"}}
    where = lambda pid, path: f"/projects/{pid}/repository/files/{path.replace('/', '%2F')}?ref=main"
    gateway = "* @acme-demo/platform\n[Pipeline][2] @acme-demo/release-managers\n.gitlab-ci.yml\n/.gitlab/\n"
    billing = "* @acme-demo/billing-team\n[Infra]\n/terraform/\n"
    interactions = [ok(where(501, "CODEOWNERS"), ci_file("CODEOWNERS", gateway)),
                    {"path": where(502, "CODEOWNERS"), **missing},
                    ok(where(502, "docs/CODEOWNERS"), ci_file("docs/CODEOWNERS", billing))]
    for pid in (503, 504):
        interactions += [{"path": where(pid, path), **missing} for path in ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")]
    return interactions


def pushes():
    """The newest push event of each project: api-gateway, billing and storefront are pushed to every week;
    docs-site last saw a push ten months ago (GitLab's recorded event shape, names and times changed)."""
    def pushed(pid, who, days_ago):
        return [{"id": pid * 1000 + 1, "project_id": pid, "action_name": "pushed to", "target_id": None,
                 "target_type": None, "author_id": zlib.crc32(who.encode()) % 100000, "target_title": None,
                 "created_at": f"{{days_ago:{days_ago}}}", "author_username": who,
                 "push_data": {"commit_count": 1, "action": "pushed", "ref_type": "branch", "ref": "main"}}]
    return [ok(f"/projects/{pid}/events?action=pushed&sort=desc&per_page=1", pushed(pid, who, days))
            for pid, who, days in ((501, "carol", 2), (502, "erin", 3), (503, "dave", 1), (504, "frank", 300))]


def sast_runs():
    """The default branch's newest finished pipelines and their jobs (GitLab's recorded pipeline and job shapes,
    names and times changed): api-gateway's newest pipeline, yesterday, ran no SAST (its semgrep-sast job was
    cancelled before it wrote a report), the one before, two days ago, did; billing's configuration has no SAST job,
    so nothing is asked; storefront has never had a pipeline; docs-site's five newest pipelines only publish pages."""
    def job(pid, jid, name, stage, status, days_ago, pipeline_id, reports=()):
        body = copy.deepcopy(sample("gitlab4j-job.json"))
        artifacts = [{"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": None}]
        artifacts += [{"file_type": r, "size": 2048, "filename": f"gl-{r}-report.json", "file_format": "raw"}
                      for r in reports]
        body.update(id=jid, name=name, stage=stage, status=status, ref="main", tag=False, allow_failure=False,
                    artifacts=artifacts, artifacts_file=None, erased_at=None, failure_reason=None,
                    created_at=f"{{days_ago:{days_ago + 0.1}}}", started_at=f"{{days_ago:{days_ago + 0.05}}}",
                    finished_at=f"{{days_ago:{days_ago}}}", web_url=f"https://gitlab.example.com/-/jobs/{jid}")
        if status == "canceled":
            body.update(finished_at=None)
        body["pipeline"] = {"id": pipeline_id, "project_id": pid, "ref": "main", "sha": "6f1e2d3c", "status": "success"}
        body["project"] = {**body["project"], "id": pid}
        body.pop("user", None)
        return body

    def listing(pid, pipelines):
        return ok(f"/projects/{pid}/pipelines?ref=main&scope=finished&order_by=id&sort=desc&per_page=5",
                  [pipeline(pid, number, "carol", days) for number, days in pipelines])

    def jobs(pid, number, items):
        return ok(f"/projects/{pid}/pipelines/{number}/jobs?per_page={PER_PAGE}", items)

    docs = [(50410 - n, 2 + n) for n in range(5)]
    return [
        listing(501, [(50190, 1), (50189, 2)]),
        jobs(501, 50190, [job(501, 901901, "build", "build", "success", 1, 50190),
                          job(501, 901902, "semgrep-sast", "test", "canceled", 1, 50190)]),
        jobs(501, 50189, [job(501, 901891, "build", "build", "success", 2, 50189),
                          job(501, 901892, "semgrep-sast", "test", "success", 2, 50189, ["sast"])]),
        listing(503, []),
        listing(504, docs),
        *[jobs(504, number, [job(504, number * 10, "pages", "deploy", "success", days, number)]) for number, days in docs],
    ]


def ok(path, body, headers=None):
    return {"path": path, "status": 200, "headers": headers or {}, "body": body}


def main():
    interactions = [
        ok(f"/groups/acme-demo?with_projects=false", group()),
        ok("/metadata", {"version": "17.6.1-ee", "revision": "a5a9f7d1f4c", "kas": {"enabled": False}, "enterprise": True}),
        ok("/namespaces/acme-demo", {"id": GROUP_ID, "name": "Acme Demo", "path": "acme-demo", "kind": "group",
                                     "full_path": "acme-demo", "parent_id": None, "members_count_with_descendants": 9,
                                     "billable_members_count": 9, "plan": "premium", "trial": False}),
    ]
    # What `doctor` asks besides: the token (GitLab describes group access tokens here too), its user, its role.
    token = sample("go-gitlab-list_personal_access_tokens_single.json")
    token.update(name="pipeproof collector", scopes=["read_api"], user_id=9001)
    user = sample("go-gitlab-get_user.json")
    user.update(id=9001, username="group_4242_bot_pipeproof", name="pipeproof collector", bot=True)
    member = sample("scorecard-valid-repo-members.json")[0]
    member.update(id=9001, username="group_4242_bot_pipeproof", name="pipeproof collector", access_level=50)
    interactions += [ok("/personal_access_tokens/self", token), ok("/user", user),
                     ok(f"/groups/{GROUP_ID}/members/all/9001", member)]
    projects = [
        # Everything a reviewer hopes for.
        project(501, "acme-demo/platform/api-gateway", only_allow_merge_if_pipeline_succeeds=True,
                allow_merge_on_skipped_pipeline=False, only_allow_merge_if_all_discussions_are_resolved=True,
                merge_method="ff", package_registry_access_level="enabled", secret_push_protection_enabled=True),
        # Maintainers and a deploy key may push; authors approve their own merge requests; anyone may pull its
        # packages although the project is private.
        project(502, "acme-demo/platform/billing", only_allow_merge_if_pipeline_succeeds=True, merge_method="merge",
                package_registry_access_level="public", secret_push_protection_enabled=False),
        # Only release branches are protected.
        project(503, "acme-demo/web/storefront", only_allow_merge_if_pipeline_succeeds=False, merge_method="merge",
                allow_pipeline_trigger_approve_deployment=True, package_registry_access_level="private"),
        # The token is only a Reporter here: it cannot read the protection.
        project(504, "acme-demo/web/docs-site", merge_method="merge", package_registry_access_level="disabled"),
        # Archived: read-only, not asked about.
        project(505, "acme-demo/legacy-tools", archived=True),
    ]
    for field in ("only_allow_merge_if_pipeline_succeeds", "merge_method", "runners_token"):
        projects[3].pop(field, None)
    projects[3]["permissions"] = {"project_access": {"access_level": 20, "notification_level": 3}, "group_access": None}
    listing = f"/groups/{GROUP_ID}/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc"
    pages = [projects[i:i + PER_PAGE] for i in range(0, len(projects), PER_PAGE)]
    for number, items in enumerate(pages, start=1):
        query = f"{listing}&per_page={PER_PAGE}" + (f"&page={number}" if number > 1 else "")
        links = [f'<{{base}}{listing}&page=1&per_page={PER_PAGE}>; rel="first"',
                 f'<{{base}}{listing}&page={len(pages)}&per_page={PER_PAGE}>; rel="last"']
        if number < len(pages):
            links.insert(0, f'<{{base}}{listing}&per_page={PER_PAGE}&page={number + 1}>; rel="next"')
        headers = {"link": ", ".join(links), "x-page": str(number), "x-per-page": str(PER_PAGE),
                   "x-next-page": str(number + 1) if number < len(pages) else "", "x-total": str(len(projects)),
                   "x-total-pages": str(len(pages)), "ratelimit-limit": "2000", "ratelimit-remaining": str(1990 - number)}
        interactions.append(ok(query, items, headers))

    per = f"per_page={PER_PAGE}"
    interactions += [
        ok(f"/projects/501/protected_branches?{per}", [protected(501, "main", [{"access_level": 0}], [40], code_owners=True)]),
        ok("/projects/501/approvals", approvals(approvals_before_merge=0, reset_approvals_on_push=True,
                                                merge_requests_author_approval=False,
                                                merge_requests_disable_committers_approval=True,
                                                disable_overriding_approvers_per_merge_request=True)),
        ok(f"/projects/501/approval_rules?{per}", [approval_rule(5011, "All members", 2)]),
        ok("/projects/501/push_rule", push_rule(501, True)),

        ok(f"/projects/502/protected_branches?{per}",
           [protected(502, "main", [{"access_level": 40}, {"deploy_key_id": 77}], [40])]),
        ok("/projects/502/approvals", approvals(merge_requests_author_approval=True,
                                                disable_overriding_approvers_per_merge_request=True)),
        ok(f"/projects/502/approval_rules?{per}",
           [approval_rule(5021, "Billing owners", 1, rule_type="regular",
                          branches=[{"id": 5020, "name": "main"}])]),
        # GitLab answers a bare `null` for a project without a push rule.
        {"path": "/projects/502/push_rule", "status": 200, "headers": {}, "text": "null"},

        ok(f"/projects/503/protected_branches?{per}", [protected(503, "release/*", [{"access_level": 40}], [40], force=True)]),
        ok("/projects/503/approvals", approvals(reset_approvals_on_push=False,
                                                disable_overriding_approvers_per_merge_request=False)),
        ok(f"/projects/503/approval_rules?{per}", []),
        ok("/projects/503/push_rule", push_rule(503, False)),

        {"path": f"/projects/504/protected_branches?{per}", "status": 403, "headers": {}, "body": {"message": "403 Forbidden"}},
        {"path": "/projects/504/approvals", "status": 403, "headers": {}, "body": {"message": "403 Forbidden"}},
        {"path": f"/projects/504/approval_rules?{per}", "status": 403, "headers": {}, "body": {"message": "403 Forbidden"}},
        {"path": "/projects/504/push_rule", "status": 403, "headers": {}, "body": {"message": "403 Forbidden"}},
    ]
    interactions += members()
    interactions += integrations()
    interactions += merge_requests()
    interactions += deployments()
    interactions += variables()
    interactions += ci_configs()
    interactions += audit_events()
    interactions += codeowners()
    interactions += pushes()
    interactions += sast_runs()
    interactions += billable_members()
    cassette = {
        "description": "Recorded GitLab REST API responses for the fictional group acme-demo on a GitLab Premium "
                       "instance (bodies from gitlab4j's recorded test data in shared/samples/gitlab-api: group, "
                       "project, protected branch, approval settings, approval rule, push rule; names, ids and "
                       "settings changed by tools/gitlab_demo_cassette.py; environments, deployments and pipelines likewise). The listing was recorded with "
                       "per_page=2, so the five projects span three pages.",
        "interactions": interactions,
    }
    json.dump(cassette, sys.stdout, indent=1)
    sys.stdout.write("\n")


main()
