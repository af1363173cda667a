# frozen_string_literal: true

require "json"

require "tasker_core/version"
require "tasker_core/errors"
require "tasker_core/states"
require "tasker_core/configuration"
require "tasker_core/internal"
require "tasker_core/event_pump"
require "tasker_core/task"
require "tasker_core/task_request"
require "tasker_core/task_status"
require "tasker_core/template_loader"
require "tasker_core/orchestrator"
require "tasker_core/types"
require "tasker_core/sequence"
require "tasker_core/step_handler"
require "tasker_core/worker"
require "tasker_core/client"
require "tasker_core/notifications"
require "tasker_core/runtime"
require "tasker_core/testing"
require "tasker_core/railtie" if defined?(Rails::Railtie)
