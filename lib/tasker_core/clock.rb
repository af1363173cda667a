# frozen_string_literal: true

module TaskerCore
  # The one clock for deadlines, timeouts and durations inside the process: monotonic seconds
  # (a Float), never affected by changes of the wall clock.
  module Clock
    module_function

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
