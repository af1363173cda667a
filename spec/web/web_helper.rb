# frozen_string_literal: true

require "tasker_core/web"
require "rack/test"

# The handlers of the metrics specs (metrics_spec.rb, metrics_counts_spec.rb): one that
# succeeds, one that fails for good.
module MetricsHandlers
  class Ok < TaskerCore::StepHandler
    def call(_task, _sequence, _step)
      { "ok" => true }
    end
  end

  class Declined < TaskerCore::StepHandler
    def call(_task, _sequence, _step)
      raise TaskerCore::PermanentError, "declined"
    end
  end
end

# Shared by the dashboard specs: handlers and a template whose failure and output carry HTML,
# the dashboard mounted under /tasker like a Rails app would, and helpers to make tasks.
module WebSpec
  HOSTILE = "<script>alert(1)</script>"
  NAMESPACE = "web_spec"

  # Fails permanently (with HTML in its message) until `WebSpec::Flaky.succeed = true`.
  class Flaky < TaskerCore::StepHandler
    @succeed = false
    class << self
      attr_accessor :succeed
    end

    def call(_task, _sequence, _step)
      unless self.class.succeed
        raise TaskerCore::PermanentError.new("upstream said #{HOSTILE} & <b>bold</b>", error_code: "<i>E42</i>")
      end

      { "fetched" => 3 }
    end
  end

  # Succeeds with HTML in its result.
  class Publish < TaskerCore::StepHandler
    def call(_task, sequence, _step)
      { "html" => HOSTILE, "parents" => sequence.parents }
    end
  end

  # Takes its time (web_idle/slow: no worker runs it in the Rack specs, so it stays unfinished).
  class Slow < TaskerCore::StepHandler
    def call(_task, _sequence, _step)
      sleep 0.6
      { "slow" => true }
    end
  end

  TEMPLATES = [
    { "namespace" => NAMESPACE, "name" => "flaky", "version" => "1.0.0",
      "description" => "A fetch that fails until it is fixed, then a publish.",
      "steps" => [{ "name" => "fetch", "handler" => "WebSpec::Flaky", "retry" => { "max_attempts" => 1 } },
                  { "name" => "publish", "handler" => "WebSpec::Publish", "depends_on" => ["fetch"] }] },
    { "namespace" => "web_idle", "name" => "slow", "version" => "1.0.0",
      "steps" => [{ "name" => "first", "handler" => "WebSpec::Slow" },
                  { "name" => "second", "handler" => "WebSpec::Slow", "depends_on" => ["first"] }] }
  ].freeze

  module_function

  def register!
    TaskerCore.register_templates!(TEMPLATES)
  end

  # A web_spec/flaky task with hostile context and metadata, driven to error by a worker.
  def hostile_context
    { "note" => HOSTILE, HOSTILE => "key", "nested" => { "html" => "<img src=x onerror=alert(1)>" } }
  end

  def create_flaky(**options)
    TaskerCore.create_task(namespace: NAMESPACE, name: "flaky", version: "1.0.0", context: hostile_context,
                           initiator: HOSTILE, source_system: "<b>shop</b>", reason: "because <i>", tags: [HOSTILE],
                           **options)
  end

  # The dashboard mounted at /tasker; `user` is what the host app puts in the env.
  def mounted(web, user: nil, session: false)
    Rack::Builder.new do
      use Rack::Session::Cookie, secret: "x" * 64, key: "host.session" if session
      use(Class.new do
        define_method(:initialize) { |app| @app = app }
        define_method(:call) do |env|
          env["tasker_core.user"] = user if user
          @app.call(env)
        end
      end)
      map("/tasker") { run web }
    end.to_app
  end

  # The hidden CSRF field of the first form on a page.
  def csrf_token(html)
    html[/name="_csrf" value="([^"]+)"/, 1]
  end
end

# Fans out to the context's "n" instances (60 by default: more than StepGraph::COLLAPSE_ABOVE);
# those of element i with i % 7 == 3 fail permanently (with HTML in the message), the rest
# complete.
module WebFanSpec
  FAILING = (0...60).select { |i| i % 7 == 3 }.freeze

  class Split < TaskerCore::StepHandler
    def call(task, _sequence, _step)
      (0...task.context.fetch("n", 60)).to_a
    end
  end

  # Lets a number of instances through (#allow) and holds the rest while it is closed (the
  # browser spec watches a running fan-out's page follow its counts).
  module Gate
    @lock = Mutex.new
    @moved = ConditionVariable.new
    @permits = nil # nil: open

    module_function

    def close!
      @lock.synchronize { @permits = 0 }
    end

    def allow(count)
      @lock.synchronize do
        @permits &&= @permits + count
        @moved.broadcast
      end
    end

    def open!
      @lock.synchronize do
        @permits = nil
        @moved.broadcast
      end
    end

    def pass
      @lock.synchronize do
        @moved.wait(@lock) while @permits&.zero?
        @permits &&= @permits - 1
      end
    end
  end

  class Part < TaskerCore::StepHandler
    def call(_task, _sequence, step)
      Gate.pass if step.index
      raise TaskerCore::PermanentError, "element #{step.input}: #{WebSpec::HOSTILE}" if FAILING.include?(step.input)

      { "i" => step.input }
    end
  end

  TEMPLATE = { "namespace" => "web_fan", "name" => "fan", "version" => "1.0.0",
               "steps" => [{ "name" => "split", "handler" => "WebFanSpec::Split", "type" => "fan_out" },
                           { "name" => "part", "handler" => "WebFanSpec::Part", "depends_on" => ["split"],
                             "retry" => { "max_attempts" => 1 } },
                           { "name" => "total", "handler" => "WebFanSpec::Part", "depends_on" => ["part"] }] }.freeze
end
