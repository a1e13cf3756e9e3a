# tests/thor/skeleton.rb: Kamal 2.12's command line (its Thor classes with
# their option declarations, no bodies) plus kamal-go's own class options
# and commands, run by Thor for each case of tests/thor/cases. Every
# command body only reports what Thor handed it, so the output is Thor's
# parse of each command line: the table cmd/kamal's parser is checked
# against (tests/thor/table regenerates it).
#
# Input: one case per line, shell words (Shellwords), "#" comments; \xHH
# in a word is that byte (a newline, a byte that is not UTF-8).
# Output: one JSON object per case: argv (the words, \xHH as written),
# and either result (the command
# Thor ran, its options with defaults, its arguments), help (the help
# Thor printed: namespace and arguments) or err (what Thor printed on
# standard error), and status (the exit status).
require "json"
require "shellwords"
require "stringio"
require "thor"

$PROGRAM_NAME = "kamal"

module Kamal
  module Cli
    class Base < Thor
      def self.exit_on_failure?() true end

      class_option :verbose, type: :boolean, aliases: "-v"
      class_option :quiet, type: :boolean, aliases: "-q"
      class_option :version
      class_option :primary, type: :boolean, aliases: "-p"
      class_option :hosts, aliases: "-h"
      class_option :roles, aliases: "-r"
      class_option :config_file, aliases: "-c", default: "config/deploy.yml"
      class_option :destination, aliases: "-d"
      class_option :skip_hooks, aliases: "-H", type: :boolean, default: false
      class_option :lock_wait, type: :boolean, default: false
      class_option :lock_wait_timeout, type: :numeric, default: 900
      class_option :lock_wait_interval, type: :numeric, default: 15
      # kamal-go's own class options.
      class_option :dry_run, type: :boolean
      class_option :script
      class_option :trace, type: :boolean
      class_option :break, repeatable: true
      class_option :progress
      class_option :dap

      def initialize(args = [], local_options = {}, config = {})
        @kg_parent = config[:class_options]
        super
      end

      no_commands do
        def report(*args)
          ns = self.class.name.split("::").last.downcase
          name = ns == "main" ? current_command_chain.last.to_s : "#{ns} #{current_command_chain.last}"
          $stdout.puts "RESULT " + JSON.generate(command: name, options: kamal_go_options.sort.to_h, args: args)
        end

        # Thor merges the class options parsed before a subcommand's name
        # with the subcommand's own parse, whose defaults then win (Kamal
        # loses -H in `kamal build push -H`). kamal-go keeps a class
        # option given above unless the subcommand's parse changed it from
        # its default.
        def kamal_go_options
          opts = options.to_h
          return opts unless @kg_parent
          self.class.class_options.each do |key, o|
            k = key.to_s
            opts[k] = @kg_parent[k] if @kg_parent.key?(k) && !o.default.nil? && opts[k] == o.default
          end
          opts
        end
      end

      def help(command = nil, subcommand = false)
        ns = self.class.name.split("::").last.downcase
        $stdout.puts "HELP " + JSON.generate(namespace: ns == "main" ? "" : ns, args: [command].compact)
        super
      end
    end

    class Build < Base
      desc "deliver", "d"
      option :serve, type: :boolean, default: false
      option :skip_existing, type: :boolean, default: false
      def deliver() report end
      desc "push", "d"
      option :output, type: :string, default: "registry"
      option :no_cache, type: :boolean, default: false
      option :serve, type: :boolean, default: false
      option :skip_existing, type: :boolean, default: false
      def push() report end
      desc "pull", "d"
      option :serve, type: :boolean, default: false
      option :skip_existing, type: :boolean, default: false
      def pull() report end
      desc "create", "d"
      def create() report end
      desc "remove", "d"
      def remove() report end
      desc "details", "d"
      def details() report end
      desc "dev", "d"
      option :output, type: :string, default: "docker"
      option :no_cache, type: :boolean, default: false
      def dev() report end
      # kamal-go's own.
      desc "api", "d"
      option :stubs, type: :string
      def api() report end
      desc "eject", "d"
      def eject() report end
      desc "script", "d"
      def script() report end
      desc "test [FILE...]", "d"
      option :run, type: :string
      def test(*files) report(*files) end
    end

    class Lock < Base
      desc "status", "d"
      def status() report end
      desc "acquire", "d"
      option :message, aliases: "-m", type: :string, required: true
      def acquire() report end
      desc "release", "d"
      def release() report end
    end

    class Registry < Base
      %w[setup remove login logout].each do |name|
        desc name, "d"
        option :skip_local, aliases: "-L", type: :boolean, default: false
        option :skip_remote, aliases: "-R", type: :boolean, default: false
        define_method(name) { report }
      end
    end

    class Secrets < Base
      desc "fetch [SECRETS...]", "d"
      option :adapter, type: :string, aliases: "-a", required: true
      option :account, type: :string, required: false
      option :from, type: :string, required: false
      option :inline, type: :boolean, required: false, hidden: true
      def fetch(*secrets) report(*secrets) end
      desc "extract", "d"
      option :inline, type: :boolean, required: false, hidden: true
      def extract(name, secrets) report(name, secrets) end
      desc "print", "d"
      def print() report end
    end

    # The namespaces kamal-go hands off whole (their commands do not matter
    # here: only that Thor finds the namespace).
    class App < Base; end
    class Accessory < Base; end
    class Proxy < Base; end
    class Prune < Base; end
    class Server < Base; end

    class Main < Base
      %w[setup deploy redeploy].each do |name|
        desc name, "d"
        option :skip_push, aliases: "-P", type: :boolean, default: false
        option :no_cache, type: :boolean, default: false
        define_method(name) { report }
      end
      desc "rollback [VERSION]", "d"
      def rollback(version) report(version) end
      desc "details", "d"
      def details() report end
      desc "audit", "d"
      def audit() report end
      desc "config", "d"
      def config() report end
      desc "docs [SECTION]", "d"
      def docs(section = nil) report(*[section].compact) end
      desc "init", "d"
      option :bundle, type: :boolean, default: false
      def init() report end
      desc "remove", "d"
      option :confirmed, aliases: "-y", type: :boolean, default: false
      def remove() report end
      desc "upgrade", "d"
      option :confirmed, aliases: "-y", type: :boolean, default: false
      option :rolling, type: :boolean, default: false
      def upgrade() report end
      desc "version", "d"
      def version() report end
      # kamal-go's own.
      desc "repl", "d"
      def repl() report end

      { accessory: Accessory, app: App, build: Build, lock: Lock, proxy: Proxy,
        prune: Prune, registry: Registry, secrets: Secrets, server: Server }.each do |name, klass|
        desc name.to_s, "d"
        subcommand name.to_s, klass
      end
    end
  end
end

def run_case(argv)
  r, w = IO.pipe
  pid = fork do
    r.close
    out, err = StringIO.new, StringIO.new
    $stdout, $stderr = out, err
    status = 0
    begin
      Kamal::Cli::Main.start(argv)
    rescue SystemExit => e
      status = e.status
    rescue StandardError => e
      # bin/kamal's rescue.
      out.puts "  ERROR (#{e.class}): #{e.message}"
      status = 1
    end
    w.write(JSON.generate(out: out.string, err: err.string, status: status))
    w.close
    exit!(0)
  end
  w.close
  got = JSON.parse(r.read)
  Process.wait(pid)
  row = {}
  lines = got["out"].lines
  if (l = lines.find { |x| x.start_with?("RESULT ") })
    row[:result] = JSON.parse(l.delete_prefix("RESULT "))
  elsif (l = lines.find { |x| x.start_with?("HELP ") })
    row[:help] = JSON.parse(l.delete_prefix("HELP "))
  elsif !got["out"].empty?
    row[:out] = got["out"]
  end
  row[:err] = got["err"] unless got["err"].empty?
  row[:status] = got["status"]
  row
end

ARGF.each_line do |line|
  line = line.strip
  next if line.empty? || line.start_with?("#")
  words = Shellwords.split(line)
  argv = words.map { |w| w.gsub(/\\x(\h\h)/) { $1.hex.chr }.force_encoding("UTF-8") }
  puts JSON.generate(run_case(argv).merge(argv: words))
end
