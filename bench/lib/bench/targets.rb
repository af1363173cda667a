# frozen_string_literal: true

require_relative "figures"
require_relative "fanout_summary"

module Bench
  # The verdicts: each of the bench's targets against what the run measured, PASS or MISS ("-"
  # for a comparison reported without a target).
  class Targets
    include Figures

    LIMITS = { throughput_ratio: 0.6, latency_p50_ms: 20, latency_p99_ms: 60, history_ratio: 0.9,
               orchestrator_rss_mb: 30, create_task_calls_per_second: 1000, create_tasks_ratio: 5 }.freeze

    def initialize(results)
      @r = results
    end

    def to_a
      [throughput, latency, create_task, create_tasks, delayed_job, sidekiq, history, fanout, memory].compact
    end

    private

    # [kind, worker count, row] of the fastest linear run, worker in its own process or in the bench's.
    def best_throughput
      candidates = %w[linear linear_in_process].flat_map do |kind|
        (runs[kind] || {}).map { |n, row| [kind, n, row] }
      end
      candidates.max_by { |_, _, row| row["steps_per_second"].to_f }
    end

    def throughput
      best = best_throughput
      return unless best

      kind, count, row = best
      l = limit(count)
      ratio = Stats.ratio(row["steps_per_second"], l)
      where = kind == "linear" ? "worker process" : "worker in the bench process"
      target("throughput", "linear steps/s at the best worker count >= 0.6 x L",
             "#{fmt(row["steps_per_second"])} steps/s at #{count} threads (#{where}) " \
             "= #{ratio || "?"} x L(#{count}) = #{fmt(l)}", ratio && ratio >= LIMITS[:throughput_ratio])
    end

    def latency
      lat = @r["latency"]
      return unless lat && lat["wall_ms"]

      p50 = lat.dig("wall_ms", "p50")
      p99 = lat.dig("wall_ms", "p99")
      target("latency", "linear 4-step p50 <= 20 ms, p99 <= 60 ms (create_task -> wait_for_task, wall)",
             "p50 #{p50} ms, p99 #{p99} ms (DB clock p50 #{lat.dig("db_ms", "p50")}, p99 #{lat.dig("db_ms", "p99")})",
             p50 <= LIMITS[:latency_p50_ms] && p99 <= LIMITS[:latency_p99_ms])
    end

    def create_task
      rate = @r.dig("creation", "calls_per_second", "1")
      return unless rate

      target("create_task", "create_task >= 1000 calls/s from one thread", "#{fmt(rate)} calls/s",
             rate >= LIMITS[:create_task_calls_per_second])
    end

    def create_tasks
      bulk = @r.dig("creation", "create_tasks")
      return unless bulk

      ratio = bulk["ratio_to_single"]
      target("create_tasks", "create_tasks (batches of #{bulk["batch"]}) >= 5 x create_task's rate per task",
             "#{fmt(bulk["tasks_per_second"])} tasks/s = #{ratio || "?"} x create_task from one thread",
             ratio && ratio >= LIMITS[:create_tasks_ratio])
    end

    def delayed_job
      dj = @r.dig("peers", "delayed_job")
      best = best_throughput
      return unless dj && dj["throughput"] && best

      dj_best = peer_best(dj)
      ours = best[2]["steps_per_second"]
      ours_p50 = @r.dig("latency", "wall_ms", "p50")
      dj_p50 = dj.dig("latency", "wall_ms", "p50")
      ok = ours > dj_best && (ours_p50.nil? || dj_p50.nil? || ours_p50 < dj_p50)
      target("delayed_job", "ahead of delayed_job on throughput and latency",
             "#{fmt(ours)} vs #{fmt(dj_best)} steps(jobs)/s (#{Stats.ratio(ours, dj_best)}x); " \
             "p50 #{ours_p50} vs #{dj_p50} ms", ok)
    end

    def sidekiq
      sk = @r.dig("peers", "sidekiq")
      best = best_throughput
      return unless sk && sk["throughput"] && best

      sk_best = peer_best(sk)
      ours = best[2]["steps_per_second"]
      target("sidekiq", "Sidekiq (reported, no target)",
             "#{fmt(ours)} vs #{fmt(sk_best)} steps(jobs)/s (#{Stats.ratio(ours, sk_best)}x); p50 " \
             "#{@r.dig("latency", "wall_ms", "p50")} vs #{sk.dig("latency", "wall_ms", "p50")} ms", nil)
    end

    # A peer's best jobs/s over its worker counts.
    def peer_best(peer)
      peer["throughput"].values.map { |row| row["jobs_per_second"] }.max
    end

    def history
      h = @r["history"]
      return unless h && h["ratio"]

      target("history", "throughput with #{h["history_steps"]} finished steps >= 0.9 x empty",
             "#{h["ratio"]} (#{fmt(h.dig("with_history", "steps_per_second"))} vs " \
             "#{fmt(h.dig("empty", "steps_per_second"))} steps/s at #{h["worker_threads"]} threads)",
             h["ratio"] >= LIMITS[:history_ratio])
    end

    def fanout
      f = @r["fanout"]
      return unless f && f["big"]

      big = f["big"]
      target("fanout", "one task fanning out to #{big["elements"]} trivial instances and summing them " \
                       "(reported, no target)", FanoutSummary.summary(f), nil)
    end

    def memory
      m = @r["memory"]
      return unless m && m["orchestrator_overhead_mb"]

      over = m["orchestrator_overhead_mb"].values.max
      target("memory", "RSS added by Orchestrator.start <= 30 MB",
             "#{over} MB (idle #{m.dig("orchestrator_overhead_mb", "idle")}, after #{m["tasks"]} tasks " \
             "#{m.dig("orchestrator_overhead_mb", "after_tasks")})", over <= LIMITS[:orchestrator_rss_mb])
    end

    def target(key, what, measured, pass)
      verdict = if pass.nil?
                  "-"
                elsif pass
                  "PASS"
                else
                  "MISS"
                end
      { "key" => key, "target" => what, "measured" => measured, "verdict" => verdict }
    end
  end
end
