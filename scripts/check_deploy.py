#!/usr/bin/env python3
"""Offline checks of deploy/kubernetes/ that a schema cannot make (run by scripts/check-deploy.sh).

- The CRD examples in deploy/kubernetes/optional/ (ExternalSecret, ServiceMonitor): kubernetes-validate ships only
  the built-in API schemas, so for these we check the shape we rely on (apiVersion, kind, names, the keys they sync).
- The ConfigMap's gatehouse.yaml is written out together with the Secrets' files (as the kubelet would mount them)
  into a scratch directory, so that `gatehouse check` can validate it with the key files present.
- Every secret file the config names is mounted by the Deployment from a Secret that has that key, and the ConfigMap
  is mounted as a directory (no subPath: subPath mounts never see updates, which would break hot reload).

Usage: check_deploy.py DEPLOY_DIR SCRATCH_DIR  -> prints the config path to check and the env to check it with.
"""
import pathlib
import re
import sys

import yaml


def load_all(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def fail(msg):
    print(f"check_deploy: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    deploy, scratch = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    docs = [d for f in sorted(deploy.glob("*.yaml")) for d in load_all(f)]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d

    # --- CRD examples ---------------------------------------------------------------------------------------------
    crds = {d["kind"]: d for f in sorted((deploy / "optional").glob("*.yaml")) for d in load_all(f)}
    es = crds.get("ExternalSecret") or fail("optional/: no ExternalSecret")
    if not es["apiVersion"].startswith("external-secrets.io/"):
        fail(f"ExternalSecret apiVersion {es['apiVersion']}")
    target = es["spec"]["target"]["name"]
    secret = by_kind["Secret"].get(target) or fail(f"ExternalSecret targets {target}, which secret.yaml lacks")
    synced = {e["secretKey"] for e in es["spec"]["data"]}
    if synced != set(secret["stringData"]):
        fail(f"ExternalSecret syncs {sorted(synced)}, the Secret holds {sorted(secret['stringData'])}")
    sm = crds.get("ServiceMonitor") or fail("optional/: no ServiceMonitor")
    if not sm["apiVersion"].startswith("monitoring.coreos.com/"):
        fail(f"ServiceMonitor apiVersion {sm['apiVersion']}")
    sel = sm["spec"]["selector"]["matchLabels"]
    svcs = [s for s in by_kind["Service"].values() if sel.items() <= s["metadata"].get("labels", {}).items()]
    if len(svcs) != 1 or sm["spec"]["endpoints"][0]["port"] not in {p["name"] for p in svcs[0]["spec"]["ports"]}:
        fail("ServiceMonitor does not select exactly one Service with its port")

    # --- Deployment mounts ----------------------------------------------------------------------------------------
    dep = by_kind["Deployment"]["gatehouse"]
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {}
    for m in container["volumeMounts"]:
        if "subPath" in m:
            fail(f"volume {m['name']} is mounted with subPath: its updates would never reach the pod")
        mounts[m["mountPath"]] = volumes[m["name"]]
    grace = pod["terminationGracePeriodSeconds"]
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]

    # --- The config and the files it reads -------------------------------------------------------------------------
    cm_mount = next((p for p, v in mounts.items() if v.get("configMap", {}).get("name") == "gatehouse-config"), None)
    cm_mount or fail("the gatehouse-config ConfigMap is not mounted")
    text = by_kind["ConfigMap"]["gatehouse-config"]["data"]["gatehouse.yaml"]
    cfg = yaml.safe_load(text)
    drain = cfg["server"]["drain_timeout"]
    if not drain.endswith("s") or pre_stop + int(drain[:-1]) >= grace:
        fail(f"preStop {pre_stop}s + drain_timeout {drain} must stay below terminationGracePeriodSeconds {grace}")
    secrets_root = "/var/run/secrets/gatehouse"
    for ref in re.findall(r'\$\{GATEHOUSE_SECRETS_DIR:-' + secrets_root + r'\}(/[^"]+)', text):
        path = secrets_root + ref
        mount = max((p for p in mounts if path.startswith(p + "/")), key=len, default=None)
        mount or fail(f"{path} is not under any volume mount")
        secret_name = mounts[mount].get("secret", {}).get("secretName") or fail(f"{mount} is not a Secret")
        key = path[len(mount) + 1:]
        data = by_kind["Secret"][secret_name]["stringData"]
        key in data or fail(f"Secret {secret_name} has no key {key} (the config reads {path})")
        out = scratch / "secrets" / ref.lstrip("/")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(data[key])
    config_path = scratch / "gatehouse.yaml"
    config_path.write_text(text)
    env = {e["name"]: e for e in container["env"]}
    mcp = by_kind["Secret"]["gatehouse-mcp"]["stringData"]["session-key"]
    if env["GATEHOUSE_MCP_SESSION_KEY"]["valueFrom"]["secretKeyRef"]["name"] != "gatehouse-mcp":
        fail("GATEHOUSE_MCP_SESSION_KEY does not come from the gatehouse-mcp Secret")
    print(config_path)
    print(f"GATEHOUSE_SECRETS_DIR={scratch / 'secrets'}")
    print(f"REDIS_URL={env['REDIS_URL']['value']}")
    print(f"GATEHOUSE_MCP_SESSION_KEY={mcp}")


if __name__ == "__main__":
    main()
