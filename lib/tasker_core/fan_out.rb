# frozen_string_literal: true

require "tasker_core/errors"

module TaskerCore
  # What the handler of a `type: fan_out` step may return when its result is not the Array
  # itself: each direct dependent runs once per element of `items` (as `step.input`, at
  # `step.index`), and the step's result is `result`. A plain Array is both.
  #
  #   TaskerCore::FanOut.new(chunks, result: {"rows" => 120_000})
  class FanOut
    attr_reader :items, :result

    def initialize(items, result: nil)
      raise ArgumentError, "TaskerCore::FanOut: items must be an Array, got #{items.class}" unless items.is_a?(Array)

      @items = items
      @result = result
    end
  end
end
