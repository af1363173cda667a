# frozen_string_literal: true

require "json"
require "fileutils"
require "etc"
require "time"

module Bench
  # The run's results: printed as markdown tables, written as results.json and results.md,
  # steps/s by worker count drawn by gnuplot into throughput.png, the profile into profile.md.
  class Report
    TARGETS = { throughput_ratio: 0.6, latency_p50_ms: 20, latency_p99_ms: 60, history_ratio: 0.9,
                orchestrator_rss_mb: 30 }.freeze

    def self.meta(ctx)
      git = `git -C #{Context::ROOT} rev-parse --short HEAD 2>/dev/null`.strip
      dirty = !`git -C #{Context::ROOT} status --porcelain -- src migrations lib 2>/dev/null`.strip.empty?
      {
        "started_at" => Time.now.utc.iso8601, "git" => git, "tree_dirty" => dirty,
        "ruby" => RUBY_DESCRIPTION, "cpus" => Etc.nprocessors,
        "cpu_model" => File.read("/proc/cpuinfo")[/model name\s*:\s*(.*)/, 1],
        "load_average_at_start" => File.read("/proc/loadavg").split.first(3).map(&:to_f),
        "postgresql" => ctx.db.server_info, "private_cluster" => ctx.db.private_cluster?,
        "options" => ctx.options.to_h, "stale_extension" => ctx.tasker.stale_extension
      }.compact
    end

    def initialize(ctx, results)
      @ctx = ctx
      @r = results
      @r["targets"] = targets
    end

    def write
      dir = @ctx.options.out_dir
      FileUtils.mkdir_p(dir)
      markdown = to_markdown
      File.write(File.join(dir, "results.json"), "#{JSON.pretty_generate(@r)}\n")
      File.write(File.join(dir, "results.md"), markdown)
      File.write(File.join(dir, "profile.md"), ProfileReport.new(@r).to_markdown) if @r["profile"] || @r.dig("history",
                                                                                                             "explain_with_history")
      chart = Chart.new(@r, dir).draw
      puts
      puts markdown
      @ctx.log("wrote #{dir}/results.json, results.md#{", profile.md" if @r["profile"]}#{", #{File.basename(chart)}" if chart}")
    end

    # --- the verdicts ----------------------------------------------------------------------------

    def limit(n)
      @r.dig("limit", "round_trips_per_second", n.to_s)
    end

    def best_throughput
      runs = @r.dig("throughput", "runs") || {}
      candidates = %w[linear linear_in_process].flat_map do |kind|
        (runs[kind] || {}).map { |n, row| [kind, n, row] }
      end
      candidates.max_by { |_, _, row| row["steps_per_second"].to_f }
    end

    def targets
      list = []
      if (best = best_throughput)
        kind, n, row = best
        l = limit(n)
        ratio = Stats.ratio(row["steps_per_second"], l)
        list << target("throughput", "linear steps/s at the best worker count >= 0.6 x L",
                       "#{fmt(row["steps_per_second"])} steps/s at #{n} threads (#{kind == "linear" ? "worker process" : "worker in the bench process"}) " \
                       "= #{ratio || "?"} x L(#{n}) = #{fmt(l)}", ratio && ratio >= TARGETS[:throughput_ratio])
      end
      if (lat = @r["latency"]) && lat["wall_ms"]
        p50 = lat.dig("wall_ms", "p50")
        p99 = lat.dig("wall_ms", "p99")
        list << target("latency", "linear 4-step p50 <= 20 ms, p99 <= 60 ms (create_task -> wait_for_task, wall)",
                       "p50 #{p50} ms, p99 #{p99} ms (DB clock p50 #{lat.dig("db_ms", "p50")}, p99 #{lat.dig("db_ms", "p99")})",
                       p50 <= TARGETS[:latency_p50_ms] && p99 <= TARGETS[:latency_p99_ms])
      end
      dj = @r.dig("peers", "delayed_job")
      if dj && dj["throughput"] && best_throughput
        dj_best = dj["throughput"].values.map { |row| row["jobs_per_second"] }.max
        ours = best_throughput[2]["steps_per_second"]
        ours_p50 = @r.dig("latency", "wall_ms", "p50")
        dj_p50 = dj.dig("latency", "wall_ms", "p50")
        ok = ours > dj_best && (ours_p50.nil? || dj_p50.nil? || ours_p50 < dj_p50)
        list << target("delayed_job", "ahead of delayed_job on throughput and latency",
                       "#{fmt(ours)} vs #{fmt(dj_best)} steps(jobs)/s (#{Stats.ratio(ours, dj_best)}x); " \
                       "p50 #{ours_p50} vs #{dj_p50} ms", ok)
      end
      sk = @r.dig("peers", "sidekiq")
      if sk && sk["throughput"] && best_throughput
        sk_best = sk["throughput"].values.map { |row| row["jobs_per_second"] }.max
        ours = best_throughput[2]["steps_per_second"]
        list << target("sidekiq", "Sidekiq (reported, no target)",
                       "#{fmt(ours)} vs #{fmt(sk_best)} steps(jobs)/s (#{Stats.ratio(ours, sk_best)}x); p50 " \
                       "#{@r.dig("latency", "wall_ms", "p50")} vs #{sk.dig("latency", "wall_ms", "p50")} ms", nil)
      end
      if (h = @r["history"]) && h["ratio"]
        list << target("history", "throughput with #{h["history_steps"]} finished steps >= 0.9 x empty",
                       "#{h["ratio"]} (#{fmt(h.dig("with_history", "steps_per_second"))} vs " \
                       "#{fmt(h.dig("empty", "steps_per_second"))} steps/s at #{h["worker_threads"]} threads)",
                       h["ratio"] >= TARGETS[:history_ratio])
      end
      if (m = @r["memory"]) && m["orchestrator_overhead_mb"]
        over = m["orchestrator_overhead_mb"].values.max
        list << target("memory", "RSS added by Orchestrator.start <= 30 MB",
                       "#{over} MB (idle #{m.dig("orchestrator_overhead_mb", "idle")}, after #{m["tasks"]} tasks " \
                       "#{m.dig("orchestrator_overhead_mb", "after_tasks")})", over <= TARGETS[:orchestrator_rss_mb])
      end
      list
    end

    def target(key, what, measured, pass)
      { "key" => key, "target" => what, "measured" => measured,
        "verdict" => if pass.nil?
                       "-"
                     else
                       (pass ? "PASS" : "MISS")
                     end }
    end

    # --- markdown --------------------------------------------------------------------------------

    def to_markdown
      out = []
      meta = @r["meta"]
      out << "# tasker-core bench results"
      out << ""
      out << "#{meta["started_at"]} · git #{meta["git"]}#{if meta["tree_dirty"]
                                                            " (uncommitted changes in src/migrations/lib)"
                                                          end} · " \
             "#{meta["options"][:quick] ? "QUICK run (small counts)" : "full run"} · #{meta["cpus"]} CPUs (#{meta["cpu_model"]}), " \
             "load average at start #{meta["load_average_at_start"].join(" ")} · PostgreSQL #{meta.dig("postgresql",
                                                                                                       "version")} " \
             "(#{settings_line}) · #{meta["ruby"].split(" [").first} · #{meta["total_seconds"]} s"
      out << ""
      out << "**WARNING: #{meta["stale_extension"]}**" << "" if meta["stale_extension"]
      bad = worker_error_runs
      out << "**WARNING: workers logged errors during #{bad.join(", ")}: those figures are suspect.**" << "" if bad.any?
      out.concat(targets_table)
      out.concat(throughput_table)
      out.concat(latency_table)
      out.concat(creation_table)
      out.concat(history_table)
      out.concat(memory_table)
      out.concat(notes)
      errors = @r.select { |_, v| v.is_a?(Hash) && v["error"] }
      errors.each { |name, v| out << "**#{name} failed:** #{v["error"]}" << "" }
      "#{out.join("\n")}\n"
    end

    def worker_error_runs
      (@r.dig("throughput", "runs") || {}).flat_map do |kind, by_n|
        by_n.select do |_, row|
          row["worker_errors"].to_i.positive?
        end.map { |n, row| "#{kind}@#{n} (#{row["worker_errors"]})" }
      end
    end

    def settings_line
      s = @r.dig("meta", "postgresql", "settings") || {}
      %w[fsync synchronous_commit full_page_writes wal_sync_method shared_buffers].map { |k| "#{k}=#{s[k]}" }.join(", ")
    end

    def targets_table
      return [] if @r["targets"].empty?

      ["## Targets", "", "| | target | measured | |", "|---|---|---|---|",
       *@r["targets"].map { |t| "| #{t["key"]} | #{t["target"]} | #{t["measured"]} | **#{t["verdict"]}** |" }, ""]
    end

    def throughput_table
      runs = @r.dig("throughput", "runs") || {}
      dj = @r.dig("peers", "delayed_job", "throughput") || {}
      sk = @r.dig("peers", "sidekiq", "throughput") || {}
      counts = (@r.dig("limit",
                       "round_trips_per_second")&.keys || []) | runs.values.flat_map(&:keys) | dj.keys | sk.keys
      return [] if counts.empty?

      counts = counts.sort_by(&:to_i)
      out = ["## Throughput by worker threads", "",
             "Steps/s (jobs/s for the peers) end to end; in brackets the ratio to L at the same count, and for the peers " \
             "ours (linear, worker process) divided by theirs.", "",
             "| threads | L (pgmq round trips/s) | linear, worker process | diamond, worker process | " \
             "linear, worker in bench process | delayed_job (N processes) | Sidekiq (Redis, no persistence) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
      counts.each do |n|
        l = limit(n)
        ours = runs.dig("linear", n, "steps_per_second")
        cells = [n, fmt(l)]
        %w[linear diamond linear_in_process].each do |kind|
          v = runs.dig(kind, n, "steps_per_second")
          cells << (v ? "#{fmt(v)} (#{Stats.ratio(v, l) || "?"} L)" : "")
        end
        [dj, sk].each do |peer|
          v = peer.dig(n, "jobs_per_second")
          cells << (v ? "#{fmt(v)} (ours #{Stats.ratio(ours, v) || "?"}x)" : "")
        end
        out << "| #{cells.join(" | ")} |"
      end
      if (aof = @r.dig("peers", "sidekiq", "aof_everysec"))
        out << "" << "Sidekiq with Redis `--appendonly yes --appendfsync everysec` at #{aof["worker_threads"]} threads: " \
                     "#{fmt(aof["jobs_per_second"])} jobs/s."
      end
      if (l = @r["limit"])
        out << "" << "L at its best count: #{fmt(l["best_round_trips_per_second"])} round trips/s with #{l["best_connections"]} " \
                     "connections. L is: #{l["what"]}."
      end
      if (t = @r["throughput"])
        out << "" << "#{t["tasks"]} tasks per run (4 steps each), created while the workers run from #{t["creators"]} threads of " \
                     "the bench process (which also runs the one orchestrator); timed from the first task's created_at to the " \
                     "last task's completed_at (database clock). Peers: the same number of 4-job chains, enqueued the same way."
      end
      out << ""
    end

    def latency_table
      lat = @r["latency"]
      dj = @r.dig("peers", "delayed_job", "latency")
      sk = @r.dig("peers", "sidekiq", "latency")
      return [] unless lat || dj || sk

      rows = []
      if lat && lat["wall_ms"]
        rows << ["tasker-core: linear task, create_task -> wait_for_task returns (wall)", lat["wall_ms"]]
        rows << ["tasker-core: linear task, created_at -> completed_at (DB clock)", lat["db_ms"]]
        rows << ["tasker-core: per hop (claim k - claim k-1 - handler k-1)", lat["hop_ms"]]
        rows << ["tasker-core: created_at -> first step claimed", lat["first_claim_ms"]]
        rows << ["tasker-core: last handler done -> task completed_at", lat["last_result_to_done_ms"]]
        rows << ["tasker-core: handler duration_ms (trivial handler)", lat["handler_ms"]]
      end
      rows << ["delayed_job: 4-job chain, enqueue -> last job done (wall)", dj["wall_ms"]] if dj && dj["wall_ms"]
      rows << ["Sidekiq: 4-job chain, enqueue -> last job done (wall)", sk["wall_ms"]] if sk && sk["wall_ms"]
      out = ["## Latency (ms), one task or chain at a time, 4 worker threads", "",
             "| measure | n | p50 | p90 | p99 | max |", "|---|---:|---:|---:|---:|---:|"]
      rows.each { |name, s| out << "| #{name} | #{s["n"]} | #{s["p50"]} | #{s["p90"]} | #{s["p99"]} | #{s["max"]} |" }
      if dj || sk
        out << "" << "delayed_job polls (sleep_delay #{@r.dig("peers", "delayed_job",
                                                              "sleep_delay")} s; its default is 5 s); " \
                     "Sidekiq blocks on BRPOP; tasker-core wakes on LISTEN/NOTIFY."
      end
      out << ""
    end

    def creation_table
      c = @r["creation"]
      return [] unless c && c["calls_per_second"]

      ["## Task creation", "",
       "create_task (linear, #{c["calls"]} calls): #{c["calls_per_second"].map do |t, v|
                                                       "#{fmt(v)} calls/s from #{t} thread#{"s" if t != "1"}"
                                                     end.join(", ")}.", ""]
    end

    def history_table
      h = @r["history"]
      return [] unless h && h["empty"]

      ["## History", "",
       "Linear, #{h["worker_threads"]} worker threads: #{fmt(h.dig("empty", "steps_per_second"))} steps/s on an empty database, " \
       "#{fmt(h.dig("with_history", "steps_per_second"))} steps/s with #{h["history_steps"]} finished steps in the tables " \
       "(ratio #{h["ratio"]}; #{h["method"]}; runs #{h.dig("empty", "runs")&.map do |r|
                                                       fmt(r["steps_per_second"])
                                                     end&.join(", ")} " \
       "vs #{h.dig("with_history", "runs")&.map do |r|
               fmt(r["steps_per_second"])
             end&.join(", ")}). The history was built in #{h.dig("build", "seconds")} s " \
       "(#{(h.dig("build", "statements") || {}).map { |k, v| "#{k} #{v} s" }.join(", ")}).", ""]
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
       "| worker process, #{m["worker_threads"]} threads, after #{m["tasks"]} tasks | #{m.dig("worker_rss_mb", "after_tasks")} |", ""]
    end

    def notes
      profile = @r["profile"]
      return [] unless profile && profile["per_step"]

      ps = profile["per_step"]
      fsync = profile.dig("fsync", "fdatasync_ops_per_second")
      ["## Profile summary", "",
       "Per step (linear, #{profile["worker_threads"]} threads, #{profile["steps"]} steps): #{ps["commits"]} commits, " \
       "#{ps["wal_syncs"]} WAL syncs, #{fmt(ps["wal_bytes"])} WAL bytes, #{ps["rows_inserted"]} rows inserted, " \
       "#{ps["rows_updated"]} updated, #{ps["rows_deleted"]} deleted.#{if fsync
                                                                         " pg_test_fsync: #{fmt(fsync)} fdatasync/s."
                                                                       end} " \
       "Details: profile.md.", ""]
    end

    def fmt(value)
      return "?" if value.nil?

      value.to_f >= 100 ? value.round.to_s : value.to_f.round(1).to_s
    end
  end
end
