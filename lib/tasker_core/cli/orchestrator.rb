# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core orchestrator
    class OrchestratorCommand < Command
      command "orchestrator", "orchestrator [options]", <<~TEXT
        Runs the orchestrator in this process until TERM or INT: it initializes tasks, processes
        step results, enqueues the steps that become ready and finalizes tasks. Run one or more
        per database; they share the work. TERM or INT stops taking new results and lets the ones
        in flight finish (up to --drain-timeout); a second signal exits at once.
      TEXT

      def options(opts)
        opts.on("--migrate", "Migrate the database first") { @options[:migrate] = true }
        opts.on("--register-templates", "Register the configured templates first") { @options[:register] = true }
        opts.on("--drain-timeout SECONDS", Float, "Seconds to finish in-flight work at shutdown (default 25)") do |v|
          @options[:drain_timeout] = v
        end
      end

      def run(argv)
        arguments!(argv, 0..0, "no arguments")
        configure!(default_log_level: "info")
        TaskerCore.migrate! if @options[:migrate]
        settings = { "orchestrator" => true, "workers" => nil, "register_templates" => @options[:register] || false }
        settings["shutdown_timeout"] = @options[:drain_timeout] if @options[:drain_timeout]
        Runtime.plan = Runtime::Plan.new(@loader.process_settings.merge(settings))
        Runtime.start!
        Runtime.run_until_signal
        0
      end
    end
  end
end
