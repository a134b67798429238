# Sourced by venv.sh and venv-oldest.sh (not run on its own).

# pick_python MIN MAX: the newest Python 3.MIN..3.MAX here that actually runs and can make a venv (pyenv shims on
# PATH may exist and still fail), found by the version it reports, not by its path; prints its path or returns 1.
pick_python() {
  local lo=$1 hi=$2 best="" best_minor=-1 cand minor dir m
  local -a cands=(python3)
  for ((m = hi; m >= lo; m--)); do cands+=("python3.$m"); done
  for dir in /usr/bin /usr/local/bin /opt/python*/bin "$HOME"/.pyenv/versions/*/bin \
             "${PYENV_ROOT:-/nonexistent}"/versions/*/bin; do
    [ -x "$dir/python3" ] && cands+=("$dir/python3")
    for ((m = hi; m >= lo; m--)); do [ -x "$dir/python3.$m" ] && cands+=("$dir/python3.$m"); done
  done
  for cand in "${cands[@]}"; do
    minor=$("$cand" -c "import sys; v = sys.version_info; print(v[1] if v[0] == 3 and $lo <= v[1] <= $hi else -1)" \
      2>/dev/null) || continue
    [ "$minor" -ge "$lo" ] || continue
    "$cand" -c 'import venv, ensurepip' >/dev/null 2>&1 || continue
    if [ "$minor" -gt "$best_minor" ]; then best=$cand; best_minor=$minor; fi
  done
  [ -n "$best" ] || return 1
  command -v "$best" 2>/dev/null || echo "$best"
}
