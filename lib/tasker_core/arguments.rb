# frozen_string_literal: true

require "tasker_core/errors"
require "tasker_core/worker/json_value"

module TaskerCore
  # Checks what a caller hands the public API before any of it reaches the core: the same JSON
  # rule as a step's result (Worker::JsonValue), so an Object, a Time or a Symbol is refused
  # instead of being stored as its to_s, and a NUL, invalid UTF-8 or too deep a nesting is a
  # TaskerCore::ArgumentError naming the field, never a database or JSON error later.
  module Arguments
    module_function

    # A plain JSON copy of `value`; the error names `field` and the path inside it.
    def json(value, field)
      Worker::JsonValue.normalize(value, field)
    rescue Worker::JsonValue::NotJson => e
      raise ArgumentError, e.message
    end

    # A String that PostgreSQL can store as text, or nil.
    def text(value, field)
      return nil if value.nil?
      raise ArgumentError, "#{field} must be a String, got #{value.class}" unless value.is_a?(String)

      json(value, field)
    end
  end
end
