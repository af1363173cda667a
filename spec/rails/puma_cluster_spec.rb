# frozen_string_literal: true

require "json"
require "net/http"
require "socket"
require "tmpdir"
require_relative "../cli/support/cli_helpers"

# The fixture app (spec/fixtures/rails_app) under `puma -C config/puma.rb`: cluster mode, two
# workers, preload_app!. Tasks are created over HTTP and run by the orchestrators and workers
# that the Railtie started in the forked Puma workers, never in the master.
RSpec.describe "a Rails app under Puma cluster mode with preload_app!", db: true, order: :defined do
  before(:all) do
    app_dir = File.expand_path("../fixtures/rails_app", __dir__)
    reset_tasker_database!
    stop_orchestrator! # only the Puma workers' orchestrators may process these tasks' results
    @dir = Dir.mktmpdir("tasker-puma")
    @log = File.join(@dir, "puma.log")
    @events = File.join(@dir, "events.log")
    @port = TCPServer.open("127.0.0.1", 0) { |server| server.addr[1] }
    env = cli_env("RAILS_ENV" => "production", "PORT" => @port.to_s, "WEB_CONCURRENCY" => "2",
                  "SHOP_EVENTS_FILE" => @events, "SHOP_STEP_SLEEP" => "0.02", "BUNDLE_GEMFILE" => nil)
    @master = Process.spawn(env, "puma", "-C", "config/puma.rb", chdir: app_dir, out: @log, err: @log, pgroup: true)
    booted = ->(n) { /Worker #{n} \(PID: \d+\) booted/ }
    wait_for_output(@log, /#{booted[0]}.*#{booted[1]}|#{booted[1]}.*#{booted[0]}/m, pid: @master, timeout: 60)
    @children = File.read(@log).scan(/Worker \d \(PID: (\d+)\) booted/).flatten.map(&:to_i)
  end

  after(:all) do
    stop_process(@master, signal: "KILL", timeout: 5) if @master # already gone after the last example
    FileUtils.rm_rf(@dir) if @dir
  end

  def request(method, path, form = nil)
    uri = URI("http://127.0.0.1:#{@port}#{path}")
    response = method == :post ? Net::HTTP.post_form(uri, form) : Net::HTTP.get_response(uri)
    [response.code.to_i, JSON.parse(response.body)]
  end

  it "starts nothing in the master; each forked worker starts an orchestrator and workers" do
    log = File.read(@log)
    expect(log).to include("tasker-core: pid #{@master} forks its workers; each of them will start " \
                           "the orchestrator and workers for shop (concurrency 2)")
    expect(log).not_to include("started in pid #{@master}")
    expect(@children.uniq.size).to eq(2)
    @children.each do |pid|
      expect(log)
        .to include("tasker-core: started in pid #{pid}: the orchestrator and workers for shop (concurrency 2)")
    end
  end

  it "creates tasks over HTTP and runs them to completion in the Puma workers" do
    uuids = Array.new(8) do |i|
      code, body = request(:post, "/orders", "order_id" => "order-#{i}")
      expect(code).to eq(201)
      expect(@children).to include(body["pid"])
      body["task_uuid"]
    end

    statuses = uuids.map do |uuid|
      wait_until(timeout: 30, interval: 0.1, message: "task #{uuid} over HTTP") do
        _, status = request(:get, "/orders/#{uuid}")
        status if status["state"] == "complete"
      end
    end
    statuses.each_with_index do |status, i|
      expect(status["steps"].map { |s| s["results"]["order_id"] }.uniq).to eq(["order-#{i}"])
    end
    step_pids = statuses.flat_map { |status| status["steps"].map { |s| s["results"]["pid"] } }.uniq
    expect(step_pids - @children).to be_empty # every step ran in a Puma worker, none in the master

    events = File.readlines(@events).map { |line| JSON.parse(line) }
    completed = events.select { |e| e["event"] == "task.completed.tasker_core" }
    expect(completed.map { |e| e["task_uuid"] }).to match_array(uuids)
    expect(events.map { |e| e["pid"] }.uniq - @children).to be_empty
    expect(events.count { |e| e["event"] == "step.completed.tasker_core" }).to eq(8 * 5)
    expect(File.read(@log)).to include("tasker-core task.completed shop/checkout #{uuids.first} (complete)")
  end

  it "reports what runs in a Puma worker" do
    code, runtime = request(:get, "/runtime")
    expect(code).to eq(200)
    expect(runtime).to include("running" => true, "orchestrator" => true, "orchestrator_running" => true)
    expect(@children).to include(runtime["pid"])
  end

  it "stops the workers (draining) and the orchestrators when Puma shuts down" do
    status = stop_process(@master, signal: "TERM", timeout: 40)
    expect(status&.exitstatus).to eq(0) # config/puma.rb: raise_exception_on_sigterm false
    log = File.read(@log)
    @children.each { |pid| expect(log).to include("tasker-core: stopped in pid #{pid}") }
  end
end
