# frozen_string_literal: true

require "time"

module TaskerCore
  class Web
    # The task list's query string, parsed and checked: namespace, name, state, created_after,
    # created_before (ISO 8601; a time without a zone is UTC), a page cursor (`older` or
    # `newer`) and limit. `errors` names what was refused.
    class TaskFilters
      DEFAULT_LIMIT = 50
      MAX_LIMIT = 200
      TIME = /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z\z/ # a cursor's time, as Queries.iso writes it
      FIELDS = %w[namespace name state created_after created_before].freeze

      # A position in the list: the (created_at, task_uuid) of a row, as "<iso time>_<uuid>".
      Cursor = Struct.new(:created_at, :task_uuid) do
        def self.parse(text)
          time, uuid = text.to_s.split("_", 2)
          return nil unless uuid&.match?(TaskerCore::Types::UUID_FORMAT) && time.match?(TIME)

          new(time, uuid.downcase)
        end

        def self.from_row(row)
          new(row.fetch("created_at"), row.fetch("task_uuid"))
        end

        def to_s
          "#{created_at}_#{task_uuid}"
        end
      end

      attr_reader :namespace, :name, :state, :created_after, :created_before, :cursor, :direction, :limit,
                  :errors

      def initialize(params)
        @params = params
        @errors = []
        @namespace = text("namespace")
        @name = text("name")
        @state = parse_state
        @created_after = parse_time("created_after")
        @created_before = parse_time("created_before")
        @limit = parse_limit
        parse_cursor
      end

      def valid?
        errors.empty?
      end

      # The same filters without a cursor.
      def first_page
        copy = dup
        copy.instance_variable_set(:@cursor, nil)
        copy.instance_variable_set(:@direction, nil)
        copy
      end

      # The filters as query parameters (what the form shows and paging links keep).
      def to_params
        FIELDS.to_h { |key| [key, @params[key].to_s.strip] }.reject { |_, value| value.empty? }
              .tap { |params| params["limit"] = limit.to_s if limit != DEFAULT_LIMIT }
      end

      def any?
        FIELDS.any? { |key| !@params[key].to_s.strip.empty? }
      end

      private

      def text(key)
        value = @params[key].to_s.strip
        return nil if value.empty?

        if value.length > 200
          errors << "#{key} is too long"
          return nil
        end
        value
      end

      def parse_state
        value = text("state")
        return value if value.nil? || TaskerCore::States::TASK.include?(value)

        errors << "state must be one of #{TaskerCore::States::TASK.join(", ")}"
        nil
      end

      def parse_time(key)
        value = text(key)
        return nil unless value

        value = "#{value}T00:00:00" if value.match?(/\A\d{4}-\d\d-\d\d\z/)
        value = "#{value}:00" if value.match?(/T\d\d:\d\d\z/)
        value = "#{value}Z" unless value.match?(/(Z|[+-]\d\d:?\d\d)\z/i)
        Time.iso8601(value).utc.iso8601(6)
      rescue ::ArgumentError
        errors << "#{key} is not a time (expected e.g. 2026-01-31T14:00 in UTC, or ISO 8601 with a zone)"
        nil
      end

      def parse_limit
        raw = @params["limit"].to_s.strip
        return DEFAULT_LIMIT if raw.empty?

        value = Integer(raw, 10)
        return value if value.between?(1, MAX_LIMIT)

        errors << "limit must be between 1 and #{MAX_LIMIT}"
        DEFAULT_LIMIT
      rescue ::ArgumentError
        errors << "limit must be a number"
        DEFAULT_LIMIT
      end

      def parse_cursor
        %w[older newer].each do |key|
          raw = @params[key].to_s
          next if raw.empty?

          @cursor = Cursor.parse(raw)
          @direction = key.to_sym
          errors << "#{key} is not a valid page cursor" unless @cursor
          break
        end
      end
    end
  end
end
