//! Kubernetes objects as exported (`kubectl get … -o yaml|json`): image admission policies, how workloads roll out
//! and who holds privileged roles, judged by DEP-04, DEP-05 and DEP-07. The manifests follow the Kyverno, Sigstore policy-controller, Argo Rollouts and
//! Flagger API references; no test touches a cluster.

use crate::common;

use std::path::Path;

use common::{evaluate_now, evaluated_verdict, pipeproof, store_texts};

/// Several YAML documents, as a GitOps repository or `kubectl get -o yaml` per kind would hold them.
const CLUSTER_YAML: &str = r#"# exported 2026-11-30
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: verify-acme-images
spec:
  validationFailureAction: Enforce
  background: false
  rules:
    - name: signed-by-release-workflow
      match:
        any:
          - resources:
              kinds: [Pod]
              namespaces: ["payments-prod", "web-*"]
      verifyImages:
        - imageReferences: ["ghcr.io/acme/*"]
          attestors:
            - entries:
                - keyless:
                    subject: "https://github.com/acme/*/.github/workflows/release.yml@refs/tags/*"
                    issuer: "https://token.actions.githubusercontent.com"
          attestations:
            - predicateType: https://slsa.dev/provenance/v1
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: third-party-images
spec:
  validationFailureAction: Audit
  rules:
    - name: vendor-key
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["docker.io/vendor/*"]
          attestors:
            - entries:
                - keys:
                    publicKeys: "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----"
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: payments-api
  namespace: payments-prod
spec:
  workloadRef:
    apiVersion: apps/v1
    kind: Deployment
    name: payments-api
  strategy:
    canary:
      steps:
        - setWeight: 10
        - analysis:
            templates:
              - templateName: success-rate
        - setWeight: 50
        - pause: { duration: 10m }
status:
  phase: Healthy
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments-prod
spec:
  replicas: 0
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: storefront
  namespace: web-prod
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: storefront
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange: { min: 99 }
      - name: request-duration
        thresholdRange: { max: 500 }
status:
  phase: Succeeded
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ledger
  namespace: ledger-prod
spec:
  strategy:
    type: RollingUpdate
---
apiVersion: v1
kind: Service
metadata:
  name: ledger
  namespace: ledger-prod
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: platform-admins
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: platform-admins
  - kind: ServiceAccount
    name: deployer
    namespace: ci
"#;

fn ingest(store: &Path, file: &Path) -> std::process::Output {
    pipeproof().arg("--store").arg(store).arg("ingest").arg(file).output().unwrap()
}

#[test]
fn exported_policies_workloads_and_bindings_decide_dep_04_05_and_07() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let file = dir.path().join("cluster.yaml");
    std::fs::write(&file, CLUSTER_YAML).unwrap();
    let output = ingest(&store, &file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}{}", stdout, String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("2 image verification rules, 4 workload rollouts, 2 role binding subjects"), "{stdout}");

    let rules = store_texts(
        &store,
        "SELECT concat_ws(' | ', policy, rule, enforced, array_to_string(authorities, ','), \
         array_to_string(attestations, ',')) FROM admission_policies ORDER BY policy",
    );
    assert_eq!(
        rules,
        [
            "ClusterPolicy/third-party-images | vendor-key | false | key | ",
            "ClusterPolicy/verify-acme-images | signed-by-release-workflow | true | keyless \
             https://token.actions.githubusercontent.com https://github.com/acme/*/.github/workflows/release.yml@refs/tags/* \
             | https://slsa.dev/provenance/v1",
        ]
    );

    let evaluation = evaluate_now(&store);
    let dep04 = |resource: &str| evaluated_verdict(&evaluation, "DEP-04", resource);
    let (status, reason) = dep04("kyverno ClusterPolicy/verify-acme-images rule signed-by-release-workflow");
    assert_eq!(status, "pass", "{reason}");
    assert!(reason.contains("with SLSA provenance in payments-prod, web-*"), "{reason}");
    assert_eq!(dep04("kyverno ClusterPolicy/third-party-images rule vendor-key").0, "fail", "audit mode");
    let (status, reason) = dep04("namespace ledger-prod");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("fail", "Runs 1 workload and no enforced rule that verifies images selects it")
    );

    let dep05 = |resource: &str| evaluated_verdict(&evaluation, "DEP-05", resource);
    let (status, reason) = dep05("Rollout payments-prod/payments-api");
    assert_eq!(status, "pass", "{reason}");
    assert!(reason.contains("canary analysed by success-rate"), "{reason}");
    let (status, reason) = dep05("Canary web-prod/storefront");
    assert_eq!(status, "pass", "{reason}");
    assert!(reason.contains("request-success-rate, request-duration"), "{reason}");
    assert_eq!(dep05("Deployment ledger-prod/ledger").0, "fail");
    let judged: Vec<&str> = evaluation
        .outcomes
        .iter()
        .find(|o| o.control_id == "DEP-05")
        .unwrap()
        .results
        .iter()
        .map(|r| r.resource.as_str())
        .collect();
    assert!(!judged.contains(&"Deployment payments-prod/payments-api"), "a Deployment a Rollout drives: {judged:?}");

    let (status, reason) = evaluated_verdict(&evaluation, "DEP-07", "cluster-wide");
    assert_eq!(status, "pass", "{reason}");
    assert_eq!(
        reason,
        "1 standing privileged binding of a person or group: group platform-admins (ClusterRole/cluster-admin); \
         and 1 service account"
    );
}

#[test]
fn a_kubectl_json_list_ingests_and_broken_yaml_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let list = dir.path().join("policies.json");
    std::fs::write(
        &list,
        r#"{"apiVersion": "v1", "kind": "List", "items": [
             {"apiVersion": "policy.sigstore.dev/v1beta1", "kind": "ClusterImagePolicy",
              "metadata": {"name": "release-signed"},
              "spec": {"mode": "warn", "images": [{"glob": "ghcr.io/acme/**"}],
                       "authorities": [{"keyless": {"identities": [{"issuer": "https://token.actions.githubusercontent.com",
                                                                    "subjectRegExp": "https://github.com/acme/.*"}]}}]}}]}"#,
    )
    .unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: [unclosed\n").unwrap();
    let output = pipeproof().arg("--store").arg(&store).arg("ingest").arg(&list).arg(&broken).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "one bad file fails the batch's exit code");
    assert!(stderr.contains("broken.yaml: invalid YAML") && stderr.contains("line"), "{stderr}");
    assert_eq!(
        store_texts(&store, "SELECT concat_ws(' | ', policy, mode, enforced) FROM admission_policies"),
        ["ClusterImagePolicy/release-signed | warn | false"],
        "the good file is kept"
    );
}
