# frozen_string_literal: true

# The dashboard's queries on a large database. Not part of the suite: run it by hand against a
# database you can throw away, e.g.
#
#   psql "$(bin/db url postgres)" -c 'CREATE DATABASE tasker_bench'
#   BENCH_DATABASE_URL=$(bin/db url tasker_bench) ruby -Ilib spec/web/bench/task_list.rb [TASKS]
#
# It migrates, registers the example templates, fills the database up to TASKS tasks
# (default 1,000,000, four steps each; about two minutes), and prints the best of three timings
# of the task list (first, deep and filtered pages) and of the overview.

require "tasker_core/web"
require_relative "../../../examples/expected_results"

url = ENV.fetch("BENCH_DATABASE_URL") { abort "set BENCH_DATABASE_URL to a database you can throw away" }
target = Integer(ARGV.fetch(0, "1000000"))
TaskerCore.configure { |config| config.database_url = url }
TaskerCore.migrate!
TaskerCore.register_templates!(Examples.template_paths)
conn = PG.connect(url)

missing = target - Integer(conn.exec("SELECT count(*) FROM tasker.tasks").getvalue(0, 0))
if missing.positive?
  puts "adding #{missing} tasks and #{missing * 4} steps..."
  conn.exec_params(<<~SQL, [missing])
    INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, state, context, created_at,
                              completed_at)
    SELECT gen_random_uuid(), nt.named_task_id, nt.namespace, nt.name, nt.version,
           CASE WHEN i % 100 < 90 THEN 'complete' WHEN i % 100 < 95 THEN 'error'
                WHEN i % 100 < 97 THEN 'cancelled' ELSE 'in_progress' END,
           '{"order": {"product_id": "widget"}}'::jsonb,
           now() - i * interval '2.5 second', now() - i * interval '2.5 second' + interval '3 second'
      FROM generate_series(1, $1::integer) AS i
      JOIN (SELECT row_number() OVER (ORDER BY named_task_id) - 1 AS k, * FROM tasker.named_tasks) nt
        ON nt.k = i % (SELECT count(*) FROM tasker.named_tasks)
  SQL
  conn.exec(<<~SQL)
    INSERT INTO tasker.workflow_steps (step_uuid, task_uuid, name, position, handler, state, attempts)
    SELECT gen_random_uuid(), t.task_uuid, 'step_' || p, p, 'Handler',
           CASE WHEN t.state = 'complete' THEN 'complete' WHEN t.state = 'error' AND p = 1 THEN 'error'
                ELSE 'pending' END, 1
      FROM tasker.tasks t CROSS JOIN generate_series(1, 4) AS p
     WHERE NOT EXISTS (SELECT 1 FROM tasker.workflow_steps s WHERE s.task_uuid = t.task_uuid)
  SQL
  conn.exec("ANALYZE")
end

queries = TaskerCore::Web::Queries.new(TaskerCore::Web::ConnectionPool.new(database_url: url))
filters = ->(params) { TaskerCore::Web::TaskFilters.new(params) }
middle = conn.exec(<<~SQL).getvalue(0, 0)
  SELECT #{TaskerCore::Web::Queries.iso("created_at")} || '_' || task_uuid FROM tasker.tasks
   ORDER BY created_at DESC, task_uuid DESC OFFSET (SELECT count(*) / 2 FROM tasker.tasks) LIMIT 1
SQL

def measure(label)
  best = Array.new(3) do
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  end.min
  printf("%<label>-40s %<ms>9.1f ms\n", label: label, ms: best * 1000)
end

measure("task list, first page") { queries.tasks(filters.call({})) }
measure("task list, page in the middle") { queries.tasks(filters.call("older" => middle)) }
measure("task list, newer from the middle") { queries.tasks(filters.call("newer" => middle)) }
measure("state=error") { queries.tasks(filters.call("state" => "error")) }
measure("state=error, in the middle") { queries.tasks(filters.call("state" => "error", "older" => middle)) }
measure("state=cancelled") { queries.tasks(filters.call("state" => "cancelled")) }
measure("namespace=fulfillment") { queries.tasks(filters.call("namespace" => "fulfillment")) }
measure("namespace+name, in the middle") do
  queries.tasks(filters.call("namespace" => "fulfillment", "name" => "process_order", "older" => middle))
end
measure("one day, ten days ago") do
  queries.tasks(filters.call("created_after" => (Time.now.utc - (10 * 86_400)).iso8601,
                             "created_before" => (Time.now.utc - (9 * 86_400)).iso8601))
end
measure("overview") { queries.overview }
