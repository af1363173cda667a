# frozen_string_literal: true

require "tasker_core/errors"

module TaskerCore
  # What the handler of a `type: decision` step returns: the names of the direct dependents
  # that run (the others are skipped) and the step's own result.
  #
  #   TaskerCore::Decision.new(["manager_review"], result: {"amount" => 900})
  #   TaskerCore::Decision.new([])   # every dependent is skipped
  class Decision
    attr_reader :chosen, :result

    def initialize(chosen, result: nil)
      unless chosen.is_a?(Array) && chosen.all? { |n| n.is_a?(String) || n.is_a?(Symbol) }
        raise ArgumentError, "TaskerCore::Decision: chosen must be an Array of step names, got #{chosen.inspect}"
      end

      @chosen = chosen.map(&:to_s).uniq.freeze
      @result = result
    end
  end
end
