# frozen_string_literal: true

# TaskerCore::States (TASK, STEP, TASK_FINISHED, STEP_FINISHED: frozen Arrays of frozen
# Strings) is defined by the native extension from the core's state machines (src/state/),
# so the lists are never spelled out in Ruby.
require "tasker_core/internal"
