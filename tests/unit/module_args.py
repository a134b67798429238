"""Running a module's main() in-process (run_main) on every ansible-core the collection claims (meta/runtime.yml:
>= 2.16), with `patch_module_args`: main() reads the given arguments. ansible-core >= 2.19 ships it (ansible.module_utils.testing); older
releases read the arguments from `basic._ANSIBLE_ARGS`, which is what the fallback sets."""

from __future__ import annotations

import contextlib
import importlib
import json
import traceback

from ansible.module_utils.common import warnings as module_warnings

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


def run_main(module, args, capsys, check=False, diff=False):
    """Run ``k8snet.calico.<module>``'s main() in this process, as Ansible hands a module its arguments; the one
    in-process runner of the unit and functional tests. Returns ``(result, output)``. An exception escaping main()
    (a traceback the user would see) comes back as the result ``{"msg": "", "escaped": <traceback>}``."""
    mod = importlib.import_module("ansible_collections.k8snet.calico.plugins.modules.%s" % module)
    # Warnings are process-global in module_utils: one run's must not show up in the next run's result.
    module_warnings._global_warnings.clear()  # pylint: disable=protected-access
    module_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    capsys.readouterr()
    with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)):
        try:
            mod.main()
        except SystemExit:
            pass
        except Exception:  # noqa: BLE001 - exactly what the tests must see, never hide
            return {"msg": "", "escaped": traceback.format_exc()}, traceback.format_exc()
    out = capsys.readouterr().out
    return json.loads(out.strip().splitlines()[-1]), out
