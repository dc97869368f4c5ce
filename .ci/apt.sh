#!/usr/bin/env bash
# .ci/apt.sh — installing Debian packages when another apt-get or dpkg may
# be running. Sourced by .ci/test and .ci/postgres.sh; defines only
# functions whose names start with apt_.
#
#   apt_install PACKAGE...
#       apt-get update, then apt-get install -y PACKAGE..., waiting up to
#       CLM_APT_LOCK_TIMEOUT seconds in all (default 300) while another
#       process holds the package manager's locks, instead of failing at
#       once. apt-get install waits for the dpkg lock itself
#       (DPkg::Lock::Timeout); apt-get update does not wait for the lock
#       of the package lists, so it is tried again every 5 seconds. Quiet
#       on success; on failure it prints apt-get's messages on stderr and
#       returns apt-get's status. Needs root.

apt_install() {
	local deadline=$((SECONDS + ${CLM_APT_LOCK_TIMEOUT:-300})) out rc left
	while :; do
		left=$((deadline - SECONDS))
		((left > 0)) || left=0
		out=$(DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$left" update -qq 2>&1) &&
			out=$(DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$left" install -y -qq "$@" 2>&1) &&
			return 0
		rc=$?
		if [[ $out == *"Could not get lock"* || $out == *"Unable to lock"* ]] && ((SECONDS < deadline)); then
			echo "apt: another process holds the package manager's lock; waiting (up to $((deadline - SECONDS))s more)" >&2
			sleep 5
			continue
		fi
		printf '%s\n' "$out" >&2
		return "$rc"
	done
}
