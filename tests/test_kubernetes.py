"""The Kubernetes manifests (deploy/kubernetes/): valid against Kubernetes' own schemas, offline
and strict (kubernetes-validate: an unknown or misspelt field fails), and the pieces deploy/stack.sh
starts, with its supervisor's and its balancer's settings: every pod started again whatever its
exit status, a worker group per backend record, replicas sent visitors only while
/_stcore/health answers, every replica and worker on one cache at one path."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from explainer.backends import BACKENDS
from explainer.pools import SCHEDULER_VARIABLE

MANIFESTS = Path(__file__).parents[1] / "deploy" / "kubernetes"
KUBERNETES = "1.33.0"  # the version whose schemas they are checked against
DOCUMENTS = [document for path in sorted(MANIFESTS.glob("*.yaml")) for document in yaml.safe_load_all(path.read_text())]
DEPLOYMENTS = {document["metadata"]["name"]: document for document in DOCUMENTS if document["kind"] == "Deployment"}


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def environment(deployment: dict) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in container(deployment).get("env", [])}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: f"{document['kind']} {document['metadata']['name']}")
def test_every_manifest_is_valid_kubernetes(document):
    kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_the_pieces_of_the_stack_are_started_again_whatever_their_exit_status():
    assert {name.removeprefix("explainer-") for name in DEPLOYMENTS} == {
        "scheduler",
        "replica",
        *(f"worker-{backend}" for backend in BACKENDS),
    }
    for deployment in DEPLOYMENTS.values():
        assert deployment["spec"]["template"]["spec"]["restartPolicy"] == "Always"


def test_each_worker_group_serves_its_backend_only():
    for backend in BACKENDS:
        worker = DEPLOYMENTS[f"explainer-worker-{backend}"]
        command = container(worker)["command"]
        assert environment(worker)["KERAS_BACKEND"] == backend
        assert command[command.index("--resources") + 1] == f"{backend}=1"
        assert command[command.index("--preload") + 1] == "explainer.worker.dask_start"


def test_replicas_get_visitors_only_while_healthy_and_train_on_the_scheduler():
    replica = DEPLOYMENTS["explainer-replica"]
    assert container(replica)["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    (service,) = [doc for doc in DOCUMENTS if doc["kind"] == "Service" and doc["metadata"]["name"] == "explainer-scheduler"]
    address = f"tcp://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"
    assert environment(replica)[SCHEDULER_VARIABLE] == address
    for backend in BACKENDS:
        assert address in container(DEPLOYMENTS[f"explainer-worker-{backend}"])["command"]


def test_every_replica_and_worker_sees_one_cache_at_one_path():
    seen = set()
    for name, deployment in DEPLOYMENTS.items():
        if name == "explainer-scheduler":
            continue
        (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
        (mount,) = container(deployment)["volumeMounts"]
        assert mount["name"] == volume["name"]
        seen.add(
            (volume["persistentVolumeClaim"]["claimName"], mount["mountPath"], environment(deployment)["EXPLAINER_CACHE_DIR"])
        )
    ((claim, path, cache),) = seen
    assert path == cache
