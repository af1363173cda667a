# frozen_string_literal: true

module Bench
  # profile.md: pg_test_fsync, per-step counters, the top statements (pg_stat_statements with
  # nested statements) and the EXPLAIN ANALYZE plans of the hot-path functions.
  class ProfileReport
    def initialize(results)
      @r = results
      @p = results["profile"] || {}
    end

    def to_markdown
      out = ["# tasker-core bench: hot-path profile", "",
             "From the run of #{@r.dig("meta", "started_at")} (git #{@r.dig("meta", "git")}).", ""]
      out.concat(per_step) if @p["per_step"]
      out.concat(top) if @p["top_statements"]
      out.concat(fsync) if @p["fsync"]
      if @p["explain"]
        out << "## EXPLAIN ANALYZE of the hot path (auto_explain, nested statements; empty database)" << ""
        out << "```" << @p["explain"] << "```" << ""
      end
      if (h = @r.dig("history", "explain_with_history"))
        out << "## The same with #{@r.dig("history", "history_steps")} finished steps in the tables" << ""
        out << "```" << h << "```" << ""
      end
      "#{out.join("\n")}\n"
    end

    private

    def per_step
      ps = @p["per_step"]
      ["## Per step", "",
       "#{@p["tasks"]} linear tasks (#{@p["steps"]} steps) at #{@p["worker_threads"]} worker threads, " \
       "#{@p["steps_per_second"]} steps/s with pg_stat_statements tracking everything (it costs a little).", "",
       "| per step | |", "|---|---:|", *ps.map { |k, v| "| #{k} | #{v} |" }, ""]
    end

    def top
      ["## Top statements by total execution time", "",
       "`top` = called by a client; nested = run inside a SQL function (its time is also inside its caller's). " \
       "ms/step is execution; planning is apart (plan ms/step, and plans/call: 1.0 = planned on every call).", "",
       "| | calls/step | ms/step | mean ms | plan ms/step | plans/call | rows/call | blocks/call | " \
       "WAL bytes/step | statement |",
       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
       *@p["top_statements"].map { |s| statement_row(s) }, ""]
    end

    def statement_row(stat)
      "| #{stat["toplevel"] ? "top" : "nested"} | #{stat["calls_per_step"]} | #{stat["ms_per_step"]} | " \
        "#{stat["mean_ms"]} | #{stat["plan_ms_per_step"]} | #{stat["plans_per_call"]} | " \
        "#{stat["rows_per_call"]} | #{stat["blocks_per_call"]} | " \
        "#{stat["wal_bytes_per_step"]} | `#{stat["query"].gsub("|", "\\|")}` |"
    end

    def fsync
      ["## pg_test_fsync (the bench cluster's disk)", "", "```", @p.dig("fsync", "raw").to_s.strip, "```", ""]
    end
  end
end
