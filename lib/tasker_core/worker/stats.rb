# frozen_string_literal: true

module TaskerCore
  class Worker
    # Thread-safe counters of what the worker did with the messages it read.
    #   processed: messages taken up by an executor    succeeded / failed: results submitted
    #   archived:  malformed or unknown messages        stale: superseded messages deleted
    #   released:  read but handed back at shutdown    errors: database or internal errors,
    #   timed_out: attempts reported failed for          and executor threads that died
    #              running past timeout_seconds          (counted in failed too)
    class Stats
      KEYS = %i[processed succeeded failed archived stale released errors timed_out].freeze

      def initialize
        @mutex = Mutex.new
        @counts = KEYS.to_h { |key| [key, 0] }
      end

      def increment(key, by = 1)
        raise ::ArgumentError, "unknown stat #{key.inspect}" unless @counts.key?(key)

        @mutex.synchronize { @counts[key] += by }
      end

      def [](key)
        @mutex.synchronize { @counts.fetch(key) }
      end

      def to_h
        @mutex.synchronize { @counts.dup }
      end
    end
  end
end
