# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core migrate
    class Migrate < Command
      command "migrate", "migrate [options]", <<~TEXT
        Installs pgmq's SQL and the tasker schema (tables, SQL functions, the results and
        requests queues) in the configured database. Idempotent: safe on every deploy.
      TEXT

      def options(opts)
        opts.on("--register-templates", "Also register the configured templates") { @options[:register] = true }
      end

      def run(argv)
        arguments!(argv, 0..0, "no arguments")
        configuration = configure!
        TaskerCore.migrate!
        puts "migrated #{configuration.redacted_database_url}"
        if @options[:register]
          registered = TaskerCore.register_templates!
          puts "registered #{registered.empty? ? "no templates" : registered.join(", ")}"
        end
        0
      end
    end
  end
end
