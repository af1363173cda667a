# frozen_string_literal: true

# The memory probe: a fresh Ruby process that loads tasker-core and, when told, starts the
# orchestrator. The bench reads its VmRSS at each stage. Protocol on stdin/stdout:
#   prints "loaded" after require + configure; on "start" starts the orchestrator and prints
#   "started"; on "stop" stops it and exits.

$stdout.sync = true
puts "bare"
$stdin.gets
require "tasker_core"
TaskerCore.configure do |c|
  c.database_url = ENV.fetch("BENCH_TASKER_URL")
  c.template_paths = []
  c.log_level = "warn"
end
GC.start
puts "loaded"
$stdin.gets
TaskerCore::Orchestrator.start
puts "started"
$stdin.gets
TaskerCore::Orchestrator.stop(timeout: 10)
puts "stopped"
