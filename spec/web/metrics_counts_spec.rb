# frozen_string_literal: true

require_relative "web_helper"

# The tasks and steps counts of TaskerCore.metrics (Metrics::StateCounts, sql/state_counts.sql):
# exact, and after the first count a scrape reads only the unfinished tasks and those finished
# since the last scrape, not the history.
RSpec.describe "metrics counts", db: true do
  let(:reader) { PG.connect(TaskerTestDatabase.url, application_name: "metrics counts spec") }
  let(:queries) { TaskerCore::StatusQueries.new(reader) }

  before { start_afresh }

  after { reader.close }

  def start_afresh
    reset_tasker_database!
    TaskerCore.register_templates!([template("pay", "MetricsHandlers::Ok"),
                                    template("refuse", "MetricsHandlers::Declined")])
  end

  def template(name, handler)
    { "namespace" => "counts_ns", "name" => name, "version" => "1",
      "steps" => [{ "name" => "a", "handler" => handler },
                  { "name" => "b", "handler" => handler, "depends_on" => ["a"] }] }
  end

  def run(name)
    TaskerCore::Testing.run_task(namespace: "counts_ns", name: name, version: "1", context: {})
  end

  # `tasks` finished tasks of "pay" with two complete steps each, finished 2 to 3 days ago,
  # with uuids of their time (v7), as years of history would be.
  def add_history(tasks)
    with_pg do |conn|
      conn.exec(<<~SQL)
        WITH h AS (
          SELECT i, ts, md5(i::text) AS h,
                 lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') AS ms
            FROM (SELECT i, now() - interval '3 days' + i * interval '1 second' AS ts
                    FROM generate_series(1, #{Integer(tasks)}) i) g),
        t AS (
          INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, state,
                                    created_at, updated_at, completed_at)
          SELECT (ms || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid, n.named_task_id,
                 'counts_ns', 'pay', '1', 'complete', ts, ts, ts
            FROM h, tasker.named_tasks n WHERE n.namespace = 'counts_ns' AND n.name = 'pay'
          RETURNING task_uuid, created_at)
        INSERT INTO tasker.workflow_steps (step_uuid, task_uuid, name, position, handler, state,
                                           created_at, completed_at)
        SELECT (lpad(to_hex((extract(epoch FROM t.created_at) * 1000)::bigint), 12, '0') || '7' ||
                substr(md5(t.task_uuid::text || p), 1, 3) || '8' || substr(md5(t.task_uuid::text || p), 4, 15))::uuid,
               t.task_uuid, (ARRAY['a', 'b'])[p], p - 1, 'MetricsHandlers::Ok', 'complete',
               t.created_at, t.created_at
          FROM t, generate_series(1, 2) p
      SQL
      conn.exec("ANALYZE tasker.tasks, tasker.workflow_steps")
    end
  end

  # What counting every row says, in TaskerCore.metrics' shape.
  def exact
    with_pg do |conn|
      tasks = conn.exec(<<~SQL).map { |row| row.merge("count" => Integer(row["count"])) }
        SELECT namespace, name, state, count(*) AS count FROM tasker.tasks
         GROUP BY namespace, name, state ORDER BY namespace, name, state
      SQL
      steps = conn.exec("SELECT state, count(*) FROM tasker.workflow_steps GROUP BY state")
                  .to_h { |row| [row["state"], Integer(row["count"])] }
      [tasks, TaskerCore::States::STEP.to_h { |state| [state, steps.fetch(state, 0)] }]
    end
  end

  # The rows of tasks and workflow_steps the block read: the reader's own statistics, whose
  # counts are not flushed inside a transaction.
  def rows_read
    count = lambda do
      Integer(reader.exec(<<~SQL).getvalue(0, 0))
        SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0) FROM pg_stat_xact_user_tables
         WHERE schemaname = 'tasker' AND relname IN ('tasks', 'workflow_steps')
      SQL
    end
    reader.transaction do
      before = count.call
      yield
      count.call - before
    end
  end

  it "reads only the unfinished and the recently finished tasks once it has counted the history" do
    add_history(3000)
    run("pay")
    run("refuse")
    metrics = TaskerCore::Metrics.new(queries)
    expect(metrics.collect.values_at("tasks", "steps")).to eq(exact)

    run("pay")
    collected = nil
    read = rows_read { collected = metrics.collect }

    expect(collected.values_at("tasks", "steps")).to eq(exact)
    expect(collected["tasks"]).to include({ "namespace" => "counts_ns", "name" => "pay", "state" => "complete",
                                            "count" => 3002 })
    expect(read).to be < 50 # 3,000 finished tasks and 6,000 steps left unread
  end

  it "keeps, once counted, the tasks that finished before its watermark" do
    counts = TaskerCore::Metrics::StateCounts.new
    run("pay")
    counts.read(queries)
    run("refuse")
    # finished after the first read, and more than MARGIN_SECONDS before the second: kept then
    with_pg do |conn|
      conn.exec_params("UPDATE tasker.tasks SET completed_at = now() - make_interval(secs => $1) WHERE name = 'refuse'",
                       [TaskerCore::Metrics::StateCounts::MARGIN_SECONDS])
    end
    expect(counts.read(queries)).to eq(exact)

    run("pay")
    TaskerCore.create_task(namespace: "counts_ns", name: "refuse", version: "1")
    expect(counts.read(queries)).to eq(exact)
    expect(counts.read(queries).first).to include(
      { "namespace" => "counts_ns", "name" => "refuse", "state" => "error", "count" => 1 }
    )
  end

  it "counts everything again for emptied tables, and every RECOUNT_SECONDS (a purge, a bulk load)" do
    now = 0.0
    counts = TaskerCore::Metrics::StateCounts.new(clock: -> { now })
    run("pay")
    expect(counts.read(queries)).to eq(exact)

    start_afresh
    run("refuse")
    expect(counts.read(queries)).to eq(exact)

    add_history(20)
    now += TaskerCore::Metrics::StateCounts::RECOUNT_SECONDS
    expect(counts.read(queries)).to eq(exact)

    expect(TaskerCore.purge(older_than: 3600)["tasks"]).to eq(20)
    now += TaskerCore::Metrics::StateCounts::RECOUNT_SECONDS
    expect(counts.read(queries)).to eq(exact)
  end
end
