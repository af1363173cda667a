# frozen_string_literal: true

module Bench
  # Reading the results hash (in @r) and rounding its figures, for the verdicts and the tables.
  module Figures
    private

    # L, pgmq round trips/s, at this many client connections.
    def limit(count)
      @r.dig("limit", "round_trips_per_second", count.to_s)
    end

    # The throughput section's runs: kind => worker count => row.
    def runs
      @r.dig("throughput", "runs") || {}
    end

    def fmt(value)
      return "?" if value.nil?

      value.to_f >= 100 ? value.round.to_s : value.to_f.round(1).to_s
    end
  end
end
