# frozen_string_literal: true

# TaskerCore.create_tasks: many tasks in one transaction, returned in request order; each
# element takes create_task's keywords and fails as create_task would, with its index in
# front of the message, and then nothing of the batch is written.
RSpec.describe "TaskerCore.create_tasks", db: true do
  def linear(number, **options)
    { namespace: "linear_workflow", name: "linear", version: "1.0.0", context: { "even_number" => number },
      **options }
  end

  def rows
    with_pg do |conn|
      %w[tasks workflow_steps workflow_step_edges task_transitions step_transitions].to_h do |table|
        [table, Integer(conn.exec("SELECT count(*) FROM tasker.#{table}").getvalue(0, 0))]
      end
    end
  end

  def context_of(task)
    TaskerCore.task_status(task.uuid).context
  end

  # The error create_task raises for these options, and the one create_tasks raises for them
  # as the element at `index` of an otherwise good batch; nothing of the batch is written.
  def both_errors(options, index: 1)
    single = capture { TaskerCore.create_task(**options) }
    before = rows
    batch = Array.new(3) { |i| linear(2 * (i + 1)) }
    batch[index] = options
    bulk = capture { TaskerCore.create_tasks(batch) }
    expect(rows).to eq(before)
    [single, bulk]
  end

  def capture
    yield
    raise "no error raised"
  rescue StandardError => e
    e
  end

  def expect_same_error(options, index: 1, message: nil)
    single, bulk = both_errors(options, index: index)
    expect(bulk.class).to eq(single.class)
    expect(bulk.message).to eq("create_tasks[#{index}]: #{single.message}")
    expect(single.message).to match(message) if message
  end

  before(:all) { load_example_workflows! }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!(Examples.template_paths)
  end

  after { stop_orchestrator! }

  it "creates the tasks in request order in one transaction, and a worker runs every one to completion" do
    start_orchestrator!
    numbers = [2, 4, 6, 8, 10, 12]
    requests = numbers.map { |n| linear(n) }
    requests << { namespace: "diamond_workflow", name: "diamond", context: { "even_number" => 4 } }
    tasks = TaskerCore.create_tasks(requests)
    expect(tasks).to all(be_a(TaskerCore::Task))
    expect(tasks.map(&:created?)).to all(be(true))
    expect(tasks.map(&:state)).to all(eq("in_progress"))
    expect(tasks.map(&:name)).to eq((%w[linear] * 6) + %w[diamond])
    expect(tasks.map(&:version)).to all(eq("1.0.0"))
    expect(tasks.map { |task| context_of(task)["even_number"] }).to eq(numbers + [4])
    # One transaction: every task row (and its state, moved on by the same call) was written by it.
    expect(with_pg { |c| c.exec("SELECT count(DISTINCT xmin::text) FROM tasker.tasks").getvalue(0, 0) }).to eq("1")
    expect(rows).to eq("tasks" => 7, "workflow_steps" => 28, "workflow_step_edges" => 22,
                       "task_transitions" => 14, "step_transitions" => 28 + 7)
    with_worker(namespaces: %w[linear_workflow diamond_workflow], concurrency: 4) do
      tasks.each_with_index do |task, i|
        status = TaskerCore.wait_for_task(task.uuid, timeout: 30)
        expect(status.state).to eq("complete")
        expect(status.steps.to_h { |step| [step.name, step.results] })
          .to eq(Examples.expected_results(task.namespace, context_of(task)["even_number"])), "element #{i}"
      end
    end
  end

  it "answers a key an earlier element of the batch or an existing task holds with that task" do
    existing = TaskerCore.create_task(**linear(2, idempotency_key: "old"))
    announced = []
    subscription = TaskerCore::Notifications.subscribe("task.created.tasker_core") { |_, p| announced << p[:task_uuid] }
    tasks = TaskerCore.create_tasks([linear(4, idempotency_key: "new"), linear(6, idempotency_key: "old"),
                                     linear(8, idempotency_key: "new"), linear(10)])
    TaskerCore::Notifications.unsubscribe(subscription)
    expect(tasks.map(&:created?)).to eq([true, false, false, true])
    expect(announced).to eq([tasks[0].uuid, tasks[3].uuid])
    expect(tasks[1].uuid).to eq(existing.uuid)
    expect(tasks[2].uuid).to eq(tasks[0].uuid)
    expect(tasks.map { |task| context_of(task)["even_number"] }).to eq([4, 2, 4, 10])
    expect(rows["tasks"]).to eq(3)
    again = TaskerCore.create_tasks([linear(4, idempotency_key: "new"), linear(6, idempotency_key: "old")])
    expect(again.map(&:uuid)).to eq([tasks[0].uuid, existing.uuid])
    expect(again.map(&:created?)).to eq([false, false])
    expect(rows["tasks"]).to eq(3)
  end

  it "returns [] for an empty Array and refuses what is not an Array of Hashes, naming the index" do
    expect(TaskerCore.create_tasks([])).to eq([])
    expect { TaskerCore.create_tasks(linear(2)) }
      .to raise_error(TaskerCore::ArgumentError, "create_tasks takes an Array of Hashes of create_task's " \
                                                 "keywords, got Hash")
    expect { TaskerCore.create_tasks(nil) }.to raise_error(TaskerCore::ArgumentError, /got NilClass\z/)
    expect { TaskerCore.create_tasks([linear(2), "linear"]) }
      .to raise_error(TaskerCore::ArgumentError,
                      "create_tasks[1] must be a Hash of create_task's keywords, got String")
    expect { TaskerCore.create_tasks([linear(2), linear(4, connection: Object.new)]) }
      .to raise_error(TaskerCore::ArgumentError, /\Acreate_tasks\[1\]: connection: is not supported by create_tasks/)
    expect(rows["tasks"]).to eq(0)
  end

  it "refuses more elements than max_create_batch, naming the setting" do
    config = TaskerCore.configuration
    expect(config.max_create_batch).to eq(1000)
    config.max_create_batch = 2
    expect { TaskerCore.create_tasks([linear(2), linear(4), linear(6)]) }
      .to raise_error(TaskerCore::ArgumentError,
                      "create_tasks got 3 requests; the setting max_create_batch allows at most 2 per call")
    expect(TaskerCore.create_tasks([linear(2), linear(4)]).size).to eq(2)
  ensure
    config.max_create_batch = 1000
  end

  it "raises what create_task raises for a bad element, prefixed with its index, and writes nothing" do
    expect_same_error(linear(2).merge(name: "nope"), index: 2,
                                                     message: %r{no template registered for linear_workflow/nope})
    expect_same_error(linear(2).merge(version: "9.9"), message: /registered versions: 1\.0\.0/)
    expect_same_error(linear(2).merge(context: [1]), index: 0, message: /must be a Hash, got Array/)
    expect_same_error(linear(2).merge(context: { "at" => Time.at(0) }), message: /Time at context\.at: not a JSON/)
    expect_same_error(linear(2).merge(context: { "note" => "a\u0000b" }),
                      message: /String at context\.note: contains a NUL character/)
    expect_same_error(linear(2, colour: "red"), message: /unknown keyword: :colour/)
    expect_same_error({ namespace: "linear_workflow" }, message: /missing keyword: :name/)
    expect_same_error(linear(2, idempotency_key: ""), message: /idempotency_key must not be empty/)
    expect_same_error(linear(2, run_at: Time.now, delay: 1), message: /run_at: or delay:, not both/)
    expect_same_error(linear(2, namespace: "bad name!"), message: /namespace/)
    expect(rows["tasks"]).to eq(0)
  end

  it "checks each element's context against its template's schema" do
    TaskerCore.register_templates!([{ "namespace" => "billing", "name" => "invoice", "version" => "1",
                                      "context_schema" => { "type" => "object", "required" => ["invoice_id"] },
                                      "steps" => [{ "name" => "only", "handler" => "A" }] }])
    good = { namespace: "billing", name: "invoice", context: { "invoice_id" => 1 } }
    expect_same_error(good.merge(context: { "other" => 1 }), message: /does not match the template's schema/)
    expect(TaskerCore.create_tasks([good, good]).map(&:created?)).to eq([true, true])
  end

  it "stores huge contexts as given" do
    big = "x" * (4 * 1024 * 1024)
    tasks = TaskerCore.create_tasks([linear(2, context: { "blob" => big, "i" => 0 }),
                                     linear(2, context: { "blob" => big, "i" => 1 })])
    expect(tasks.map { |task| context_of(task).values_at("i", "blob") }).to eq([[0, big], [1, big]])
  end

  it "holds each element to its own start time and its template's concurrency key, across the batch" do
    TaskerCore.register_templates!([{ "namespace" => "keyed", "name" => "sync", "version" => "1",
                                      "concurrency" => { "key" => "account", "limit" => 1 },
                                      "steps" => [{ "name" => "only", "handler" => "A" }] }])
    keyed = ->(account) { { namespace: "keyed", name: "sync", context: { "account" => account } } }
    tasks = TaskerCore.create_tasks([keyed.call(7), keyed.call(7), keyed.call(8), keyed.call(7),
                                     linear(2, delay: 3600), linear(4)])
    expect(tasks.map(&:state)).to eq(%w[in_progress pending in_progress pending in_progress in_progress])
    expect(TaskerCore.task_status(tasks[1].uuid).waiting_for)
      .to eq("waiting for concurrency key account=7 (limit 1)")
    expect(tasks.last(2).map { |task| TaskerCore.task_status(task.uuid).scheduled? }).to eq([true, false])
  end
end
