# frozen_string_literal: true

require "json"
require "tasker_core"
require_relative "../../../examples/expected_results"

module Bench
  # tasker-core as the bench drives it: the examples' linear and diamond workflows (the
  # squaring handlers: trivial work), one orchestrator in the bench process, workers in a
  # child process (bench/bin/tasker_worker.rb) or in this one.
  class TaskerEnv
    WORKFLOWS = {
      "linear" => { namespace: "linear_workflow", name: "linear", version: "1.0.0", steps: 4,
                    file: "linear_workflow.yaml" },
      "diamond" => { namespace: "diamond_workflow", name: "diamond", version: "1.0.0", steps: 4,
                     file: "diamond_workflow.yaml" }
    }.freeze
    HISTORY = { namespace: "bench_history", name: "filler", version: "1.0.0" }.freeze
    NAMESPACES = WORKFLOWS.values.map { |w| w[:namespace] }.freeze
    TERMINAL = %w[complete error cancelled resolved_manually].freeze
    ROOT = File.expand_path("../../..", __dir__)

    attr_reader :db, :url, :stale_extension

    def initialize(db)
      @db = db
      @url = db.tasker_url
    end

    # Points this process (create_task, the orchestrator, new workers) at another database.
    def use(url)
      return if url == @url

      running = TaskerCore::Orchestrator.running?
      stop_orchestrator
      @url = url
      TaskerCore.configuration.database_url = url
      start_orchestrator if running
    end

    def setup!
      TaskerCore.configure do |c|
        c.database_url = @url
        c.template_paths = []
        c.log_level = "warn"
        c.logger.level = Logger::WARN
      end
      TaskerCore.migrate!
      check_migrations!
      Examples.load_handlers
      paths = WORKFLOWS.values.map { |w| File.join(Examples::TEMPLATE_DIR, w[:file]) }
      TaskerCore.register_templates!(paths + [history_template])
      db.with(@url) { |c| c.exec("SELECT tasker.ensure_queue($1)", ["#{HISTORY[:namespace]}_queue"]) }
    end

    # The native extension embeds the migrations it was built with: an extension older than
    # migrations/ (a build raced with an edit) measures a schema the Ruby side does not expect.
    def check_migrations!
      files = Dir[File.join(ROOT, "migrations", "*.sql")].map { |f| File.basename(f)[/\A\d+/].to_i }.sort
      applied = db.with(@url) do |c|
        c.exec("SELECT version FROM public._sqlx_migrations").column_values(0).map(&:to_i).sort
      end
      missing = files - applied
      return @stale_extension = nil if missing.empty?

      @stale_extension = "the native extension lacks migration(s) #{missing.join(", ")} of migrations/: " \
                         "it was built before they were added (run bin/setup and bench again)"
      warn "bin/bench: WARNING: #{@stale_extension}"
    end

    # The filler template of the history section: the linear shape under its own name.
    def history_template
      { "namespace" => HISTORY[:namespace], "name" => HISTORY[:name], "version" => HISTORY[:version],
        "steps" => (1..4).map do |i|
          { "name" => "step_#{i}", "handler" => "LinearWorkflow::StepHandlers::SquareParents",
            "depends_on" => i == 1 ? [] : ["step_#{i - 1}"] }
        end }
    end

    def start_orchestrator
      TaskerCore::Orchestrator.start unless TaskerCore::Orchestrator.running?
    end

    def stop_orchestrator
      TaskerCore::Orchestrator.stop(timeout: 10) if TaskerCore::Orchestrator.running?
    end

    # An empty database again (templates kept): the tasker tables truncated, the queues purged.
    # The finished-step history, if any, goes too unless keep_history. Truncated tables are
    # left without statistics, as in a new installation (PostgreSQL then assumes a few pages,
    # not an empty table, until autovacuum's ANALYZE); the history's tables are analyzed
    # after the delete, as autovacuum would have done long since.
    def reset!(keep_history: false)
      db.with(@url) do |conn|
        if keep_history
          delete_all_but_history(conn)
          conn.exec("VACUUM ANALYZE tasker.tasks, tasker.workflow_steps, tasker.workflow_step_edges, " \
                    "tasker.step_transitions, tasker.task_transitions")
        else
          conn.exec("TRUNCATE tasker.step_transitions, tasker.task_transitions, tasker.workflow_step_edges, " \
                    "tasker.workflow_steps, tasker.tasks")
        end
        queues(conn).each do |q|
          conn.exec_params("SELECT pgmq.purge_queue($1)", [q])
          conn.exec("VACUUM ANALYZE pgmq.#{conn.quote_ident("q_#{q}")}")
        end
      end
    end

    # The audit rows and edges have no foreign keys to cascade along (the hot path's sake).
    def delete_all_but_history(conn)
      others = "SELECT task_uuid FROM tasker.tasks WHERE namespace <> '#{HISTORY[:namespace]}'"
      conn.exec("DELETE FROM tasker.workflow_step_edges WHERE task_uuid IN (#{others})")
      conn.exec("DELETE FROM tasker.step_transitions WHERE task_uuid IN (#{others})")
      conn.exec("DELETE FROM tasker.task_transitions WHERE task_uuid IN (#{others})")
      conn.exec("DELETE FROM tasker.tasks WHERE namespace <> '#{HISTORY[:namespace]}'")
    end

    def queues(conn)
      conn.exec("SELECT queue_name FROM pgmq.meta").column_values(0)
    end

    # The request of the bench's task `index` of a workflow: create_task's keywords.
    def request(workflow, index = 0)
      w = WORKFLOWS.fetch(workflow)
      { namespace: w[:namespace], name: w[:name], version: w[:version], context: { "even_number" => 2, "i" => index },
        initiator: "bench", source_system: "bench", reason: "benchmark" }
    end

    def create(workflow, index = 0)
      TaskerCore.create_task(**request(workflow, index))
    end

    # Creates `count` tasks with create_tasks, `batch` per call, from one thread; returns
    # [uuids, seconds].
    def create_batches(workflow, count, batch:)
      started = Stats.monotonic
      uuids = (0...count).each_slice(batch).flat_map do |indexes|
        TaskerCore.create_tasks(indexes.map { |i| request(workflow, i) }).map(&:uuid)
      end
      [uuids, Stats.monotonic - started]
    end

    # Creates `count` tasks from `threads` Ruby threads; returns [uuids, seconds].
    def create_many(workflow, count, threads: 1)
      uuids = Queue.new
      started = Stats.monotonic
      per = split(count, threads)
      per.each_with_index.map do |n, t|
        Thread.new { n.times { |i| uuids << create(workflow, (t * 1000) + i).uuid } }
      end.each(&:join)
      elapsed = Stats.monotonic - started
      [Array.new(uuids.size) { uuids.pop }, elapsed]
    end

    # Waits until every task of the workflow is finished; polls a count (cheap: partial index).
    def wait_all(workflow, count, timeout:)
      w = WORKFLOWS.fetch(workflow)
      deadline = Stats.monotonic + timeout
      db.with(@url) do |conn|
        loop do
          done = conn.exec_params("SELECT count(*) FROM tasker.tasks WHERE namespace = $1 AND name = $2 " \
                                  "AND state IN ('complete','error','cancelled','resolved_manually')",
                                  [w[:namespace], w[:name]]).getvalue(0, 0).to_i
          return done if done >= count
          raise "only #{done} of #{count} #{workflow} tasks finished after #{timeout}s" if Stats.monotonic > deadline

          sleep 0.05
        end
      end
    end

    # From the database's own timestamps: the first create to the last completion.
    def window(workflow)
      w = WORKFLOWS.fetch(workflow)
      db.with(@url) do |conn|
        row = conn.exec_params(<<~SQL, [w[:namespace], w[:name]]).first
          SELECT count(*) AS tasks, count(*) FILTER (WHERE state = 'complete') AS complete,
                 extract(epoch FROM max(completed_at) - min(created_at)) AS seconds,
                 extract(epoch FROM max(created_at) - min(created_at)) AS create_seconds
            FROM tasker.tasks WHERE namespace = $1 AND name = $2
        SQL
        steps = conn.exec_params("SELECT count(*) FROM tasker.workflow_steps s JOIN tasker.tasks t USING (task_uuid) " \
                                 "WHERE t.namespace = $1 AND t.name = $2 AND s.state = 'complete'",
                                 [w[:namespace], w[:name]]).getvalue(0, 0).to_i
        { "tasks" => row["tasks"].to_i, "complete" => row["complete"].to_i, "steps" => steps,
          "seconds" => row["seconds"].to_f, "create_seconds" => row["create_seconds"].to_f }
      end
    end

    def split(count, parts)
      Array.new(parts) { |i| (count / parts) + (i < count % parts ? 1 : 0) }
    end
  end
end
