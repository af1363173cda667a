# frozen_string_literal: true

require "monitor"
require "tasker_core/clock"
require "tasker_core/config_loader"
require "tasker_core/runtime/plan"

module TaskerCore
  # What this process runs: the embedded orchestrator and/or workers, started and stopped
  # together, fork-aware. The Railtie and the command line drive it; plain Ruby can too:
  #
  #   TaskerCore::Runtime.plan = TaskerCore::Runtime::Plan.new(
  #     "workers" => {"namespaces" => %w[fulfillment], "concurrency" => 4})
  #   TaskerCore::Runtime.start!    # registers templates, starts orchestrator and workers
  #   TaskerCore::Runtime.stop!     # workers drain (shutdown_timeout), then the orchestrator
  #
  # Forks: a child process never uses what its parent started. The parent's threads do not
  # exist in the child and its connections belong to the parent, so in every forked child the
  # inherited tasker-core connections are pointed at /dev/null (as ActiveRecord does on fork:
  # otherwise the child, exiting, would send the server a Terminate on the parent's sockets),
  # the parent's workers are forgotten and, if the parent was running or waiting for the fork
  # (start_after_fork!), the child starts its own. This covers Puma cluster mode with
  # preload_app!, Unicorn and Passenger. The Rust core starts a fresh runtime after a fork.
  module Runtime
    # Hooked into Process._fork (Ruby >= 3.1), which every way of forking goes through.
    module ForkHook
      def _fork
        from_main_thread = Thread.current == Thread.main # in the child, the forking thread is main
        pid = super
        TaskerCore::Runtime.after_fork(from_main_thread: from_main_thread) if pid.zero?
        pid
      end
    end

    @lock = Monitor.new
    @plan = nil
    @workers = []
    @pid = nil
    @deferred = false
    @exit_hooks = {}

    class << self
      attr_writer :plan

      def plan
        @plan ||= Plan.new
      end

      # Starts what the plan asks for in this process; does nothing if it already runs here.
      # Raises (ConfigurationError, TemplateError, DatabaseError...) if something cannot start.
      def start!(plan = nil)
        @lock.synchronize do
          self.plan = plan if plan
          forget_parent unless @pid.nil? || @pid == Process.pid
          return self if running?

          boot
        end
        self
      end

      # For a process that is about to fork its workers (a Puma cluster master with
      # preload_app!): nothing starts here; every forked child starts the plan.
      def start_after_fork!(plan = nil)
        @lock.synchronize do
          self.plan = plan if plan
          @deferred = true
          @deferred_pid = Process.pid
        end
        logger.info("tasker-core: pid #{Process.pid} forks its workers; each of them will start #{describe}")
        self
      end

      def waiting_for_fork?
        @deferred && @deferred_pid == Process.pid
      end

      # Workers stop taking messages and get `timeout` seconds to finish what they run (what
      # does not finish is handed back and redelivered), then the orchestrator stops.
      # Returns true if nothing had to be cut short.
      def stop!(timeout: plan.shutdown_timeout)
        @lock.synchronize do
          return true unless running?

          deadline = Clock.now + timeout
          clean = @workers.map { |worker| worker.stop(timeout: [deadline - Clock.now, 0.1].max) }.all?
          Orchestrator.stop(timeout: [deadline - Clock.now, 1].max) if @orchestrator && Orchestrator.running?
          @workers = []
          @orchestrator = false
          @pid = nil
          logger.info("tasker-core: stopped in pid #{Process.pid}#{clean ? "" : " (some handlers were cut short)"}")
          clean
        end
      end

      def running?
        !@pid.nil? && @pid == Process.pid
      end

      def workers
        running? ? @workers.dup : []
      end

      # What runs in this process, for health checks and the dashboard.
      def status
        { pid: Process.pid, running: running?, waiting_for_fork: waiting_for_fork?,
          orchestrator: running? && @orchestrator ? Orchestrator.running? : false,
          workers: workers.map { |worker| { id: worker.id, queues: worker.queues, stats: worker.stats } } }
      end

      # Blocks until one of `signals` arrives, then stops gracefully. A second signal while
      # draining exits at once. For processes whose only job is this (CLI, rake tasker_core:run).
      def run_until_signal(signals: %w[TERM INT])
        reader, writer = IO.pipe
        previous = trap_signals(signals, writer)
        ready = reader.read(1)
        logger.info("tasker-core: SIG#{SIGNAL_NAMES[ready]} received, shutting down " \
                    "(up to #{plan.shutdown_timeout} s; send it again to exit at once)")
        stop!
      ensure
        previous&.each { |signal, handler| trap(signal, handler || "DEFAULT") }
        [reader, writer].each { |io| io&.close unless io&.closed? }
      end

      # Called in every forked child (ForkHook). Only a fork from the main thread (the way
      # servers fork their workers) restarts the plan; a handler that forks to exec a program
      # does not get a second runtime in that child.
      def after_fork(from_main_thread: true)
        restart = (running_in_parent? || @deferred) && from_main_thread
        release_inherited_connections
        forget_parent
        return unless restart

        start!
      rescue StandardError => e
        logger.error("tasker-core: could not start in forked process #{Process.pid}: #{e.class}: #{e.message}")
      end

      private

      SIGNAL_NAMES = { "T" => "TERM", "I" => "INT", "Q" => "QUIT" }.freeze

      def boot
        configuration = TaskerCore.configuration
        configuration.validate!
        EventPump.ensure_running if defined?(EventPump)
        register_templates(configuration) if plan.register_templates
        @orchestrator = plan.orchestrator && !Orchestrator.running?
        Orchestrator.start(configuration: configuration) if @orchestrator
        @workers = start_workers
        @pid = Process.pid
        install_exit_hook
        logger.info("tasker-core: started in pid #{Process.pid}: #{describe}")
      rescue StandardError
        @workers.each { |worker| worker.stop(timeout: 1) }
        Orchestrator.stop(timeout: 1) if @orchestrator && Orchestrator.running?
        @workers = []
        raise
      end

      def start_workers
        options = plan.workers
        return [] unless options

        [Worker.start(**options)]
      end

      def register_templates(configuration)
        paths = Array(configuration.template_paths)
        return if paths.none? { |path| template_files?(path) }

        registered = TaskerCore.register_templates!
        logger.info("tasker-core: registered #{registered.size} template(s): #{registered.join(", ")}")
        register_schedules(configuration)
      end

      # The schedules files (schedule_paths) after the templates they name.
      def register_schedules(configuration)
        return if Array(configuration.schedule_paths).none? { |path| Dir.glob(path).any? }

        registered = TaskerCore.register_schedules!
        logger.info("tasker-core: registered #{registered.size} schedule(s): #{registered.join(", ")}")
      end

      def template_files?(path)
        return Dir.glob(File.join(path, "**", "*.{yml,yaml}")).any? if File.directory?(path)

        Dir.glob(path).any?
      end

      # In a forked child: the parent's workers have no threads here; start from scratch.
      def forget_parent
        @workers = []
        @pid = nil
        @orchestrator = false
        @exit_hooks.delete_if { |pid, _| pid != Process.pid }
      end

      # The pg connections of workers (and anything else named tasker-core...) inherited from
      # the parent: their sockets now lead to /dev/null, so nothing the child does, finalizing
      # them at exit included, reaches the parent's sessions.
      def release_inherited_connections
        return unless defined?(::PG::Connection)

        ObjectSpace.each_object(::PG::Connection) do |conn|
          next if conn.finished? || !conn.parameter_status("application_name").to_s.start_with?("tasker-core")

          conn.socket_io.reopen(IO::NULL)
        rescue StandardError
          nil
        end
      end

      def running_in_parent?
        !@pid.nil? && @pid != Process.pid
      end

      def install_exit_hook
        pid = Process.pid
        return if @exit_hooks[pid]

        @exit_hooks[pid] = true
        at_exit { stop! if Process.pid == pid && running? }
      end

      def trap_signals(signals, writer)
        received = 0
        signals.to_h do |signal|
          handler = trap(signal) do
            received += 1
            exit!(1) if received > 1
            writer.write_nonblock(signal[0], exception: false)
          end
          [signal, handler]
        end
      end

      def describe
        parts = []
        parts << "the orchestrator" if plan.orchestrator
        if (options = plan.workers)
          parts << "workers for #{options[:namespaces].join(", ")} (concurrency #{options[:concurrency]})"
        end
        parts.empty? ? "nothing (no orchestrator, no workers)" : parts.join(" and ")
      end

      def logger
        TaskerCore.logger
      end
    end
  end
end

Process.singleton_class.prepend(TaskerCore::Runtime::ForkHook) if Process.respond_to?(:_fork)
