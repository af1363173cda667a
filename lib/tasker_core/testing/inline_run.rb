# frozen_string_literal: true

require "tasker_core/worker"

module TaskerCore
  module Testing
    # One task run to the end in the calling thread, through the production code paths:
    # - the claim: the namespace queue's own claim function (Worker::QueueClient#claim_next);
    # - the attempt: Worker::MessageProcessor with the worker's HandlerRunner, ResultBuilder
    #   and Submitter (result sent and step message deleted in one statement);
    # - the result: the orchestrator's store::results::process_batch, one result at a time
    #   (Internal::Client.process_results), which applies the step's transition and enqueues
    #   the steps now ready, as a running orchestrator would;
    # - a retry's backoff: its delayed message is made visible at once (tasker.hurry_retries);
    #   the retry is otherwise the production one (same message, next attempt).
    # No thread is started. The Watchdog is built but never started, so timeout_seconds is
    # not enforced (a handler runs until it returns) and no heartbeat is sent.
    class InlineRun
      WORKER_ID = "tasker-core testing"

      def initialize(task)
        @task = task
        @settings = Worker::Settings.new(namespaces: [task.namespace], concurrency: 1)
        lifecycle = Worker::Lifecycle.new
        @connection = Worker::Connection.new(@settings, lifecycle, role: "testing")
        @client = Worker::QueueClient.new(@connection)
        @processor = processor(lifecycle)
      end

      # The task's final status.
      def run
        @connection.connect!
        loop do
          status = TaskerCore.task_status(@task.uuid)
          return status if status.finished?

          work_one || hurry_retries || stuck!(status)
        end
      ensure
        @connection.close
      end

      private

      def processor(lifecycle)
        stats = Worker::Stats.new
        builder = Worker::ResultBuilder.new(worker_id: WORKER_ID)
        watchdog = Worker::Watchdog.new(settings: @settings, lifecycle: lifecycle, stats: stats, builder: builder)
        Worker::MessageProcessor.new(client: @client, runner: Worker::HandlerRunner.new(logger: @settings.logger),
                                     builder: builder, stats: stats, logger: @settings.logger,
                                     watchdog: watchdog, max_reads: @settings.max_reads)
      end

      # Claims and runs the oldest visible message of the namespace's queue, then applies
      # every result waiting. False if the queue had nothing visible.
      def work_one
        jobs = @client.claim_next(queue, @settings.visibility_timeout, 1, @settings.max_reads)
        return false if jobs.empty?

        jobs.each { |job| @processor.process(job) }
        apply_results
        true
      end

      def apply_results
        native = TaskerCore.configuration.to_native
        loop { break if Internal::Client.process_results(native, 1).empty? }
      end

      def hurry_retries
        rows = @connection.exec_params("SELECT tasker.hurry_retries($1::uuid)", [@task.uuid])
        Integer(rows.getvalue(0, 0)).positive?
      end

      def stuck!(status)
        steps = status.steps.map { |step| "#{step.name}: #{step.state}" }.join(", ")
        raise TaskerCore::Error,
              "task #{@task.uuid} (#{@task.namespace}/#{@task.name}) is #{status.state} and nothing in " \
              "#{queue} is visible to run in this thread (steps: #{steps}); a step held by another " \
              "process's worker comes back only after its timeout"
      end

      def queue
        @settings.queues.first
      end
    end
  end
end
