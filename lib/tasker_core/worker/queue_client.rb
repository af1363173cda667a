# frozen_string_literal: true

require "json"

module TaskerCore
  class Worker
    # Every SQL statement the worker runs, in one place. Queue names and ids always travel
    # as bind parameters.
    class QueueClient
      def initialize(connection)
        @connection = connection
      end

      # Up to `qty` visible messages, made invisible for `visibility` seconds.
      def read(queue, visibility, qty)
        rows = exec("SELECT msg_id, read_ct, message::text AS message " \
                    "FROM pgmq.read($1::text, $2::integer, $3::integer)", [queue, visibility, qty])
        rows.map do |row|
          Job.new(queue: queue, msg_id: Integer(row["msg_id"]), read_ct: Integer(row["read_ct"]),
                  payload: row["message"])
        end
      end

      # Reads up to `qty` messages and claims each in the same statement (one commit): every
      # Job carries its claim (see tasker.claim_next).
      def claim_next(queue, visibility, qty, max_reads)
        rows = exec("SELECT msg_id, read_ct, message, claim::text AS claim " \
                    "FROM tasker.claim_next($1::text, $2::integer, $3::integer, $4::integer)",
                    [queue, visibility, qty, max_reads])
        rows.map do |row|
          Job.new(queue: queue, msg_id: Integer(row["msg_id"]), read_ct: Integer(row["read_ct"]),
                  payload: row["message"], claim: JSON.parse(row["claim"]))
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
        exec("SELECT 1 FROM pgmq.set_vt($1::text, $2::bigint, 0)", [queue, msg_id])
      end

      def claim(queue, msg_id, step_uuid, attempt)
        rows = exec("SELECT tasker.claim_step($1::text, $2::bigint, $3::uuid, $4::integer)::text AS claim",
                    [queue, msg_id, step_uuid, attempt])
        JSON.parse(rows.getvalue(0, 0))
      end

      # Sends the result to tasker_step_results and deletes the step message, in one transaction.
      def submit(queue, msg_id, result_json)
        rows = exec("SELECT tasker.submit_result($1::text, $2::bigint, $3::jsonb)", [queue, msg_id, result_json])
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
        exec("SELECT queue_name FROM pgmq.meta WHERE queue_name = ANY ($1::text[])",
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

      private

      def exec(sql, params)
        @connection.exec_params(sql, params)
      end
    end
  end
end
