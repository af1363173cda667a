# frozen_string_literal: true

require "json"
require "time"
require "tasker_core/cli"
require "tasker_core/cli/table"

module TaskerCore
  class CLI
    # Base of every command: option parsing (its own options plus the global ones), --help,
    # configuration from the shared surface (config file, TASKER_*, flags) and output helpers.
    class Command
      class << self
        attr_reader :name_, :usage_, :description_

        def command(name, usage, description)
          @name_ = name
          @usage_ = usage
          @description_ = description
        end
      end

      def initialize(global, argv, out:, err:)
        @global = global
        @argv = argv
        @out = out
        @err = err
        @options = {}
      end

      def call
        parser.parse!(@argv)
        return help if @global[:help]

        run(@argv)
      end

      private

      def parser
        @parser ||= OptionParser.new do |opts|
          opts.banner = "usage: tasker-core #{self.class.usage_}"
          opts.separator ""
          self.class.description_.each_line { |line| opts.separator(line.chomp) }
          opts.separator ""
          opts.separator "Options:"
          options(opts)
          opts.separator ""
          opts.separator "Global options:"
          CLI.global_options(opts, @global)
        end
      end

      # Subclasses add their options here.
      def options(_opts); end

      def help
        @out.puts parser.help
        0
      end

      # Settings, lowest precedence first: defaults, the config file, TASKER_* variables, flags.
      # Long-running commands log at info unless told otherwise.
      def configure!(default_log_level: nil)
        require "tasker_core" # the native extension: not needed for --help
        configuration = TaskerCore.configuration
        loader = ConfigLoader.new(configuration)
        file = config_file
        loader.load_file(file, environment: environment) if file
        loader.load_env(ENV)
        flags = { "database_url" => @global[:database_url], "log_level" => @global[:log_level] }.compact
        flags["log_level"] ||= default_log_level if default_log_level && !loader.source_of("log_level")
        loader.load_hash(flags, source: "the command line")
        loader.validate!
        TaskerCore.configure { |_| nil }
        plain_log_lines(configuration.logger)
        @loader = loader
        configuration
      end

      # "2026-01-02T03:04:05.678Z INFO  pid=42 message" on stderr (a Rails app loaded with
      # --require keeps its own logger).
      def plain_log_lines(logger)
        return unless logger.instance_of?(::Logger)

        logger.formatter = proc do |severity, time, _progname, message|
          "#{time.utc.iso8601(3)} #{severity.ljust(5)} pid=#{Process.pid} #{message}\n"
        end
      end

      def config_file
        if (path = @global[:config])
          raise Failure, "config file #{path} not found" unless File.file?(path)

          return path
        end
        File.file?("config/tasker_core.yml") ? "config/tasker_core.yml" : nil
      end

      def environment
        @global[:environment] || ENV["TASKER_ENV"] || ENV["RAILS_ENV"] || ENV["RACK_ENV"] || "development"
      end

      def arguments!(argv, count, names)
        return argv if count.cover?(argv.size)

        raise UsageError, "#{self.class.name_}: expected #{names}, got #{argv.empty? ? "nothing" : argv.join(" ")}"
      end

      def puts(*lines)
        @out.puts(*lines)
      end

      def json(value)
        @out.puts JSON.pretty_generate(value)
      end

      def logger
        TaskerCore.logger
      end
    end
  end
end
