# frozen_string_literal: true

require "fileutils"
require "open3"
require "socket"
require "uri"

# A real streaming replica of the test cluster (bin/db's, on 127.0.0.1): pg_basebackup -R into
# a second data directory under tmp/, started on a port of its own, stopped and deleted after.
# PostgreSQL refuses to run as root, so as root the commands run as the `postgres` user, as
# bin/db does.
class TaskerTestReplica
  PGBIN = ENV.fetch("TASKER_PG_BIN", "/usr/lib/postgresql/15/bin")
  ROOT = File.expand_path("../..", __dir__)

  attr_reader :url

  # Why a replica cannot be made here, or nil.
  def self.unavailable_reason(primary_url)
    uri = URI(primary_url)
    return "the test database is not the local cluster (#{uri.host})" unless uri.host == "127.0.0.1"
    return "no #{PGBIN}/pg_basebackup" unless File.executable?(File.join(PGBIN, "pg_basebackup"))

    nil
  end

  def initialize(primary_url)
    @primary = URI(primary_url)
    @dir = File.join(ROOT, "tmp", "pg-replica-#{Process.pid}")
    @port = free_port
    @url = "postgresql://postgres@127.0.0.1:#{@port}#{@primary.path}"
  end

  def start
    FileUtils.rm_rf(@dir)
    FileUtils.mkdir_p(@dir, mode: 0o700)
    FileUtils.chown("postgres", "postgres", @dir) if Process.uid.zero?
    run("pg_basebackup", "-h", @primary.host, "-p", @primary.port.to_s, "-U", "postgres", "-D", @dir,
        "-R", "-X", "stream", "-c", "fast")
    # The copied tasker.conf names the primary's port; the command line wins over it.
    run("pg_ctl", "-D", @dir, "-l", File.join(@dir, "replica.log"), "-w", "-t", "60",
        "-o", "-p #{@port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''", "start")
    self
  end

  def stop
    run("pg_ctl", "-D", @dir, "-m", "fast", "-w", "stop") if File.exist?(File.join(@dir, "postmaster.pid"))
  ensure
    FileUtils.rm_rf(@dir)
  end

  def with_connection
    conn = PG.connect(@url, application_name: "tasker-core specs replica")
    yield conn
  ensure
    conn&.close
  end

  # Waits until the replica has replayed everything the primary wrote so far.
  def catch_up(primary_conn, timeout: 20)
    lsn = primary_conn.exec("SELECT pg_current_wal_lsn()").getvalue(0, 0)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    with_connection do |conn|
      until conn.exec_params("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", [lsn]).getvalue(0, 0) == "t"
        if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
          raise "the replica did not replay #{lsn} within #{timeout} s"
        end

        sleep 0.02
      end
    end
  end

  def pause_replay
    with_connection do |conn|
      conn.exec("SELECT pg_wal_replay_pause()")
      sleep 0.01 until conn.exec("SELECT pg_get_wal_replay_pause_state()").getvalue(0, 0) == "paused"
    end
  end

  def resume_replay
    with_connection { |conn| conn.exec("SELECT pg_wal_replay_resume()") }
  end

  private

  def free_port
    server = TCPServer.new("127.0.0.1", 0)
    server.addr[1]
  ensure
    server&.close
  end

  def run(command, *args)
    argv = [File.join(PGBIN, command), *args]
    argv = ["runuser", "-u", "postgres", "--", *argv] if Process.uid.zero?
    out, status = Open3.capture2e(*argv, chdir: "/")
    raise "#{command} failed (#{status.exitstatus}): #{out}" unless status.success?

    out
  end
end
