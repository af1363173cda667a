# frozen_string_literal: true

require "json"

# The public API: configure once, then create tasks and ask about them from any process
# (no orchestrator needed in the caller's process).
module TaskerCore
  class << self
    def configuration
      @configuration ||= Configuration.new
    end

    def configure
      yield configuration
      configuration.validate!
      logger.level = ruby_log_level
      EventPump.ensure_running
      configuration
    end

    def logger
      configuration.logger
    end

    # Installs pgmq's SQL and runs the schema migrations. Idempotent.
    def migrate!
      Internal::Client.migrate(native)
    end

    # YAML paths/globs/directories or Hashes (default: configuration.template_paths).
    # Raises TemplateError naming the template, the step and the problem.
    def register_templates!(sources = nil)
      TemplateLoader.new(configuration).register(sources)
    end

    def create_task(namespace:, name:, version: nil, context: {}, initiator: nil, source_system: nil,
                    reason: nil, tags: [], priority: 0, idempotency_key: nil)
      unless context.is_a?(Hash)
        raise ArgumentError, "context for #{namespace}/#{name} must be a Hash, got #{context.class}"
      end

      request = { namespace: namespace.to_s, name: name.to_s, version: version&.to_s, context: context,
                  initiator: initiator, source_system: source_system, reason: reason,
                  tags: Array(tags).map(&:to_s), priority: Integer(priority), idempotency_key: idempotency_key }
      task = Task.new(Internal::Client.create_task(native, encode_request(request)))
      notify_created(task, request) if task.created?
      task
    end

    def task_status(uuid)
      TaskStatus.new(parse_status(Internal::Client.task_status(native, uuid.to_s)))
    end

    # Blocks (other Ruby threads keep running) until the task is complete, error, cancelled
    # or resolved_manually; returns its status. Raises TimeoutError after `timeout` seconds.
    def wait_for_task(uuid, timeout: 30)
      TaskStatus.new(parse_status(Internal::Client.wait_for_task(native, uuid.to_s, timeout.to_f)))
    end

    # Cancels the task: unfinished steps are cancelled and their queued messages removed;
    # results of steps still running are ignored. Returns the task's new state.
    def cancel_task(uuid, actor: nil, reason: nil)
      Internal::Client.cancel_task(native, uuid.to_s, audit(actor, reason))
    end

    # A task in error: its failed steps go back to pending with fresh attempts and it continues.
    def retry_task(uuid, actor: nil, reason: nil)
      Internal::Client.retry_task(native, uuid.to_s, audit(actor, reason))
    end

    # Marks a step resolved_manually with the given results; its dependents then run.
    def resolve_step(uuid, step_name, results: {}, actor: nil, reason: nil)
      json = encode_json(results, "results for step #{step_name}")
      Internal::Client.resolve_step(native, uuid.to_s, step_name.to_s, json, audit(actor, reason))
    end

    # Registered templates: [{"namespace", "name", "version", "template", ...}].
    def templates
      JSON.parse(Internal::Client.templates(native))
    end

    private

    # A status holds step results ({"steps": [{"results": ...}]}) and the task's context, each
    # as deep as a result may be.
    def parse_status(json)
      JSON.parse(json, max_nesting: Worker::JsonValue.nesting(3))
    end

    def native
      configuration.to_native
    end

    def notify_created(task, request)
      Notifications.instrument("task.created.tasker_core",
                               { task_uuid: task.uuid, namespace: task.namespace, name: task.name,
                                 version: task.version, state: task.state,
                                 **request.slice(:initiator, :source_system, :reason, :tags) })
    end

    def encode_request(request)
      encode_json(request, "context for #{request[:namespace]}/#{request[:name]}")
    end

    def encode_json(value, what)
      JSON.generate(value)
    rescue JSON::GeneratorError, Encoding::UndefinedConversionError => e
      raise ArgumentError, "#{what} is not JSON-serializable: #{e.message}"
    end

    def audit(actor, reason)
      { "actor" => actor&.to_s, "reason" => reason&.to_s }
    end

    def ruby_log_level
      level = configuration.log_level.to_s
      level = "debug" if level == "trace"
      level == "off" ? Logger::UNKNOWN : Logger.const_get(level.upcase)
    end
  end
end
