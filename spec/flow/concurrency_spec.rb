# frozen_string_literal: true

# Runs until the spec opens its task's gate (by the context's label); records the starts.
class SpecKeyedStep < TaskerCore::StepHandler
  @gates = Hash.new { |hash, label| hash[label] = Queue.new }
  @started = Queue.new
  @lock = Mutex.new
  class << self
    attr_reader :started

    def gate(label)
      @lock.synchronize { @gates[label] }
    end

    def reset!
      @lock.synchronize { @gates.clear }
      @started.clear
    end
  end

  def call(task, _sequence, _step)
    label = task.context["label"]
    self.class.started << label
    raise TaskerCore::PermanentError, "told to fail" if task.context["fail"]

    self.class.gate(label).pop
    { "label" => label }
  end
end

# A template's concurrency: {key:, limit:}: at most `limit` tasks with the same key value in
# progress, the others pending with a reason and started in creation order; other keys and
# contexts without the key are not held back.
RSpec.describe "concurrency keys", db: true do
  def template(limit: 1, key: "account.id")
    { "namespace" => "keyed", "name" => "sync", "version" => "1",
      "concurrency" => { "key" => key, "limit" => limit },
      "steps" => [{ "name" => "only", "handler" => "SpecKeyedStep" }] }
  end

  def create(label, account)
    context = { "label" => label }
    context["account"] = { "id" => account } if account
    TaskerCore.create_task(namespace: "keyed", name: "sync", context: context)
  end

  # A task of this account whose step fails for good (a worker must be running).
  def failed_task(label, account)
    task = TaskerCore.create_task(namespace: "keyed", name: "sync",
                                  context: { "label" => label, "fail" => true, "account" => { "id" => account } })
    expect(started(1)).to eq([label])
    expect(TaskerCore.wait_for_task(task.uuid, timeout: 10).state).to eq("error")
    task
  end

  def state(task)
    TaskerCore.task_status(task.uuid).state
  end

  def started(count)
    Array.new(count) { Timeout.timeout(10) { SpecKeyedStep.started.pop } }
  end

  before do
    reset_tasker_database!
    SpecKeyedStep.reset!
    start_orchestrator!
  end

  after { stop_orchestrator! }

  it "runs one task per key at a time, in creation order, and other keys in parallel" do
    TaskerCore.register_templates!([template])
    a1 = create("a1", 7)
    a2 = create("a2", 7)
    b1 = create("b1", 8)
    a3 = create("a3", 7)
    free = create("free", nil)
    expect([a1, a2, b1, a3, free].map { |t| state(t) }).to eq(%w[in_progress pending in_progress pending in_progress])
    status = TaskerCore.task_status(a2.uuid)
    expect(status.waiting_for).to eq("waiting for concurrency key account.id=7 (limit 1)")
    expect(status.steps.map(&:state)).to eq(["pending"])
    expect(TaskerCore.task_status(free.uuid)["concurrency_key"]).to be_nil

    with_worker(namespaces: ["keyed"], concurrency: 4) do
      # a1, b1 and the keyless task run at the same time: parallel across keys.
      expect(started(3)).to contain_exactly("a1", "b1", "free")
      SpecKeyedStep.gate("a1") << :go
      expect(TaskerCore.wait_for_task(a1.uuid, timeout: 10).state).to eq("complete")
      # The slot a1 freed went to a2 (created before a3) in a1's result transaction.
      expect(started(1)).to eq(["a2"])
      expect(state(a3)).to eq("pending")
      expect(TaskerCore.task_status(a3.uuid).waiting_for).to eq("waiting for concurrency key account.id=7 (limit 1)")

      # A cancelled task frees its slot too.
      expect(TaskerCore.cancel_task(a2.uuid)).to eq("cancelled")
      expect(started(1)).to eq(["a3"])
      %w[a3 b1 free a2].each { |label| SpecKeyedStep.gate(label) << :go }
      [a3, b1, free].each { |t| expect(TaskerCore.wait_for_task(t.uuid, timeout: 10).state).to eq("complete") }
    end
  end

  it "lets `limit` tasks of one key run together" do
    TaskerCore.register_templates!([template(limit: 2)])
    tasks = %w[x1 x2 x3].map { |label| create(label, "acme") }
    expect(tasks.map { |t| state(t) }).to eq(%w[in_progress in_progress pending])
    expect(TaskerCore.task_status(tasks[2].uuid).waiting_for)
      .to eq("waiting for concurrency key account.id=acme (limit 2)")
  end

  it "does not count a task waiting for its key as stuck, however long it waits" do
    TaskerCore.register_templates!([template])
    running = create("r", 1)
    waiting = create("w", 1)
    with_pg do |conn|
      conn.exec("UPDATE tasker.tasks SET updated_at = now() - interval '1 hour'")
      stuck = TaskerCore::StatusQueries.new(conn).stuck_steps(after_seconds: 60, limit: 10)
      expect(stuck.map { |row| row["task_uuid"] }).not_to include(waiting.uuid)
      conn.exec_params("UPDATE tasker.tasks SET state = 'cancelled' WHERE task_uuid = $1", [running.uuid])
      stuck = TaskerCore::StatusQueries.new(conn).stuck_steps(after_seconds: 60, limit: 10)
      expect(stuck.map { |row| [row["task_uuid"], row["problem"]] })
        .to eq([[waiting.uuid, "ready but not enqueued (no orchestrator running?)"]])
    end
  end

  it "makes a retried task wait for its key again, and start when the slot frees" do
    TaskerCore.register_templates!([template])
    with_worker(namespaces: ["keyed"], concurrency: 2) do
      failed = failed_task("f", 9)
      holder = create("h", 9)
      expect(started(1)).to eq(["h"])

      # The slot is taken: the retry leaves the task pending, waiting, its step not enqueued.
      expect(TaskerCore.retry_task(failed.uuid)).to eq("pending")
      status = TaskerCore.task_status(failed.uuid)
      expect(status.waiting_for).to eq("waiting for concurrency key account.id=9 (limit 1)")
      expect(status.steps.map(&:state)).to eq(["pending"])

      # The holder finishes; the retried task takes the slot (and fails again, as told).
      SpecKeyedStep.gate("h") << :go
      expect(TaskerCore.wait_for_task(holder.uuid, timeout: 10).state).to eq("complete")
      expect(started(1)).to eq(["f"])
      expect(TaskerCore.wait_for_task(failed.uuid, timeout: 10).state).to eq("error")
      expect(TaskerCore.task_status(failed.uuid).steps.first.attempts).to eq(1)
    end
  end

  it "retries a task with a free key at once" do
    TaskerCore.register_templates!([template])
    with_worker(namespaces: ["keyed"], concurrency: 1) do
      failed = failed_task("g", 10)
      expect(TaskerCore.retry_task(failed.uuid)).to eq("in_progress")
      expect(started(1)).to eq(["g"])
      expect(TaskerCore.wait_for_task(failed.uuid, timeout: 10).state).to eq("error")
    end
  end

  it "refuses a bad declaration at registration, naming the template and the field" do
    expect { TaskerCore.register_templates!([template(limit: 0, key: "account..id")]) }
      .to raise_error(TaskerCore::TemplateError) { |error|
        expect(error.message).to include("keyed/sync@1 is invalid",
                                         'concurrency.key "account..id" must be a dot path of context keys',
                                         "concurrency.limit must be between 1 and 10000, got 0")
      }
  end
end
