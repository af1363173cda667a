# frozen_string_literal: true

require "timeout"

module Bench
  # A child process of the bench (a worker, a peer's worker, redis-server): started with a
  # pipe on stdout, ready when a line matching `ready` appears, stopped by TERM (then KILL).
  class Child
    attr_reader :pid, :name

    @live = {}.compare_by_identity
    @live_lock = Mutex.new

    class << self
      # Stops every child still running (at exit, also after an interrupt or an error).
      def stop_all
        children = @live_lock.synchronize { @live.values }
        children.each { |child| child.stop(timeout: 5) }
      end

      def track(child, alive)
        @live_lock.synchronize { alive ? @live[child] = child : @live.delete(child) }
      end
    end

    def self.start(name, env, argv, ready: /\Aready/, timeout: 60, log: nil)
      new(name, env, argv, log: log).tap { |child| child.wait_ready(ready, timeout) }
    end

    def initialize(name, env, argv, log: nil)
      @name = name
      reader, writer = IO.pipe
      err = log ? File.open(log, "a") : :err
      @pid = Process.spawn(env, *argv, out: writer, err: err, in: File::NULL, pgroup: false)
      writer.close
      Child.track(self, true)
      @out = reader
      @lines = []
    end

    def wait_ready(pattern, timeout)
      Timeout.timeout(timeout) do
        loop do
          line = @out.gets
          raise "#{@name} (pid #{@pid}) exited before it was ready" if line.nil?

          @lines << line
          break if pattern.match?(line)
        end
      end
      drain_in_background
      self
    rescue Timeout::Error
      stop
      raise "#{@name} was not ready after #{timeout}s; it printed: #{@lines.join.strip[-500..]}"
    end

    # VmRSS of the process in MB (nil when it is gone).
    def rss_mb
      Child.rss_mb(@pid)
    end

    def self.rss_mb(pid)
      line = File.foreach("/proc/#{pid}/status").find { |l| l.start_with?("VmRSS:") }
      line && (line.split[1].to_i / 1024.0).round(1)
    rescue Errno::ENOENT, Errno::ESRCH
      nil
    end

    def alive?
      Process.waitpid(@pid, Process::WNOHANG).nil?
    rescue Errno::ECHILD
      false
    end

    def stop(signal: "TERM", timeout: 20)
      return unless @pid

      begin
        Process.kill(signal, @pid)
        Timeout.timeout(timeout) { Process.wait(@pid) }
      rescue Timeout::Error
        Process.kill("KILL", @pid)
        Process.wait(@pid)
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      end
      @pid = nil
      Child.track(self, false)
      @drainer&.join(1)
    end

    private

    # Keep reading stdout so a chatty child never blocks on a full pipe.
    def drain_in_background
      @drainer = Thread.new do
        @out.each_line { |line| @lines << line if @lines.size < 200 }
      rescue IOError
        nil
      end
    end
  end
end
