#!/usr/bin/env python3
"""Offline checks of the deployment files: Dockerfile, docker-compose.yml and deploy/.

- every YAML file under deploy/, docker-compose.yml and examples/ parses;
- `kubectl kustomize` renders each kustomization under deploy/ (skipped with a note without kubectl);
- every `broadcast <command> --flag` in docker-compose.yml and the Kubernetes manifests exists in the
  CLI, read from Sources/broadcast/*.swift (commandName, subcommands, @Option/@Flag with
  .customLong or camelCase → kebab-case, @OptionGroup), per command, not as one global set;
- BROADCAST_* environment names used there are ones the CLI reads; every tokenEnv/apiKeyEnv of a
  devices file is provided; the metrics port, probes, grace periods, topics, consumer group and
  autoscalers agree with each other and with the CLI's defaults;
- the fake WhatsApp endpoint answers like the Cloud API; the topic script and Dockerfile have what
  they must.

Prints one line per check and ends with `N passed, M failed`; exits 1 when anything failed.
Needs: python3 with PyYAML (pip install pyyaml); kubectl optional.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("check-deploy: PyYAML is missing: python3 -m pip install pyyaml")

ROOT = Path(__file__).resolve().parent.parent
CLI_DIR = ROOT / "Sources" / "broadcast"
DEPLOY = ROOT / "deploy"
COMPOSE = ROOT / "docker-compose.yml"
SHUTDOWN_MARGIN_SECONDS = 10

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name}" + (f": {detail}" if detail else ""))
    return ok


def note(text):
    print(f"note  {text}")


def rel(path):
    return str(Path(path).relative_to(ROOT))


# ---------------------------------------------------------------------------------------------------
# The CLI, read from its Swift sources.

def strip_swift(text):
    """Blanks out comments and string contents (keeping string delimiters and offsets), so braces
    and parentheses can be matched. Returns (code, strings) where strings maps offset → literal."""
    out = list(text)
    strings = {}
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            j = n if j < 0 else j
            strings[i] = text[i + 3:j]
            for k in range(i + 3, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 3
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            strings[i] = text[i + 1:j]
            for k in range(i + 1, min(j, n)):
                out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out), strings


def matching(code, start, open_ch, close_ch):
    depth = 0
    for i in range(start, len(code)):
        if code[i] == open_ch:
            depth += 1
        elif code[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
    return len(code) - 1


def kebab(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def read_cli():
    """Returns (root command name, {type: info}) with info = commandName, subcommands, flags,
    groups (option group types), defaults {property: literal}."""
    types = {}
    env_names = set()
    for path in sorted(CLI_DIR.glob("*.swift")):
        text = path.read_text(encoding="utf-8")
        env_names |= set(re.findall(r"\bBROADCAST_[A-Z0-9_]+\b", text))
        code, strings = strip_swift(text)

        def literal(pos):  # the string literal starting at or after pos
            for off in sorted(strings):
                if off >= pos:
                    return strings[off]
            return None

        decls = []
        for m in re.finditer(r"\b(?:struct|enum|final\s+class|class)\s+(\w+)[^{]*\{", code):
            end = matching(code, m.end() - 1, "{", "}")
            decls.append((m.group(1), m.end() - 1, end))

        def owner(pos):
            inside = [d for d in decls if d[1] < pos < d[2]]
            return min(inside, key=lambda d: d[2] - d[1])[0] if inside else None

        for name, start, end in decls:
            types.setdefault(name, {"commandName": None, "subcommands": [], "flags": set(), "groups": [],
                                    "defaults": {}, "file": path.name})
        for m in re.finditer(r"CommandConfiguration\s*\(", code):
            t = owner(m.start())
            close = matching(code, m.end() - 1, "(", ")")
            body = code[m.end():close]
            cn = re.search(r"commandName\s*:\s*\"", body)
            if t and cn:
                types[t]["commandName"] = literal(m.end() + cn.end() - 1)
            sc = re.search(r"subcommands\s*:\s*\[([^\]]*)\]", body)
            if t and sc:
                types[t]["subcommands"] = [s.split(".")[-1] for s in re.findall(r"([\w.]+)\.self", sc.group(1))]
        for m in re.finditer(r"@(Option|Flag|OptionGroup|Argument)\b", code):
            t = owner(m.start())
            if not t:
                continue
            pos = m.end()
            args = ""
            rest = code[pos:]
            if rest.lstrip().startswith("("):
                p = pos + (len(rest) - len(rest.lstrip()))
                close = matching(code, p, "(", ")")
                args = text[p:close + 1]
                pos = close + 1
            v = re.match(r"\s*(?:(?:public|private|internal|fileprivate|lazy)\s+)*var\s+(\w+)\s*(?::\s*([\w.?\[\]]+))?\s*(?:=\s*([^\n]+))?", code[pos:])
            if not v:
                continue
            prop, typ, default = v.group(1), v.group(2), v.group(3)
            kind = m.group(1)
            if kind == "OptionGroup":
                if typ:
                    types[t]["groups"].append(typ.rstrip("?"))
                continue
            if kind == "Argument":
                continue
            if default:
                types[t]["defaults"][prop] = text[pos:].split("\n", 1)[0].split("=", 1)[-1].strip()
            names = set()
            for c in re.findall(r"\.customLong\(\s*\"([^\"]+)\"", args):
                names.add("--" + c)
            for c in re.findall(r"\.customShort\(\s*\"(.)\"", args):
                names.add("-" + c)
            explicit = re.search(r"name\s*:", args)
            if not explicit or re.search(r"\.(long|shortAndLong)\b", args):
                names.add("--" + kebab(prop))
            if re.search(r"\.(short|shortAndLong)\b", args):
                names.add("-" + prop[0])
            if kind == "Flag" and "prefixedNo" in args:
                names |= {"--no-" + n[2:] for n in list(names) if n.startswith("--")}
            if kind == "Flag" and "prefixedEnableDisable" in args:
                base = [n[2:] for n in names if n.startswith("--")]
                names = {f"--enable-{b}" for b in base} | {f"--disable-{b}" for b in base}
            types[t]["flags"] |= names
    roots = [t for t, i in types.items() if i["commandName"] == "broadcast"]
    return (roots[0] if roots else None), types, env_names


def flags_of(types, t, seen=None):
    seen = seen or set()
    if t not in types or t in seen:
        return set()
    seen.add(t)
    out = set(types[t]["flags"]) | {"--help", "-h"}
    for g in types[t]["groups"]:
        out |= flags_of(types, g, seen)
    return out


def default_of(types, t, prop):
    if t in types and prop in types[t]["defaults"]:
        return types[t]["defaults"][prop]
    for g in (types.get(t) or {}).get("groups", []):
        d = default_of(types, g, prop)
        if d is not None:
            return d
    return None


def resolve(types, root, argv):
    """Walks argv (without the program name) down the command tree. Returns (type, path, flags used
    as [(flag, value)], problems)."""
    t, path, i = root, ["broadcast"], 0
    while i < len(argv):
        subs = {types[s]["commandName"] or kebab(s): s for s in types[t]["subcommands"] if s in types}
        if argv[i] in subs:
            t = subs[argv[i]]
            path.append(argv[i])
            i += 1
        else:
            break
    if types[t]["subcommands"]:
        return t, path, [], [f"'{' '.join(path)}' needs a subcommand; '{argv[i] if i < len(argv) else ''}' is not one of {sorted(types[s]['commandName'] or s for s in types[t]['subcommands'] if s in types)}"]
    used = []
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a != "-":
            flag, _, inline = a.partition("=")
            value = inline or (argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else None)
            used.append((flag, value))
        i += 1
    return t, path, used, []


# ---------------------------------------------------------------------------------------------------

def load_yaml_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def broadcast_invocations(rendered=None):
    """(where, argv, env names, container) for every broadcast container in compose, the manifests
    and the rendered kustomizations (so flags added by patches are checked too)."""
    found = []
    compose = load_yaml_all(COMPOSE)[0]
    for name, svc in compose.get("services", {}).items():
        image = str(svc.get("image", ""))
        if not (image.split(":")[0].endswith("broadcast") or svc.get("build")):
            continue
        cmd = svc.get("command") or []
        if isinstance(cmd, str):
            cmd = cmd.split()
        entry = svc.get("entrypoint")
        if entry:
            entry = entry.split() if isinstance(entry, str) else entry
            if not entry[-1].endswith("broadcast"):
                continue
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
        found.append((f"docker-compose.yml services.{name}", [str(c) for c in cmd], env, svc))
    sources = [(rel(path), load_yaml_all(path)) for path in sorted(DEPLOY.rglob("*.y*ml"))]
    sources += [(f"kustomize {name}", docs) for name, docs in sorted((rendered or {}).items())]
    for where, docs in sources:
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("kind") not in ("Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"):
                continue
            spec = doc.get("spec", {})
            if doc["kind"] == "CronJob":
                spec = spec.get("jobTemplate", {}).get("spec", {})
            pod = spec.get("template", {}).get("spec", {})
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                image = str(c.get("image", "")).split(":")[0]
                command = c.get("command") or []
                if not (image.endswith("broadcast") or (command and str(command[0]).endswith("broadcast"))):
                    continue
                argv = [str(a) for a in (command[1:] if command else []) + (c.get("args") or [])]
                env = {e["name"]: e.get("value") for e in c.get("env", [])}
                found.append((f"{where} {doc['metadata']['name']}/{c['name']}", argv, env, {"container": c, "pod": pod, "doc": doc}))
    return found


def main():
    os.chdir(ROOT)

    # 1. YAML parses.
    files = sorted(set(DEPLOY.rglob("*.yaml")) | set(DEPLOY.rglob("*.yml")) | {COMPOSE}
                   | set((ROOT / "examples").rglob("*.yaml")) | set((ROOT / "examples").rglob("*.yml")))
    for path in files:
        try:
            load_yaml_all(path)
            check(f"yaml parses: {rel(path)}", True)
        except (yaml.YAMLError, OSError) as error:
            check(f"yaml parses: {rel(path)}", False, str(error).replace("\n", " "))

    # 2. kustomize renders.
    rendered = {}
    kustomizations = sorted(p.parent for p in DEPLOY.rglob("kustomization.yaml"))
    kubectl = shutil.which("kubectl")
    for k in kustomizations:
        kind = (load_yaml_all(k / "kustomization.yaml") or [{}])[0].get("kind")
        if kind == "Component":
            continue  # rendered through the overlays that use it
        if not kubectl:
            note(f"kubectl is not on PATH: `kubectl kustomize {rel(k)}` not checked")
            continue
        run = subprocess.run([kubectl, "kustomize", str(k)], capture_output=True, text=True, timeout=120)
        if check(f"kubectl kustomize {rel(k)} renders", run.returncode == 0, run.stderr.strip()[:400]):
            rendered[rel(k)] = [d for d in yaml.safe_load_all(run.stdout) if d]

    # 3. The CLI.
    root, types, cli_env = read_cli()
    check("CLI read from Sources/broadcast/*.swift", root is not None and len(types) > 3,
          "no command with commandName \"broadcast\" found")
    if root is None:
        return finish()
    commands = []

    def walk(t, path):
        commands.append(" ".join(path))
        for s in types[t]["subcommands"]:
            if s in types:
                walk(s, path + [types[s]["commandName"] or kebab(s)])
    walk(root, ["broadcast"])
    print(f"      CLI commands: {', '.join(commands[1:])}")
    print(f"      CLI env names: {', '.join(sorted(cli_env))}")

    # 4. Every broadcast invocation against the CLI.
    invocations = broadcast_invocations(rendered)
    check("broadcast containers found in compose and manifests", len(invocations) >= 4, f"{len(invocations)} found")
    worker_type = None
    for where, argv, env, ctx in invocations:
        t, path, used, problems = resolve(types, root, argv)
        if problems:
            check(f"{where}: command `broadcast {' '.join(a for a in argv[:2] if not a.startswith('-'))}` exists", False, "; ".join(problems))
            continue
        check(f"{where}: command `{' '.join(path)}` exists", True)
        known = flags_of(types, t)
        for flag, _ in used:
            check(f"{where}: `{' '.join(path)} {flag}` exists", flag in known,
                  f"not an option of `{' '.join(path)}` (known: {' '.join(sorted(known))})")
        for name in env:
            if name.startswith("BROADCAST_"):
                check(f"{where}: env {name} is read by the CLI", name in cli_env, f"the CLI reads {sorted(cli_env)}")
        if path[-1] == "worker":
            worker_type = t
            check_worker(where, dict(used), ctx, types, t)

    # Env names in ConfigMaps (envFrom) and the compose anchors.
    for path in sorted(DEPLOY.rglob("*.y*ml")):
        for doc in load_yaml_all(path):
            if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
                for name in (doc.get("data") or {}):
                    if name.startswith("BROADCAST_"):
                        check(f"{rel(path)} ConfigMap key {name} is read by the CLI", name in cli_env, f"the CLI reads {sorted(cli_env)}")

    check_devices_files(invocations)
    check_topics_and_scaling(rendered, types, worker_type)
    check_compose(types, worker_type)
    check_dockerfile()
    check_fake_whatsapp()
    return finish()


def check_worker(where, used, ctx, types, t):
    grace_default = default_of(types, t, "shutdownGraceSeconds")
    grace = int(used.get("--shutdown-grace-seconds") or (grace_default or "20").replace("_", ""))
    if "container" in ctx:  # Kubernetes
        c, pod = ctx["container"], ctx["pod"]
        port = used.get("--metrics-port")
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        check(f"{where}: --metrics-port {port} is the containerPort named metrics", port is not None and str(ports.get("metrics")) == str(port),
              f"ports {ports}")
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = (c.get(probe) or {}).get("httpGet", {})
            check(f"{where}: {probe} GET {path} on the metrics port", get.get("path") == path and get.get("port") in ("metrics", ports.get("metrics")),
                  f"{probe} is {get}")
        tgps = pod.get("terminationGracePeriodSeconds", 30)
        check(f"{where}: terminationGracePeriodSeconds {tgps} ≥ shutdown grace {grace} s + {SHUTDOWN_MARGIN_SECONDS} s",
              tgps >= grace + SHUTDOWN_MARGIN_SECONDS)
        check(f"{where}: resources requests and limits set", bool(c.get("resources", {}).get("requests")) and bool(c.get("resources", {}).get("limits")))
        check(f"{where}: runs as non-root", (pod.get("securityContext") or {}).get("runAsNonRoot") is True)
    else:  # compose
        svc = ctx
        sgp = str(svc.get("stop_grace_period", "10s"))
        m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", sgp)
        seconds = (int(m.group(1) or 0) * 60 + int(m.group(2) or 0)) if m else 0
        check(f"{where}: stop_grace_period {sgp} ≥ shutdown grace {grace} s + {SHUTDOWN_MARGIN_SECONDS} s", seconds >= grace + SHUTDOWN_MARGIN_SECONDS)
        check(f"{where}: deploy.replicas is 3", (svc.get("deploy") or {}).get("replicas") == 3)
        check(f"{where}: no container_name (replicas need generated names)", "container_name" not in svc)


def devices_env_names(path):
    doc = load_yaml_all(path)[0]
    names = set()
    for d in doc.get("devices") or []:
        for key in ("tokenEnv", "apiKeyEnv"):
            if d.get(key):
                names.add(d[key])
        for key in ("token", "apiKey"):
            if key in d:
                names.add("!secret-in-file")
    return names


def check_devices_files(invocations):
    compose = load_yaml_all(COMPOSE)[0]
    worker = compose["services"]["worker"]
    for vol in worker.get("volumes", []):
        src = vol.split(":")[0]
        if src.endswith(".yaml"):
            names = devices_env_names(ROOT / src)
            env = worker.get("environment") or {}
            check(f"docker-compose.yml worker env provides every tokenEnv/apiKeyEnv of {src}",
                  "!secret-in-file" not in names and names <= set(env), f"missing {sorted(names - set(env))}")
    base_devices = DEPLOY / "base" / "devices.yaml"
    example = DEPLOY / "base" / "secret.example.yaml"
    if base_devices.exists() and example.exists():
        names = devices_env_names(base_devices)
        keys = set()
        for doc in load_yaml_all(example):
            if doc.get("metadata", {}).get("name") == "broadcast-device-tokens":
                keys = set(doc.get("stringData") or {}) | set(doc.get("data") or {})
        check("deploy/base/secret.example.yaml has a key for every tokenEnv/apiKeyEnv of base/devices.yaml",
              "!secret-in-file" not in names and names <= keys, f"missing {sorted(names - keys)}")
        listed = json.dumps(load_yaml_all(DEPLOY / "base" / "kustomization.yaml"))
        check("secret.example.yaml is not part of the kustomization", "secret.example" not in listed)
        for path in sorted(DEPLOY.rglob("*.y*ml")):
            if path.name == "secret.example.yaml":
                continue
            for doc in load_yaml_all(path):
                if isinstance(doc, dict) and doc.get("kind") == "Secret" and (doc.get("data") or doc.get("stringData")):
                    check(f"{rel(path)}: no Secret with values in deploy/", False)


def topic_names():
    text = (ROOT / "Sources" / "BroadcastModel" / "TopicNames.swift").read_text(encoding="utf-8")
    return dict(re.findall(r"var (\w+): String \{ prefix \+ \"([\w.]+)\" \}", text))


def check_topics_and_scaling(rendered, types, worker_type):
    names = topic_names()
    compacted = {
        names.get("optOuts", "broadcast.optouts"), names.get("control", "broadcast.control"),
        names.get("devices", "broadcast.devices"),
    }
    messages = names.get("messages", "broadcast.messages")
    group = (default_of(types, worker_type, "group") or '"broadcast-workers"').strip('"') if worker_type else "broadcast-workers"

    topics = {}
    for doc in load_yaml_all(DEPLOY / "strimzi" / "topics.yaml"):
        if doc.get("kind") == "KafkaTopic":
            topics[doc["spec"].get("topicName", doc["metadata"]["name"])] = doc["spec"]
    check("Strimzi KafkaTopics cover every topic of TopicNames.swift", set(names.values()) <= set(topics),
          f"missing {sorted(set(names.values()) - set(topics))}")
    for t in sorted(compacted):
        check(f"KafkaTopic {t} has cleanup.policy=compact", (topics.get(t, {}).get("config") or {}).get("cleanup.policy") == "compact")
    script = (DEPLOY / "compose" / "create-topics.sh").read_text(encoding="utf-8")
    for t in sorted(names.values()):
        bare = t
        line = next((l for l in script.splitlines() if re.match(rf"\s*create\s+{re.escape(bare)}\s", l)), None)
        check(f"compose create-topics.sh creates {t}", line is not None)
        if line and t in compacted:
            check(f"compose create-topics.sh makes {t} compacted", "cleanup.policy=compact" in line)
    bash = shutil.which("bash")
    if bash:
        run = subprocess.run([bash, "-n", str(DEPLOY / "compose" / "create-topics.sh")], capture_output=True, text=True)
        check("deploy/compose/create-topics.sh is valid bash", run.returncode == 0, run.stderr.strip())

    partitions = topics.get(messages, {}).get("partitions", 0)
    for overlay, docs in sorted(rendered.items()):
        by_kind = {}
        for d in docs:
            by_kind.setdefault(d["kind"], []).append(d)
        scaled = [s for s in by_kind.get("ScaledObject", []) if s["spec"]["scaleTargetRef"]["name"] == "broadcast-worker"]
        hpas = [h for h in by_kind.get("HorizontalPodAutoscaler", []) if h["spec"]["scaleTargetRef"]["name"] == "broadcast-worker"]
        if not (scaled or hpas):
            continue
        check(f"{overlay}: one autoscaler on broadcast-worker (ScaledObject or HPA, not both)", len(scaled) + len(hpas) == 1,
              f"{len(scaled)} ScaledObject, {len(hpas)} HPA")
        worker = next((d for d in by_kind.get("Deployment", []) if d["metadata"]["name"] == "broadcast-worker"), None)
        check(f"{overlay}: autoscaled Deployment has no fixed spec.replicas", worker is not None and "replicas" not in worker["spec"])
        config = next((d for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == "broadcast-config"), {"data": {}})
        prefix = config["data"].get("BROADCAST_TOPIC_PREFIX", "")
        for s in scaled:
            maximum = s["spec"].get("maxReplicaCount", 100)
            check(f"{overlay}: ScaledObject maxReplicaCount {maximum} ≤ {messages} partitions {partitions}", maximum <= partitions)
            for trig in s["spec"]["triggers"]:
                if trig["type"] != "kafka":
                    continue
                md = trig["metadata"]
                check(f"{overlay}: KEDA topic is {prefix + messages}", md.get("topic") == prefix + messages, md.get("topic"))
                check(f"{overlay}: KEDA consumerGroup is the workers' group {group}", md.get("consumerGroup") == group, md.get("consumerGroup"))
                check(f"{overlay}: KEDA bootstrapServers equal BROADCAST_BOOTSTRAP_SERVERS", md.get("bootstrapServers") == config["data"].get("BROADCAST_BOOTSTRAP_SERVERS"),
                      f"{md.get('bootstrapServers')} vs {config['data'].get('BROADCAST_BOOTSTRAP_SERVERS')}")
                check(f"{overlay}: KEDA lagThreshold set", "lagThreshold" in md)
        for h in hpas:
            check(f"{overlay}: HPA maxReplicas {h['spec']['maxReplicas']} ≤ {messages} partitions {partitions}", h["spec"]["maxReplicas"] <= partitions)
        pdbs = [p for p in by_kind.get("PodDisruptionBudget", []) if p["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/name") == "broadcast-worker"]
        check(f"{overlay}: PodDisruptionBudget covers the workers", len(pdbs) == 1)


def compose_cli():
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def check_compose(types, worker_type):
    cli = compose_cli()
    if cli:
        run = subprocess.run(cli + ["-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, timeout=120)
        check(f"`{' '.join(Path(c).name for c in cli)} config` accepts docker-compose.yml", run.returncode == 0, run.stderr.strip()[:400])
    else:
        note("neither `docker compose` nor docker-compose is installed: compose schema not checked")
    compose = load_yaml_all(COMPOSE)[0]
    services = compose.get("services", {})
    for name, svc in services.items():
        for dep in (svc.get("depends_on") or {}):
            check(f"docker-compose.yml {name} depends on an existing service {dep}", dep in services)
    kafka = services.get("kafka", {})
    env = kafka.get("environment") or {}
    check("compose kafka runs in KRaft mode (process roles, quorum voters, no ZooKeeper)",
          "broker" in str(env.get("KAFKA_PROCESS_ROLES")) and "controller" in str(env.get("KAFKA_PROCESS_ROLES"))
          and "KAFKA_CONTROLLER_QUORUM_VOTERS" in env and not any("ZOOKEEPER" in k for k in env))
    cid = str(env.get("CLUSTER_ID", ""))
    check("compose kafka CLUSTER_ID is a base64 16-byte id", re.fullmatch(r"[A-Za-z0-9_-]{22}", cid) is not None, cid)
    listeners = {l.split("://")[0] for l in str(env.get("KAFKA_LISTENERS", "")).split(",")}
    protomap = {l.split(":")[0] for l in str(env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "")).split(",")}
    check("compose kafka listeners all have a security protocol", listeners <= protomap, f"{listeners} vs {protomap}")
    boot = {v.get("BROADCAST_BOOTSTRAP_SERVERS") for v in [s.get("environment") or {} for s in services.values()] if v.get("BROADCAST_BOOTSTRAP_SERVERS")}
    advertised = str(env.get("KAFKA_ADVERTISED_LISTENERS", ""))
    check("compose BROADCAST_BOOTSTRAP_SERVERS is an advertised listener", all(b.split(":")[0] in advertised and b in advertised.replace("PLAINTEXT://", "") for b in boot), f"{boot}")
    for needed in ("topics", "fake-whatsapp", "worker", "status", "publish"):
        check(f"docker-compose.yml has service {needed}", needed in services)
    for name, svc in services.items():
        for vol in svc.get("volumes", []) or []:
            src = vol.split(":")[0]
            if src.startswith("./"):
                check(f"docker-compose.yml {name} mounts existing {src}", (ROOT / src).exists())
    publish = services.get("publish", {})
    cmd = publish.get("command") or []
    campaign = next((c for c in cmd if str(c).endswith((".yaml", ".yml", ".json"))), None)
    if campaign:
        host = None
        for vol in publish.get("volumes", []):
            src, dst = vol.split(":")[:2]
            if campaign == dst or campaign.startswith(dst.rstrip("/") + "/"):
                host = ROOT / (src + campaign[len(dst):])
        check(f"compose publish campaign {campaign} is mounted from the repository", host is not None and host.exists())
        if host and host.exists():
            doc = load_yaml_all(host)[0]
            rec = str(doc.get("recipients", ""))
            mounted = any(rec.startswith(v.split(":")[1].rstrip("/") + "/") and (ROOT / (v.split(":")[0] + rec[len(v.split(":")[1]):])).exists()
                          for v in publish.get("volumes", []))
            check(f"compose demo campaign recipients {rec} is mounted", mounted)
            devices_file = ROOT / "deploy" / "compose" / "devices.yaml"
            ids = {d["id"] for d in load_yaml_all(devices_file)[0].get("devices", [])}
            check("compose demo campaign devices are routed by deploy/compose/devices.yaml", set(doc.get("devices", [])) <= ids)
            hosts = {re.sub(r"^https?://([^:/]+).*", r"\1", d.get("baseURL", "")) for d in load_yaml_all(devices_file)[0].get("devices", [])}
            check("compose devices point at the fake-whatsapp service", hosts == {"fake-whatsapp"}, f"{hosts}")


def check_dockerfile():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    check("Dockerfile builds on an official swift bookworm image", any(s.startswith("swift:") and "bookworm" in s.replace("${DEBIAN_RELEASE}", "bookworm") for s in stages), f"{stages}")
    check("Dockerfile runs on debian bookworm-slim", any(s.startswith("debian:") and "slim" in s for s in stages), f"{stages}")
    check("Dockerfile installs librdkafka-dev to build and librdkafka1 to run", "librdkafka-dev" in text and "librdkafka1" in text)
    check("Dockerfile builds release with --static-swift-stdlib", re.search(r"swift build -c release --static-swift-stdlib", text) is not None)
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    check("Dockerfile runs as a non-root user", bool(users) and users[-1].split(":")[0] not in ("root", "0"))
    check("Dockerfile ENTRYPOINT is broadcast", re.search(r'^ENTRYPOINT\s+\["broadcast"\]', text, re.M) is not None)
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    check(".dockerignore leaves out .build* and .git", ".build*" in ignore and ".git" in ignore)


def check_fake_whatsapp():
    server = DEPLOY / "fake-whatsapp" / "server.py"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(server), str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "FAKE_FAILURE_RATE": "0"})
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        body = json.dumps({"messaging_product": "whatsapp", "to": "+60123456701", "type": "text", "text": {"body": "hi"}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v21.0/100000000000001/messages", data=body, method="POST",
                                         headers={"Authorization": "Bearer fake", "Content-Type": "application/json"})
        try:
            answer = json.load(urllib.request.urlopen(request, timeout=5))
            wamid = answer["messages"][0]["id"]
            check("fake WhatsApp answers POST /v21.0/{id}/messages with messages[0].id", wamid.startswith("wamid."), str(answer))
        except (OSError, KeyError, ValueError) as error:
            check("fake WhatsApp answers POST /v21.0/{id}/messages with messages[0].id", False, str(error))
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v21.0/100000000000001/messages", data=body, method="POST")
        try:
            urllib.request.urlopen(request, timeout=5)
            check("fake WhatsApp refuses a send without a bearer token", False)
        except urllib.error.HTTPError as error:
            check("fake WhatsApp refuses a send without a bearer token", error.code == 401, str(error.code))
    finally:
        proc.terminate()
        out = proc.communicate(timeout=5)[0].decode(errors="replace")
    check("fake WhatsApp masks phone numbers in its log", "+60123456701" not in out and "sent from" in out, out.strip()[-200:])


def finish():
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
