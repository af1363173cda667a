# frozen_string_literal: true

require "pg"

# The fault suite's workflow: a -> (b, c) -> d. Every handler records a side effect (a row in
# fault_effects, in the handler's own connection, committed before it returns), sleeps a
# little so that kills land mid-handler, and returns 1 + the sum of its parents' results.
module FaultWorkflow
  TEMPLATE = {
    "namespace" => "faults", "name" => "diamond", "version" => "1",
    "steps" => [
      { "name" => "a", "handler" => "FaultWorkflow::Step", "timeout_seconds" => 3,
        "retry" => { "max_attempts" => 10, "backoff_base_seconds" => 0.1 } },
      { "name" => "b", "handler" => "FaultWorkflow::Step", "depends_on" => ["a"], "timeout_seconds" => 3,
        "retry" => { "max_attempts" => 10, "backoff_base_seconds" => 0.1 } },
      { "name" => "c", "handler" => "FaultWorkflow::Step", "depends_on" => ["a"], "timeout_seconds" => 3,
        "retry" => { "max_attempts" => 10, "backoff_base_seconds" => 0.1 } },
      { "name" => "d", "handler" => "FaultWorkflow::Step", "depends_on" => %w[b c], "timeout_seconds" => 3,
        "retry" => { "max_attempts" => 10, "backoff_base_seconds" => 0.1 } }
    ]
  }.freeze
  EXPECTED = { "a" => 1, "b" => 2, "c" => 2, "d" => 5 }.freeze

  # split (a fan_out of context["elements"] numbers) -> item[0..n-1] (element + 1) -> total.
  FAN_OUT_TEMPLATE = {
    "namespace" => "faults", "name" => "fan_out", "version" => "1",
    "steps" => [
      { "name" => "split", "handler" => "FaultWorkflow::Split", "type" => "fan_out",
        "retry" => { "max_attempts" => 10, "backoff_base_seconds" => 0.1 } },
      { "name" => "item", "handler" => "FaultWorkflow::Item", "depends_on" => ["split"],
        "retry" => { "max_attempts" => 10, "backoff_base_seconds" => 0.1 } },
      { "name" => "total", "handler" => "FaultWorkflow::Total", "depends_on" => ["item"],
        "retry" => { "max_attempts" => 10, "backoff_base_seconds" => 0.1 } }
    ]
  }.freeze

  class Split < TaskerCore::StepHandler
    def call(task, _sequence, _step)
      (0...task.context.fetch("elements")).to_a
    end
  end

  class Item < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      step.input + 1
    end
  end

  class Total < TaskerCore::StepHandler
    def call(_task, sequence, _step)
      { "count" => sequence.get("item").size, "sum" => sequence.get("item").sum }
    end
  end

  class Step < TaskerCore::StepHandler
    def call(task, sequence, step)
      record_effect(step)
      sleep(rand * task.context.fetch("max_sleep", 0.05))
      raise task.context["fail_message"] if task.context["fail_message"] && step.attempt == 1

      step.depends_on.sum { |name| sequence.get(name) } + 1
    end

    private

    def record_effect(step)
      conn = Thread.current[:fault_effects_conn]
      if conn.nil? || conn.finished? || conn.status != PG::CONNECTION_OK
        conn = Thread.current[:fault_effects_conn] = PG.connect(TaskerCore.configuration.database_url)
      end
      conn.exec_params("INSERT INTO fault_effects (step_uuid, attempt, pid) VALUES ($1, $2, $3)",
                       [step.uuid, step.attempt, Process.pid])
    rescue PG::ConnectionBad, PG::UnableToSend
      Thread.current[:fault_effects_conn] = nil
      raise
    end
  end
end

module FaultWorkflow
  # A poison step: whoever runs it dies.
  class KillsItsWorker < TaskerCore::StepHandler
    def call(_task, _sequence, _step)
      Process.kill(:KILL, Process.pid)
    end
  end
end

module FaultWorkflow
  # Returns something JSON cannot hold.
  class ReturnsObject < TaskerCore::StepHandler
    def call(_task, _sequence, _step)
      { "when" => Object.new }
    end
  end

  # Proves it saw the whole (large) context.
  class MeasuresContext < TaskerCore::StepHandler
    def call(task, _sequence, _step)
      { "blob_bytes" => task.context.fetch("blob").bytesize }
    end
  end
end
