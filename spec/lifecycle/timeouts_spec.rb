# frozen_string_literal: true

# A step's timeout_seconds is its message's visibility timeout: a worker that overruns it
# loses the step to another worker, and its late result changes nothing.
RSpec.describe "step timeouts", db: true do
  class SpecOverrunOnce < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      sleep 2.5 if step.attempt == 1
      { "finished_attempt" => step.attempt }
    end
  end

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "slow", "name" => "overrun", "version" => "1",
                                      "steps" => [{ "name" => "work", "handler" => "SpecOverrunOnce",
                                                    "timeout_seconds" => 1 }] }])
    start_orchestrator!
  end

  after { stop_orchestrator! }

  it "hands the step to another worker and ignores the late result" do
    task = TaskerCore.create_task(namespace: "slow", name: "overrun")
    ignored_before = TaskerCore::Orchestrator.status["results_ignored"]
    status = with_worker(namespaces: %w[slow], concurrency: 2, poll_interval: 0.2) do
      done = TaskerCore.wait_for_task(task.uuid, timeout: 15)
      wait_until(timeout: 10, message: "late result") do
        TaskerCore::Orchestrator.status["results_ignored"] > ignored_before
      end
      done
    end
    work = status.step("work")
    expect(work).to have_attributes(state: "complete", attempts: 2, results: { "finished_attempt" => 2 })
    reasons = with_pg do |conn|
      conn.exec_params("SELECT reason FROM tasker.step_transitions WHERE step_uuid = $1 AND to_state = 'in_progress'
                         ORDER BY id", [work["step_uuid"]]).map { |r| r["reason"] }
    end
    expect(reasons).to eq(%w[claimed redelivered])
    # still complete with attempt 2's result after the late one arrived
    expect(TaskerCore.task_status(task.uuid).step("work").results).to eq("finished_attempt" => 2)
  end
end
