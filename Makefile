# k8snet.calico: the two commands a newcomer needs are `make lab` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
# A collections tree with this checkout linked in as k8snet.calico, so FQCNs resolve from any path.
COLLECTIONS := $(ROOT)/.ansible/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(VENV)/bin:$(PATH)

.PHONY: oldest-core help venv collection units units-ansible-test functional sanity lint changelog-lint galaxy test lab lab-up lab-down lab-shell molecule bench clean

help:
	@echo "make lab    - bring up the embedded lab and run the main job (diagnose, enable IPIP, verify, report)"
	@echo "make test   - install what is needed and run every test (units, sanity, lint, lab scenarios)"
	@echo "make units | units-ansible-test | sanity | lint | galaxy | molecule | lab-up | lab-down | lab-shell NODE=node1 | bench"

venv:
	@$(ROOT)/tests/tools/venv.sh >/dev/null

collection: venv
	@$(ROOT)/tests/tools/collection-link.sh >/dev/null

units: collection
	cd $(ROOT) && python -m pytest -q tests/unit

# Tests against real services the suite starts itself (etcd on loopback, the Kubernetes API stand-in).
functional: collection
	$(ROOT)/tests/tools/system-deps.sh datastore functional
	cd $(ROOT) && python -m pytest -q tests/functional

sanity: venv
	$(ROOT)/tests/tools/ansible-test.sh sanity

# The unit tests as `ansible-test units` runs them (its own venv with tests/unit/requirements.txt), as Galaxy users
# and the ansible-test CI of a collection do.
units-ansible-test: venv
	$(ROOT)/tests/tools/ansible-test.sh units

# Build the tarball Galaxy gets and check it: contents, ansible-doc, antsibull-docs lint, galaxy-importer.
galaxy: venv
	$(ROOT)/tests/tools/galaxy.sh

# ansible-lint (production profile) over roles, playbooks and meta; ruff (ruff.toml) over every Python file.
lint: collection
	cd $(ROOT) && ansible-lint --offline --profile production
	cd $(ROOT) && ruff check .

changelog-lint: venv
	cd $(ROOT) && antsibull-changelog lint

molecule: collection
	@$(ROOT)/tests/tools/molecule.sh

# The oldest ansible-core the collection claims (meta/runtime.yml: >=2.16): the unit tests and the whole functional
# suite (modules, inventory plugin, role and playbooks through real ansible / ansible-playbook / ansible-runner runs of
# that core; about 5 minutes). The JSON the tests read comes from their own stdout callback
# (tests/functional/callback_plugins), not ansible.posix's `json`, absent where only ansible-core is installed.
oldest-core: collection
	$(ROOT)/tests/tools/system-deps.sh datastore functional
	$(ROOT)/tests/tools/venv-oldest.sh >/dev/null
	cd $(ROOT) && .venv-oldest/bin/python -m pytest -q -p no:cacheprovider tests/unit tests/functional

test: units units-ansible-test functional oldest-core changelog-lint lint sanity galaxy molecule
	@echo "make test: all suites passed"

lab: collection
	@$(ROOT)/tests/tools/lab.sh main

lab-up: collection
	@$(ROOT)/tests/tools/lab.sh up

lab-down:
	@$(ROOT)/tests/tools/lab.sh down

lab-shell:
	@$(ROOT)/tests/tools/lab.sh shell $(NODE)

bench: collection
	@$(ROOT)/tests/tools/bench.sh

clean:
	rm -rf $(ROOT)/tests/output $(ROOT)/.ansible $(ROOT)/.venv-importer

# The lab platform's smoke test: real IPIP between two node containers, Ansible from the host (tests/lab/README.md).
.PHONY: lab-smoke lab-status
lab-smoke: collection
	@$(ROOT)/tests/tools/lab.sh smoke

lab-status:
	@$(ROOT)/tests/tools/lab.sh status
