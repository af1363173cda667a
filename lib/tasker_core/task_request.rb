# frozen_string_literal: true

require "json"
require "pg"
require "tasker_core/errors"
require "tasker_core/task"

module TaskerCore
  # create_task(..., connection: pg): the task request written with the caller's
  # PG::Connection, inside its open transaction (tasker.request_task, sql/request_task.sql),
  # under a task uuid made here (v7). The orchestrator's request consumer creates the task
  # with that uuid after the transaction commits; a rollback leaves nothing. Until then
  # task_status and wait_for_task see a pending task; a request the consumer rejects is a task
  # in error whose status says why.
  class TaskRequest
    SQL = "SELECT tasker.request_task($1::uuid, $2::jsonb)"
    # Transaction states a request can be written in: inside an open transaction, or outside
    # any (then the statement commits on its own).
    WRITABLE = [PG::PQTRANS_INTRANS, PG::PQTRANS_IDLE].freeze

    def initialize(connection)
      @connection = TaskRequest.check(connection)
    end

    # `request` is the checked request Hash of create_task; returns the pending Task.
    def write(request, json)
      uuid = Internal::Client.new_task_uuid
      @connection.exec_params(SQL, [uuid, json])
      Task.new(task_uuid: uuid, namespace: request[:namespace], name: request[:name], version: request[:version],
               state: "pending", created: true)
    rescue PG::Error => e
      raise DatabaseError, "create_task could not write the task request on the given connection: " \
                           "#{e.message.strip}"
    end

    def self.check(connection)
      unless connection.is_a?(PG::Connection)
        raise ArgumentError, "connection must be a PG::Connection (e.g. " \
                             "ActiveRecord::Base.connection.raw_connection), got #{connection.class}"
      end
      raise ArgumentError, "connection is closed" if connection.finished?

      status = connection.transaction_status
      return connection if WRITABLE.include?(status)

      raise ArgumentError, "connection cannot take the task request: #{TaskRequest.describe(status)}"
    end

    def self.describe(status)
      case status
      when PG::PQTRANS_INERROR then "its transaction has failed and only a ROLLBACK is accepted"
      when PG::PQTRANS_ACTIVE then "a command is in progress on it"
      else "its connection is not usable (transaction status #{status})"
      end
    end
  end
end
