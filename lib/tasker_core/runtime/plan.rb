# frozen_string_literal: true

module TaskerCore
  module Runtime
    # What a process runs, checked before anything starts; errors name the key. The numbers
    # are checked by the core's rules (src/config/settings.rs), with its defaults.
    #
    #   start:              auto (default: server processes only), true, false, after_fork
    #   orchestrator:       run the embedded orchestrator in this process (default true)
    #   workers:            {namespaces: [...], concurrency: 4, poll_interval:, visibility_timeout:,
    #                        batch_size:} or nil for no workers (default nil)
    #   register_templates: register configuration.template_paths when starting (default true)
    #   shutdown_timeout:   seconds running handlers get to finish at shutdown (default 25)
    #   log_events:         attach Notifications::LogSubscriber (default true)
    class Plan
      STARTS = %w[auto after_fork].freeze
      WORKER_KEYS = %w[namespaces concurrency poll_interval visibility_timeout batch_size].freeze
      DEFAULTS = Internal::Config.defaults(false).freeze
      TRUE_WORDS = %w[1 true yes on].freeze
      FALSE_WORDS = %w[0 false no off].freeze

      attr_reader :start, :orchestrator, :workers, :register_templates, :shutdown_timeout, :log_events

      # settings: Hash (String or Symbol keys); sources: key => where it was set (for errors).
      def initialize(settings = {}, sources = {})
        @sources = sources
        settings = settings.to_h.transform_keys(&:to_s)
        @start = parse_start(settings.fetch("start", "auto"))
        @orchestrator = boolean("orchestrator", settings.fetch("orchestrator", true))
        @workers = parse_workers(settings["workers"])
        @register_templates = boolean("register_templates", settings.fetch("register_templates", true))
        @shutdown_timeout = checked("shutdown_timeout",
                                    settings.fetch("shutdown_timeout", DEFAULTS.fetch("shutdown_timeout")))
        @log_events = boolean("log_events", settings.fetch("log_events", true))
      end

      def to_h
        { start: start, orchestrator: orchestrator, workers: workers, register_templates: register_templates,
          shutdown_timeout: shutdown_timeout, log_events: log_events }
      end

      # Anything to run at all?
      def runs_something?
        orchestrator || !workers.nil?
      end

      private

      # :auto, :always (true), :never (false) or :after_fork.
      def parse_start(value)
        word = value.to_s.downcase
        return :always if TRUE_WORDS.include?(word)
        return :never if FALSE_WORDS.include?(word)
        return word.to_sym if STARTS.include?(word)

        invalid("start", "must be one of auto, true, false, after_fork", value)
      end

      def parse_workers(value)
        return nil if value.nil? || value == false || FALSE_WORDS.include?(value.to_s.downcase)

        invalid("workers", "must be a mapping like {namespaces: [...], concurrency: 4}", value) unless value.is_a?(Hash)

        value = value.transform_keys(&:to_s)
        unknown = value.keys - WORKER_KEYS
        invalid("workers", "has unknown key(s) #{unknown.join(", ")} (known: #{WORKER_KEYS.join(", ")})", value) if
          unknown.any?
        worker_options(value)
      end

      def worker_options(value)
        options = { namespaces: namespaces(value["namespaces"]),
                    concurrency: checked("workers.concurrency", value.fetch("concurrency", DEFAULTS["concurrency"])) }
        %w[poll_interval visibility_timeout batch_size].each do |key|
          options[key.to_sym] = checked("workers.#{key}", value[key]) if value.key?(key)
        end
        options
      end

      def namespaces(value)
        list = value.is_a?(String) ? value.split(",") : Array(value)
        list = list.map { |name| name.to_s.strip }.reject(&:empty?)
        invalid("workers.namespaces", "must list at least one namespace", value) if list.empty?
        list
      end

      def boolean(key, value)
        return value if [true, false].include?(value)

        word = value.to_s.downcase
        return true if TRUE_WORDS.include?(word)
        return false if FALSE_WORDS.include?(word)

        invalid(key, "must be true or false", value)
      end

      # The value as the core's rule for the setting (the key's last part) takes it; text (from
      # ENV or YAML) is read as a number first.
      def checked(key, value)
        setting = key.split(".").last
        Internal::Config.check(setting, from_text(value))
      rescue ConfigurationError => e
        raise ConfigurationError, "#{key} #{e.message.delete_prefix("#{setting} ")}#{where(key)}"
      end

      def from_text(value)
        return value unless value.is_a?(String)

        Integer(value, 10, exception: false) || Float(value, exception: false) || value
      end

      def invalid(key, problem, value)
        raise ConfigurationError, "#{key} #{problem}, got #{value.inspect}#{where(key)}"
      end

      def where(key)
        source = @sources[key] || @sources[key.split(".").first]
        source ? " (set in #{source})" : ""
      end
    end
  end
end
