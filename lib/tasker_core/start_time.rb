# frozen_string_literal: true

require "time"
require "tasker_core/errors"

module TaskerCore
  # create_task's `run_at:` (a Time, or anything with to_time such as a DateTime or an
  # ActiveSupport::TimeWithZone) or `delay:` (seconds from now, >= 0), as the ISO 8601 UTC time
  # the core stores in tasks.run_at; nil when neither is given. A past run_at starts at once.
  module StartTime
    module_function

    def iso8601(run_at:, delay:)
      raise ArgumentError, "create_task takes run_at: or delay:, not both" if run_at && delay
      return from_time(run_at).utc.iso8601(6) if run_at
      return nil if delay.nil?

      (Time.now + seconds(delay)).utc.iso8601(6)
    end

    def from_time(value)
      return value if value.is_a?(Time)
      return value.to_time if value.respond_to?(:to_time) && !value.is_a?(String) && !value.is_a?(Numeric)

      raise ArgumentError, "run_at must be a Time, got #{value.class}"
    end

    def seconds(value)
      unless value.is_a?(Numeric) && value.real? && value.finite? && value >= 0
        raise ArgumentError, "delay must be a number of seconds >= 0, got #{value.inspect}"
      end

      value
    end
  end
end
