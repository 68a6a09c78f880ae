#!/usr/bin/env bash
# Builds the .deb (scripts/package.sh) and checks it as Debian would: the
# control fields and maintainer scripts (dpkg-deb -I), the files and their
# owners and modes (dpkg-deb -c), and lintian. Prints every problem found and
# exits 1 if there is any. Installs nothing on this machine.
#   ./scripts/check-package.sh                    package.sh's Release build in build-release/
#   ./scripts/check-package.sh --build-dir DIR    package an existing Release tree (test.sh --ci)
#   ./scripts/check-package.sh --deb FILE         check a .deb as it is
# lintian tags accepted on purpose are overridden, each with its reason, in
# packaging/debian/lintian-overrides (shipped in the package); any other
# error or warning is a problem.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=""
case "${1:-}" in
  --deb) [ $# -eq 2 ] || { echo "check-package.sh: --deb FILE" >&2; exit 2; }; deb=$2 ;;
  --build-dir) [ $# -eq 2 ] || { echo "check-package.sh: --build-dir DIR" >&2; exit 2; }
               deb=$(./scripts/package.sh --build-dir "$2") ;;
  "") deb=$(./scripts/package.sh) ;;
  *) echo "check-package.sh: unknown argument '$1'" >&2; exit 2 ;;
esac
[ -f "$deb" ] || { echo "check-package.sh: no such .deb: $deb" >&2; exit 2; }
for tool in dpkg-deb lintian readelf; do
  command -v "$tool" >/dev/null || { echo "check-package.sh: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done

problems=()
problem() { problems+=("$*"); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- control fields ------------------------------------------------------------------
version=$(sed -n 's/^project(switchyard VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
field() { dpkg-deb -f "$deb" "$1"; }
expect_field() {  # name, expected value
  local got
  got=$(field "$1")
  [ "$got" = "$2" ] || problem "control: $1 is '$got', expected '$2'"
}
expect_field Package switchyard
expect_field Version "$version"
expect_field Architecture "$(dpkg --print-architecture)"
expect_field Section net
expect_field Priority optional
[[ $(field Maintainer) =~ ^[^\<]+\ \<[^@]+@[^\>]+\>$ ]] || problem "control: Maintainer is not 'Name <email>': $(field Maintainer)"
[[ $(field Description) == "Layer-7 load balancer for blue/green and canary deployments"* ]] ||
  problem "control: Description does not start with the summary"
# Depends: adduser for postinst, and the libraries dpkg-shlibdeps found.
depends=$(field Depends)
for dep in adduser libc6 libstdc++6; do
  [[ ", $depends," == *", $dep"[\ ,]* ]] || problem "control: Depends lacks $dep: $depends"
done

# --- control members: conffiles and maintainer scripts -------------------------------------
dpkg-deb -e "$deb" "$work/DEBIAN"
members=$(cd "$work/DEBIAN" && stat -c '%a %n' -- * | sort)
expected_members=$'644 conffiles\n644 control\n644 md5sums\n755 postinst\n755 postrm\n755 prerm'
[ "$members" = "$expected_members" ] || problem "control members (mode name) are:"$'\n'"$members"
cmp -s "$work/DEBIAN/conffiles" packaging/debian/conffiles || problem "conffiles differs from packaging/debian/conffiles"
for script in postinst prerm postrm; do
  cmp -s "$work/DEBIAN/$script" "packaging/debian/$script" || problem "$script differs from packaging/debian/$script"
  sh -n "$work/DEBIAN/$script" || problem "$script: sh -n finds a syntax error"
  head -n1 "$work/DEBIAN/$script" | grep -qx '#!/bin/sh' || problem "$script: not a #!/bin/sh script"
  grep -qx 'set -e' "$work/DEBIAN/$script" || problem "$script: no 'set -e'"
done

# --- files ---------------------------------------------------------------------------
# Every path with its mode and owner (dpkg-deb -c prints tar's long listing).
listing=$(dpkg-deb -c "$deb" | awk '{ sub(/^\.\//, "/", $6); print $1, $2, $6 }' | sort -k3)
files=$(awk '$1 !~ /^d/ { print $3 }' <<<"$listing")
expected_files=$(sort <<'EOF'
/etc/logrotate.d/switchyard
/etc/switchyard/switchyard.toml
/usr/bin/switchyard
/usr/bin/switchyardctl
/usr/lib/systemd/system/switchyard.service
/usr/lib/systemd/system/switchyard.socket
/usr/share/doc/switchyard/README.md
/usr/share/doc/switchyard/changelog.gz
/usr/share/doc/switchyard/copyright
/usr/share/lintian/overrides/switchyard
/usr/share/man/man1/switchyard.1.gz
/usr/share/man/man1/switchyardctl.1.gz
EOF
)
[ "$files" = "$expected_files" ] ||
  problem "files differ from the expected list (< expected, > in the .deb):"$'\n'"$(diff <(echo "$expected_files") <(echo "$files") | grep '^[<>]')"
while read -r mode owner path; do
  [ "$owner" = root/root ] || problem "$path is owned by $owner, not root/root"
  case "$mode:$path" in
    d*) [ "$mode" = drwxr-xr-x ] || problem "directory $path has mode $mode" ;;
    *:/usr/bin/*) [ "$mode" = -rwxr-xr-x ] || problem "$path has mode $mode, not -rwxr-xr-x" ;;
    *) [ "$mode" = -rw-r--r-- ] || problem "$path has mode $mode, not -rw-r--r--" ;;
  esac
done <<<"$listing"
dpkg-deb -x "$deb" "$work/root"
# A daemon linked with jemalloc (SWITCHYARD_JEMALLOC) needs its package.
if readelf -d "$work/root/usr/bin/switchyard" | grep -q 'NEEDED.*libjemalloc'; then
  [[ ", $depends," == *", libjemalloc2"[\ ,]* ]] || problem "control: Depends lacks libjemalloc2: $depends"
fi
for bin in switchyard switchyardctl; do
  if readelf -S "$work/root/usr/bin/$bin" | grep -q '\.debug_info'; then problem "/usr/bin/$bin is not stripped"; fi
done
# A new version needs its entry in packaging/debian/changelog.
head -n1 <(gzip -dc "$work/root/usr/share/doc/switchyard/changelog.gz" 2>/dev/null) |
  grep -q "^switchyard ($version) " || problem "changelog.gz: the latest entry is not version $version"
cmp -s "$work/root/etc/switchyard/switchyard.toml" conf/switchyard.toml || problem "/etc/switchyard/switchyard.toml is not conf/switchyard.toml"
# The units name the installed binary and config (cmake/Packaging.cmake).
grep -q '^ExecStart=/usr/bin/switchyard ' "$work/root/usr/lib/systemd/system/switchyard.service" ||
  problem "switchyard.service does not start /usr/bin/switchyard"

# --- lintian -------------------------------------------------------------------------
# The verdict: any error or warning that is not overridden. Then everything,
# info tags and overrides included, for the record; an override that matches
# nothing any more is a problem too (the reason it gives is then stale).
# (--show-overrides alone makes lintian 2.116 exit 2: hence two runs.)
lint_status=0
lintian --fail-on error,warning "$deb" >"$work/lintian.out" 2>&1 || lint_status=$?
lintian -I --show-overrides --tag-display-limit 0 "$deb" 2>&1 |
  grep -v 'running with root privileges' >"$work/lintian-all.out" || true
if ((lint_status != 0)) || grep -qE '^[EW]: |unused-override|mismatched-override' "$work/lintian-all.out"; then
  problem "lintian (exit $lint_status):"$'\n'"$(cat "$work/lintian-all.out")"
fi

echo "package: $deb"
if ((${#problems[@]})); then
  printf 'problem: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "lintian, info tags and overrides included:"
grep -E '^[A-Z]: ' "$work/lintian-all.out" | sed 's/^/  /' || true
echo "package check: ok ($(wc -l <<<"$files") files)"
