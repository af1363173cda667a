# frozen_string_literal: true

module Bench
  module Sections
    # The linear throughput at the best worker count, on an empty database and again with
    # `history_steps` finished steps (and their tasks, edges and transitions) already in the
    # tables, under a named task of their own. Both figures are taken here, one right after the
    # other, so the machine's noise hits them alike.
    class History
      attr_accessor :prior

      def initialize(ctx)
        @ctx = ctx
      end

      HISTORY_DB = "tasker_bench_history"

      def run
        env = @ctx.tasker
        env.start_orchestrator
        workers = best_workers
        separate = @ctx.db.private_cluster?
        separate ? run_two_databases(env, workers) : run_one_database(env, workers)
      end

      # The history lives in a second database of the same cluster, so the empty and the full
      # database can be measured in turns (empty, full, empty, full, ...): the machine's load,
      # which drifts over minutes, then weighs on both alike.
      def run_two_databases(env, workers)
        main = env.url
        history_url = @ctx.db.create_database(HISTORY_DB)
        env.use(history_url)
        env.setup!
        fill = build(@ctx.options[:history_steps])
        rounds = @ctx.options.quick ? 1 : 2
        empty = []
        full = []
        rounds.times do
          env.use(main)
          empty << Throughput.measure(@ctx, "linear", workers, mode: :process)
          env.use(history_url)
          full << Throughput.measure(@ctx, "linear", workers, mode: :process, keep_history: true)
        end
        observed = observe_history(history_url)
        env.use(main)
        @ctx.db.drop_database(HISTORY_DB)
        summarize(workers, fill, empty, full, observed, "two databases of one cluster, measured in turns")
      end

      def run_one_database(env, workers)
        empty = [Throughput.measure(@ctx, "linear", workers, mode: :process)]
        fill = build(@ctx.options[:history_steps])
        full = [Throughput.measure(@ctx, "linear", workers, mode: :process, keep_history: true)]
        observed = observe_history(env.url)
        env.reset!
        summarize(workers, fill, empty, full, observed, "one database: empty first, then filled")
      end

      # The database with the history in it: the hot path's plans (when the profile runs too) and
      # the tables' sizes.
      def observe_history(url)
        explain = Profile.explain(@ctx) if @ctx.options.run?("profile")
        { "table_sizes_with_history" => table_sizes(url), "explain_with_history" => explain }
      end

      def summarize(workers, fill, empty, full, observed, method)
        mean = ->(runs) { (runs.sum { |r| r["steps_per_second"] } / runs.size).round(1) }
        ratio = Stats.ratio(mean.call(full), mean.call(empty))
        rates = ->(runs) { runs.map { |r| r["steps_per_second"] } }
        @ctx.log("history: #{mean.call(empty)} steps/s empty, #{mean.call(full)} with #{fill["steps"]} finished " \
                 "steps (ratio #{ratio}; runs #{rates.call(empty)} vs #{rates.call(full)})")
        { "worker_threads" => workers, "history_steps" => fill["steps"], "build" => fill, "method" => method,
          "empty" => { "steps_per_second" => mean.call(empty), "runs" => empty },
          "with_history" => { "steps_per_second" => mean.call(full), "runs" => full },
          "ratio" => ratio, **observed }.compact
      end

      private

      def best_workers
        runs = prior&.dig("throughput", "runs", "linear")
        return 4 unless runs.is_a?(Hash) && runs.any?

        runs.max_by { |_, r| r["steps_per_second"].to_f }[0].to_i
      end

      # A few INSERT ... SELECT generate_series statements: tasks spread over the past 30 days
      # with time-ordered (v7-shaped) uuids like the real ones, each with 4 complete steps, 3
      # edges, 3 step transitions per step and 3 task transitions. Foreign-key triggers are
      # skipped for the load (session_replication_role = replica): the rows are consistent by
      # construction. VACUUM ANALYZE after.
      def build(steps)
        tasks = (steps / 4.0).ceil
        started = Stats.monotonic
        @ctx.db.with(@ctx.tasker.url) do |c|
          named = "SELECT named_task_id FROM tasker.named_tasks WHERE namespace = $1 AND name = $2"
          named_task_id = c.exec_params(named, TaskerEnv::HISTORY.values_at(:namespace, :name)).getvalue(0, 0)
          c.exec("SET session_replication_role = replica")
          c.exec("SET maintenance_work_mem = '256MB'")
          create_filler(c, tasks)
          insert_tasks(c, named_task_id)
          insert_steps(c)
          insert_transitions(c)
          c.exec("RESET session_replication_role")
          timed(c, "vacuum", "VACUUM ANALYZE tasker.tasks, tasker.workflow_steps, tasker.workflow_step_edges, " \
                             "tasker.step_transitions, tasker.task_transitions")
        end
        seconds = Stats.monotonic - started
        @ctx.log(format("history: %<tasks>d tasks, %<steps>d finished steps built in %<seconds>.1fs (%<timings>s)",
                        tasks: tasks, steps: tasks * 4, seconds: seconds,
                        timings: @timings.map { |k, v| "#{k} #{v}s" }.join(", ")))
        { "tasks" => tasks, "steps" => tasks * 4, "seconds" => seconds.round(1), "statements" => @timings }
      end
      # The retention section fills the tables the same way, at the same worker count.
      public :build, :best_workers

      # pg_temp.filler: one row per task, its time and the v7-shaped uuids of the task and its steps.
      def create_filler(conn, tasks)
        conn.exec(<<~SQL)
          CREATE FUNCTION pg_temp.v7(ts timestamptz, seed bigint, salt integer) RETURNS uuid
          LANGUAGE sql IMMUTABLE AS $$
            SELECT (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' ||
                    substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid
              FROM (SELECT md5(seed::text || ':' || salt::text) AS h) x
          $$
        SQL
        conn.exec(<<~SQL)
          CREATE TEMP TABLE filler AS
          SELECT i, ts, pg_temp.v7(ts, i, 0) AS task_uuid,
                 pg_temp.v7(ts, i, 1) AS s1, pg_temp.v7(ts, i, 2) AS s2,
                 pg_temp.v7(ts, i, 3) AS s3, pg_temp.v7(ts, i, 4) AS s4
            FROM (SELECT i, now() - interval '30 days' + (i * (interval '29 days' / #{tasks})) AS ts
                    FROM generate_series(1, #{tasks}) i) g
        SQL
      end

      def insert_tasks(conn, named_task_id)
        timed(conn, "tasks", <<~SQL)
          INSERT INTO tasker.tasks (task_uuid, named_task_id, namespace, name, version, state, context,
                                    initiator, source_system, reason, created_at, updated_at, completed_at)
          SELECT task_uuid, #{Integer(named_task_id)}, '#{TaskerEnv::HISTORY[:namespace]}', '#{TaskerEnv::HISTORY[:name]}',
                 '1.0.0', 'complete', jsonb_build_object('even_number', 2, 'i', i), 'bench', 'bench', 'history',
                 ts, ts + interval '40 ms', ts + interval '40 ms'
            FROM filler
        SQL
      end

      def insert_steps(conn)
        timed(conn, "workflow_steps", <<~SQL)
          INSERT INTO tasker.workflow_steps (step_uuid, task_uuid, name, position, handler, state, attempts,
                                             results, enqueued_at, started_at, completed_at, created_at, updated_at)
          SELECT (ARRAY[s1, s2, s3, s4])[p], task_uuid, 'step_' || p, p - 1,
                 'LinearWorkflow::StepHandlers::SquareParents', 'complete', 1, to_jsonb(4),
                 ts + p * interval '10 ms', ts + p * interval '10 ms' + interval '2 ms',
                 ts + p * interval '10 ms' + interval '3 ms', ts, ts + p * interval '10 ms' + interval '3 ms'
            FROM filler, generate_series(1, 4) p
        SQL
        timed(conn, "workflow_step_edges", <<~SQL)
          INSERT INTO tasker.workflow_step_edges (task_uuid, from_step, to_step)
          SELECT task_uuid, (ARRAY[s1, s2, s3])[p], (ARRAY[s2, s3, s4])[p]
            FROM filler, generate_series(1, 3) p
        SQL
      end

      def insert_transitions(conn)
        timed(conn, "step_transitions", <<~SQL)
          INSERT INTO tasker.step_transitions (step_uuid, task_uuid, from_state, to_state, attempt, reason,
                                               metadata, created_at)
          SELECT (ARRAY[s1, s2, s3, s4])[p], task_uuid, (ARRAY[NULL, 'pending', 'enqueued', 'in_progress'])[k + 1],
                 (ARRAY['pending', 'enqueued', 'in_progress', 'complete'])[k + 1], CASE WHEN k >= 2 THEN 1 ELSE 0 END,
                 (ARRAY['created', 'ready', 'claimed', 'step succeeded'])[k + 1],
                 CASE WHEN k = 3 THEN '{"duration_ms": 0.05, "worker": {"id": "bench"}}'::jsonb ELSE '{}'::jsonb END,
                 ts + p * interval '10 ms' + k * interval '1 ms'
            FROM filler, generate_series(1, 4) p, generate_series(1, 3) k
        SQL
        timed(conn, "task_transitions", <<~SQL)
          INSERT INTO tasker.task_transitions (task_uuid, from_state, to_state, reason, created_at)
          SELECT task_uuid, (ARRAY[NULL, 'pending', 'in_progress'])[k + 1],
                 (ARRAY['pending', 'in_progress', 'complete'])[k + 1], 'history', ts + k * interval '20 ms'
            FROM filler, generate_series(0, 2) k
        SQL
      end

      def timed(conn, name, sql)
        started = Stats.monotonic
        conn.exec(sql)
        (@timings ||= {})[name] = (Stats.monotonic - started).round(1)
      end

      def table_sizes(url)
        @ctx.db.with(url) do |c|
          c.exec(<<~SQL).to_h { |r| [r["relname"], { "rows" => r["n"].to_i, "total" => r["size"] }] }
            SELECT relname, n_live_tup AS n, pg_size_pretty(pg_total_relation_size(relid)) AS size
              FROM pg_stat_user_tables WHERE schemaname = 'tasker' ORDER BY relname
          SQL
        end
      end
    end
  end
end
