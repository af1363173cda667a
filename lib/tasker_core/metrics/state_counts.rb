# frozen_string_literal: true

require "tasker_core/states"

module TaskerCore
  class Metrics
    # Tasks by template and state and steps by state, for TaskerCore.metrics, without reading
    # the whole history on every scrape. The first read counts every row and keeps the counts
    # of the tasks finished before a watermark (and of their steps); each later read counts
    # only the tasks unfinished or finished since the watermark, adds those finished before
    # the new one to what it keeps, and moves the watermark on (sql/state_counts.sql). One
    # instance per database, shared by the threads of this process.
    #
    # What changes a task kept here without stamping a new completed_at on it is seen at the
    # next full count, at most RECOUNT_SECONDS later: the purge's deletes, and an operator's
    # step move inside a failed task that leaves the task failed.
    class StateCounts
      RECOUNT_SECONDS = 600
      # The watermark trails the database's clock, so that a task whose finishing transaction
      # committed up to this long after it stamped completed_at is still counted.
      MARGIN_SECONDS = 60

      @kept = {}
      @kept_lock = Mutex.new

      # The counts of the database `queries` reads, with what earlier reads of it kept.
      def self.read(queries)
        @kept_lock.synchronize { @kept[queries.server] ||= new }.read(queries)
      end

      def initialize(clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
        @clock = clock
        @lock = Mutex.new
        @identity = nil
      end

      # [tasks, steps]: [{namespace, name, state, count}] sorted, and {state => count} with
      # every step state.
      def read(queries)
        @lock.synchronize do
          now = queries.counts_identity(ago_seconds: MARGIN_SECONDS)
          recount = recount?(now["identity"])
          rows = queries.state_counts(from: recount ? nil : @watermark, to: now["watermark"])
          restart(now["identity"]) if recount
          @watermark = now["watermark"]
          answer(rows)
        end
      end

      private

      def recount?(identity)
        identity != @identity || @clock.call - @counted_at >= RECOUNT_SECONDS
      end

      def restart(identity)
        @identity = identity
        @counted_at = @clock.call
        @tasks = Hash.new(0)
        @steps = Hash.new(0)
      end

      # Folds the rows of tasks finished before the new watermark into what is kept, and
      # answers with the kept counts plus the others.
      def answer(rows)
        tasks = @tasks.dup
        steps = @steps.dup
        rows.each do |row|
          add(tasks, steps, row)
          add(@tasks, @steps, row) if row["folded"]
        end
        [tasks.filter_map { |key, count| count.positive? && task_row(key, count) }
              .sort_by { |row| row.values_at("namespace", "name", "state") },
         States::STEP.to_h { |state| [state, steps.fetch(state, 0)] }]
      end

      def add(tasks, steps, row)
        if row["kind"] == "task"
          tasks[row.values_at("namespace", "name", "state")] += row["count"]
        else
          steps[row["state"]] += row["count"]
        end
      end

      def task_row(key, count)
        { "namespace" => key[0], "name" => key[1], "state" => key[2], "count" => count }
      end
    end
  end
end
