# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core worker --namespaces a,b --concurrency N --require handlers/
    class WorkerCommand < Command
      command "worker", "worker --namespaces NS[,NS...] [--concurrency N] [--require PATH]... [options]", <<~TEXT
        Runs step handlers for the given namespaces until TERM or INT. Handler classes must be
        loaded: --require a file or a directory (every .rb file under it, in order), or a Rails
        app's config/environment.rb. TERM or INT stops fetching, lets running handlers finish
        (up to --drain-timeout) and hands unstarted messages back; a second signal exits at once.
        Namespaces and concurrency default to the config file's `workers` section or
        TASKER_WORKER_NAMESPACES / TASKER_WORKER_CONCURRENCY.
      TEXT

      def options(opts)
        opts.on("-n", "--namespaces LIST", Array, "Namespaces to work on (comma separated)") do |v|
          @options[:namespaces] = v
        end
        opts.on("-c", "--concurrency N", Integer, "Handler threads (default 4)") { |v| @options[:concurrency] = v }
        opts.on("-r", "--require PATH", "Load handlers from a file or directory (repeatable)") do |v|
          (@options[:require] ||= []) << v
        end
        opts.on("--orchestrator", "Also run an orchestrator in this process") { @options[:orchestrator] = true }
        opts.on("--register-templates", "Register the configured templates first") { @options[:register] = true }
        opts.on("--drain-timeout SECONDS", Float, "Seconds running handlers get at shutdown (default 25)") do |v|
          @options[:drain_timeout] = v
        end
      end

      def run(argv)
        arguments!(argv, 0..0, "no arguments (handlers are loaded with --require)")
        require "tasker_core" # before the handlers, which subclass TaskerCore::StepHandler
        load_handlers
        configure!(default_log_level: "info")
        Runtime.plan = Runtime::Plan.new(@loader.process_settings.merge(plan_settings))
        Runtime.start!
        Runtime.run_until_signal
        0
      end

      private

      def plan_settings
        workers = (@loader.process_settings["workers"] || {}).dup
        workers["namespaces"] = @options[:namespaces] if @options[:namespaces]
        workers["concurrency"] = @options[:concurrency] if @options[:concurrency]
        raise UsageError, "worker: --namespaces is required (or workers.namespaces in the config file)" unless
          workers["namespaces"]

        settings = { "workers" => workers, "orchestrator" => @options[:orchestrator] || false,
                     "register_templates" => @options[:register] || false }
        settings["shutdown_timeout"] = @options[:drain_timeout] if @options[:drain_timeout]
        settings
      end

      def load_handlers
        Array(@options[:require]).each do |path|
          files = File.directory?(path) ? Dir.glob(File.join(path, "**", "*.rb")) : [path]
          raise Failure, "--require #{path}: no such file or directory" unless File.exist?(path)

          files.each { |file| require File.expand_path(file) }
        end
      end
    end
  end
end
