# frozen_string_literal: true

require_relative "figures"
require_relative "fanout_table"

module Bench
  # The sections of results.md after its header: one markdown table (or paragraph) per section
  # of the bench that ran, each a list of lines ending with a blank one.
  class Tables
    include Figures

    TASKER_LATENCIES = [
      ["tasker-core: linear task, create_task -> wait_for_task returns (wall)", "wall_ms"],
      ["tasker-core: linear task, created_at -> completed_at (DB clock)", "db_ms"],
      ["tasker-core: per hop (claim k - claim k-1 - handler k-1)", "hop_ms"],
      ["  hop part 1: handler k-1 done -> its result applied (complete move)", "hop_result_ms"],
      ["  hop part 2: result applied -> step k enqueued (same batch)", "hop_enqueue_ms"],
      ["  hop part 3: step k enqueued -> claimed (commit, wake-up, read, claim)", "hop_claim_ms"],
      ["tasker-core: created_at -> first step claimed", "first_claim_ms"],
      ["tasker-core: last handler done -> task completed_at", "last_result_to_done_ms"],
      ["tasker-core: handler duration_ms (trivial handler)", "handler_ms"]
    ].freeze

    def initialize(results)
      @r = results
    end

    def to_a
      [targets_table, throughput_table, latency_table, creation_table, history_table, retention_table, fanout_table,
       memory_table, profile_summary].flatten(1)
    end

    private

    def targets_table
      return [] if @r["targets"].empty?

      ["## Targets", "", "| | target | measured | |", "|---|---|---|---|",
       *@r["targets"].map { |t| "| #{t["key"]} | #{t["target"]} | #{t["measured"]} | **#{t["verdict"]}** |" }, ""]
    end

    def throughput_table
      counts = worker_counts
      return [] if counts.empty?

      ["## Throughput by worker threads", "",
       "Steps/s (jobs/s for the peers) end to end; in brackets the ratio to L at the same count, and for the " \
       "peers ours (linear, worker process) divided by theirs.", "",
       "| threads | L (pgmq round trips/s) | linear, worker process | diamond, worker process | " \
       "linear, worker in bench process | delayed_job (N processes) | Sidekiq (Redis, no persistence) |",
       "|---:|---:|---:|---:|---:|---:|---:|",
       *counts.sort_by(&:to_i).map { |n| throughput_row(n) }, *throughput_notes, ""]
    end

    # Every worker count that some run or peer (or L) was measured at.
    def worker_counts
      (@r.dig("limit", "round_trips_per_second")&.keys || []) | runs.values.flat_map(&:keys) |
        peer_throughput("delayed_job").keys | peer_throughput("sidekiq").keys
    end

    def peer_throughput(peer)
      @r.dig("peers", peer, "throughput") || {}
    end

    def throughput_row(count)
      l = limit(count)
      ours = runs.dig("linear", count, "steps_per_second")
      cells = %w[linear diamond linear_in_process].map do |kind|
        v = runs.dig(kind, count, "steps_per_second")
        v ? "#{fmt(v)} (#{Stats.ratio(v, l) || "?"} L)" : ""
      end
      cells += %w[delayed_job sidekiq].map do |peer|
        v = peer_throughput(peer).dig(count, "jobs_per_second")
        v ? "#{fmt(v)} (ours #{Stats.ratio(ours, v) || "?"}x)" : ""
      end
      "| #{[count, fmt(l), *cells].join(" | ")} |"
    end

    def throughput_notes
      out = []
      if (aof = @r.dig("peers", "sidekiq", "aof_everysec"))
        out << "" << "Sidekiq with Redis `--appendonly yes --appendfsync everysec` at #{aof["worker_threads"]} " \
                     "threads: #{fmt(aof["jobs_per_second"])} jobs/s."
      end
      if (l = @r["limit"])
        out << "" << "L at its best count: #{fmt(l["best_round_trips_per_second"])} round trips/s with " \
                     "#{l["best_connections"]} connections. L is: #{l["what"]}."
      end
      if (t = @r["throughput"])
        out << "" << "#{t["tasks"]} tasks per run (4 steps each), created while the workers run from " \
                     "#{t["creators"]} threads of the bench process (which also runs the one orchestrator); timed " \
                     "from the first task's created_at to the last task's completed_at (database clock). Peers: " \
                     "the same number of 4-job chains, enqueued the same way."
      end
      out
    end

    def latency_table
      dj = @r.dig("peers", "delayed_job", "latency")
      sk = @r.dig("peers", "sidekiq", "latency")
      return [] unless @r["latency"] || dj || sk

      out = ["## Latency (ms), one task or chain at a time, 4 worker threads", "",
             "| measure | n | p50 | p90 | p99 | max |", "|---|---:|---:|---:|---:|---:|"]
      latency_rows(dj, sk).each do |name, s|
        out << "| #{name} | #{s["n"]} | #{s["p50"]} | #{s["p90"]} | #{s["p99"]} | #{s["max"]} |"
      end
      if dj || sk
        out << "" << "delayed_job polls (sleep_delay #{@r.dig("peers", "delayed_job", "sleep_delay")} s; its " \
                     "default is 5 s); Sidekiq blocks on BRPOP; tasker-core wakes on LISTEN/NOTIFY."
      end
      out << ""
    end

    def latency_rows(delayed_job, sidekiq)
      lat = @r["latency"]
      rows = lat && lat["wall_ms"] ? TASKER_LATENCIES.filter_map { |name, key| [name, lat[key]] if lat[key] } : []
      if delayed_job && delayed_job["wall_ms"]
        rows << ["delayed_job: 4-job chain, enqueue -> last job done (wall)", delayed_job["wall_ms"]]
      end
      if sidekiq && sidekiq["wall_ms"]
        rows << ["Sidekiq: 4-job chain, enqueue -> last job done (wall)", sidekiq["wall_ms"]]
      end
      rows
    end

    def creation_table
      c = @r["creation"]
      return [] unless c && c["calls_per_second"]

      rates = c["calls_per_second"].map { |t, v| "#{fmt(v)} calls/s from #{t} thread#{"s" if t != "1"}" }
      ["## Task creation", "", "create_task (linear, #{c["calls"]} calls): #{rates.join(", ")}.",
       *bulk_creation_line(c["create_tasks"]), ""]
    end

    def bulk_creation_line(bulk)
      return [] unless bulk

      ["create_tasks (linear, #{bulk["tasks"]} tasks in batches of #{bulk["batch"]}, 1 thread): " \
       "#{fmt(bulk["tasks_per_second"])} tasks/s = #{bulk["ratio_to_single"] || "?"} x create_task from 1 thread."]
    end

    def history_table
      h = @r["history"]
      return [] unless h && h["empty"]

      statements = (h.dig("build", "statements") || {}).map { |k, v| "#{k} #{v} s" }
      ["## History", "",
       "Linear, #{h["worker_threads"]} worker threads: #{fmt(h.dig("empty", "steps_per_second"))} steps/s on an " \
       "empty database, #{fmt(h.dig("with_history", "steps_per_second"))} steps/s with #{h["history_steps"]} " \
       "finished steps in the tables (ratio #{h["ratio"]}; #{h["method"]}; runs #{history_runs(h, "empty")} " \
       "vs #{history_runs(h, "with_history")}). The history was built in #{h.dig("build", "seconds")} s " \
       "(#{statements.join(", ")}).", ""]
    end

    def retention_table
      r = @r["retention"]
      return [] unless r && r["purge"]

      ["## Retention", "",
       "TaskerCore.purge of #{r.dig("purge", "workflow_steps")} finished steps (#{r.dig("purge", "tasks")} tasks, " \
       "batches of #{r["batch_size"]}): #{fmt(r.dig("purge", "steps_per_second"))} steps/s " \
       "(#{r.dig("purge", "seconds")} s) while the linear workload ran at " \
       "#{fmt(r.dig("during_purge", "steps_per_second"))} steps/s (#{r["worker_threads"]} worker threads; " \
       "#{fmt(r.dig("after_purge", "steps_per_second"))} steps/s right after, with nothing to purge; " \
       "ratio #{r["ratio"]}). The finished steps were built in #{r.dig("build", "seconds")} s.", ""]
    end

    def fanout_table
      FanoutTable.new(@r["fanout"]).to_a
    end

    # The steps/s of each run of one side of the history comparison.
    def history_runs(history, side)
      history.dig(side, "runs")&.map { |r| fmt(r["steps_per_second"]) }&.join(", ")
    end

    def memory_table
      m = @r["memory"]
      return [] unless m && m["probe_rss_mb"]

      p = m["probe_rss_mb"]
      ["## Memory (VmRSS, MB)", "",
       "| process | RSS |", "|---|---:|",
       "| fresh ruby | #{p["bare_ruby"]} |",
       "| after require \"tasker_core\" + configure | #{p["after_require_and_configure"]} |",
       "| after Orchestrator.start + #{Sections::Memory::IDLE_SECONDS} s idle | #{p["orchestrator_idle"]} |",
       "| after its orchestrator processed #{m["tasks"]} linear tasks | #{p["orchestrator_after_tasks"]} |",
       "| worker process, #{m["worker_threads"]} threads, idle | #{m.dig("worker_rss_mb", "idle")} |",
       "| worker process, #{m["worker_threads"]} threads, after #{m["tasks"]} tasks | " \
       "#{m.dig("worker_rss_mb", "after_tasks")} |", ""]
    end

    def profile_summary
      profile = @r["profile"]
      return [] unless profile && profile["per_step"]

      ps = profile["per_step"]
      fsync = profile.dig("fsync", "fdatasync_ops_per_second")
      fsync_note = " pg_test_fsync: #{fmt(fsync)} fdatasync/s." if fsync
      ["## Profile summary", "",
       "Per step (linear, #{profile["worker_threads"]} threads, #{profile["steps"]} steps): #{ps["commits"]} " \
       "commits, #{ps["wal_syncs"]} WAL syncs, #{fmt(ps["wal_bytes"])} WAL bytes, #{ps["rows_inserted"]} rows " \
       "inserted, #{ps["rows_updated"]} updated, #{ps["rows_deleted"]} deleted.#{fsync_note} Details: profile.md.", ""]
    end
  end
end
