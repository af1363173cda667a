# frozen_string_literal: true

# Counts handler calls per step uuid, across threads, while recording: proves each step's
# handler ran exactly once. Hooked into the example handlers with `CallRecorder.install!`.
module CallRecorder
  @lock = Mutex.new
  @calls = nil
  @installed = false

  # Prepended to a handler class: records, then runs the real call.
  module Hook
    def call(task, sequence, step)
      CallRecorder.record(step.uuid)
      super
    end
  end

  class << self
    def install!(*handler_classes)
      @lock.synchronize do
        return if @installed

        handler_classes.each { |klass| klass.prepend(Hook) }
        @installed = true
      end
    end

    def start!
      @lock.synchronize { @calls = Hash.new(0) }
    end

    # Stops recording and returns {step_uuid => calls}.
    def stop!
      @lock.synchronize do
        calls = @calls
        @calls = nil
        calls || {}
      end
    end

    def record(step_uuid)
      @lock.synchronize { @calls[step_uuid] += 1 if @calls }
    end
  end
end
