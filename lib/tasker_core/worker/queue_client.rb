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

      def claim(queue, msg_id, step_uuid, attempt)
        rows = exec("SELECT tasker.claim_step($1::text, $2::bigint, $3::uuid, $4::integer)::text AS claim",
                    [queue, msg_id, step_uuid, attempt])
        QueueClient.parse_claim(rows.getvalue(0, 0))
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

      # The read and claim of up to $2 messages of `queue` ($1: default visibility timeout,
      # $3: reads allowed before a message is poison), as one statement with the queue's
      # table named in it, so that it can be prepared once. pgmq.read's own locking.
      def self.claim_sql(queue)
        table = queue_table(queue)
        <<~SQL
          WITH next AS (
            SELECT msg_id FROM #{table} WHERE vt <= clock_timestamp()
             ORDER BY msg_id LIMIT $2 FOR UPDATE SKIP LOCKED),
          m AS (
            UPDATE #{table} m SET last_read_at = clock_timestamp(), read_ct = m.read_ct + 1,
                   vt = clock_timestamp() + make_interval(secs => tasker.message_timeout(m.message, $1))
              FROM next WHERE m.msg_id = next.msg_id
            RETURNING m.msg_id, m.read_ct, m.message)
          SELECT msg_id, read_ct, message::text AS message, tasker.claim_message(message, read_ct, $3)::text AS claim
            FROM m ORDER BY msg_id
        SQL
      end

      # The result ($2) sent to tasker_step_results and the step message ($1) deleted, in one
      # statement (as tasker.submit_result does). Its commit does not wait for the WAL flush:
      # a crash that loses it loses the message's deletion with it, so the step runs again
      # (at-least-once, as when a worker dies before submitting); WAL is replayed in order,
      # and every later durable commit (a finished task, a new task) makes it durable too.
      def self.submit_sql(queue)
        <<~SQL
          WITH sent AS (
            INSERT INTO pgmq.q_tasker_step_results (vt, message) VALUES (clock_timestamp(), $2::jsonb)
            RETURNING msg_id),
          gone AS (DELETE FROM #{queue_table(queue)} WHERE msg_id = $1)
          SELECT msg_id, set_config('synchronous_commit', 'off', true) FROM sent
        SQL
      end

      # pgmq's table for the queue, quoted; only a valid queue name gets this far.
      def self.queue_table(queue)
        unless TaskerCore::QUEUE_NAME.match?(queue)
          raise TaskerCore::ArgumentError, "invalid queue name #{queue.inspect}"
        end

        "pgmq.#{PG::Connection.quote_ident("q_#{queue}")}"
      end

      private

      def exec(sql, params)
        @connection.exec_params(sql, params)
      end
    end
  end
end
