package builtins

import (
	"fmt"
	"strings"
)

// Doc describes one builtin for `kamal build api` and docs/builtins.md.
type Doc struct {
	Signature string
	Text      string
}

// API documents every predeclared name and module member, in the order a
// reader meets them. A test keeps it complete and in step with the docs.
var API = []Doc{
	{"config", "The loaded deploy configuration, read-only: service, image, repository, version, absolute_image, latest_image, latest_tag, destination, generation (1 or 2), kamal1, kamal2, release (the Kamal generation whose flow runs: 1.5, 1.9 or 2.12), kamal_version (the release it follows: 1.5.2, 1.9.2 or 2.12.0), release_reason (why: the Gemfile.lock pin, minimum_version or builder keys), hosts (the selected hosts), app_hosts, all_hosts, roles (the selected role names), all_roles (structs with name and hosts), primary_host, hooks_path, run_directory, builder (type, name, arches, driver, remote, context, dockerfile, target, secrets, logins_locally) and registry (server, local, local_port). It holds no secret."},
	{"kamal", "How this run was invoked: version (the Kamal release followed), command, subcommand, destination, dry_run, verbose, quiet, skip_hooks."},
	{"steps", "The effective functions, looked up when called: steps.NAME is the user script's NAME if it defines one, else the stock script's. The stock flows call their pieces through steps, so replacing one piece changes the flow without copying it."},
	{"cmd(*words, env=None)", "A command line built from words (strings, numbers, secret() values or other commands, whose words are spliced in as they are). Each string reaches the command as exactly that one word: it is single-quoted where the shell would split or expand it (cmd(\"sh\", \"-c\", \"echo a b\") runs sh -c 'echo a b'), while commands from docker.*, builder.* and the like keep Kamal's rendering. Only the first word is mapped to /usr/bin/env (except docker), as SSHKit does. env (strings to strings) is exported around the command. str(cmd) is the redacted form a log line shows; two commands are == when their words, env and input are. Building a command runs nothing."},
	{"secret(value)", "A word commands show as [REDACTED]. Later command output and error messages are scrubbed of the value too when it cannot be mistaken for ordinary text (8+ characters with a digit, or 16+, and not part of the config's own text)."},
	{"shell.combine(*cmds)", "Joins commands with &&; None arguments are dropped."},
	{"shell.chain(*cmds)", "Joins commands with ;."},
	{"shell.pipe(*cmds)", "Joins commands with |."},
	{"shell.any(*cmds)", "Joins commands with ||."},
	{"shell.escape(s)", "Quotes s as one double-quoted shell word, the way Kamal 2 escapes values (a ${...} group is left for the shell): for whole scripts given as strings (cmd() quotes its words itself)."},
	{"local.run(cmd, level=\"info\", raise_on_error=True, rescue=False, force=False, dir=None, env=None, stdin=None, capture=False)", "Runs cmd on this machine and logs it as SSHKit does (Running, Command, output, Finished). Returns struct(ok, status, stdout, stderr, failure), failure being SSHKit's three-line message when the command failed (\"\" otherwise); a failure raises SSHKit::Command::Failed unless raise_on_error=False (logged as failed) or rescue=True (returned silently, as when Kamal rescues). force shows the command's output whatever the verbosity, as for builds. dir defaults to the app directory; env (strings to strings) is added to the command's environment; stdin is fed to its input. stdout holds the output's tail, all of it with capture=True. A string cmd is run as one whole shell script."},
	{"local.capture(cmd, level=\"debug\", raise_on_error=True, rescue=False, force=False, dir=None, env=None, stdin=None)", "Runs cmd like local.run, logged at DEBUG by default, and returns its stripped standard output, always a string (with rescue=True also when the command failed; use local.run(..., rescue=True, capture=True) to see the failure)."},
	{"ssh.run(host, cmd, level=\"info\", raise_on_error=True, rescue=False, stdin=None, capture=False)", "Runs cmd on host over the host's one SSH connection, logged with \"on HOST\", returning the result struct of local.run. Failures are raised as \"Exception while executing on host HOST: ...\"."},
	{"ssh.capture(host, cmd, level=\"debug\", raise_on_error=True, rescue=False, stdin=None)", "Runs cmd on host and returns its stripped standard output, always a string."},
	{"local.exists(path)", "Whether a file or directory exists at path (relative to the app directory). Runs no command."},
	{"ssh.forward(hosts, port, fn)", "Calls fn() while every host forwards its 127.0.0.1:PORT back to localhost:PORT here over its SSH connection (Kamal 2's local registry; as ssh -R). A host may be an ssh://user@host:port URL. Waits at most 30 s for the forwards; errors read as Kamal's (\"Error setting up port forwarding to HOST: ...\", \"Failed to establish port forward on HOST\", \"Timed out waiting for port forwarding to be established\"). The forwards end when fn returns."},
	{"ssh.serve(hosts, image, port, fn)", "Calls fn(served) while this program serves IMAGE from the local Docker image store, read-only (manifest and blobs, layers streamed from docker image save), to every host at localhost:PORT through a forward of its 127.0.0.1:PORT over its SSH connection; each host's dockerd pulls served.ref (localhost:PORT/REPO:TAG) and fetches only the layers it lacks, all hosts at once. served.stats(host) is struct(requests, blobs, bytes), what that host's dockerd asked for (requests 0: it never reached the forward). Forward errors read as ssh.forward's; forwards and listeners end when fn returns, fails or is interrupted. A dry run serves nothing."},
	{"on(hosts, fn)", "Calls fn(host) for every host in parallel, each on its own thread, and returns the results in the order of hosts. Every host runs to its end; failures are then raised together (\"Exceptions on 2 hosts: ...\"). sshkit.max_concurrent_hosts bounds the hosts in flight. Nothing is frozen: the threads take turns at running Starlark code (one at a time) while their commands run in parallel, so fn may append to the caller's lists."},
	{"hook(name)", "Runs the hook <hooks_path>/NAME locally with Kamal's KAMAL_* environment and returns True, or returns False when it is missing or -H was given. Kamal 1 configs print \"Running the NAME hook...\" first. pre-connect runs at most once per process. A failing hook raises Kamal::Cli::HookError."},
	{"lock.acquire(message=\"Automatic deploy lock\")", "Takes the deploy lock on the primary host. When someone holds it, prints who and raises Kamal::Cli::LockError."},
	{"lock.release()", "Gives the deploy lock back."},
	{"lock.status()", "The lock's details as text, or None when nobody holds it."},
	{"lock.held()", "Whether this run holds the deploy lock."},
	{"lock.around(fn, message=\"Automatic deploy lock\")", "Holds the deploy lock while fn() runs and releases it afterwards, also when fn fails (the failure is raised again). When the lock is already held, just calls fn."},
	{"docker.check()", "The command checking docker (and buildx where the builder needs it) is installed."},
	{"docker.login()", "docker login for the configured registry; the credentials are resolved from secrets. It runs docker login -u USER --password-stdin with the password on its standard input (never in any process's arguments), and logs as Kamal's docker login -u [REDACTED] -p [REDACTED]."},
	{"docker.included_files()", "The files (relative, sorted) a build with the app directory as context sends to Docker, honouring .dockerignore; dev warns about the uncommitted and untracked ones."},
	{"docker.build(output=\"registry\", no_cache=False, dev=False, image=None, dockerfile=None, labels=None)", "The configured builder's build-and-push command (for Kamal 1.5 configs, git archive | docker build && docker push && docker push). image (a name as config.image, without registry or tag) and dockerfile stand in for the config's; labels (strings to strings) adds --label KEY=VALUE after the service label. Raises \"Missing DOCKERFILE\" when the Dockerfile does not exist."},
	{"docker.pull(image)", "docker pull IMAGE."},
	{"docker.push(image)", "docker push IMAGE."},
	{"docker.image_rm(image)", "docker image rm --force IMAGE."},
	{"docker.tag(source, target)", "docker tag SOURCE TARGET."},
	{"docker.validate_image(image)", "The check that IMAGE carries the service label, failing with Kamal's message."},
	{"docker.mirror_probe()", "docker info asking for the first registry mirror."},
	{"docker.registry_start()", "Starts Kamal 2's local registry container."},
	{"builder.create()", "The command creating the configured buildx builder (empty when none is needed)."},
	{"builder.remove()", "The command removing the buildx builder (empty when none is needed)."},
	{"builder.inspect()", "The command checking the buildx builder exists and fits (empty when none is needed)."},
	{"builder.info()", "The command showing the build setup, for details."},
	{"ssh.check_openssh(url)", "Connects to an ssh:// URL the way docker will for an ssh:// docker context (OpenSSH, the URL's user, host and port, batch mode) and runs `true`, logging nothing; raises Kamal::Cli::Build::BuildError with one line naming what to give OpenSSH when it cannot connect. A dry run checks nothing."},
	{"builder.resolve_secrets()", "Resolves the builder's secrets now (None), as Kamal does before it inspects or creates the builder: a missing secret fails before anything exists."},
	{"builder.remote_ssh()", "The remote builder's ssh:// URL (Kamal 2 builder.remote, Kamal 1 builder.remote.host), or None when there is none or it is not reached over SSH. ssh.run and ssh.forward take it as a host."},
	{"builder.context_hosts()", "The lines Kamal 1's context-hosts probe (builder.inspect()) must print for the builder to be kept (a list)."},
	{"git.revision()", "git rev-parse HEAD of the app."},
	{"git.branch()", "The current branch of the app (git rev-parse --abbrev-ref HEAD)."},
	{"git.root()", "The top directory of the app's git repository."},
	{"git.uncommitted()", "git status --porcelain of the app (empty when clean)."},
	{"git.user_name()", "git config user.name, or \"Unknown\"."},
	{"git.clone()", "A Kamal 2 clone build: struct(root, clone_dir, build_dir, clone, reset, status, revision) with the paths and the commands that clone, reset and check the clone. Creates the clone directory."},
	{"git.remove_clone()", "Deletes the clone directory of a clone build and creates it again empty, silently (before Kamal's one retry of a failed clone)."},
	{"git.modified_files()", "git ls-files --modified of the app, as a list."},
	{"git.untracked_files()", "git ls-files --others of the app, as a list."},
	{"audit(message)", "The command appending \"[time] [performer] MESSAGE\" to the service's audit log on a host (run it with ssh.run, level=\"debug\")."},
	{"say(msg, color=None)", "Prints msg whatever the verbosity, as Kamal's say; color is red, green, yellow, blue or magenta (only on a terminal)."},
	{"log.debug(msg)", "Prints \" DEBUG msg\" (shown with -v)."},
	{"log.info(msg)", "Prints \"  INFO msg\"."},
	{"log.warn(msg)", "Prints \"  WARN msg\"."},
	{"log.error(msg)", "Prints \" ERROR msg\"."},
	{"error(class, message)", "Stops the run with Kamal's error line \"ERROR (CLASS): MESSAGE\" (fail() is Starlark's own, for script bugs)."},
	{"breakpoint()", "Stops the flow and opens the prompt with the caller's local variables in scope; leaving the prompt (Ctrl-D, or the end of piped input) resumes the flow."},
}

// Reference is the text of `kamal build api` and docs/builtins.md.
func Reference() string {
	var b strings.Builder
	b.WriteString("# Builtins\n\nWhat every script (stock, user, REPL) can call. Commands are data: the docker, builder, git.clone and audit builtins only build them; local.run and ssh.run run them.\n")
	for _, d := range API {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", "`"+d.Signature+"`", d.Text)
	}
	return b.String()
}
