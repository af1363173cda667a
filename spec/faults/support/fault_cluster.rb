# frozen_string_literal: true

require "fileutils"
require "pg"
require "etc"

# A PostgreSQL cluster of the fault suite's own, one per test run (under tmp/faults-pg-PID,
# removed at exit), so that restarting it or killing its clients never disturbs the test
# database of the other specs, nor another run going on at the same time.
module FaultCluster
  ROOT = File.expand_path("../../../tmp/faults-pg-#{Process.pid}", __dir__)
  DATA = File.join(ROOT, "data")
  PORT = Integer(ENV.fetch("TASKER_FAULT_PG_PORT", (55_000 + (Process.pid % 5_000)).to_s))
  BIN = ENV.fetch("TASKER_PG_BIN", "/usr/lib/postgresql/15/bin")
  DATABASE = "tasker_faults"

  class << self
    def url
      "postgresql://postgres@127.0.0.1:#{PORT}/#{DATABASE}"
    end

    def start!
      return if @started

      init! unless File.exist?(File.join(DATA, "PG_VERSION"))
      running? || pg_ctl("start", "-w", "-t", "30", "-l", File.join(ROOT, "postgresql.log"), "-o",
                         "-p #{PORT} -c listen_addresses=127.0.0.1 -k #{ROOT} -c max_connections=300 " \
                         "-c shared_buffers=128MB")
      create_database!
      @started = true
      stop_at_exit
    end

    # A real restart: every client connection is cut. mode "fast" shuts down cleanly;
    # "immediate" is a crash (no checkpoint, WAL replayed at start; commits not yet flushed
    # are lost, which is what asynchronous commits risk).
    def restart!(mode: "fast")
      pg_ctl("restart", "-w", "-t", "60", "-m", mode)
    end

    def stop!
      pg_ctl("stop", "-w", "-m", "fast") if running?
      @started = false
    end

    # Stops the cluster when the test run ends (CI leaves nothing running).
    def stop_at_exit
      pid = Process.pid
      at_exit do
        next unless Process.pid == pid && @started

        stop!
        FileUtils.rm_rf(ROOT)
      end
    end

    def running?
      system(*as_owner(File.join(BIN, "pg_ctl"), "status", "-D", DATA), out: File::NULL, err: File::NULL)
    end

    private

    def init!
      FileUtils.mkdir_p(ROOT)
      FileUtils.chown_R("postgres", nil, ROOT) if Process.uid.zero?
      ok = system(*as_owner(File.join(BIN, "initdb"), "-D", DATA, "-U", "postgres", "--auth=trust", "-E", "UTF8"),
                  out: File::NULL)
      raise "initdb for the fault cluster failed" unless ok
    end

    def create_database!
      conn = PG.connect(host: "127.0.0.1", port: PORT, user: "postgres", dbname: "postgres")
      exists = conn.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]).ntuples.positive?
      conn.exec("CREATE DATABASE #{DATABASE}") unless exists
    ensure
      conn&.close
    end

    def pg_ctl(*args)
      ok = system(*as_owner(File.join(BIN, "pg_ctl"), *args, "-D", DATA), out: File::NULL)
      raise "pg_ctl #{args.first} failed for the fault cluster (see #{ROOT}/postgresql.log)" unless ok
    end

    def as_owner(*command)
      Process.uid.zero? ? ["runuser", "-u", "postgres", "--", *command] : command
    end
  end
end
