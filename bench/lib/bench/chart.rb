# frozen_string_literal: true

require "open3"

module Bench
  # throughput.png: steps/s (jobs/s, round trips/s) by worker thread count, drawn by gnuplot.
  class Chart
    SERIES = [
      ["L: pgmq round trips/s", ->(r, n) { r.dig("limit", "round_trips_per_second", n) }],
      ["tasker-core linear (worker process)",
       ->(r, n) { r.dig("throughput", "runs", "linear", n, "steps_per_second") }],
      ["tasker-core diamond (worker process)",
       ->(r, n) { r.dig("throughput", "runs", "diamond", n, "steps_per_second") }],
      ["tasker-core linear (worker in bench process)",
       ->(r, n) { r.dig("throughput", "runs", "linear_in_process", n, "steps_per_second") }],
      ["delayed_job (N processes)", ->(r, n) { r.dig("peers", "delayed_job", "throughput", n, "jobs_per_second") }],
      ["Sidekiq + Redis (no persistence)", ->(r, n) { r.dig("peers", "sidekiq", "throughput", n, "jobs_per_second") }]
    ].freeze
    COUNTS = %w[1 2 3 4 5 6 7 8 12 16].freeze

    def initialize(results, dir)
      @r = results
      @dir = dir
    end

    # Returns the PNG's path, or nil when there is nothing to draw or no gnuplot.
    def draw
      counts = measured_counts
      series = SERIES.select { |_, f| counts.any? { |n| f.call(@r, n) } }
      return nil if counts.empty? || series.empty? || !system("command -v gnuplot >/dev/null 2>&1")

      data = write_data(counts, series)
      png = File.join(@dir, "throughput.png")
      _, err, status = Open3.capture3("gnuplot", stdin_data: script(data, png, counts, series))
      File.delete(data)
      raise "gnuplot failed: #{err}" unless status.success?

      png
    end

    private

    # Every worker count that some series has a figure for.
    def measured_counts
      SERIES.flat_map { |_, f| COUNTS.select { |n| f.call(@r, n) } }.uniq.sort_by(&:to_i)
    end

    # throughput.dat: a row per worker count, a column per series ("?" where it has no figure).
    def write_data(counts, series)
      data = File.join(@dir, "throughput.dat")
      rows = counts.map { |n| [n, *series.map { |_, f| f.call(@r, n) || "?" }].join(" ") }
      File.write(data, "#{rows.join("\n")}\n")
      data
    end

    def script(data, png, counts, series)
      plots = series.each_with_index.map do |(title, _), i|
        "'#{data}' using 1:#{i + 2} with linespoints lw 2 pt #{i + 5} title '#{title}'"
      end
      <<~GNUPLOT
        set terminal pngcairo size 900,650 font 'DejaVu Sans,10'
        set output '#{png}'
        set datafile missing '?'
        set title "Throughput by worker threads (#{@r.dig("meta", "cpus")} CPUs, PostgreSQL fsync on; git #{@r.dig("meta", "git")})"
        set xlabel 'worker threads (client connections for L)'
        set ylabel 'per second (log scale)'
        set logscale x 2
        set logscale y
        set xtics (#{counts.join(", ")})
        set grid
        set key below
        set xrange [0.8:#{(counts.last.to_i * 1.25).round(1)}]
        plot #{plots.join(", \\\n     ")}
      GNUPLOT
    end
  end
end
