# frozen_string_literal: true

module TaskerCore
  # What create_task returns: the new (or, with an idempotency key, existing) task.
  class Task
    attr_reader :uuid, :namespace, :name, :version, :state

    def initialize(hash)
      @uuid = hash.fetch(:task_uuid)
      @namespace = hash.fetch(:namespace)
      @name = hash.fetch(:name)
      @version = hash.fetch(:version)
      @state = hash.fetch(:state)
      @created = hash.fetch(:created)
    end

    # false when an idempotency_key matched a task created earlier.
    def created?
      @created
    end

    def status
      TaskerCore.task_status(uuid)
    end

    def wait(timeout: 30)
      TaskerCore.wait_for_task(uuid, timeout: timeout)
    end

    def to_s
      "#<TaskerCore::Task #{namespace}/#{name}@#{version} #{uuid} #{state}>"
    end
    alias inspect to_s
  end
end
