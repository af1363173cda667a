# frozen_string_literal: true

require "logger"
require "tasker_core/internal"

module TaskerCore
  # The database URL with its password (userinfo or ?password=, ?sslpassword=) masked: the
  # only form of a URL that may appear in a log line, a status, an error or an inspect.
  # One rule, the core's (src/config/redact.rs).
  def self.redact_url(url)
    Internal.redact_url(url.to_s)
  end

  # Settings for one process. Set them with TaskerCore.configure; validate! names the bad key.
  # Every default, range and rule is the core's (src/config/settings.rs): nothing is copied here.
  class Configuration
    DEFAULTS = Internal::Config.defaults(true).freeze
    SETTINGS = DEFAULTS.keys.map(&:to_sym).freeze
    DEFAULT_DATABASE_URL = DEFAULTS.fetch("database_url")
    LOG_LEVELS = Internal::LOG_LEVELS

    attr_accessor(*SETTINGS, :template_paths, :schedule_paths, :logger)
    # A callable that runs each step handler: `->(&run) { app.reloader.wrap(&run) }` (set by the Railtie).
    attr_accessor :handler_wrapper

    def initialize
      DEFAULTS.each { |key, value| instance_variable_set(:"@#{key}", value.dup) }
      @database_url = ENV.fetch("DATABASE_URL", DEFAULT_DATABASE_URL)
      @log_level = ENV.fetch("TASKER_LOG_LEVEL", DEFAULTS.fetch("log_level"))
      @template_paths = ["config/tasker/templates"]
      @schedule_paths = ["config/tasker/schedules.yml"]
      @logger = Logger.new($stderr, progname: "tasker-core")
    end

    # Raises ConfigurationError naming the first bad key (wrong type, not finite, out of range).
    def validate!
      Internal::Config.validate(to_native)
      self
    end

    # What the Rust core needs, as plain values (no Ruby objects cross into Rust); the core
    # checks their types.
    def to_native
      SETTINGS.to_h do |key|
        value = public_send(key)
        [key.to_s, key == :log_level && value.is_a?(Symbol) ? value.to_s : value]
      end
    end

    # The database URL with any password replaced, for logs and error messages.
    def redacted_database_url
      TaskerCore.redact_url(database_url)
    end

    # Where the reads of the dashboard, the CLI, TaskerCore.metrics and task_status go: the
    # replica of read_database_url when set, else the primary. wait_for_task and every write use
    # database_url.
    def read_url
      read_database_url.to_s.empty? ? database_url : read_database_url
    end

    def redacted_read_url
      TaskerCore.redact_url(read_url)
    end

    def replica?
      !read_database_url.to_s.empty?
    end

    # The settings as the core takes them, with the database URL replaced by the read URL.
    def to_native_reads
      to_native.merge("database_url" => read_url)
    end

    def inspect
      shown = SETTINGS.map do |key|
        value = if %i[database_url
                      read_database_url].include?(key)
                  TaskerCore.redact_url(public_send(key))
                else
                  public_send(key)
                end
        "#{key}=#{value.inspect}"
      end
      "#<TaskerCore::Configuration #{shown.join(", ")}, template_paths=#{template_paths.inspect}, " \
        "schedule_paths=#{schedule_paths.inspect}>"
    end
    alias to_s inspect
  end
end
