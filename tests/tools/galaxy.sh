#!/usr/bin/env bash
# make galaxy: build the collection tarball the way it is published (`ansible-galaxy collection build`, honouring
# galaxy.yml's build_ignore) and check that tarball as Galaxy would:
#   1. nothing that build_ignore should keep out is in it (caches, reports, lab output, virtualenvs, benchmarks)
#      and no shipped file refers to what is left out (tests/benchmarks, tests/lab);
#   2. `ansible-doc` answers for every plugin and the role, and `antsibull-docs lint-collection-docs --plugin-docs`
#      is clean, both on the collection as unpacked from the tarball;
#   3. galaxy-importer (the code behind Galaxy's import) accepts it. It runs in its own virtualenv
#      (.venv-importer) because it pins its own ansible-core and ansible-lint; its configuration
#      (tests/tools/galaxy-importer.cfg) leaves out ansible-test, which Galaxy runs in a container and this machine
#      cannot (no container engine; `make sanity` runs ansible-test sanity without one).
# Output: tests/output/galaxy/ (the tarball, the unpacked collection, importer.log).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=$("$root/tests/tools/venv.sh")
export PATH="$venv/bin:$PATH"
importer_venv=$root/.venv-importer
importer_version=0.4.44

out=$root/tests/output/galaxy
rm -rf "$out"
mkdir -p "$out/collections"
ansible-galaxy collection build --force --output-path "$out" "$root" >/dev/null
tarball=$(ls "$out"/*.tar.gz)
echo "galaxy: built $(basename "$tarball") ($(tar tzf "$tarball" | wc -l) entries)"

# 1. what the tarball holds
python "$root/tests/tools/galaxy_contents.py" "$tarball"
echo "galaxy: contents ok"

# 2. documentation, on the unpacked tarball only
dest=$out/collections/ansible_collections/k8snet/calico
mkdir -p "$dest"
tar -C "$dest" -xzf "$tarball"
export ANSIBLE_COLLECTIONS_PATH=$out/collections
# The plugin types the collection has (plugins/<dir>, modules -> module), then its roles.
types=$(cd "$dest/plugins" && for d in *; do
  case $d in modules) echo module ;; doc_fragments|module_utils|plugin_utils|action) ;; *) echo "$d" ;; esac
done)
for type in $types role; do
  if [ "$type" = role ]; then
    names=$(cd "$dest/roles" && for r in *; do [ -d "$r" ] && echo "k8snet.calico.$r"; done)
  else
    names=$(ansible-doc -t "$type" -l k8snet.calico 2>/dev/null | awk '{print $1}')
  fi
  [ -n "$names" ] || continue
  # shellcheck disable=SC2086  # one word per plugin name
  if ! doc=$(ansible-doc -t "$type" $names 2>&1) || grep -q '\[WARNING\]: \(Skipping\|.*could not\)\|\[ERROR\]' <<<"$doc"; then
    echo "galaxy: ansible-doc -t $type failed for" $names >&2
    grep -m 20 'WARNING\|ERROR' <<<"$doc" >&2 || echo "$doc" | head -20 >&2
    exit 1
  fi
  echo "galaxy: ansible-doc -t $type:" $names
done
(cd "$dest" && antsibull-docs lint-collection-docs --plugin-docs .)
echo "galaxy: antsibull-docs lint-collection-docs --plugin-docs ok"

# 3. galaxy-importer
if [ ! -x "$importer_venv/bin/python" ] ||
   ! "$importer_venv/bin/python" -c "import galaxy_importer" 2>/dev/null; then
  python3 -m venv "$importer_venv"
  # (this machine's pip.conf names local find-links folders that may be absent: drop those warnings, as venv.sh)
  "$importer_venv/bin/python" -m pip install -q --disable-pip-version-check "galaxy-importer==$importer_version" 2>&1 \
    | grep -v '^WARNING: Location' >&2 || true
  "$importer_venv/bin/python" -c "import galaxy_importer" || { echo "galaxy: installing galaxy-importer failed" >&2; exit 1; }
fi
rc=0
(cd "$out" && PATH="$importer_venv/bin:$PATH" GALAXY_IMPORTER_CONFIG="$root/tests/tools/galaxy-importer.cfg" \
  "$importer_venv/bin/python" -m galaxy_importer.main "$tarball") >"$out/importer.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || grep -q '^ERROR' "$out/importer.log"; then
  cat "$out/importer.log" >&2
  echo "galaxy: galaxy-importer refused the tarball (log: $out/importer.log)" >&2
  exit 1
fi
grep -i 'warning' "$out/importer.log" || true
echo "galaxy: galaxy-importer accepted $(basename "$tarball")"
