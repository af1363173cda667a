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
        env = @ctx.tasker
        env.start_orchestrator
        result = { "tasks" => @ctx.options[:tasks], "creators" => CREATORS, "runs" => {} }
        %w[linear diamond].each do |workflow|
          result["runs"][workflow] = {}
          @ctx.options[:workers].each do |n|
            result["runs"][workflow][n.to_s] = self.class.measure(@ctx, workflow, n, mode: :process)
          end
        end
        if @ctx.options.in_process
          result["runs"]["linear_in_process"] = {}
          @ctx.options[:workers].each do |n|
            result["runs"]["linear_in_process"][n.to_s] = self.class.measure(@ctx, "linear", n, mode: :in_process)
          end
        end
        result
      end

      # One run: returns {"steps_per_second", "tasks", "steps", "seconds", ...}.
      def self.measure(ctx, workflow, concurrency, mode:, keep_history: false, tasks: nil)
        env = ctx.tasker
        tasks ||= ctx.options[:tasks]
        env.reset!(keep_history: keep_history)
        log = File.join(ctx.log_dir, "tasker_worker.log")
        log_at = File.exist?(log) ? File.size(log) : 0
        worker = start_worker(ctx, concurrency, mode)
        started = Stats.monotonic
        _, create_seconds = env.create_many(workflow, tasks, threads: CREATORS)
        env.wait_all(workflow, tasks, timeout: 60 + (tasks * 0.5))
        wall = Stats.monotonic - started
        errors = mode == :in_process ? worker.stats[:errors].to_i : 0
        stop_worker(worker, mode)
        errors += File.exist?(log) ? File.read(log).byteslice(log_at..).to_s.scan(/ ERROR -- /).size : 0
        ctx.log("WARNING: the worker logged #{errors} error(s) during this run (#{log})") if errors.positive?
        window = env.window(workflow)
        rate = window["steps"] / window["seconds"]
        ctx.log(format("%-8s %-10s workers=%d: %7.1f steps/s (%d steps in %.2fs, creation %.2fs)",
                       workflow, mode, concurrency, rate, window["steps"], window["seconds"], create_seconds))
        window.merge("steps_per_second" => rate.round(1), "tasks_per_second" => (window["complete"] / window["seconds"]).round(1),
                     "wall_seconds" => wall.round(3), "mode" => mode.to_s, "worker_threads" => concurrency,
                     "worker_errors" => errors)
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
