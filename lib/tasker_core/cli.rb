# frozen_string_literal: true

require "optparse"
require "tasker_core/version"
require "tasker_core/errors"
require "tasker_core/configuration"

module TaskerCore
  # exe/tasker-core: `tasker-core [global options] COMMAND [options] [arguments]`.
  # Exit status: 0 success, 1 operational failure (a failed or unknown task, an invalid
  # template, an unreachable database), 2 usage error. Errors are one line on stderr;
  # --trace adds the backtrace.
  class CLI
    # Bad command line: exit status 2.
    class UsageError < StandardError; end

    # The command ran and the answer is "no" (task failed, not found...): exit status 1.
    class Failure < StandardError; end

    COMMANDS = {
      "migrate" => ["Migrate", "Install pgmq and the tasker schema (idempotent)"],
      "orchestrator" => ["OrchestratorCommand", "Run a standalone orchestrator until TERM or INT"],
      "worker" => ["WorkerCommand", "Run step handlers for some namespaces until TERM or INT"],
      "status" => ["Status", "Tasks by state, queue depths, stuck and retrying steps"],
      "task" => ["TaskCommand", "One task and its steps: states, attempts, timings, errors"],
      "graph" => ["Graph", "A template's or a task's DAG as Mermaid or Graphviz DOT (or PNG)"],
      "templates" => ["Templates", "List registered templates; validate or register YAML templates"],
      "schedules" => ["Schedules", "List, register (YAML) or remove recurring schedules"],
      "namespaces" => ["Namespaces", "List paused namespaces; pause or resume a namespace's workers"],
      "purge" => ["Purge", "Delete finished tasks older than an age (retention)"],
      "demo" => ["Demo", "Run the example workflows end to end"],
      "web" => ["WebCommand", "Serve the web dashboard"],
      "help" => [nil, "This overview, or `help COMMAND` for one command"]
    }.freeze

    def self.start(argv, out: $stdout, err: $stderr)
      new(out: out, err: err).run(argv)
    end

    def initialize(out: $stdout, err: $stderr)
      @out = out
      @err = err
      @global = {}
    end

    def run(argv)
      argv = argv.dup
      global_parser.order!(argv)
      return version if @global[:version]

      name = @command = argv.shift
      return overview(@global[:help] ? 0 : 2) if name.nil?
      return help(argv.first) if name == "help"

      command_class(name).new(@global, argv, out: @out, err: @err).call
    rescue UsageError, OptionParser::ParseError => e
      report(e, hint: true)
      2
    rescue Failure, TaskerCore::Error, SystemCallError => e
      report(e)
      1
    rescue Interrupt
      @err.puts "tasker-core: interrupted"
      130
    rescue StandardError, ScriptError => e
      report(e, prefix: "#{e.class}: ")
      1
    end

    # Global options, accepted before the command and after it.
    def self.global_options(opts, global)
      opts.on("--database-url URL", "PostgreSQL URL (default: TASKER_DATABASE_URL, config file, DATABASE_URL)") do |v|
        global[:database_url] = v
      end
      opts.on("--log-level LEVEL", Configuration::LOG_LEVELS, Configuration::LOG_LEVELS.join(", ")) do |v|
        global[:log_level] = v
      end
      opts.on("--config FILE", "YAML settings (default: ./config/tasker_core.yml when present)") do |v|
        global[:config] = v
      end
      opts.on("--environment NAME", "Section of the config file (default: TASKER_ENV, RAILS_ENV, RACK_ENV, " \
                                    "development)") { |v| global[:environment] = v }
      opts.on("--trace", "Print backtraces with errors") { global[:trace] = true }
      opts.on("-h", "--help", "Show help") { global[:help] = true }
    end

    private

    def global_parser
      OptionParser.new do |opts|
        opts.banner = "usage: tasker-core [global options] COMMAND [options] [arguments]"
        CLI.global_options(opts, @global)
        opts.on("-v", "--version", "Print the version") { @global[:version] = true }
      end
    end

    def command_class(name)
      class_name, = COMMANDS[name]
      raise UsageError, "unknown command #{name.inspect} (commands: #{COMMANDS.keys.join(", ")})" unless class_name

      require "tasker_core/cli/#{name == "task" ? "task_command" : name}"
      CLI.const_get(class_name)
    end

    def help(name)
      return overview(0) if name.nil? || name == "help"

      command_class(name).new(@global.merge(help: true), [], out: @out, err: @err).call
    end

    def version
      @out.puts "tasker-core #{TaskerCore::VERSION}"
      0
    end

    def overview(status)
      io = status.zero? ? @out : @err
      io.puts global_parser.banner, "", "Commands:"
      COMMANDS.each { |name, (_, summary)| io.puts format("  %-14<name>s %<summary>s", name: name, summary: summary) }
      io.puts "", "Global options:"
      io.puts(global_parser.summarize.reject { |line| line.start_with?(global_parser.banner) })
      io.puts "", "Exit status: 0 success, 1 failure (task failed or not found, database unreachable, " \
                  "invalid template), 2 usage error.",
              "Run `tasker-core help COMMAND` for a command's options."
      status
    end

    def report(error, hint: false, prefix: "")
      message = error.message.to_s.lines.map(&:strip).reject(&:empty?).join(" ")
      @err.puts "tasker-core: #{prefix}#{message}"
      @err.puts "Run `tasker-core help#{COMMANDS[@command] ? " #{@command}" : ""}` for usage." if hint
      @err.puts(error.backtrace.map { |line| "    #{line}" }) if @global[:trace] && error.backtrace
    end
  end
end
