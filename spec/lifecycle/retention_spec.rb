# frozen_string_literal: true

# Step handlers of the retention specs.
class RetentionFirst < TaskerCore::StepHandler
  def call(task, _sequence, _step)
    raise TaskerCore::PermanentError, "refused" if task.context["fail"]

    { "first" => true }
  end
end

# The second step: runs after the first.
class RetentionSecond < TaskerCore::StepHandler
  def call(_task, _sequence, _step)
    { "second" => true }
  end
end

# TaskerCore.purge and the sweep's `retention`: finished tasks completed before the cutoff go,
# with every row that belongs to them; open and recent tasks stay whole.
RSpec.describe "retention", db: true do
  let(:day) { 86_400 }
  let(:tables) { TaskerCore::Retention::TABLES }

  before do
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "keep", "name" => "pair", "version" => "1",
                                      "steps" => [{ "name" => "first", "handler" => "RetentionFirst",
                                                    "retry" => { "max_attempts" => 1 } },
                                                  { "name" => "second", "handler" => "RetentionSecond",
                                                    "depends_on" => ["first"] }] }])
  end

  def run(context = {})
    TaskerCore::Testing.run_task(namespace: "keep", name: "pair", version: "1", context: context)
  end

  def create
    TaskerCore.create_task(namespace: "keep", name: "pair", version: "1")
  end

  # Backdates a task: its completion (and creation) `days` ago.
  def age(uuid, days)
    with_pg do |conn|
      conn.exec_params("UPDATE tasker.tasks SET created_at = now() - make_interval(days => $2), " \
                       "completed_at = CASE WHEN completed_at IS NOT NULL " \
                       "THEN now() - make_interval(days => $2) END WHERE task_uuid = $1", [uuid, days])
    end
  end

  # An archived step message of this task, as a poison message leaves one.
  def archive_message_of(uuid)
    msg_id = send_raw_message("keep_queue", JSON.generate("task_uuid" => uuid, "step_uuid" => uuid))
    with_pg { |conn| conn.exec_params("SELECT pgmq.archive('keep_queue', $1::bigint)", [msg_id]) }
  end

  # Rows of each table that belong to these tasks.
  def rows_of(uuids)
    list = "{#{uuids.join(",")}}"
    with_pg do |conn|
      count = ->(sql) { Integer(conn.exec_params(sql, [list]).getvalue(0, 0)) }
      { "tasks" => count.call("SELECT count(*) FROM tasker.tasks WHERE task_uuid = ANY ($1::uuid[])"),
        "workflow_steps" => count.call("SELECT count(*) FROM tasker.workflow_steps WHERE task_uuid = ANY ($1::uuid[])"),
        "workflow_step_edges" => count.call("SELECT count(*) FROM tasker.workflow_step_edges " \
                                            "WHERE task_uuid = ANY ($1::uuid[])"),
        "task_transitions" => count.call("SELECT count(*) FROM tasker.task_transitions " \
                                         "WHERE task_uuid = ANY ($1::uuid[])"),
        "step_transitions" => count.call("SELECT count(*) FROM tasker.step_transitions " \
                                         "WHERE task_uuid = ANY ($1::uuid[])"),
        "archived_messages" => count.call("SELECT count(*) FROM pgmq.a_keep_queue " \
                                          "WHERE message->>'task_uuid' = ANY ($1::text[])"),
        "rejected_task_requests" => count.call("SELECT count(*) FROM tasker.rejected_task_requests " \
                                               "WHERE task_uuid = ANY ($1::uuid[])") }
    end
  end

  def none
    tables.to_h { |t| [t, 0] }
  end

  # A request that could not become a task, rejected `days` ago.
  def reject(days)
    uuid = TaskerCore::Internal::Client.new_task_uuid
    with_pg do |conn|
      conn.exec_params("INSERT INTO tasker.rejected_task_requests (task_uuid, reason, request, rejected_at) " \
                       "VALUES ($1, 'no template registered', '{}', now() - make_interval(days => $2))", [uuid, days])
    end
    uuid
  end

  it "deletes rejected task requests older than the cutoff, in batches, and keeps recent ones" do
    old = Array.new(3) { reject(40) }
    recent = reject(1)
    expect(TaskerCore.task_status(old.first)["request"]).to eq("rejected")
    expect(TaskerCore.purge(older_than: 30 * day, dry_run: true)).to eq(none.merge("rejected_task_requests" => 3))

    expect(TaskerCore.purge(older_than: 30 * day, batch_size: 2)).to eq(none.merge("rejected_task_requests" => 3))

    expect(rows_of(old)["rejected_task_requests"]).to eq(0)
    expect(rows_of([recent])["rejected_task_requests"]).to eq(1)
    expect { TaskerCore.task_status(old.first) }.to raise_error(TaskerCore::NotFoundError)
    expect(TaskerCore.task_status(recent)["request"]).to eq("rejected")
  end

  context "with old finished tasks, a recent one and open ones" do
    before do
      @complete = run.uuid
      @error = run("fail" => true).uuid
      @cancelled = create.uuid.tap { |uuid| TaskerCore.cancel_task(uuid) }
      @recent = run.uuid
      @open = create.uuid
      [@complete, @error, @cancelled, @open].each { |uuid| age(uuid, 40) }
      [@complete, @recent, @open].each { |uuid| archive_message_of(uuid) }
      @old = [@complete, @error, @cancelled]
    end

    it "deletes the old finished tasks and every row of theirs, in batches, and reports the counts" do
      expect(TaskerCore.task_status(@error).state).to eq("error")
      expect(TaskerCore.task_status(@cancelled).state).to eq("cancelled")
      before = rows_of(@old)
      expect(before.values_at("tasks", "workflow_steps", "workflow_step_edges", "archived_messages"))
        .to eq([3, 6, 3, 1])
      kept = rows_of([@recent, @open])

      counts = TaskerCore.purge(older_than: 30 * day, batch_size: 1)

      expect(counts).to eq(before)
      expect(rows_of(@old)).to eq(none)
      expect(rows_of([@recent, @open])).to eq(kept)
      expect { TaskerCore.task_status(@complete) }.to raise_error(TaskerCore::NotFoundError)
      expect(TaskerCore.task_status(@open).state).to eq("in_progress")
      expect(TaskerCore.purge(older_than: 30 * day)).to eq(none)
    end

    it "counts without deleting on a dry run" do
      before = rows_of(@old)
      expect(TaskerCore.purge(older_than: 30 * day, dry_run: true)).to eq(before)
      expect(rows_of(@old)).to eq(before)
    end

    it "never touches an open task, however old" do
      TaskerCore.purge(older_than: 0)
      expect(rows_of([@open])["tasks"]).to eq(1)
      expect(TaskerCore.task_status(@open).steps.size).to eq(2)
      expect(rows_of([@recent])["tasks"]).to eq(0)
    end

    it "purges one batch per sweep, and not while another process holds the sweep's purge lock" do
      settings = TaskerCore.configuration.to_native
      with_pg do |conn|
        conn.exec_params("SELECT pg_advisory_lock($1)", [TaskerCore::Internal::SWEEP_PURGE_LOCK])
        expect(TaskerCore::Internal::Client.sweep_purge(settings, 30.0 * day)).to be_nil
        expect(rows_of(@old)["tasks"]).to eq(3)
      ensure
        conn.exec_params("SELECT pg_advisory_unlock($1)", [TaskerCore::Internal::SWEEP_PURGE_LOCK])
      end
      expect(TaskerCore::Internal::Client.sweep_purge(settings, 30.0 * day)).to include(tasks: 3)
      expect(rows_of(@old)["tasks"]).to eq(0)
    end

    it "is run by the orchestrator's sweep when retention is set" do
      config = TaskerCore.configuration
      saved = [config.retention, config.sweep_interval]
      config.retention = 30 * day
      config.sweep_interval = 0.2
      start_orchestrator!
      wait_until(message: "the sweep's purge") { rows_of(@old)["tasks"].zero? }
      expect(TaskerCore::Orchestrator.status["tasks_purged"]).to eq(3)
      expect(rows_of([@recent, @open])["tasks"]).to eq(2)
    ensure
      stop_orchestrator!
      config.retention, config.sweep_interval = saved
    end
  end

  it "refuses a bad age or batch size, naming it" do
    expect { TaskerCore.purge(older_than: "30d") }
      .to raise_error(TaskerCore::ArgumentError, /older_than must be a number of seconds, got "30d"/)
    expect { TaskerCore.purge(older_than: -1) }
      .to raise_error(TaskerCore::ArgumentError, /older_than must be a non-negative/)
    expect { TaskerCore.purge(older_than: 1, batch_size: 0) }
      .to raise_error(TaskerCore::ArgumentError, /batch_size must be an integer between 1 and 10000, got 0/)
  end

  it "refuses a retention shorter than an hour, naming the key" do
    config = TaskerCore::Configuration.new
    config.retention = 60
    expect { config.validate! }.to raise_error(TaskerCore::ConfigurationError, /retention must be 0 \(off\)/)
    expect(TaskerCore::Configuration.new.retention).to eq(0.0)
    expect(TaskerCore::Retention::RECOMMENDED).to eq(14 * 86_400.0)
  end
end
