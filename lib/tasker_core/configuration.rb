# frozen_string_literal: true

require "logger"

module TaskerCore
  # Settings for one process. Set them with TaskerCore.configure; validate! names the bad key.
  class Configuration
    DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:54329/tasker_development"
    LOG_LEVELS = %w[trace debug info warn error off].freeze

    attr_accessor :database_url, :template_paths, :logger, :log_level, :pool_size,
                  :default_max_attempts, :backoff_base_seconds, :max_backoff_seconds,
                  :backoff_jitter, :visibility_timeout, :poll_interval, :sweep_interval,
                  :claim_grace_seconds
    # A callable that runs each step handler: `->(&run) { app.reloader.wrap(&run) }` (set by the Railtie).
    attr_accessor :handler_wrapper

    def initialize
      @database_url = ENV.fetch("DATABASE_URL", DEFAULT_DATABASE_URL)
      @template_paths = ["config/tasker/templates"]
      @logger = Logger.new($stderr, progname: "tasker-core")
      @log_level = ENV.fetch("TASKER_LOG_LEVEL", "warn")
      @pool_size = 10
      @default_max_attempts = 3
      @backoff_base_seconds = 1.0
      @max_backoff_seconds = 300.0
      @backoff_jitter = 0.1
      @visibility_timeout = 30
      @poll_interval = 1.0
      @sweep_interval = 5.0
      @claim_grace_seconds = 30.0
    end

    def validate!
      require_url!
      require_positive!(:pool_size, integer: true)
      require_positive!(:default_max_attempts, integer: true)
      require_positive!(:visibility_timeout, integer: true)
      %i[backoff_base_seconds max_backoff_seconds poll_interval sweep_interval claim_grace_seconds].each do |key|
        require_positive!(key)
      end
      unless backoff_jitter.is_a?(Numeric) && backoff_jitter >= 0 && backoff_jitter <= 1
        raise ConfigurationError, "backoff_jitter must be between 0 and 1, got #{backoff_jitter.inspect}"
      end
      return self if LOG_LEVELS.include?(log_level.to_s)

      raise ConfigurationError, "log_level must be one of #{LOG_LEVELS.join(", ")}, got #{log_level.inspect}"
    end

    # What the Rust core needs, as plain values (no Ruby objects cross into Rust).
    def to_native
      {
        "database_url" => database_url, "pool_size" => pool_size, "log_level" => log_level.to_s,
        "default_max_attempts" => default_max_attempts,
        "backoff_base_seconds" => backoff_base_seconds.to_f,
        "max_backoff_seconds" => max_backoff_seconds.to_f, "backoff_jitter" => backoff_jitter.to_f,
        "visibility_timeout" => visibility_timeout, "poll_interval" => poll_interval.to_f,
        "sweep_interval" => sweep_interval.to_f, "claim_grace_seconds" => claim_grace_seconds.to_f
      }
    end

    # The database URL with any password replaced, for logs and error messages.
    def redacted_database_url
      database_url.to_s.sub(%r{//([^:/@]+):[^@]*@}, '//\1:***@')
    end

    private

    def require_url!
      return if database_url.is_a?(String) && database_url.match?(%r{\Apostgres(ql)?://})

      raise ConfigurationError, "database_url must be a postgres:// URL, got #{database_url.inspect}"
    end

    def require_positive!(key, integer: false)
      value = public_send(key)
      ok = integer ? value.is_a?(Integer) : value.is_a?(Numeric)
      return if ok && value.positive?

      kind = integer ? "a positive integer" : "a positive number"
      raise ConfigurationError, "#{key} must be #{kind}, got #{value.inspect}"
    end
  end
end
