# frozen_string_literal: true

# The part of the demo that runs workflows written for the Tasker family as they are:
# templates in the Tasker format (examples/tasker/templates) and handlers on
# TaskerCore::StepHandler::Base (examples/tasker/handlers). Each squares its input up to 2**64.
class TaskerDemo
  DIR = File.expand_path("tasker", __dir__)
  NAMESPACE = "tasker_squares"
  # task name => the step whose result is the answer
  WORKFLOWS = { "square_linear" => "sixth", "square_diamond" => "finish", "square_tree" => "finish" }.freeze
  EXPECTED = 2**64

  def self.template_paths
    Dir[File.join(DIR, "templates", "*.yaml")]
  end

  def self.load_handlers
    Dir[File.join(DIR, "handlers", "*.rb")].each { |file| require file }
  end

  # Returns how many workflows did not end with 2**64.
  def run
    puts "\n== workflows in the Tasker format (#{NAMESPACE}), Tasker-style handlers"
    WORKFLOWS.count do |name, last|
      task = TaskerCore.create_task(namespace: NAMESPACE, name: name, initiator: "examples/demo.rb")
      status = TaskerCore.wait_for_task(task.uuid, timeout: 60)
      got = status.step(last)&.results
      ok = status.state == "complete" && got == EXPECTED && got.is_a?(Integer)
      puts format("%<name>-15s %<state>-8s %<last>s=%<got>s expected 2**64 %<verdict>s",
                  name: name, state: status.state, last: last, got: got.inspect, verdict: ok ? "OK" : "WRONG")
      !ok
    end
  end
end
