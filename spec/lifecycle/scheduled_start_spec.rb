# frozen_string_literal: true

# Records when each of its steps ran, across worker threads.
class SpecStartClock < TaskerCore::StepHandler
  @lock = Mutex.new
  @runs = {}
  class << self
    def reset! = @lock.synchronize { @runs = {} }
    def runs = @lock.synchronize { @runs.dup }
    def record(task_uuid) = @lock.synchronize { @runs[task_uuid] = Time.now }
  end

  def call(task, _sequence, _step)
    self.class.record(task.uuid)
    "ran"
  end
end

# create_task(run_at:/delay:) against the real database, orchestrator and worker.
RSpec.describe "scheduled start (run_at / delay)", db: true do
  before do
    reset_tasker_database!
    SpecStartClock.reset!
    TaskerCore.register_templates!([{ "namespace" => "later", "name" => "once", "version" => "1",
                                      "steps" => [{ "name" => "only", "handler" => "SpecStartClock" }] }])
    start_orchestrator!
  end

  after { stop_orchestrator! }

  def visible_messages
    with_pg do |conn|
      conn.exec("SELECT count(*) FROM pgmq.q_later_queue WHERE vt <= clock_timestamp()").getvalue(0, 0).to_i
    end
  end

  it "creates the task at once, shows run_at, and runs nothing before then" do
    run_at = Time.now + 1.5
    task = TaskerCore.create_task(namespace: "later", name: "once", run_at: run_at)
    status = TaskerCore.task_status(task.uuid)
    expect(status.run_at).to be_within(0.001).of(run_at)
    expect(status.scheduled?).to be(true)
    expect(queue_messages("later_queue").size).to eq(1)
    expect(visible_messages).to eq(0)

    with_worker(namespaces: %w[later]) do
      final = TaskerCore.wait_for_task(task.uuid, timeout: 15)
      expect(final.state).to eq("complete")
    end
    expect(SpecStartClock.runs.fetch(task.uuid)).to be >= run_at
    expect(TaskerCore.task_status(task.uuid).scheduled?).to be(false)
  end

  it "takes delay: in seconds from now" do
    before = Time.now
    task = TaskerCore.create_task(namespace: "later", name: "once", delay: 3600)
    run_at = TaskerCore.task_status(task.uuid).run_at
    expect(run_at).to be_between(before + 3600, Time.now + 3600)
    expect(visible_messages).to eq(0)
  end

  it "starts a task whose run_at has passed at once" do
    task = TaskerCore.create_task(namespace: "later", name: "once", run_at: Time.now - 3600)
    expect(visible_messages).to eq(1)
    expect(TaskerCore.task_status(task.uuid).scheduled?).to be(false)
    with_worker(namespaces: %w[later]) do
      expect(TaskerCore.wait_for_task(task.uuid, timeout: 15).state).to eq("complete")
    end
  end

  it "runs no handler of a task cancelled before its start" do
    task = TaskerCore.create_task(namespace: "later", name: "once", run_at: Time.now + 1)
    expect(TaskerCore.cancel_task(task.uuid)).to eq("cancelled")
    expect(queue_messages("later_queue")).to be_empty
    with_worker(namespaces: %w[later]) do
      control = TaskerCore.create_task(namespace: "later", name: "once", run_at: Time.now + 1.2)
      expect(TaskerCore.wait_for_task(control.uuid, timeout: 15).state).to eq("complete")
    end
    expect(SpecStartClock.runs.keys).not_to include(task.uuid)
    expect(TaskerCore.task_status(task.uuid).state).to eq("cancelled")
  end

  it "refuses run_at and delay together, a run_at that is no time and a negative delay" do
    expect { TaskerCore.create_task(namespace: "later", name: "once", run_at: Time.now, delay: 5) }
      .to raise_error(TaskerCore::ArgumentError, /run_at: or delay:, not both/)
    expect { TaskerCore.create_task(namespace: "later", name: "once", run_at: "tomorrow") }
      .to raise_error(TaskerCore::ArgumentError, /run_at must be a Time, got String/)
    expect { TaskerCore.create_task(namespace: "later", name: "once", delay: -1) }
      .to raise_error(TaskerCore::ArgumentError, /delay must be a number of seconds >= 0/)
  end

  it "holds a task requested inside a transaction until its run_at" do
    run_at = Time.now + 3600
    task = with_pg { |conn| TaskerCore.create_task(namespace: "later", name: "once", run_at: run_at, connection: conn) }
    wait_until(message: "the request to become a task") { TaskerCore.task_status(task.uuid).run_at }
    expect(TaskerCore.task_status(task.uuid).run_at).to be_within(0.001).of(run_at)
    expect(visible_messages).to eq(0)
  end
end
