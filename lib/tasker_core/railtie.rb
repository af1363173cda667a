# frozen_string_literal: true

require "logger"
require "rails/railtie"
require "tasker_core/runtime"

module TaskerCore
  # Rails integration. Settings, lowest to highest precedence (see docs/operations.md):
  # TaskerCore defaults, config/tasker_core.yml (section for Rails.env, ERB allowed),
  # `config.tasker_core.*` (config/application.rb, config/environments/*.rb), TASKER_* variables,
  # then whatever `TaskerCore.configure` in config/initializers changes.
  #
  #   # config/application.rb
  #   config.tasker_core.workers = {namespaces: %w[fulfillment], concurrency: 4}
  #
  # After the app has initialized, server processes (rails server, puma, unicorn, passenger)
  # register the templates and start the orchestrator and workers; rake, console and runner
  # do not, unless TASKER_START=1 or `config.tasker_core.start = true`. A Puma cluster master
  # with preload_app! starts nothing itself: each forked worker process starts its own.
  class Railtie < ::Rails::Railtie
    # Rails.logger behind TaskerCore's own level, so that `log_level` never changes the level
    # of the application's logger.
    class ForwardingLogger < ::Logger
      def initialize(target)
        super(nil)
        @target = target
      end

      def add(severity, message = nil, progname = nil)
        severity ||= UNKNOWN
        return true if severity < level

        if message.nil?
          if block_given?
            message = yield
          else
            message = progname
            progname = nil
          end
        end
        @target.add(severity, message, progname)
      end
      alias log add
    end

    RAILS_ONLY_KEYS = %i[config_file logger].freeze

    config.tasker_core = ActiveSupport::OrderedOptions.new

    rake_tasks do
      load File.expand_path("../tasks/tasker_core.rake", __dir__)
    end

    initializer "tasker_core.configure", before: :load_config_initializers do |app|
      TaskerCore::Railtie.configure!(app)
    end

    config.after_initialize do |app|
      TaskerCore::Railtie.boot!(app)
    end

    class << self
      def configure!(app)
        options = app.config.tasker_core
        loader = load_settings(app, options)
        configuration = loader.configuration
        expand_paths(configuration, app.root)
        configuration.logger = options.logger || ForwardingLogger.new(::Rails.logger)
        configuration.handler_wrapper = ->(&block) { app.reloader.wrap(&block) } if
          configuration.respond_to?(:handler_wrapper=)
        loader.validate!
        TaskerCore.configure { |_| nil } # applies the log level, starts the event pump
        Runtime.plan = loader.plan
        attach_log_subscriber if Runtime.plan.log_events
      end

      # config/tasker_core.yml, then config.tasker_core, then TASKER_* variables.
      def load_settings(app, options)
        loader = ConfigLoader.new(TaskerCore.configuration)
        file = (options.config_file || app.root.join("config", "tasker_core.yml")).to_s
        loader.load_file(file, environment: ::Rails.env) if File.file?(file)
        loader.load_hash(options.to_h.except(*RAILS_ONLY_KEYS), source: "config.tasker_core")
        loader.load_env(ENV)
      end

      def boot!(_app)
        case Runtime.plan.start
        when :never then nil
        when :after_fork then Runtime.start_after_fork!
        when :always then start
        else start if server_process?
        end
      end

      # A web server is booting this app (not rake, the console or a runner).
      def server_process?
        loaded?(::Rails, :Server) || loaded?(:Puma, :Launcher) || loaded?(:Unicorn, :HttpServer) ||
          Object.const_defined?(:PhusionPassenger, false)
      end

      # A Puma cluster master that loaded the app before forking its workers.
      def forking_master?
        config = puma_config or return false
        options = config.options
        options[:workers].to_i.positive? && options[:preload_app] ? true : false
      rescue StandardError
        false
      end

      private

      # template_paths and schedule_paths relative to the app's root.
      def expand_paths(configuration, root)
        configuration.template_paths = Array(configuration.template_paths).map { |p| File.expand_path(p, root) }
        configuration.schedule_paths = Array(configuration.schedule_paths).map { |p| File.expand_path(p, root) }
      end

      def start
        forking_master? ? Runtime.start_after_fork! : Runtime.start!
      end

      def attach_log_subscriber
        return if @log_subscriber

        @log_subscriber = Notifications::LogSubscriber.attach
      end

      def puma_config
        return nil unless loaded?(:Puma, :Launcher)
        return ::Puma.cli_config if ::Puma.respond_to?(:cli_config) && ::Puma.cli_config

        launcher = ObjectSpace.each_object(::Puma::Launcher).first
        launcher&.config
      end

      # Defined and not just registered for autoload (puma.rb autoloads Puma::Launcher).
      def loaded?(parent, name)
        parent = Object.const_get(parent) if parent.is_a?(Symbol)
        parent.const_defined?(name, false) && !parent.autoload?(name)
      rescue NameError
        false
      end
    end
  end
end
