# frozen_string_literal: true

# The enqueue looks its tasks up by key whatever the table's statistics say. A database of
# finished history analyzed at a quiet hour has statistics saying no task is open; the
# enqueue's readiness joined its tasks through the partial index of open tasks, so every
# enqueue read every open task once per step it evaluated: the bench's throughput with
# 1,000,000 finished steps fell to half an empty database's. A user sees it as throughput;
# this sees it in the buffers one enqueue of one task reads.
RSpec.describe "the enqueue's plans", db: true do
  let(:open_tasks) { 300 }
  let(:history) { 20_000 }

  before do
    stop_orchestrator!
    reset_tasker_database!
    TaskerCore.register_templates!([{ "namespace" => "plans", "name" => "pair", "version" => "1",
                                      "steps" => [{ "name" => "first", "handler" => "Nobody" },
                                                  { "name" => "second", "handler" => "Nobody",
                                                    "depends_on" => ["first"] }] }])
  end

  after do
    with_pg { |conn| conn.exec("ALTER TABLE tasker.tasks RESET (autovacuum_enabled)") }
  end

  # Buffers read by one call of tasker.enqueue_ready for these tasks, rolled back. On a new
  # connection, so its plans are made from the statistics as they stand; the second call is
  # measured, as the first one's planning reads the catalogs.
  def enqueue_buffers(uuids)
    with_pg do |conn|
      conn.exec("BEGIN")
      call = "SELECT * FROM tasker.enqueue_ready($1::uuid[], 'spec')"
      list = [PG::TextEncoder::Array.new.encode(uuids)]
      conn.exec_params(call, list)
      buffers = buffers_read(conn, call, list)
      conn.exec("ROLLBACK")
      buffers
    end
  end

  # `history` finished tasks of two complete steps each, written directly (as the bench's
  # history section does), and statistics taken with no task open; autovacuum kept from
  # taking newer ones.
  def finished_history
    with_pg do |conn|
      conn.exec("ALTER TABLE tasker.tasks SET (autovacuum_enabled = false)")
      conn.exec(<<~SQL)
        WITH t AS (
          INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, state, context,
                                    initiator, source_system, reason, completed_at)
          SELECT gen_random_uuid(), n.named_task_id, 'plans', 'pair', '1', 'complete', '{}', 'spec', 'spec',
                 'history', clock_timestamp()
            FROM tasker.named_tasks n, generate_series(1, #{Integer(history)})
           WHERE n.namespace = 'plans' AND n.name = 'pair'
          RETURNING task_uuid)
        INSERT INTO tasker.workflow_steps (step_uuid, task_uuid, name, position, handler, state, attempts)
        SELECT gen_random_uuid(), t.task_uuid, 'step_' || p, p, 'Nobody', 'complete', 1
          FROM t, generate_series(1, 2) p
      SQL
      conn.exec("ANALYZE tasker.tasks, tasker.workflow_steps")
    end
  end

  it "reads a few dozen buffers per task however many tasks are open when the statistics said none" do
    finished_history
    tasks = TaskerCore.create_tasks(Array.new(open_tasks) do
      { namespace: "plans", name: "pair", version: "1", context: {} }
    end)
    open = with_pg do |conn|
      Integer(conn.exec("SELECT count(*) FROM tasker.tasks WHERE state <> 'complete'").getvalue(0, 0))
    end
    expect(open).to eq(open_tasks)

    # Before the fix: about 20 buffers for every open task (6,000 here); after: about 20.
    expect(enqueue_buffers([tasks.first.uuid])).to be < 100
    expect(enqueue_buffers(tasks.first(10).map(&:uuid))).to be < 500
  end
end
