"""The lab platform's small Python steps, for its shell scripts (labhost, image.sh, smoke.sh), with the lab host's
own /usr/bin/python3 and its standard library only:

  api-ready PORT                 exit 0 when the podman API on 127.0.0.1:PORT answers its _ping with OK
  free-port                      print a free TCP port on 127.0.0.1
  ansible-vars EXTRA MOUNT       print the host vars Ansible needs to reach a node container (labhost ansible-vars)
  apt-mirror SUITE               print the Debian mirror this machine's apt uses for SUITE/main (never a fixed host)
  inventory PATH HOST HOSTVARS   write an inventory with HOST and its HOSTVARS (JSON) to PATH (smoke.sh)
"""

from __future__ import annotations

import glob
import json
import re
import socket
import sys
import urllib.request


def api_ready(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/_ping" % port, timeout=3) as reply:
            return 0 if reply.read().strip() == b"OK" else 1
    except OSError:
        return 1


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        print(sock.getsockname()[1])
    return 0


def ansible_vars(extra, mount):
    print(json.dumps({
        "ansible_connection": "containers.podman.podman",
        "ansible_podman_executable": "podman",
        "ansible_podman_extra_args": extra,
        "ansible_podman_mount_detection": mount == "true",
        "ansible_python_interpreter": "/usr/bin/python3",
        # One `podman exec` per module instead of mkdir + put_file + exec + rm: each round trip costs seconds in the VM.
        "ansible_pipelining": True,
    }, indent=2))
    return 0


def apt_mirror(suite):
    found = []

    def add(uris, suites, components):
        if "main" in components and suite in suites:
            found.extend(uris)

    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = re.sub(r"#.*", "", line).strip()
            match = re.match(r"deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)", line)
            if match:
                add([match.group(2)], [match.group(3)], match.group(4).split())
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as handle:
            stanzas = re.split(r"\n\s*\n", handle.read())
        for stanza in stanzas:
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []):
                add(fields.get("uris", []), fields.get("suites", []), fields.get("components", []))
    if not found:
        sys.exit("no apt source for suite %s/main in /etc/apt/sources.list*" % suite)
    print(found[0])
    return 0


def inventory(path, host, hostvars):
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": {host: json.loads(hostvars)}}}, handle, indent=2)
    return 0


COMMANDS = {"api-ready": api_ready, "free-port": free_port, "ansible-vars": ansible_vars, "apt-mirror": apt_mirror,
            "inventory": inventory}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: labhost_util.py %s ..." % "|".join(COMMANDS))
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
