# frozen_string_literal: true

require "json"

module Bench
  module Sections
    # L: raw pgmq round trips per second. Each client thread has its own connection (the pg
    # gem, like the workers) and loops on one transaction: send a step-sized message, read one
    # message, delete it, commit. Measured at every worker count compared.
    class Limit
      QUEUE = "bench_limit"
      PAYLOAD = JSON.generate(
        "task_uuid" => "0190f3c2-7c4e-7a51-9b1e-2f7b0f6d7a11", "step_uuid" => "0190f3c2-7c4e-7a51-9b1e-2f7b0f6d7a12",
        "namespace" => "linear_workflow", "task_name" => "linear", "task_version" => "1.0.0",
        "step_name" => "step_2", "handler" => "LinearWorkflow::StepHandlers::SquareParents", "attempt" => 1,
        "timeout_seconds" => 30, "enqueued_at" => "2026-01-01T00:00:00.000000+00:00"
      )

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        db = @ctx.db
        db.with do |c|
          c.exec_params("SELECT pgmq.create($1)", [QUEUE]) if c.exec_params(
            "SELECT 1 FROM pgmq.meta WHERE queue_name = $1", [QUEUE]
          ).ntuples.zero?
          c.exec_params("SELECT pgmq.purge_queue($1)", [QUEUE])
        end
        by_connections = {}
        @ctx.options[:workers].each do |n|
          rate = measure(n, @ctx.options[:limit_seconds])
          by_connections[n.to_s] = rate.round(1)
          @ctx.log("L with #{n} connection(s): #{rate.round(1)} round trips/s")
        end
        best = by_connections.max_by { |_, v| v }
        { "round_trips_per_second" => by_connections, "best_connections" => best[0].to_i,
          "best_round_trips_per_second" => best[1],
          "what" => "BEGIN; pgmq.send (a #{PAYLOAD.bytesize}-byte step message); pgmq.read(qty 1, vt 30); " \
                    "pgmq.delete; COMMIT -- one round trip per statement, pg gem, one connection per thread" }
      end

      private

      def measure(connections, seconds)
        conns = Array.new(connections) { @ctx.db.connect(name: "bench limit") }
        counts = Array.new(connections, 0)
        stop = false
        measuring = false
        threads = conns.each_with_index.map do |conn, i|
          Thread.new do
            until stop
              round_trip(conn)
              counts[i] += 1 if measuring
            end
          end
        end
        sleep [seconds / 5, 0.5].max # warm up
        measuring = true
        started = Stats.monotonic
        sleep seconds
        done = counts.sum
        elapsed = Stats.monotonic - started
        stop = true
        threads.each(&:join)
        done / elapsed
      ensure
        conns&.each(&:close)
      end

      def round_trip(conn)
        conn.transaction do
          conn.exec_params("SELECT pgmq.send($1::text, $2::jsonb)", [QUEUE, PAYLOAD])
          row = conn.exec_params("SELECT msg_id FROM pgmq.read($1::text, 30, 1)", [QUEUE])
          if row.ntuples.positive?
            conn.exec_params("SELECT pgmq.delete($1::text, $2::bigint)", [QUEUE, row.getvalue(0, 0)])
          end
        end
      end
    end
  end
end
