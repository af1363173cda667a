# frozen_string_literal: true

require "time"
require "tasker_core/states"

module TaskerCore
  # Read-only view of a status hash: `status.state`, `status["state"]`, `status[:state]`.
  class StatusView
    def initialize(hash)
      @hash = hash
    end

    def [](key)
      @hash[key.to_s]
    end

    def to_h
      @hash
    end

    def respond_to_missing?(name, include_private = false)
      @hash.key?(name.to_s) || super
    end

    def method_missing(name, *args)
      return @hash[name.to_s] if args.empty? && @hash.key?(name.to_s)

      super
    end

    def ==(other)
      other.is_a?(StatusView) && other.to_h == to_h
    end

    private

    def time(key)
      value = @hash[key]
      value && Time.iso8601(value)
    end
  end

  # One step of a task_status: name, state, attempts, max_attempts, results, last_error,
  # next_retry_at, enqueued_at / started_at / completed_at, depends_on, ready.
  class StepStatus < StatusView
    def started_at = time("started_at")
    def completed_at = time("completed_at")
    def enqueued_at = time("enqueued_at")
    def next_retry_at = time("next_retry_at")
    def complete? = self["state"] == "complete"
  end

  # TaskerCore.task_status(uuid): the task's state, step counts, completion percentage and
  # every step's details.
  class TaskStatus < StatusView
    FINISHED = States::TASK_FINISHED

    def initialize(hash)
      super
      @steps = hash.fetch("steps", []).map { |s| StepStatus.new(s) }
    end

    attr_reader :steps

    def uuid = self["task_uuid"]
    def created_at = time("created_at")
    def run_at = time("run_at")
    def scheduled? = self["scheduled"] == true
    def completed_at = time("completed_at")
    def complete? = self["state"] == "complete"
    def finished? = FINISHED.include?(self["state"])

    def step(name)
      steps.find { |s| s.name == name.to_s } or
        raise NotFoundError, "task #{uuid} has no step #{name.inspect} (steps: #{steps.map(&:name).join(", ")})"
    end

    def to_s
      "#<TaskerCore::TaskStatus #{self["namespace"]}/#{self["name"]} #{uuid} #{self["state"]} " \
        "#{self["completion_percentage"]}%>"
    end
    alias inspect to_s
  end
end
