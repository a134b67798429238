"""`patch_module_args` on every ansible-core the collection claims (meta/runtime.yml: >= 2.16): a module's main()
run in-process reads the given arguments. ansible-core >= 2.19 ships it (ansible.module_utils.testing); older
releases read the arguments from `basic._ANSIBLE_ARGS`, which is what the fallback sets."""

from __future__ import annotations

import contextlib
import json

try:
    from ansible.module_utils.testing import patch_module_args  # noqa: F401  pylint: disable=unused-import
except ImportError:  # ansible-core < 2.19
    from ansible.module_utils import basic

    @contextlib.contextmanager  # type: ignore[no-redef]
    def patch_module_args(args=None):
        args = dict(args or {})
        # what ansible-core < 2.19 expects of every module invocation
        args.setdefault("_ansible_remote_tmp", "/tmp")
        args.setdefault("_ansible_keep_remote_files", False)
        saved = basic._ANSIBLE_ARGS  # pylint: disable=protected-access
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()  # pylint: disable=protected-access
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved  # pylint: disable=protected-access
