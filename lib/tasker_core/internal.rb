# frozen_string_literal: true

# The native extension: TaskerCore::Internal::Client and TaskerCore::Internal::Orchestrator,
# defined in Rust (src/bridge). Nothing outside lib/tasker_core calls them directly.
begin
  require "tasker_core/tasker_core"
rescue LoadError => e
  raise LoadError, "tasker-core's native extension is not built (#{e.message}). " \
                   "Run `rake compile` (or bin/setup) in the gem's source tree."
end
