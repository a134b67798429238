# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The functional tests' own stdout callback: the run as one JSON document, printed once at the end.

Why not ``json``: that name is ``ansible.posix.json`` (ansible-core only redirects ``ansible.builtin.json`` there), so
it exists only where the ansible.posix collection is installed (the ``ansible`` package in .venv, not the bare
ansible-core 2.16 of .venv-oldest). This one is part of the tests and behaves the same on ansible-core 2.16 to 2.21.

The shape is the one the tests read (and that of ansible.posix.json)::

    {"plays": [{"play": {"name": ..., "id": ...},
                "tasks": [{"task": {"name": ..., "id": ...}, "hosts": {"<host>": <the task result>}}]}],
     "stats": {"<host>": {"ok": 1, "changed": 0, "failures": 0, "unreachable": 0, "skipped": 0, ...}}}

A result has ``action`` (the task's action) and, for failed and skipped results, ``failed``/``skipped`` true; an
unreachable result keeps the ``unreachable`` true ansible-core sets. Enabled by the tests through the environment
(conftest.json_callback_env): ANSIBLE_CALLBACK_PLUGINS=<this directory>, ANSIBLE_STDOUT_CALLBACK=functional_json and,
for ad-hoc ``ansible`` (which otherwise uses ``minimal``), ANSIBLE_LOAD_CALLBACK_PLUGINS=1.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: functional_json
    short_description: the functional tests' JSON stdout (one document at the end of the run)
    description:
      - Prints the plays, each task's result per host and the stats as one JSON document when the run ends.
    type: stdout
"""

import json

from ansible.plugins.callback import CallbackBase

try:  # ansible-core 2.19+: the encoder for data-tagged values and WarningSummary/DeprecationSummary objects
    from ansible.module_utils.common.json import _AnsibleJSONEncoder as AnsibleJSONEncoder
except ImportError:  # ansible-core 2.16-2.18
    from ansible.parsing.ajson import AnsibleJSONEncoder


def _public_or_private(result, name):
    """result.host / .task / .result on ansible-core 2.19+ (CallbackTaskResult), ._host / ._task / ._result before."""
    return getattr(result, name if hasattr(type(result), name) else "_" + name)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "functional_json"

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.plays = []
        self._tasks = {}  # task uuid -> its entry in the current play (free strategy: results come in any order)

    def _entry(self, task):
        key = task._uuid
        if key not in self._tasks:
            if not self.plays:  # (every ansible-core sends the play start first; this keeps a stray result anyway)
                self.plays.append({"play": {"name": "", "id": ""}, "tasks": []})
            self._tasks[key] = {"task": {"name": task.get_name(), "id": str(key)}, "hosts": {}}
            self.plays[-1]["tasks"].append(self._tasks[key])
        return self._tasks[key]

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name(), "id": str(play._uuid)}, "tasks": []})
        self._tasks = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._entry(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._entry(task)

    def _record(self, result, **flags):
        host, task = _public_or_private(result, "host"), _public_or_private(result, "task")
        data = dict(_public_or_private(result, "result"))
        data.update(flags)
        data["action"] = task.action
        self._entry(task)["hosts"][host.get_name()] = data

    def v2_runner_on_ok(self, result, *args, **kwargs):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, *args, **kwargs):
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result, *args, **kwargs):
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result, *args, **kwargs):
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        summary = dict((host, stats.summarize(host)) for host in sorted(stats.processed.keys()))
        output = {"plays": self.plays, "stats": summary}
        self._display.display(json.dumps(output, cls=AnsibleJSONEncoder, indent=1, sort_keys=True))
