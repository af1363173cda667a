# frozen_string_literal: true

# Message types shared by the worker and the step handlers, built on dry-types (dry-struct is
# not available here: TaskerCore::Types::Struct is a small struct on a dry-types Hash schema).
require "tasker_core/types/base"
require "tasker_core/types/struct"
require "tasker_core/types/step_message"
require "tasker_core/types/task"
require "tasker_core/types/step"
require "tasker_core/types/execution_context"
require "tasker_core/types/step_error"
require "tasker_core/types/result_metadata"
require "tasker_core/types/step_result"
require "tasker_core/types/step_handler_call_result"
