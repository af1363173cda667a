# frozen_string_literal: true

require "json"
require "fileutils"
require "etc"
require "time"
require_relative "figures"
require_relative "targets"
require_relative "tables"

module Bench
  # The run's results: printed as markdown tables, written as results.json and results.md,
  # steps/s by worker count drawn by gnuplot into throughput.png, the profile into profile.md.
  class Report
    include Figures

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
      @r["targets"] = Targets.new(@r).to_a
    end

    def write
      dir = @ctx.options.out_dir
      FileUtils.mkdir_p(dir)
      markdown = to_markdown
      File.write(File.join(dir, "results.json"), "#{JSON.pretty_generate(@r)}\n")
      File.write(File.join(dir, "results.md"), markdown)
      profiled = @r["profile"] || @r.dig("history", "explain_with_history")
      File.write(File.join(dir, "profile.md"), ProfileReport.new(@r).to_markdown) if profiled
      chart = Chart.new(@r, dir).draw
      puts
      puts markdown
      @ctx.log("wrote #{dir}/results.json, results.md#{", profile.md" if @r["profile"]}" \
               "#{", #{File.basename(chart)}" if chart}")
    end

    def to_markdown
      out = header + Tables.new(@r).to_a
      @r.each { |name, v| out << "**#{name} failed:** #{v["error"]}" << "" if v.is_a?(Hash) && v["error"] }
      "#{out.join("\n")}\n"
    end

    private

    def header
      meta = @r["meta"]
      out = ["# tasker-core bench results", "", run_line(meta), ""]
      out << "**WARNING: #{meta["stale_extension"]}**" << "" if meta["stale_extension"]
      bad = worker_error_runs
      out << "**WARNING: workers logged errors during #{bad.join(", ")}: those figures are suspect.**" << "" if bad.any?
      out
    end

    # When, what, on which machine and PostgreSQL settings the run measured.
    def run_line(meta)
      dirty = " (uncommitted changes in src/migrations/lib)" if meta["tree_dirty"]
      size = meta["options"][:quick] ? "QUICK run (small counts)" : "full run"
      "#{meta["started_at"]} · git #{meta["git"]}#{dirty} · #{size} · #{meta["cpus"]} CPUs (#{meta["cpu_model"]}), " \
        "load average at start #{meta["load_average_at_start"].join(" ")} · " \
        "PostgreSQL #{meta.dig("postgresql", "version")} (#{settings_line}) · " \
        "#{meta["ruby"].split(" [").first} · #{meta["total_seconds"]} s"
    end

    def worker_error_runs
      runs.flat_map do |kind, by_n|
        failed = by_n.select { |_, row| row["worker_errors"].to_i.positive? }
        failed.map { |n, row| "#{kind}@#{n} (#{row["worker_errors"]})" }
      end
    end

    def settings_line
      s = @r.dig("meta", "postgresql", "settings") || {}
      %w[fsync synchronous_commit full_page_writes wal_sync_method shared_buffers].map { |k| "#{k}=#{s[k]}" }.join(", ")
    end
  end
end
