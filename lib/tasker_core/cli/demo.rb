# frozen_string_literal: true

require "tasker_core/cli/command"

module TaskerCore
  class CLI
    # tasker-core demo: examples/demo.rb
    class Demo < Command
      DEMO = File.expand_path("../../../examples/demo.rb", __dir__)

      command "demo", "demo [--tasks N] [--concurrency N] [--timeout SECONDS]", <<~TEXT
        Runs the example workflows (linear, diamond, tree, mixed DAG) end to end in this process:
        migrates the database, registers the example templates, starts an orchestrator and a
        worker, runs each example once and then a batch, and checks every step's result.
        Exits 1 if any result is wrong.
      TEXT

      def options(opts)
        opts.on("--tasks N", Integer, "Tasks of each shape in the batch (default 25)") { |v| @options[:tasks] = v }
        opts.on("--concurrency N", Integer, "Worker threads (default 4)") { |v| @options[:concurrency] = v }
        opts.on("--timeout SECONDS", Integer, "Give up on the batch after SECONDS (default 300)") do |v|
          @options[:timeout] = v
        end
      end

      def run(argv)
        arguments!(argv, 0..0, "no arguments")
        raise Failure, "the examples are not installed (#{DEMO} is missing)" unless File.file?(DEMO)

        configuration = configure!
        ENV["DATABASE_URL"] = configuration.database_url # the demo configures itself from it
        require DEMO
        ::Demo.new(demo_argv).run
      end

      private

      def demo_argv
        %i[tasks concurrency timeout].flat_map do |key|
          @options.key?(key) ? ["--#{key}", @options[key].to_s] : []
        end
      end
    end
  end
end
