# frozen_string_literal: true

module Bench
  # The fanout section's figures in words, for the targets table and docs (one sentence, so
  # both say the same).
  module FanoutSummary
    module_function

    def summary(fanout)
      big = fanout["big"]
      small = fanout["small"]
      page = big.dig("dashboard", "task_page", "median_ms")
      "fan-out #{count(big["elements"])}: expand #{big["expand_seconds"].round(2)} s, " \
        "#{big["instance_steps_per_second"].round} instance steps/s = #{fanout["ratio_to_linear"]} x linear " \
        "(#{fanout.dig("linear", "steps_per_second").round} steps/s, #{fanout["worker_threads"]} threads), " \
        "aggregate #{big["aggregate_ms"].round} ms (#{per_element(big)} ms/element at #{count(big["elements"])} " \
        "vs #{per_element(small)} at #{count(small["elements"])}), task page #{page&.round} ms"
    end

    # The pg_stat_statements figure `key` (calls, rows, ms) of a run's top-level
    # tasker.expand_fan_outs call, or (toplevel false) of the statement inside it.
    def expansion(run, key, toplevel: true)
      Array(run["expansion_statements"]).find { |s| s["toplevel"] == toplevel }&.fetch(key)
    end

    def per_element(run)
      run["aggregate_ms_per_element"].round(3)
    end

    def count(value)
      value.to_i.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
    end
  end
end
