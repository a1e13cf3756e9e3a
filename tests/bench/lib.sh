# shellcheck shell=bash
# tests/bench/lib.sh: helpers the delivery benchmarks share (sourced).

# ensure_registry3 DIR: the registry:3 image Kamal 2's local registry runs,
# made (when the local dockerd lacks it) from Debian's docker-registry in
# DIR, since nothing can be pulled here, as tests/e2e does. Prints why and
# fails when it cannot.
ensure_registry3() {
	local r=$1/registry-root bin f
	docker image inspect registry:3 >/dev/null 2>&1 && return 0
	bin=$(command -v docker-registry) || {
		echo "no registry:3 image and no docker-registry binary (Debian package docker-registry)" >&2
		return 1
	}
	mkdir -p "$r/usr/bin" "$r/etc/docker/registry" "$r/var/lib/registry"
	cp "$bin" "$r/usr/bin/docker-registry"
	for f in $(ldd "$bin" | grep -o '/[^ ]*'); do mkdir -p "$r$(dirname "$f")" && cp "$f" "$r$f"; done
	printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n' >"$r/etc/docker/registry/config.yml"
	tar -C "$r" -c . | docker import --change 'ENTRYPOINT ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]' \
		--change 'EXPOSE 5000' - registry:3 >/dev/null
	rm -rf "$r"
}
