# frozen_string_literal: true

module TaskerCore
  class Worker
    # The worker's options, checked before any SQL runs. Namespaces become queue names
    # (`<namespace>_queue`), so they must be plain identifiers.
    class Settings
      NAMESPACE_FORMAT = /\A[a-z][a-z0-9_]{0,40}\z/
      KNOWN_OPTIONS = %i[database_url poll_interval visibility_timeout batch_size max_reads logger].freeze
      # A message read more often than this is poison: archived, and its step failed.
      DEFAULT_MAX_READS = 25

      attr_reader :namespaces, :concurrency, :database_url, :poll_interval, :visibility_timeout,
                  :batch_size, :max_reads, :logger

      def initialize(namespaces:, concurrency: 4, **options)
        unknown = options.keys - KNOWN_OPTIONS
        raise TaskerCore::ArgumentError, "unknown worker options: #{unknown.join(", ")}" if unknown.any?

        config = Settings.configuration
        @namespaces = check_namespaces(namespaces)
        @concurrency = check_positive_integer(:concurrency, concurrency)
        @database_url = check_url(options.fetch(:database_url, nil) || config.database_url)
        @poll_interval = check_positive_number(:poll_interval, options[:poll_interval] || config.poll_interval)
        @visibility_timeout = check_positive_integer(:visibility_timeout,
                                                     options[:visibility_timeout] || config.visibility_timeout)
        @batch_size = check_positive_integer(:batch_size, options[:batch_size] || @concurrency)
        @max_reads = check_positive_integer(:max_reads, options[:max_reads] || DEFAULT_MAX_READS)
        @logger = options[:logger] || Settings.default_logger(config)
      end

      def queues
        @namespaces.map { |namespace| "#{namespace}_queue" }
      end

      # The URL with its password hidden: the only form that may appear in a log line.
      def redacted_database_url
        Settings.redact(@database_url)
      end

      def self.redact(url)
        url.to_s.sub(%r{//([^:/@]*):[^@]*@}, '//\1:***@')
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
          next if name.is_a?(String) && NAMESPACE_FORMAT.match?(name)

          raise TaskerCore::ArgumentError,
                "invalid namespace #{name.inspect}: expected #{NAMESPACE_FORMAT.source} " \
                "(lowercase letters, digits and underscores, starting with a letter)"
        end
        list.uniq.freeze
      end

      def check_positive_integer(key, value)
        return value if value.is_a?(Integer) && value.positive?

        raise TaskerCore::ArgumentError, "#{key} must be a positive integer, got #{value.inspect}"
      end

      def check_positive_number(key, value)
        return value.to_f if value.is_a?(Numeric) && value.positive?

        raise TaskerCore::ArgumentError, "#{key} must be a positive number, got #{value.inspect}"
      end

      def check_url(url)
        return url if url.is_a?(String) && url.match?(%r{\Apostgres(ql)?://})

        raise TaskerCore::ArgumentError, "database_url must be a postgres:// URL, got #{Settings.redact(url).inspect}"
      end
    end
  end
end
