# frozen_string_literal: true

require "json"
require "tasker_core/arguments"
require "tasker_core/new_task"

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

    # Keywords: namespace:, name:, version: nil, context: {}, initiator: nil, source_system: nil,
    # reason: nil, tags: [], priority: 0, idempotency_key: nil, run_at: nil, delay: nil
    # (NewTask.request checks them). With `connection:` (a PG::Connection, e.g.
    # ActiveRecord::Base.connection.raw_connection) the task is requested inside that
    # connection's open transaction and the pending Task is returned at once: the task exists
    # if and only if the transaction commits (TaskRequest). `run_at:` (a Time) or `delay:`
    # (seconds) holds the whole task until then (StartTime).
    def create_task(connection: nil, **options)
      request = NewTask.request(**options)
      return TaskRequest.new(connection).write(request, generate(request)) unless connection.nil?

      task = Task.new(Internal::Client.create_task(native, generate(request)))
      notify_created(task, request) if task.created?
      task
    end

    # Many tasks in one transaction: an Array of Hashes of create_task's keywords (no
    # connection:) -> [Task], in the same order. Every element is checked before anything is
    # written; an error names the element ("create_tasks[3]: ...") and nothing of the batch is
    # written. An idempotency key an earlier element (or an existing task) holds answers with
    # that task (created? false). At most max_create_batch elements per call.
    def create_tasks(requests)
      batch = NewTask.batch(requests)
      return [] if batch.empty?

      tasks = Internal::Client.create_tasks(native, generate(batch)).map { |hash| Task.new(hash) }
      tasks.zip(batch).each { |task, request| notify_created(task, request) if task.created? }
      tasks
    end

    # Read on the replica when read_database_url is set; a task the replica does not have yet
    # (created within its replication lag) is read on the primary.
    def task_status(uuid)
      TaskStatus.new(parse(Internal::Client.task_status(configuration.to_native_reads, uuid.to_s)))
    rescue NotFoundError
      raise unless configuration.replica?

      TaskStatus.new(parse(Internal::Client.task_status(native, uuid.to_s)))
    end

    # Blocks (other Ruby threads keep running) until the task is complete, error, cancelled
    # or resolved_manually; returns its status. Raises TimeoutError after `timeout` seconds.
    def wait_for_task(uuid, timeout: 30)
      TaskStatus.new(parse(Internal::Client.wait_for_task(native, uuid.to_s, timeout.to_f)))
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
      json = generate(Arguments.json(results, "results"))
      Internal::Client.resolve_step(native, uuid.to_s, step_name.to_s, json, audit(actor, reason))
    end

    # Stops every worker process from claiming the namespace's steps (from its next read, well
    # within a second); steps already running finish. Stored in the database; the actor and
    # reason are recorded. Returns false when the namespace was paused already.
    def pause(namespace, actor: nil, reason: nil)
      Internal::Client.pause_namespace(native, namespace_argument(namespace), audit(actor, reason))
    end

    # Undoes pause: the namespace's workers are woken and claim again. Returns false when it
    # was not paused.
    def resume(namespace, actor: nil, reason: nil)
      Internal::Client.resume_namespace(native, namespace_argument(namespace), audit(actor, reason))
    end

    def paused?(namespace)
      name = namespace_argument(namespace)
      paused_namespaces.any? { |row| row["namespace"] == name }
    end

    # [{"namespace", "paused_by", "reason", "paused_at"}], by namespace.
    def paused_namespaces
      parse(Internal::Client.paused_namespaces(native))
    end

    # What the database says now, and this process's orchestrator counters, as a Hash (see
    # TaskerCore::Metrics): tasks by template and state, steps by state, per-queue figures,
    # recent step duration percentiles. GET /metrics on the dashboard serves it to Prometheus.
    def metrics
      Metrics.read(configuration)
    end

    # Registered templates: [{"namespace", "name", "version", "template", ...}].
    def templates
      parse(Internal::Client.templates(native))
    end

    private

    def native
      configuration.to_native
    end

    def notify_created(task, request)
      Notifications.instrument("task.created.tasker_core",
                               { task_uuid: task.uuid, namespace: task.namespace, name: task.name,
                                 version: task.version, state: task.state,
                                 **request.slice(:initiator, :source_system, :reason, :tags) })
    end

    # The values are checked JSON already, as deep as Worker::JsonValue allows; inside a
    # request, or a status, they sit deeper than the JSON gem's default limit (100) would let
    # them. The core's own JSON parser stops at 128 levels.
    def generate(value)
      JSON.generate(value, max_nesting: false)
    end

    def parse(json)
      JSON.parse(json, max_nesting: false)
    end

    def namespace_argument(namespace)
      Arguments.text(namespace.to_s, "namespace")
    end

    def audit(actor, reason)
      { "actor" => Arguments.text(actor, "actor"), "reason" => Arguments.text(reason, "reason") }
    end

    def ruby_log_level
      level = configuration.log_level.to_s
      level = "debug" if level == "trace"
      level == "off" ? Logger::UNKNOWN : Logger.const_get(level.upcase)
    end
  end
end
