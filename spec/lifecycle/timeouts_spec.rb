# frozen_string_literal: true

class SpecOverrunOnce < TaskerCore::StepHandler
  def call(_task, _sequence, step)
    sleep 2.5 if step.attempt == 1
    { "finished_attempt" => step.attempt }
  end
end

# A step's timeout_seconds bounds one attempt: the worker that runs it reports the attempt as
# failed with TaskerCore::TimeoutError once it overruns, the step is retried by its policy,
# and the overrunning handler's late result is never submitted.
RSpec.describe "step timeouts", db: true do
  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "slow", "name" => "overrun", "version" => "1",
                                      "steps" => [{ "name" => "work", "handler" => "SpecOverrunOnce",
                                                    "timeout_seconds" => 1 }] }])
    start_orchestrator!
  end

  after { stop_orchestrator! }

  it "fails the overrunning attempt with TimeoutError, retries it and never submits the late result" do
    failures = Queue.new
    subscription = TaskerCore::Notifications.subscribe("step.failed.tasker_core") { |_, payload| failures << payload }
    task = TaskerCore.create_task(namespace: "slow", name: "overrun")
    ignored_before = TaskerCore::Orchestrator.status["results_ignored"]
    status = with_worker(namespaces: %w[slow], concurrency: 2, poll_interval: 0.2) do |worker|
      done = TaskerCore.wait_for_task(task.uuid, timeout: 15)
      wait_until(timeout: 10, message: "the overrunning handler to return") { worker.stats[:in_flight].zero? }
      expect(worker.stats).to include(timed_out: 1, failed: 1, succeeded: 1)
      done
    end
    work = status.step("work")
    expect(work).to have_attributes(state: "complete", attempts: 2, results: { "finished_attempt" => 2 })
    expect(work.last_error).to include("class" => "TaskerCore::TimeoutError", "attempt" => 1)
    reasons = with_pg do |conn|
      conn.exec_params("SELECT reason FROM tasker.step_transitions WHERE step_uuid = $1 AND to_state = 'in_progress'
                         ORDER BY id", [work["step_uuid"]]).map { |r| r["reason"] }
    end
    expect(reasons).to eq(%w[claimed claimed]) # a retry, not a redelivery
    expect(TaskerCore::Orchestrator.status["results_ignored"]).to eq(ignored_before)
    expect(TaskerCore.task_status(task.uuid).step("work").results).to eq("finished_attempt" => 2)
    failed = failures.pop(true)
    expect(failed).to include(step_name: "work", attempt: 1, will_retry: true)
    expect(failed[:error]).to include(class: "TaskerCore::TimeoutError", retryable: true)
    expect(failures).to be_empty
  ensure
    TaskerCore::Notifications.unsubscribe(subscription) if subscription
  end
end
