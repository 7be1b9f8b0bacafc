package simrunner

// The archive's scripts follow actions/runner's layout: config.sh and run.sh in the root call
// bin/Runner.Listener; config.sh writes svc.sh from bin/svc.sh.template once the runner is
// configured (as the real one does on Linux); bin/installdependencies.sh asks the OS package
// manager for the runner's native dependencies.

const configSh = `#!/bin/bash
# ghr simulated actions/runner (test harness): config.sh, laid out as actions/runner's.
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" -eq 0 ] && [ -z "${RUNNER_ALLOW_RUNASROOT:-}" ]; then
	echo "Must not run with sudo"
	exit 1
fi
if [ "${1:-}" = remove ]; then
	shift
	exec ./bin/Runner.Listener remove "$@"
fi
exec ./bin/Runner.Listener configure "$@"
`

const runSh = `#!/bin/bash
# ghr simulated actions/runner (test harness): run.sh, laid out as actions/runner's.
cd "$(dirname "$0")"
exec ./bin/Runner.Listener run "$@"
`

// svcTemplate is svc.sh: the real one writes a systemd unit; a sandbox host has no systemd,
// so the service is a detached run.sh as the user given to install.
const svcTemplate = `#!/bin/bash
# ghr simulated actions/runner (test harness): svc.sh, written by config.sh.
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
	echo "Must run as sudo"
	exit 1
fi
case "${1:-}" in
install)
	[ -f .runner ] || { echo "Must configure the runner first"; exit 1; }
	user=${2:-${SUDO_USER:-}}
	[ -n "$user" ] || { echo "svc.sh install needs a user"; exit 1; }
	id -u "$user" >/dev/null
	echo "$user" >.service
	echo "Service actions.runner installed to run as $user"
	;;
start)
	[ -f .service ] || { echo "Service not installed"; exit 1; }
	user=$(cat .service)
	mkdir -p _diag && chown "$user:" _diag
	nohup setsid runuser -u "$user" -- env -i HOME="$(getent passwd "$user" | cut -d: -f6)" PATH="$PATH" \
		./run.sh >>_diag/Runner_service.log 2>&1 </dev/null &
	echo $! >.service.pid
	echo "Service actions.runner started"
	;;
stop)
	[ -f .service.pid ] && kill "$(cat .service.pid)" 2>/dev/null || true
	rm -f .service.pid
	echo "Service actions.runner stopped"
	;;
status)
	if [ -f .service.pid ] && kill -0 "$(cat .service.pid)" 2>/dev/null; then echo "active (running)"; else echo "inactive (dead)"; exit 3; fi
	;;
uninstall)
	rm -f .service .service.pid
	echo "Service actions.runner uninstalled"
	;;
*)
	echo "Usage: ./svc.sh [install, start, stop, status, uninstall]"
	exit 1
	;;
esac
`

// installDeps asks for the packages actions/runner's installdependencies.sh asks for on each
// distribution family; the sandbox's dnf records the request.
const installDeps = `#!/bin/bash
# ghr simulated actions/runner (test harness): bin/installdependencies.sh.
set -e
if [ "$(id -u)" -ne 0 ]; then
	echo "Need to run with sudo privilege"
	exit 1
fi
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
*" amzn "* | *" fedora "* | *" rhel "* | *" centos "*)
	if command -v dnf >/dev/null; then
		dnf install -y lttng-ust openssl-libs krb5-libs zlib libicu
	else
		yum install -y lttng-ust openssl-libs krb5-libs zlib libicu
	fi
	;;
*" debian "* | *" ubuntu "*)
	apt-get update && apt-get install -y libkrb5-3 zlib1g libssl3 libicu-dev liblttng-ust1
	;;
*)
	echo "Can't detect current OS type based on /etc/os-release."
	exit 1
	;;
esac
echo "-----------------------------"
echo " Finish Install Dependencies"
echo "-----------------------------"
`
