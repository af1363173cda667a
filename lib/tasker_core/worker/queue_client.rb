# frozen_string_literal: true

require "json"
require "tasker_core/queue_name"

module TaskerCore
  class Worker
    # Every SQL statement the worker runs, in one place. Queue names and ids always travel
    # as bind parameters.
    class QueueClient
      def initialize(connection)
        @connection = connection
      end

      # Reads up to `qty` messages and claims each in the same statement (one commit): every
      # Job carries its claim (see tasker.claim_message). The read makes each message
      # invisible for its step's timeout (or `visibility` seconds for a message without one).
      def claim_next(queue, visibility, qty, max_reads)
        rows = @connection.exec_prepared("claim #{queue}", QueueClient.claim_sql(queue), [visibility, qty, max_reads])
        rows.map do |row|
          Job.new(queue: queue, msg_id: Integer(row["msg_id"]), read_ct: Integer(row["read_ct"]),
                  payload: row["message"], claim: QueueClient.parse_claim(row["claim"]))
        end
      end

      # Moves the message to pgmq's archive table a_<queue>: kept for inspection, never read again.
      def archive(queue, msg_id)
        exec("SELECT pgmq.archive($1::text, $2::bigint)", [queue, msg_id])
      end

      def delete(queue, msg_id)
        exec("SELECT pgmq.delete($1::text, $2::bigint)", [queue, msg_id])
      end

      # Makes a read message visible again at once (it was read but will not be worked on).
      def release(queue, msg_id)
        hide(queue, msg_id, 0)
      end

      # Hides the message from every reader for `seconds` from now (pgmq.set_vt): the heartbeat
      # of a running attempt. Nothing happens to a message that is gone.
      def hide(queue, msg_id, seconds)
        exec("SELECT 1 FROM pgmq.set_vt($1::text, $2::bigint, $3::integer)", [queue, msg_id, seconds])
      end

      # An ancestor's results that the claim left out for their size (tasker.ancestor_result),
      # parsed as the claim's would have been; nil when the task has no such step.
      def ancestor_result(task_uuid, name)
        text = exec("SELECT tasker.ancestor_result($1::uuid, $2::text)::text", [task_uuid, name]).getvalue(0, 0)
        text && JSON.parse(text, max_nesting: JsonValue.nesting(0))
      end

      # A claim holds the task's context and the ancestors' results two levels deep.
      def self.parse_claim(text)
        JSON.parse(text, max_nesting: JsonValue.nesting(2))
      end

      # Sends the result to tasker_step_results and deletes the step message, in one transaction.
      def submit(queue, msg_id, result_json)
        rows = @connection.exec_prepared("submit #{queue}", QueueClient.submit_sql(queue), [msg_id, result_json])
        Integer(rows.getvalue(0, 0))
      end

      # A failure marked as poison goes to tasker_step_results and the step message to the
      # queue's archive, in one transaction (the orchestrator then fails the step).
      def submit_poison(queue, msg_id, result_json)
        rows = exec("SELECT tasker.submit_poison($1::text, $2::bigint, $3::jsonb)", [queue, msg_id, result_json])
        Integer(rows.getvalue(0, 0))
      end

      # Seconds until the earliest not-yet-visible message of these queues is visible, or nil.
      def next_visible_in(queues)
        value = exec("SELECT tasker.next_visible_in($1::text[])",
                     [PG::TextEncoder::Array.new.encode(queues)]).getvalue(0, 0)
        value&.to_f
      end

      def existing_queues(queues)
        exec("SELECT queue_name FROM pgmq.list_queues() WHERE queue_name = ANY ($1::text[])",
             [PG::TextEncoder::Array.new.encode(queues)]).column_values(0)
      end

      def ensure_queue(queue)
        exec("SELECT tasker.ensure_queue($1::text)", [queue])
      end

      # LISTEN takes no parameters: the channel is quoted as an identifier, and queue names
      # were validated against a strict pattern before they got here.
      def listen(queues)
        queues.each { |queue| exec("LISTEN #{PG::Connection.quote_ident(QueueClient.channel(queue))}", []) }
      end

      def self.channel(queue)
        "tasker_q_#{queue}"
      end

      # The read and claim of up to $2 messages of `queue` ($1: default visibility timeout,
      # $3: reads allowed before a message is poison): the queue's own claim function
      # (sql/install_queue_functions.sql), prepared once per connection.
      def self.claim_sql(queue)
        "SELECT msg_id, read_ct, message, claim FROM #{queue_function("queue_claim_", queue)}($1, $2, $3)"
      end

      # The result ($2) sent to tasker_step_results and the step message ($1) deleted, in one
      # statement: the queue's own submit function, prepared once per connection.
      def self.submit_sql(queue)
        "SELECT #{queue_function("queue_submit_", queue)}($1, $2::jsonb)"
      end

      # tasker.<prefix><queue>, quoted; only a valid queue name gets this far.
      def self.queue_function(prefix, queue)
        unless TaskerCore::QUEUE_NAME.match?(queue)
          raise TaskerCore::ArgumentError, "invalid queue name #{queue.inspect}"
        end

        "tasker.#{PG::Connection.quote_ident("#{prefix}#{queue}")}"
      end

      private

      def exec(sql, params)
        @connection.exec_params(sql, params)
      end
    end
  end
end
