# frozen_string_literal: true

require "tasker_core/configuration"
require "tasker_core/queue_name"

module TaskerCore
  class Worker
    # The worker's options, checked before any SQL runs, by the core's rules (defaults and
    # ranges live in src/config/settings.rs). A bad option is an ArgumentError, a bad value
    # taken from TaskerCore.configuration a ConfigurationError; both name the key.
    # Namespaces become queue names (`<namespace>_queue`), so they must be plain identifiers.
    class Settings
      DEFAULTS = Internal::Config.defaults(false).freeze
      KNOWN_OPTIONS = %i[database_url poll_interval visibility_timeout batch_size max_reads logger].freeze
      # A step message read more often than this is poison: archived, and its step failed.
      DEFAULT_MAX_READS = DEFAULTS.fetch("max_reads")

      attr_reader :namespaces, :concurrency, :database_url, :poll_interval, :visibility_timeout,
                  :batch_size, :max_reads, :logger

      def initialize(namespaces:, concurrency: DEFAULTS.fetch("concurrency"), **options)
        unknown = options.keys - KNOWN_OPTIONS
        raise TaskerCore::ArgumentError, "unknown worker options: #{unknown.join(", ")}" if unknown.any?

        config = Settings.configuration
        @namespaces = check_namespaces(namespaces)
        @concurrency = check(:concurrency, concurrency)
        @database_url = setting(:database_url, options, config)
        @poll_interval = setting(:poll_interval, options, config)
        @visibility_timeout = setting(:visibility_timeout, options, config)
        @batch_size = check(:batch_size, options.fetch(:batch_size, nil) || @concurrency)
        @max_reads = check(:max_reads, options.fetch(:max_reads, nil) || DEFAULT_MAX_READS)
        @logger = options[:logger] || Settings.default_logger(config)
      end

      def queues
        @namespaces.map { |namespace| "#{namespace}_queue" }
      end

      # The URL with its password hidden: the only form that may appear in a log line.
      def redacted_database_url
        TaskerCore.redact_url(@database_url)
      end

      def self.configuration
        TaskerCore.respond_to?(:configuration) ? TaskerCore.configuration : TaskerCore::Configuration.new
      end

      def self.default_logger(config)
        TaskerCore.respond_to?(:logger) ? TaskerCore.logger : config.logger
      end

      private

      def check_namespaces(namespaces)
        list = Array(namespaces).map { |name| name.is_a?(Symbol) ? name.to_s : name }
        raise TaskerCore::ArgumentError, "a worker needs at least one namespace" if list.empty?

        list.each do |name|
          next if name.is_a?(String) && TaskerCore::NAMESPACE_NAME.match?(name)

          raise TaskerCore::ArgumentError,
                "invalid namespace #{name.inspect}: expected #{Internal::NAMESPACE_PATTERN} " \
                "(lowercase letters, digits and underscores, starting with a letter)"
        end
        list.uniq.freeze
      end

      # An option given to the worker wins; else the configuration's value, whose errors are
      # the configuration's.
      def setting(key, options, config)
        value = options.fetch(key, nil)
        return check(key, value) unless value.nil?

        Internal::Config.check(key.to_s, config.public_send(key))
      end

      def check(key, value)
        Internal::Config.check(key.to_s, value)
      rescue TaskerCore::ConfigurationError => e
        raise TaskerCore::ArgumentError, e.message
      end
    end
  end
end
