# frozen_string_literal: true

require "open3"
require "rbconfig"
require "timeout"

# Runs the real executable, `ruby -Ilib exe/tasker-core ...`, against the test database.
module CliHelpers
  ROOT = File.expand_path("../../..", __dir__)
  EXE = File.join(ROOT, "exe", "tasker-core")
  LIB = File.join(ROOT, "lib")
  # Variables of the developer's shell that would change what the commands see.
  CLEARED = %w[TASKER_DATABASE_URL TASKER_LOG_LEVEL TASKER_TEMPLATE_PATHS TASKER_SCHEDULE_PATHS TASKER_START TASKER_ENV
               TASKER_WORKER_NAMESPACES TASKER_WORKER_CONCURRENCY RAILS_ENV RACK_ENV].freeze

  Result = Struct.new(:out, :err, :status) do
    def code
      status.exitstatus
    end
  end

  def cli_env(env = {})
    CLEARED.to_h { |key| [key, nil] }.merge("DATABASE_URL" => TaskerTestDatabase.url).merge(env)
  end

  # Runs a command to the end; returns its stdout, stderr and status.
  def tasker_core(*args, env: {}, chdir: ROOT, timeout: 60)
    command = [RbConfig.ruby, "-I", LIB, EXE, *args.map(&:to_s)]
    out, err, status = Timeout.timeout(timeout) { Open3.capture3(cli_env(env), *command, chdir: chdir) }
    Result.new(out, err, status)
  end

  # Starts a long-running command with its output in a file; returns the pid.
  def spawn_tasker_core(*args, log:, env: {}, chdir: ROOT)
    Process.spawn(cli_env(env), RbConfig.ruby, "-I", LIB, EXE, *args.map(&:to_s),
                  chdir: chdir, out: log, err: log, pgroup: true)
  end

  # Waits for a line in a process's output; fails at once if the process (pid) exited.
  def wait_for_output(path, pattern, pid: nil, timeout: 20)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      text = File.exist?(path) ? File.read(path) : ""
      return text if text.match?(pattern)
      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        raise "timed out after #{timeout}s waiting for #{pattern.inspect} in #{path}:\n#{text}"
      end

      exited = pid && Process.wait2(pid, Process::WNOHANG)
      raise "process #{pid} exited (#{exited.last}) before #{pattern.inspect}:\n#{text}" if exited

      sleep 0.05
    end
  end

  # Sends a signal and waits for the process; returns its Process::Status (nil if it had to be killed).
  def stop_process(pid, signal: "TERM", timeout: 20)
    Process.kill(signal, pid)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      _, status = Process.wait2(pid, Process::WNOHANG)
      return status if status

      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        Process.kill("KILL", pid)
        Process.wait(pid)
        return nil
      end
      sleep 0.05
    end
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end
end

RSpec.configure do |config|
  config.include CliHelpers, file_path: %r{/spec/(cli|rails)/}
end
