# frozen_string_literal: true

# TaskerCore::Testing.run_task: the whole task in the calling thread, with real handlers, the
# real claim, result application and enqueue, and no orchestrator or worker running.
module RunTaskSpec
  # Records which thread ran each step, and what it was handed.
  def self.calls
    @calls ||= []
  end

  class Validate < TaskerCore::StepHandler
    def call(task, _sequence, step)
      RunTaskSpec.calls << [step.name, Thread.current]
      { "order_id" => task.context.fetch("order_id") }
    end
  end

  class Price < TaskerCore::StepHandler
    def call(_task, sequence, step)
      RunTaskSpec.calls << [step.name, Thread.current]
      { "total" => sequence.get("validate").fetch("order_id") * 10 }
    end
  end

  class Reserve < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      RunTaskSpec.calls << [step.name, Thread.current]
      { "reserved" => true }
    end
  end

  class Confirm < TaskerCore::StepHandler
    def call(_task, sequence, step)
      RunTaskSpec.calls << [step.name, Thread.current]
      { "total" => sequence.get("price").fetch("total"), "reserved" => sequence.get("reserve").fetch("reserved") }
    end
  end

  # Fails its first two attempts (retryable), succeeds on the third.
  class Flaky < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      RunTaskSpec.calls << [step.name, Thread.current]
      raise "upstream unavailable (attempt #{step.attempt})" if step.attempt < 3

      { "attempt" => step.attempt }
    end
  end

  class Declined < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      RunTaskSpec.calls << [step.name, Thread.current]
      raise TaskerCore::PermanentError.new("card declined", error_code: "CARD_DECLINED")
    end
  end
end

RSpec.describe "TaskerCore::Testing.run_task", db: true do
  def template(name, steps)
    { "namespace" => "inline", "name" => name, "version" => "1.0.0", "steps" => steps }
  end

  def step(name, handler, **extra)
    { "name" => name, "handler" => "RunTaskSpec::#{handler}" }.merge(extra.transform_keys(&:to_s))
  end

  # A backoff of a minute: a run that waited for it would take minutes.
  let(:slow_retry) { { "max_attempts" => 3, "backoff_base_seconds" => 60.0, "max_backoff_seconds" => 120.0 } }

  before do
    reset_tasker_database!
    RunTaskSpec.calls.clear
    TaskerCore.register_templates!([
                                     template("diamond", [step("validate", "Validate"),
                                                          step("price", "Price", depends_on: ["validate"]),
                                                          step("reserve", "Reserve", depends_on: ["validate"]),
                                                          step("confirm", "Confirm", depends_on: %w[price reserve])]),
                                     template("flaky", [step("call_upstream", "Flaky", retry: slow_retry)]),
                                     template("declined", [step("validate", "Validate"),
                                                           step("charge", "Declined", depends_on: ["validate"],
                                                                                      retry: slow_retry),
                                                           step("ship", "Reserve", depends_on: ["charge"])])
                                   ])
  end

  def run(name, context = { "order_id" => 7 })
    TaskerCore::Testing.run_task(namespace: "inline", name: name, version: "1.0.0", context: context)
  end

  def audit(task_uuid)
    with_pg do |conn|
      conn.exec_params(<<~SQL, [task_uuid]).map { |r| [r["name"], r["from_state"], r["to_state"]] }
        SELECT s.name, t.from_state, t.to_state FROM tasker.step_transitions t
          JOIN tasker.workflow_steps s USING (step_uuid)
         WHERE t.task_uuid = $1 ORDER BY t.id
      SQL
    end
  end

  it "runs a DAG to completion in the calling thread, parents' results handed down, nothing left queued" do
    threads_before = Thread.list.size
    status = run("diamond")

    expect(TaskerCore::Orchestrator.running?).to be(false)
    expect(Thread.list.size).to eq(threads_before)
    expect(status).to be_a(TaskerCore::TaskStatus)
    expect(status.state).to eq("complete")
    expect(status.steps.map { |s| [s.name, s.state, s.attempts] })
      .to eq([["validate", "complete", 1], ["price", "complete", 1], ["reserve", "complete", 1],
              ["confirm", "complete", 1]])
    expect(status.step("confirm").results).to eq("total" => 70, "reserved" => true)
    expect(RunTaskSpec.calls.map(&:last).uniq).to eq([Thread.current])
    expect(RunTaskSpec.calls.map(&:first).first).to eq("validate")
    expect(RunTaskSpec.calls.map(&:first).last).to eq("confirm")
    expect(queue_messages("inline_queue")).to be_empty
    expect(queue_messages("tasker_step_results")).to be_empty
    # The production path: every step enqueued, claimed and completed through move_steps.
    expect(audit(status.uuid).select { |name, _, _| name == "confirm" })
      .to eq([["confirm", nil, "pending"], %w[confirm pending enqueued], %w[confirm enqueued in_progress],
              %w[confirm in_progress complete]])
  end

  it "retries a retryable failure without sitting out its backoff" do
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    status = run("flaky")
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started

    expect(status.state).to eq("complete")
    step = status.step("call_upstream")
    expect(step.attempts).to eq(3)
    expect(step.results).to eq("attempt" => 3)
    expect(elapsed).to be < 30
    expect(audit(status.uuid).map(&:last))
      .to eq(%w[pending enqueued in_progress waiting_for_retry in_progress waiting_for_retry in_progress complete])
  end

  it "fails the task on a permanent error, leaving its dependents unrun" do
    status = run("declined")

    expect(status.state).to eq("error")
    charge = status.step("charge")
    expect(charge.state).to eq("error")
    expect(charge.attempts).to eq(1)
    expect(charge.last_error).to include("class" => "TaskerCore::PermanentError", "message" => "card declined",
                                         "error_code" => "CARD_DECLINED")
    expect(status.step("ship").state).to eq("pending")
    expect(RunTaskSpec.calls.map(&:first)).to eq(%w[validate charge])
  end

  it "raises the create_task errors as they are, and refuses connection:" do
    expect { run("no_such_template") }.to raise_error(TaskerCore::NotFoundError, %r{inline/no_such_template})
    expect do
      TaskerCore::Testing.run_task(namespace: "inline", name: "diamond", connection: Object.new)
    end.to raise_error(TaskerCore::ArgumentError, /connection:/)
  end
end
