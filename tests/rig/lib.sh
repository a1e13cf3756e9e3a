# shellcheck shell=bash
# Shared by tests/rig/up, down and server. Sourced, never run.
#
# Everything the rig owns lives in $STATE (tests/rig/.state, gitignored), computed
# from this file's location so a fresh clone anywhere gets its own rig state.
# Processes the rig started are recorded in $STATE/pids/<name>.pid; down and
# server stop touch only those, after checking the pid still runs our program.

RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=$RIG_DIR/.state
PIDS=$STATE/pids
ENV_FILE=$STATE/env
# Constants shared with up, down and server.
# shellcheck disable=SC2034
SERVERS=(server1 server2 server3)
declare -A SERVER_ADDR=([server1]=127.0.0.11 [server2]=127.0.0.12 [server3]=127.0.0.13)
# shellcheck disable=SC2034
REGISTRY_USER=kamal
# shellcheck disable=SC2034
REGISTRY_PASSWORD=rig-Secret-42
# shellcheck disable=SC2034
BUILDX_VERSION=v0.38.2
# Where the rig's BuildKit looks for docker.io images (a mirror, plain HTTP):
# nothing listens there unless a test serves one (the SBOM scanner stand-in).
# Outside the registry's 5555..5599.
# shellcheck disable=SC2034
SCANNER_MIRROR=127.0.0.1:5690
# The OCI runtime every rig dockerd uses by default (tests/rig/capsrunc).
# shellcheck disable=SC2034
RUNTIME_NAME=kgo-runc
# shellcheck disable=SC2034
RUNTIME_PATH=/usr/local/lib/kamal-go-rig/capsrunc

# daemon CMD...: start CMD in its own session with no descriptor but 0-2
# inherited. A caller's lock (`flock /tmp/kgo-e2e.lock tests/rig/netns up`)
# must not stay held by daemons that outlive it.
daemon() {
	local fd
	for fd in /proc/self/fd/*; do
		fd=${fd##*/}
		((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
	done
	exec setsid "$@"
}

say() { printf 'rig: %s\n' "$*"; }
die() {
	printf 'rig: ERROR: %s\n' "$*" >&2
	exit 1
}

# env_get KEY: a value from the env file of an earlier run (empty if none).
env_get() {
	[[ -f $ENV_FILE ]] || return 0
	sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$ENV_FILE" | tail -n 1
}

# owned NAME NEEDLE: the process recorded as NAME is alive and its command line
# contains NEEDLE (guards against a recycled pid after a reboot).
owned() {
	local f=$PIDS/$1.pid pid
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	[[ -r /proc/$pid/cmdline ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

# stop_owned NAME NEEDLE: TERM (then KILL after 15 s) a process the rig started.
stop_owned() {
	local name=$1 needle=$2 pid i
	if ! owned "$name" "$needle"; then
		rm -f "$PIDS/$name.pid"
		return 0
	fi
	pid=$(<"$PIDS/$name.pid")
	say "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		[[ -d /proc/$pid ]] || break
		sleep 0.1
	done
	if [[ -d /proc/$pid ]]; then
		say "$name did not stop on TERM, sending KILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDS/$name.pid"
}

# listening ADDR PORT: something accepts TCP connections on ADDR:PORT, directly
# or through a wildcard listener.
listening() {
	local a=${1//./\\.}
	ss -Hltn | awk '{print $4}' | grep -qE "^(${a}|0\.0\.0\.0|\*|\[::\]|\[::ffff:${a}\]):$2\$"
}

# wait_listening ADDR PORT SECONDS
wait_listening() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		listening "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}

sshd_dir() { printf '%s/sshd/%s' "$STATE" "$1"; }
server_home() { printf '%s/servers/%s' "$STATE" "$1"; }

# start_sshd SERVER PORT: one OpenSSH daemon for SERVER on its own address.
# Its config, host key and pid file were written by `up`.
start_sshd() {
	local name=$1 port=$2 dir addr
	dir=$(sshd_dir "$name")
	addr=${SERVER_ADDR[$name]}
	if owned "sshd-$name" "$dir/sshd_config"; then
		return 0
	fi
	[[ -f $dir/sshd_config ]] || die "no sshd config for $name: run tests/rig/up"
	if listening "$addr" "$port"; then
		die "$addr:$port is held by a process the rig did not start; run tests/rig/down and tests/rig/up to pick another port"
	fi
	mkdir -p /run/sshd "$PIDS"
	sed -i "s/^Port .*/Port $port/" "$dir/sshd_config"
	/usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd config for $name is invalid ($dir/sshd_config)"
	rm -f "$dir/sshd.pid"
	# -D keeps sshd in the foreground of its own session; it still writes PidFile.
	# All three standard fds go to files so no caller (e.g. go test) waits on them.
	daemon /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >>"$dir/sshd.out" 2>&1 &
	local bgpid=$!
	wait_listening "$addr" "$port" 10 || die "sshd for $name did not listen on $addr:$port (see $dir/sshd.log)"
	if [[ -s $dir/sshd.pid ]]; then cp "$dir/sshd.pid" "$PIDS/sshd-$name.pid"; else echo "$bgpid" >"$PIDS/sshd-$name.pid"; fi
	owned "sshd-$name" "$dir/sshd_config" || die "cannot find the pid of sshd for $name"
}

stop_sshd() {
	local name=$1 port
	stop_owned "sshd-$name" "$(sshd_dir "$name")/sshd_config"
	port=$(env_get RIG_SSH_PORT)
	if [[ -n $port ]]; then
		local i
		for ((i = 0; i < 50; i++)); do
			listening "${SERVER_ADDR[$name]}" "$port" || return 0
			sleep 0.1
		done
		die "${SERVER_ADDR[$name]}:$port still accepts connections after stopping $name"
	fi
}

# reclaim_empty_ns NS: NS (one of the rig's own kgo-* names) exists but no record says this
# rig made it. When no process runs in it, it is a leftover of another checkout's rig (a CI
# clone, an interrupted run): delete it so the caller can make it afresh. Fails, touching
# nothing, when something still runs there.
reclaim_empty_ns() {
	[[ -z $(ip netns pids "$1" 2>/dev/null) ]] || return 1
	say "network namespace $1 is a leftover with no process in it: deleting it"
	ip netns del "$1"
}
