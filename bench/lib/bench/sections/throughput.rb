# frozen_string_literal: true

module Bench
  module Sections
    # Steps/s end to end: `tasks` tasks of a workflow, created while the workers run (2 creator
    # threads in the bench process), one orchestrator in the bench process, the worker in a child
    # process with N threads (and, for linear, in the bench process too). Timed from the first
    # task's created_at to the last task's completed_at.
    class Throughput
      CREATORS = 2

      def initialize(ctx)
        @ctx = ctx
      end

      def run
        @ctx.tasker.start_orchestrator
        result = { "tasks" => @ctx.options[:tasks], "creators" => CREATORS, "runs" => {} }
        %w[linear diamond].each { |workflow| result["runs"][workflow] = by_workers(workflow, :process) }
        result["runs"]["linear_in_process"] = by_workers("linear", :in_process) if @ctx.options.in_process
        result
      end

      # A run of the workflow at each worker count, by count.
      def by_workers(workflow, mode)
        @ctx.options[:workers].to_h { |n| [n.to_s, self.class.measure(@ctx, workflow, n, mode: mode)] }
      end

      # One run: returns {"steps_per_second", "tasks", "steps", "seconds", ...}.
      def self.measure(ctx, workflow, concurrency, mode:, keep_history: false, tasks: nil)
        env = ctx.tasker
        tasks ||= ctx.options[:tasks]
        env.reset!(keep_history: keep_history)
        log = File.join(ctx.log_dir, "tasker_worker.log")
        log_at = File.size?(log) || 0
        worker = start_worker(ctx, concurrency, mode)
        started = Stats.monotonic
        _, create_seconds = env.create_many(workflow, tasks, threads: CREATORS)
        env.wait_all(workflow, tasks, timeout: 60 + (tasks * 0.5))
        wall = Stats.monotonic - started
        errors = mode == :in_process ? worker.stats[:errors].to_i : 0
        stop_worker(worker, mode)
        errors += logged_errors(log, log_at)
        ctx.log("WARNING: the worker logged #{errors} error(s) during this run (#{log})") if errors.positive?
        row = rates(ctx, workflow, mode, concurrency, create_seconds)
        row.merge("wall_seconds" => wall.round(3), "mode" => mode.to_s, "worker_threads" => concurrency,
                  "worker_errors" => errors)
      end

      # The run's figures by the database's clock (TaskerEnv#window), steps/s and tasks/s, logged.
      def self.rates(ctx, workflow, mode, concurrency, create_seconds)
        window = ctx.tasker.window(workflow)
        rate = window["steps"] / window["seconds"]
        ctx.log(format("%<workflow>-8s %<mode>-10s workers=%<workers>d: %<rate>7.1f steps/s " \
                       "(%<steps>d steps in %<seconds>.2fs, creation %<creation>.2fs)",
                       workflow: workflow, mode: mode, workers: concurrency, rate: rate, steps: window["steps"],
                       seconds: window["seconds"], creation: create_seconds))
        window.merge("steps_per_second" => rate.round(1),
                     "tasks_per_second" => (window["complete"] / window["seconds"]).round(1))
      end

      # ERROR lines the worker process logged from byte `offset` of its log on.
      def self.logged_errors(log, offset)
        File.exist?(log) ? File.read(log).byteslice(offset..).to_s.scan(/ ERROR -- /).size : 0
      end

      def self.start_worker(ctx, concurrency, mode)
        if mode == :in_process
          TaskerCore::Worker.start(namespaces: TaskerEnv::NAMESPACES, concurrency: concurrency)
        else
          ctx.tasker_worker(concurrency)
        end
      end

      def self.stop_worker(worker, mode)
        mode == :in_process ? worker.stop(timeout: 10) : worker.stop
      end
    end
  end
end
