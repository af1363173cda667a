# frozen_string_literal: true

module Bench
  # Small numeric helpers: percentiles by nearest rank, rounding for the report.
  module Stats
    module_function

    # Nearest-rank percentile of an unsorted list (nil when empty).
    def percentile(values, pct)
      return nil if values.empty?

      sorted = values.sort
      rank = ((pct / 100.0) * sorted.size).ceil
      sorted[[[rank, 1].max, sorted.size].min - 1]
    end

    def summary(values)
      return { "n" => 0 } if values.empty?

      { "n" => values.size, "p50" => round(percentile(values, 50)), "p90" => round(percentile(values, 90)),
        "p99" => round(percentile(values, 99)), "max" => round(values.max),
        "mean" => round(values.sum / values.size) }
    end

    def round(value, digits = 2)
      value&.round(digits)
    end

    def ratio(numerator, denominator)
      return nil if numerator.nil? || denominator.nil? || denominator.to_f.zero?

      (numerator.to_f / denominator).round(3)
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
